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
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import { call, start, stop, type Server } from '../spawn.js'
import { tempDir, waitFor } from '../helper.js'

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

t.test('a port already taken: exit 1 with one line', async (t) => {
  const holder = createServer()
  holder.listen(0, '127.0.0.1')
  await once(holder, 'listening')
  t.teardown(() => holder.close())
  const taken = String((holder.address() as { port: number }).port)
  await t.rejects(start({ DATABASE_PATH: tmp(t), PORT: taken }, { timeoutMs: 20_000 }),
    /exited \(1\) before listening: Could not start: listen EADDRINUSE: address already in use 127\.0\.0\.1:\d+\n$/)
})

t.test('the start-up lines name the database and /docs; the last line says the database closed', async (t) => {
  // The lines after "Server listening" may still be on their way.
  const until = async (server: Server, test: (msg: string) => boolean) => {
    await waitFor('a start-up line', () => server.lines().some((l) => test(JSON.parse(l).msg)), 5000, 50).catch(() => {})
    return server.lines().some((l) => test(JSON.parse(l).msg))
  }
  const ended = async (server: Server) => {
    await stop(server, 'SIGTERM')
    if (!server.child.stdout!.closed) await once(server.child.stdout!, 'close')
    return JSON.parse(server.lines().at(-1)!).msg
  }
  const path = tmp(t)
  const server = await start({ DATABASE_PATH: path, JWT_SECRET: '' })
  t.teardown(() => stop(server))
  t.ok(await until(server, (m) => m === `database: ${path}`), 'the database in use')
  t.ok(await until(server, (m) => m === `Swagger UI at ${server.url}/docs`), 'where /docs is')
  t.equal(await ended(server), 'database closed, bye')

  const memory = await start({ DATABASE_PATH: ':memory:', JWT_SECRET: '' })
  t.teardown(() => stop(memory))
  t.ok(await until(memory, (m) => m.startsWith('database: :memory:') && m.includes('the generated signing secret dies with it')))
  await ended(memory)
  const kept = await start({ DATABASE_PATH: ':memory:' })
  t.teardown(() => stop(kept))
  t.ok(await until(kept, (m) => m === 'database: :memory: — nothing survives this process'))
  await ended(kept)
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
