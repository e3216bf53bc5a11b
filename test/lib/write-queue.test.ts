/**
 * The group commit, on both queues: the event loop's own connection
 * (`:memory:`, scripts) and the writer thread (a file). Same batches, same
 * outcomes: one commit per turn, one bad job never sinks or half-applies the
 * others, a store that cannot begin fails the whole batch at once.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import { openDatabase, type DB } from '../../lib/sqlite.js'
import { createOps, type SessionInsert } from '../../lib/write-ops.js'
import { InlineWriteQueue, ThreadWriteQueue, fromWire, toWire, type WriteQueue } from '../../lib/write-queue.js'

const META = { ip: '127.0.0.1', userAgent: 'test' }
const USER = { id: 'u1', email: 'u1@example.com', hash: 'h', createdAt: 1 }
const EVENT = { type: 'register' as const, outcome: 'success' as const, userId: 'u1', sessionId: null, jti: null, ip: null, userAgent: null, at: 1 }
const row = (id: string): SessionInsert => [id, 'u1', `jti-${id}`, Date.now(), Math.floor(Date.now() / 1000) + 3600]
const open = (q: WriteQueue, ...ids: string[]) => q.run('openSessions', { rows: ids.map(row), meta: META, at: Date.now() })

function tempFile (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'auth-writes-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'auth.db')
}

interface Setup { queue: WriteQueue, reader: DB, sessions: () => string[] }

const kinds: Record<string, (t: Test) => Promise<Setup>> = {
  inline: async (t) => {
    const db = openDatabase(':memory:')
    t.teardown(() => { if (db.open) db.close() })
    const queue = new InlineWriteQueue(db, createOps(db, 5))
    return { queue, reader: db, sessions: () => db.prepare('SELECT id FROM sessions ORDER BY id').pluck().all() as string[] }
  },
  thread: async (t) => {
    const path = tempFile(t)
    const reader = openDatabase(path)
    const queue = await ThreadWriteQueue.start({ path, toleranceSeconds: 5, autocheckpoint: true })
    t.teardown(async () => {
      await queue.close()
      reader.close()
    })
    return { queue, reader, sessions: () => reader.prepare('SELECT id FROM sessions ORDER BY id').pluck().all() as string[] }
  }
}

for (const [kind, setup] of Object.entries(kinds)) {
  t.test(`${kind}: the jobs of one turn share one commit, and settle after it`, async (t) => {
    const { queue, sessions } = await setup(t)
    t.equal(await queue.run('register', { user: USER, event: EVENT }), true)
    const before = queue.commits
    const jobs = [open(queue, 'a'), open(queue, 'b'), open(queue, 'c')]
    t.strictSame(sessions(), [], 'nothing written before the next turn')
    t.strictSame(await Promise.all(jobs), [null, null, null])
    t.equal(queue.commits, before + 1, 'one commit for the three')
    t.strictSame(sessions(), ['a', 'b', 'c'])
    t.equal(await queue.run('register', { user: USER, event: EVENT }), false, 'a business outcome is a value, not an error')
  })

  t.test(`${kind}: one bad job does not sink the others, and is not half-applied`, async (t) => {
    const { queue, sessions } = await setup(t)
    await queue.run('register', { user: USER, event: EVENT })
    await open(queue, 'x')
    const good1 = open(queue, 'p')
    const bad = open(queue, 'half', 'x') // 'half' is written, then 'x' breaks the primary key
    const good2 = open(queue, 'q')
    t.equal(await good1, null)
    t.equal(await good2, null)
    await t.rejects(bad, { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' })
    t.strictSame(sessions(), ['p', 'q', 'x'], 'no half of the bad job')
  })

  t.test(`${kind}: a lone failing job is rejected; a pragma runs on the write connection`, async (t) => {
    const { queue, sessions } = await setup(t)
    await t.rejects(open(queue, 'orphan'), { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' })
    t.strictSame(sessions(), [])
    await queue.pragma('query_only = ON')
    await queue.run('register', { user: USER, event: EVENT }).then(() => t.fail('written'), (err) => t.match(err, { code: 'SQLITE_READONLY' }))
    await queue.pragma('query_only = OFF')
    t.equal(await queue.run('register', { user: USER, event: EVENT }), true)
    await t.rejects(queue.pragma('no such pragma ('), { code: 'SQLITE_ERROR' })
  })

  // An in-memory database has no other connection to hold a lock.
  if (kind === 'thread') {
    t.test(`${kind}: a lock held elsewhere fails the whole batch at once, then it recovers`, async (t) => {
      const { queue, reader } = await setup(t)
      await queue.pragma('busy_timeout = 50')
      const other = new Database(reader.name)
      other.exec('BEGIN IMMEDIATE')
      const results = await Promise.allSettled([queue.run('register', { user: USER, event: EVENT }), queue.run('audit', { event: EVENT })])
      t.strictSame(results.map((r) => r.status), ['rejected', 'rejected'])
      t.match((results[0] as PromiseRejectedResult).reason, { code: 'SQLITE_BUSY' })
      other.exec('ROLLBACK')
      other.close()
      t.equal(await queue.run('register', { user: USER, event: EVENT }), true, 'recovered')
    })
  }

  t.test(`${kind}: close commits what is queued; later jobs are refused`, async (t) => {
    const { queue, reader } = await setup(t)
    await queue.run('register', { user: USER, event: EVENT })
    const pending = open(queue, 'last')
    await queue.close()
    await pending
    if (kind === 'thread') {
      t.strictSame(reader.prepare('SELECT id FROM sessions').pluck().all(), ['last'], 'committed before the thread stopped')
      await t.rejects(open(queue, 'late'), { message: 'the writer thread has stopped' })
      await t.rejects(queue.pragma('query_only'), { message: 'the writer thread has stopped' })
    } else {
      t.strictSame(reader.prepare('SELECT id FROM sessions').pluck().all(), ['last'])
    }
  })
}

t.test('inline: a closed handle rejects every job of the batch', async (t) => {
  const db = openDatabase(':memory:')
  const queue = new InlineWriteQueue(db, createOps(db, 5))
  const jobs = [queue.run('audit', { event: EVENT }), queue.run('audit', { event: EVENT })]
  db.close()
  for (const job of jobs) await t.rejects(job)
})

t.test('thread: a file that cannot be opened fails the start', async (t) => {
  const dir = tempFile(t) // a path under a file, not a folder
  Database(dir).close()
  await t.rejects(ThreadWriteQueue.start({ path: join(dir, 'nested.db'), toleranceSeconds: 5, autocheckpoint: true }))
})

t.test('errors cross the thread as plain data and come back with their code', async (t) => {
  const err = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' })
  t.strictSame(toWire(err), { message: 'disk I/O error', code: 'SQLITE_IOERR', name: 'Error' })
  t.match(fromWire(toWire(err)), { message: 'disk I/O error', code: 'SQLITE_IOERR', name: 'Error' })
  t.strictSame(toWire('odd'), { message: 'odd', code: undefined, name: 'Error' }, 'a thrown non-error')
  t.equal((fromWire(toWire('odd')) as Error & { code?: string }).code, undefined)
})
