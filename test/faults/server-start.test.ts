/**
 * The process's own failure paths (server.ts): a bad environment stops it
 * with one line naming the variable (SPEC §1), not a stack trace; a port it cannot bind stops it with a
 * logged error; an uncaught error shuts it down through the same graceful
 * path as SIGTERM, closing the database, with exit code 1.
 */
import { createServer } from 'node:net'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import { call, start, stop } from '../spawn.js'
import { tempDir } from '../helper.js'

const tmp = (t: Test) => {
  const dir = tempDir(t)
  return join(dir, 'auth.db')
}

t.test('a bad environment: exit 1 and one line naming the variable, no secret', async (t) => {
  await t.rejects(start({ DATABASE_PATH: tmp(t), PORT: 'abc' }, { timeoutMs: 20_000 }),
    /exited \(1\) before listening: Invalid configuration: PORT must be an integer from 0 to 65535 \(got "abc"\)\n$/)
  await t.rejects(start({ DATABASE_PATH: tmp(t), JWT_SECRET: 'short-secret' }, { timeoutMs: 20_000 }),
    /exited \(1\) before listening: Invalid configuration: JWT_SECRET must be at least 32 characters\n$/)
})

t.test('a store that cannot be opened: exit 1 and one line, not a stack trace', async (t) => {
  const file = join(tempDir(t), 'a-file')
  writeFileSync(file, '')
  await t.rejects(start({ DATABASE_PATH: join(file, 'auth.db') }, { timeoutMs: 20_000 }),
    /exited \(1\) before listening: Could not start: EEXIST: file already exists, mkdir '[^\n]*a-file'\n$/)
})

t.test('a port already taken: exit 1 with a logged error', async (t) => {
  const holder = createServer()
  holder.listen(0, '127.0.0.1')
  await once(holder, 'listening')
  t.teardown(() => holder.close())
  const taken = String((holder.address() as { port: number }).port)
  await t.rejects(start({ DATABASE_PATH: tmp(t), PORT: taken }, { timeoutMs: 20_000 }), /exited \(1\) before listening/)
})

t.test('an uncaught error: graceful shutdown, exit 1, database closed', async (t) => {
  const path = tmp(t)
  const preload = fileURLToPath(new URL('../fixtures/throw-later.mjs', import.meta.url))
  const server = await start({ DATABASE_PATH: path }, { nodeArgs: ['--import', preload] })
  t.teardown(() => stop(server))
  t.equal((await call(server.url, 'GET', '/health')).status, 200)
  server.child.kill('SIGWINCH')
  const exit = await server.exited
  t.equal(exit, 1)
  t.ok(server.lines().some((l) => l.includes('shutting down after an error')), 'the error is logged')
  // A closed database leaves no -wal behind needing recovery; it opens clean.
  const db = new Database(path, { readonly: true })
  t.equal(db.pragma('integrity_check', { simple: true }), 'ok')
  db.close()
})
