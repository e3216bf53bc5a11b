/**
 * An unusable DATABASE_PATH stops the real server with one line naming the
 * variable, the path and the reason, and exit code 1, promptly: a
 * read-only folder, a garbage file, a parent that is a file, a path under
 * /proc (where Node's recursive mkdir loops forever), a file that looks
 * like SQLite but is not. The checks themselves run in-process too.
 */
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { checkDatabasePath } from '../../lib/database-path.js'
import { startupFailure, startupLines } from '../../lib/startup.js'
import { ConfigError } from '../../fastify.config.js'
import { SECRET, tempDir } from '../helper.js'
import { start } from '../spawn.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

const folder = (t: Test) => tempDir(t, 'auth-path-')

/** Starts the server and expects exit 1 within `ms` with exactly one line on stderr. */
async function refused (t: Test, path: string, reason: RegExp, ms = 20_000) {
  const started = Date.now()
  const err = await start({ DATABASE_PATH: path }, { timeoutMs: ms }).then(() => new Error('it listened'), (e: Error) => e)
  t.match(err.message, /^server exited \(1\) before listening: /, path)
  const stderr = err.message.replace(/^server exited \(1\) before listening: /, '')
  t.equal(stderr.split('\n').length, 2, 'one line')
  t.match(stderr, /DATABASE_PATH/)
  t.ok(stderr.includes(JSON.stringify(path)), 'names the path')
  t.match(stderr, reason)
  t.notMatch(stderr, /\n\s+at /, 'no stack trace')
  t.ok(Date.now() - started < ms, 'promptly')
}

t.test('a garbage file: not a SQLite database', async (t) => {
  const path = join(folder(t), 'auth.db')
  writeFileSync(path, 'this is not a database, just text that someone put here\n'.repeat(20))
  await refused(t, path, /it is not a SQLite database/)
})

t.test('a file with the SQLite header but garbage after it: SQLite\'s own reason, still one line', async (t) => {
  const path = join(folder(t), 'auth.db')
  writeFileSync(path, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4096, 7)]))
  await refused(t, path, /^Could not start: DATABASE_PATH .*\(SQLITE_[A-Z_]+\)\n$/)
})

t.test('a parent that is a file', async (t) => {
  const file = join(folder(t), 'plain-file')
  writeFileSync(file, 'x')
  await refused(t, join(file, 'auth.db'), /plain-file is not a folder/)
  await refused(t, join(file, 'deeper', 'auth.db'), /plain-file is not a folder/)
})

t.test('/proc/nope/auth.db: exit 1 promptly, no endless mkdir loop', async (t) => {
  await refused(t, '/proc/nope/auth.db', /cannot create the folder \/proc\/nope \(ENOENT\)/)
})

t.test('a read-only folder (as an unprivileged user when run as root)', async (t) => {
  const dir = folder(t)
  const ro = join(dir, 'ro')
  mkdirSync(ro)
  chmodSync(dir, 0o755)
  chmodSync(ro, 0o555)
  const path = join(ro, 'auth.db')
  const root = process.getuid?.() === 0
  if (!root) return refused(t, path, /the folder .*ro is not writable/)
  // Root writes anywhere: the server runs as "nobody", with tsx and without
  // tap's NODE_OPTIONS and coverage folder (root's, which "nobody" cannot
  // write), so this case reports no coverage (lib/database-path.ts ignores it).
  const child = spawn('env', ['-u', 'NODE_OPTIONS', '-u', 'NODE_V8_COVERAGE', process.execPath, '--import', 'tsx', 'server.ts'], {
    cwd: ROOT,
    uid: 65534,
    gid: 65534,
    env: { PATH: process.env.PATH, DATABASE_PATH: path, PORT: '0', JWT_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  const [code] = await once(child, 'exit')
  clearTimeout(timer)
  t.equal(code, 1)
  t.equal(stderr, `Invalid configuration: DATABASE_PATH ${JSON.stringify(path)} cannot be used: the folder ${ro} is not writable\n`)
})

t.test('checkDatabasePath in-process: creates missing folders, accepts new, empty and SQLite files', async (t) => {
  const dir = folder(t)
  checkDatabasePath(':memory:')
  checkDatabasePath(join(dir, 'a', 'b', 'auth.db'))
  t.ok(statSync(join(dir, 'a', 'b')).isDirectory(), 'folders created')
  writeFileSync(join(dir, 'empty.db'), '')
  checkDatabasePath(join(dir, 'empty.db'))
  writeFileSync(join(dir, 'short.db'), 'SQL')
  t.throws(() => checkDatabasePath(join(dir, 'short.db')), /not a SQLite database/)
  t.throws(() => checkDatabasePath(dir), new ConfigError(`Invalid configuration: DATABASE_PATH ${JSON.stringify(dir)} cannot be used: it is not a file`))
})

t.test('startup lines and failures', async (t) => {
  t.strictSame(startupLines({ DATABASE_PATH: 'x.db', JWT_SECRET: undefined }, 'http://h:1'),
    [[{ database: 'x.db' }, 'database: x.db'], [{ docs: 'http://h:1/docs' }, 'Swagger UI at http://h:1/docs']])
  t.strictSame(startupLines({ DATABASE_PATH: 'x.db', DATABASE_URL: 'postgres://u:hunter2@db:5432/auth', JWT_SECRET: undefined }, 'http://h:1')[0],
    [{ database: 'postgres://u@db:5432/auth' }, 'database: PostgreSQL postgres://u@db:5432/auth'], 'PostgreSQL, never its password')
  t.equal(startupFailure(new Error('boom\n  at somewhere'), { DATABASE_PATH: 'x.db' }), 'Could not start: boom')
  t.equal(startupFailure('plain', { DATABASE_PATH: 'x.db' }), 'Could not start: plain')
})
