import t from 'tap'
import { openDatabase } from '../../lib/sqlite.js'
import { WriteQueue } from '../../lib/write-queue.js'

function setup (t: any) {
  const db = openDatabase(':memory:')
  db.exec('CREATE TABLE items (name TEXT PRIMARY KEY)')
  t.teardown(() => db.close())
  const insert = db.prepare('INSERT INTO items (name) VALUES (?)')
  const names = () => db.prepare('SELECT name FROM items ORDER BY name').all().map((r: any) => r.name)
  return { db, queue: new WriteQueue(db), insert, names }
}

t.test('the jobs of one turn share one transaction, and settle after it commits', async (t) => {
  const { db, queue, insert, names } = setup(t)
  const seen: boolean[] = []
  const jobs = ['a', 'b', 'c'].map((n) => queue.run(() => {
    seen.push(db.inTransaction)
    insert.run(n)
    return names().length
  }))
  t.strictSame(names(), [], 'nothing written before the next turn')
  t.strictSame(await Promise.all(jobs), [1, 2, 3], 'each job sees the earlier ones: one transaction')
  t.strictSame(seen, [true, true, true])
  t.equal(db.inTransaction, false, 'committed')
  t.strictSame(names(), ['a', 'b', 'c'])
})

t.test('one bad job does not sink the others, and is not half-applied', async (t) => {
  const { queue, insert, names } = setup(t)
  const good1 = queue.run(() => insert.run('x').changes)
  const bad = queue.run(() => {
    insert.run('half')
    throw new Error('bad job')
  })
  const dup = queue.run(() => insert.run('x').changes) // a constraint failure inside the batch
  const good2 = queue.run(() => insert.run('y').changes)
  t.equal(await good1, 1)
  t.equal(await good2, 1)
  await t.rejects(bad, { message: 'bad job' })
  await t.rejects(dup, { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' })
  t.strictSame(names(), ['x', 'y'])
})

t.test('a lone failing job is rejected; flush with nothing queued is a no-op', async (t) => {
  const { queue, names } = setup(t)
  queue.flush()
  await t.rejects(queue.run(() => { throw new Error('alone') }), { message: 'alone' })
  t.strictSame(names(), [])
})

t.test('flush commits what is queued at once (used on close)', async (t) => {
  const { queue, insert, names } = setup(t)
  const p = queue.run(() => insert.run('now'))
  queue.flush()
  t.strictSame(names(), ['now'])
  await p
})

t.test('a closed handle rejects every job of the batch', async (t) => {
  const db = openDatabase(':memory:')
  const queue = new WriteQueue(db)
  const jobs = [queue.run(() => 1), queue.run(() => 2)]
  db.close()
  for (const job of jobs) await t.rejects(job)
})
