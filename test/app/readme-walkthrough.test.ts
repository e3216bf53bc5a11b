/**
 * The README's curl walk-through, run as a user would paste it: the shell
 * block of "Session management", top to bottom, with bash, curl and node,
 * against the real server process. Each step answers what its comment says.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { start, stop } from '../spawn.js'
import { tempDir } from '../helper.js'

const run = promisify(execFile)
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

t.test('the README walk-through runs top to bottom against a real server', async (t) => {
  const section = README.slice(README.indexOf('## Session management'))
  const script = /```sh\n([\s\S]*?)```/.exec(section)![1]!
  t.match(script, 'API=http://127.0.0.1:3000/api/v1/auth', 'the walk-through targets the default address')
  const server = await start({ DATABASE_PATH: join(tempDir(t), 'auth.db') })
  t.teardown(() => stop(server))
  const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script.replace('http://127.0.0.1:3000', server.url)], {
    // No loader and no coverage for the node -pe of the script: a user's shell.
    env: { PATH: process.env.PATH ?? '' },
    timeout: 30_000
  })
  const answers = stdout.trim().split('\n').map((line) => JSON.parse(line))
  t.equal(answers.length, 8, 'one answer per printing step')
  const [registered, me, sessions, revoked, events, others, local, after] = answers
  t.match(registered, { success: true, message: 'Usuario registrado exitosamente' })
  t.match(me, { success: true, message: 'Sesión activa', data: { user: { email: 'ada@example.com' } } })
  t.equal(sessions.data.sessions.length, 2, 'two devices')
  t.strictSame(revoked, { success: true, message: 'Sesión revocada exitosamente' }, 'SESSION_ID was filled in')
  t.strictSame(events.data.events.map((e: { type: string }) => e.type), ['session_revoked', 'login', 'login', 'register'])
  t.strictSame(others, { success: true, message: 'Sesión cerrada exitosamente' }, 'others: nothing left to end, still 200')
  t.strictSame(local, { success: true, message: 'Sesión cerrada exitosamente' })
  t.strictSame(after, { success: false, message: 'Token no proporcionado o inválido' }, 'the same token again: 401')
})
