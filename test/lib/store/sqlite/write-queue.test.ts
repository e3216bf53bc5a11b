/**
 * The group commit, on a database file (the WAL synced off the event loop
 * before any job settles) and in memory (settled at the commit). Same
 * batches, same outcomes: one commit per turn, one bad job never sinks or
 * half-applies the others, a store that cannot begin fails the whole batch.
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import { openDatabase, type DB } from '../../../../lib/store/sqlite/open.js'
import { createOps } from '../../../../lib/store/sqlite/ops.js'
import type { SessionInsert } from '../../../../lib/domain.js'
import { sessionRow } from '../contract.js'
import { WriteQueue } from '../../../../lib/store/sqlite/write-queue.js'
import { tempDir } from '../../../helper.js'

const META = { ip: '127.0.0.1', userAgent: 'test' }
const USER = { id: 'u1', email: 'u1@example.com', hash: 'h', createdAt: 1 }
const EVENT = { type: 'register' as const, outcome: 'success' as const, userId: 'u1', sessionId: null, jti: null, ip: null, userAgent: null, at: 1 }
const row = (id: string): SessionInsert => sessionRow(id, 'u1', Date.now(), Math.floor(Date.now() / 1000) + 3600)
const open = (q: WriteQueue, ...ids: string[]) => q.run('openSessions', { rows: ids.map(row), meta: META, at: Date.now() })

function tempFile (t: Test): string {
  const dir = tempDir(t)
  return join(dir, 'auth.db')
}

interface Setup { queue: WriteQueue, db: DB, sessions: () => string[] }

function setup (t: Test, kind: 'file' | 'memory', wal?: string): Setup {
  const db = openDatabase(kind === 'file' ? tempFile(t) : ':memory:')
  t.teardown(() => { if (db.open) db.close() })
  if (kind === 'file') db.pragma('synchronous = NORMAL')
  const queue = new WriteQueue(db, createOps(db, { toleranceSeconds: 5, auditRetentionDays: 0 }), kind === 'file' ? { wal: wal ?? `${db.name}-wal` } : {})
  return { queue, db, sessions: () => db.prepare('SELECT id FROM sessions ORDER BY id').pluck().all() as string[] }
}

for (const kind of ['file', 'memory'] as const) {
  t.test(`${kind}: the jobs of one turn share one commit, and settle after it`, async (t) => {
    const { queue, db, sessions } = setup(t, kind)
    t.equal(await queue.run('register', { user: USER, event: EVENT }), true)
    const before = queue.commits
    const seen: boolean[] = []
    const jobs = [open(queue, 'a'), open(queue, 'b'), open(queue, 'c')].map((p) => p.then((v) => { seen.push(db.inTransaction); return v }))
    t.strictSame(sessions(), [], 'nothing written before the next turn')
    t.strictSame(await Promise.all(jobs), [undefined, undefined, undefined])
    t.strictSame(seen, [false, false, false], 'settled after the commit')
    t.equal(queue.commits, before + 1, 'one commit for the three')
    t.strictSame(sessions(), ['a', 'b', 'c'])
    t.equal(await queue.run('register', { user: USER, event: EVENT }), false, 'a business outcome is a value, not an error')
  })

  t.test(`${kind}: one bad job does not sink the others, and is not half-applied`, async (t) => {
    const { queue, sessions } = setup(t, kind)
    await queue.run('register', { user: USER, event: EVENT })
    await open(queue, 'x')
    const good1 = open(queue, 'p')
    const bad = open(queue, 'half', 'x') // 'half' is written, then 'x' breaks the primary key
    const good2 = open(queue, 'q')
    t.equal(await good1, undefined)
    t.equal(await good2, undefined)
    await t.rejects(bad, { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' })
    t.strictSame(sessions(), ['p', 'q', 'x'], 'no half of the bad job')
  })

  t.test(`${kind}: a lone failing job is rejected`, async (t) => {
    const { queue, sessions } = setup(t, kind)
    await t.rejects(open(queue, 'orphan'), { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' })
    t.strictSame(sessions(), [])
  })

  t.test(`${kind}: drain commits what is queued and waits for it`, async (t) => {
    const { queue, sessions } = setup(t, kind)
    await queue.drain()
    let settled = false
    const pending = queue.run('register', { user: USER, event: EVENT }).then(() => { settled = true })
    await queue.drain()
    t.equal(settled, true, 'settled by the time drain resolves')
    await pending
    t.strictSame(sessions(), [])
  })
}

t.test('file: jobs queued while a sync runs wait for it, then share one commit', async (t) => {
  const { queue, sessions } = setup(t, 'file')
  await queue.run('register', { user: USER, event: EVENT })
  const commits = queue.commits
  const first = open(queue, 'a')
  queue.flush() // committed; its sync has begun
  const second = open(queue, 'b')
  queue.flush()
  const third = open(queue, 'c')
  queue.flush()
  // They could not be answered before the next sync anyway: one commit for both when it ends.
  t.strictSame(sessions(), ['a'], 'not committed while the sync runs')
  t.strictSame(await Promise.all([first, second, third]), [undefined, undefined, undefined])
  t.strictSame(sessions(), ['a', 'b', 'c'])
  t.equal(queue.commits - commits, 2, 'a, then b and c together')
})

t.test('file: a WAL that cannot be synced fails the jobs: nobody is told it is durable', async (t) => {
  const { queue, sessions } = setup(t, 'file', join(tmpdir(), 'no-such-folder-auth', 'auth.db-wal'))
  await t.rejects(queue.run('register', { user: USER, event: EVENT }), { code: 'ENOENT' })
  await t.rejects(open(queue, 'a'), { code: 'ENOENT' })
  t.strictSame(sessions(), ['a'], 'the commit itself happened: only its durability is unknown')
})

t.test('file: a lock held elsewhere fails the whole batch at once, then it recovers', async (t) => {
  const { queue, db } = setup(t, 'file')
  db.pragma('busy_timeout = 50')
  const other = new Database(db.name)
  other.exec('BEGIN IMMEDIATE')
  const results = await Promise.allSettled([queue.run('register', { user: USER, event: EVENT }), queue.run('audit', { event: EVENT })])
  t.strictSame(results.map((r) => r.status), ['rejected', 'rejected'])
  t.match((results[0] as PromiseRejectedResult).reason, { code: 'SQLITE_BUSY' })
  other.exec('ROLLBACK')
  other.close()
  t.equal(await queue.run('register', { user: USER, event: EVENT }), true, 'recovered')
})

t.test('a closed handle rejects every job of the batch', async (t) => {
  const db = openDatabase(':memory:')
  const queue = new WriteQueue(db, createOps(db, { toleranceSeconds: 5, auditRetentionDays: 0 }))
  const jobs = [queue.run('audit', { event: EVENT }), queue.run('audit', { event: EVENT })]
  db.close()
  for (const job of jobs) await t.rejects(job)
})
