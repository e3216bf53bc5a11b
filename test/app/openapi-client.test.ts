/**
 * SPEC §6: a client generated from openapi.json (openapi-typescript plus
 * openapi-fetch) type-checks with real types and runs register, login,
 * refresh, me, sessions, password and logout against a real server process.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { NO_COVERAGE, start } from '../spawn.js'

const run = promisify(execFile)
const root = join(import.meta.dirname, '..', '..')
const fixtures = join(root, 'test', 'fixtures')

/** Starts server.ts on a free port and a fresh database; answers its base URL. */
async function startServer (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'auth-sessions-client-'))
  const server = await start({ DATABASE_PATH: join(dir, 'auth.db'), LOGIN_RATE_LIMIT_MAX: '1000' })
  t.teardown(async () => {
    server.child.kill('SIGTERM')
    await server.exited
    await rm(dir, { recursive: true, force: true })
  })
  return server.url
}

t.test('a client generated from openapi.json is typed and works against the real server', async (t) => {
  // Generated into test/fixtures/generated/, which git and eslint ignore.
  await run(process.execPath, [join(root, 'node_modules/openapi-typescript/bin/cli.js'), 'openapi.json', '-o', join(fixtures, 'generated/api.d.ts')], { cwd: root })
  // The program's type assertions fail to compile when a response is `any` or `unknown`.
  const tsc = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(fixtures, 'client/tsconfig.json')], { cwd: root })
    .then(() => 'ok', (err: { stdout: string }) => err.stdout)
  t.equal(tsc, 'ok', 'the program type-checks against the generated client')

  const baseUrl = await startServer(t)
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(fixtures, 'client/program.ts'), baseUrl],
    { cwd: root, env: { ...process.env, ...NO_COVERAGE } })
  const seen = JSON.parse(stdout)
  t.match(seen.register, { status: 201, email: /^client-\d+@example\.com$/ })
  t.same(seen.login, { status: 200, tokenType: 'Bearer', expiresIn: 3600 })
  t.same(seen.refresh, { status: 200, sessionId: true, stale: 401 })
  t.same(seen.password, { status: 200, body: { success: true, message: 'Contraseña actualizada exitosamente' } })
  t.match(seen.me, { status: 200, email: seen.register.email, sessionId: String })
  t.same(seen.sessions, { status: 200, current: [seen.me.sessionId] })
  t.same(seen.logout, { status: 200, body: { success: true, message: 'Sesión cerrada exitosamente' } })
  t.same(seen.again, {
    status: 401,
    error: { success: false, message: 'Token no proporcionado o inválido' },
    wwwAuthenticate: 'Bearer realm="auth-sessions", error="invalid_token"'
  })
})
