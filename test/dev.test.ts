/**
 * `npm run dev` (scripts/dev.ts, fastify-cli with watch, dev.ts): it listens
 * and answers with a database inside the repository whose name is not
 * `*.db` (the watcher ignores the configured database, whatever its name),
 * and a bad variable is one line and a non-zero exit, not a watcher
 * restarting a failing child forever.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { fastifyArgs, ignoreWatch } from '../lib/dev-args.js'
import { testConfig } from './helper.js'
import { LOADER, NO_COVERAGE, serverEnv } from './spawn.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const { arrayToRegExp } = createRequire(import.meta.url)('fastify-cli/lib/watch/utils.js') as { arrayToRegExp: (a: string[]) => RegExp }

/** The regular expression fastify-cli's watcher builds from `--ignore-watch`. */
const watcherIgnores = (list: string) => arrayToRegExp(list.split(' ').filter(Boolean))

t.test('the watcher ignores the configured database and its companions, whatever their name', async (t) => {
  for (const path of ['./dev.sqlite', './my data/auth file']) {
    const ignored = watcherIgnores(ignoreWatch({ DATABASE_PATH: path }))
    const file = join(ROOT, path)
    for (const suffix of ['', '-wal', '-shm', '-journal']) t.match(file + suffix, ignored, path + suffix)
    t.notMatch(join(ROOT, 'app.ts'), ignored)
    t.notMatch(join(ROOT, 'dev.ts'), ignored)
  }
  const memory = watcherIgnores(ignoreWatch({ DATABASE_PATH: ':memory:' }))
  t.match(join(ROOT, 'data', 'auth.db-wal'), memory)
  t.notMatch(join(ROOT, 'routes', 'health.ts'), memory)
  t.strictSame(fastifyArgs(testConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' })).slice(0, 9),
    ['start', '-w', '-o', '-P', '-l', 'info', '-a', '127.0.0.1', '-p'])
})

function dev (env: Record<string, string>, entry = 'scripts/dev.ts') {
  const child = spawn(process.execPath, [...LOADER, entry], {
    // No coverage: fastify-cli's children load the code through plain tsx
    // (scripts/dev.ts), without test/loader.mjs's fix of its source maps.
    cwd: ROOT, env: serverEnv({ ...env, ...NO_COVERAGE }), stdio: ['ignore', 'pipe', 'pipe'], detached: true
  })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  // The whole group: the script, fastify-cli and the child it forks.
  const kill = (signal: NodeJS.Signals = 'SIGKILL') => { try { process.kill(-child.pid!, signal) } catch {} }
  /** Ctrl-C: SIGINT to the group, as a terminal sends it; SIGKILL after 15 s. */
  const stop = async () => {
    kill('SIGINT')
    const timer = setTimeout(kill, 15_000)
    await exited
    clearTimeout(timer)
    kill()
  }
  return { out: () => out, err: () => err, exited, kill, stop }
}

t.test('dev mode with DATABASE_PATH=./<name>.sqlite inside the repository listens and answers /health', async (t) => {
  const name = `dev-test-${process.pid}.sqlite`
  t.teardown(() => { for (const s of ['', '-wal', '-shm', '-journal']) rmSync(join(ROOT, name + s), { force: true }) })
  const server = dev({ DATABASE_PATH: `./${name}`, PORT: '0' })
  t.teardown(server.stop)
  let url: string | undefined
  for (let i = 0; i < 600 && url === undefined; i++) {
    url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(server.out())?.[1]
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.ok(url, `listening within 60 s: ${server.err()}`)
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) })
  t.equal(res.status, 200)
  // A few seconds of database writes later, it still runs: no restart.
  await fetch(`${url}/api/v1/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"dev@example.com","password":"correct horse battery"}' })
  await new Promise((resolve) => setTimeout(resolve, 2000))
  t.equal(server.out().match(/Server listening at/g)?.length, 1, 'started once, never restarted')
})

t.test('dev mode with a bad variable: one line and exit 1', async (t) => {
  const server = dev({ PORT: 'abc' })
  t.teardown(() => server.kill())
  const timer = setTimeout(() => server.kill(), 30_000)
  t.equal(await server.exited, 1)
  clearTimeout(timer)
  t.equal(server.err(), 'Invalid configuration: PORT must be an integer from 0 to 65535 (got "abc")\n')
  // fastify-cli run on dev.ts directly says the same.
  const entry = dev({ DATABASE_PATH: '/proc/nope/auth.db' }, 'dev.ts')
  t.teardown(() => entry.kill())
  t.equal(await entry.exited, 1)
  t.match(entry.err(), /^Invalid configuration: DATABASE_PATH "\/proc\/nope\/auth\.db" cannot be used: .*\n$/)
})
