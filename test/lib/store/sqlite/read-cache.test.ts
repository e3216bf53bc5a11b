/**
 * The read cache answers from memory only while neither this connection
 * nor any other has changed the database since the row was read.
 */
import t from 'tap'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { openDatabase } from '../../../../lib/store/sqlite/open.js'
import { ReadCache } from '../../../../lib/store/sqlite/read-cache.js'
import { tempDir } from '../../../helper.js'

function setup (t: any, path = ':memory:') {
  const db = openDatabase(path)
  t.teardown(() => db.close())
  db.exec('CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)')
  db.prepare("INSERT INTO kv VALUES ('a', '1'), ('b', '2'), ('c', '3')").run()
  const read = db.prepare<[string], { v: string }>('SELECT v FROM kv WHERE k = ?')
  let loads = 0
  const load = (k: string) => { loads++; return read.get(k) }
  return { db, load, loads: () => loads }
}

/** Another connection (another process, an operator's tool) commits b = 20 to the file in `dir`. */
function otherSetsB (dir: string) {
  const other = new Database(join(dir, 'a.db'))
  other.prepare("UPDATE kv SET v = '20' WHERE k = 'b'").run()
  other.close()
}

t.test('a second lookup of an unchanged database is answered from memory', async (t) => {
  const { db, load, loads } = setup(t)
  const cache = new ReadCache<{ v: string }>(db, 10)
  t.strictSame(cache.get('a', load), { v: '1' })
  t.strictSame(cache.get('a', load), { v: '1' })
  t.equal(loads(), 1)
  t.equal(cache.get('zz', load), undefined, 'a missing row')
  t.equal(cache.get('zz', load), undefined)
  t.equal(loads(), 3, 'a missing row is never cached')
  t.equal(cache.size, 1)
})

t.test('a write on the same connection empties it, even outside any queue', async (t) => {
  const { db, load, loads } = setup(t)
  const cache = new ReadCache<{ v: string }>(db, 10)
  cache.get('a', load)
  db.prepare("DELETE FROM kv WHERE k = 'a'").run()
  t.equal(cache.get('a', load), undefined)
  t.equal(loads(), 2)
  t.equal(cache.size, 0)
})

t.test('a commit by another connection to the same file empties it', async (t) => {
  const dir = tempDir(t)
  const { db, load } = setup(t, join(dir, 'a.db'))
  const cache = new ReadCache<{ v: string }>(db, 10)
  t.strictSame(cache.get('b', load), { v: '2' })
  otherSetsB(dir)
  t.strictSame(cache.get('b', load), { v: '20' })
})

t.test('inside a transaction nothing is cached: it may be rolled back', async (t) => {
  const { db, load, loads } = setup(t)
  const cache = new ReadCache<{ v: string }>(db, 10)
  t.throws(() => db.transaction(() => {
    db.prepare("INSERT INTO kv VALUES ('d', '4')").run()
    t.strictSame(cache.get('d', load), { v: '4' }, 'its own uncommitted row')
    throw new Error('roll back')
  })())
  t.equal(cache.size, 0)
  t.equal(cache.get('d', load), undefined, 'the rolled-back row is gone')
  t.equal(loads(), 2)
})

t.test('a file in another journal mode (no WAL index to read): another connection\'s commit is still seen', async (t) => {
  const dir = tempDir(t)
  const { db, load } = setup(t, join(dir, 'a.db'))
  t.equal(db.pragma('journal_mode = DELETE', { simple: true }), 'delete')
  const cache = new ReadCache<{ v: string }>(db, 10)
  t.teardown(() => cache.close())
  t.strictSame(cache.get('b', load), { v: '2' })
  t.strictSame(cache.get('b', load), { v: '2' })
  otherSetsB(dir)
  t.strictSame(cache.get('b', load), { v: '20' })
})

t.test('a commit by another connection is seen by the next hit, whatever was read from the file meanwhile', async (t) => {
  const dir = tempDir(t)
  const { db, load } = setup(t, join(dir, 'a.db'))
  const cache = new ReadCache<{ v: string }>(db, 10)
  cache.get('a', load)
  cache.get('b', load)
  otherSetsB(dir)
  // A miss reads the file, not the counter: it must not stamp the stale rows as fresh.
  t.strictSame(cache.get('c', load), { v: '3' })
  t.strictSame(cache.get('b', load), { v: '20' })
  t.equal(cache.size, 1, 'everything read before the commit was dropped')
})

t.test('bounded: the oldest row goes first', async (t) => {
  const { db, load, loads } = setup(t)
  const cache = new ReadCache<{ v: string }>(db, 2, 1)
  cache.get('a', load)
  cache.get('b', load)
  cache.get('c', load)
  t.equal(cache.size, 2)
  cache.get('c', load)
  cache.get('b', load)
  t.equal(loads(), 3, 'b and c are still cached')
  cache.get('a', load)
  t.equal(loads(), 4, 'a was evicted')
})

t.test('once full, one row read in admitEvery is kept: no churn when the traffic rotates over more than it holds', async (t) => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  const cache = new ReadCache<{ k: string }>(db, 2, 4)
  const load = (k: string) => ({ k })
  cache.get('a', load)
  cache.get('b', load)
  t.equal(cache.size, 2, 'kept while not full')
  for (const k of ['c', 'd', 'e']) cache.get(k, load)
  t.same([...['a', 'b', 'c', 'd', 'e']].map((k) => cache.get(k, () => undefined)?.k), ['a', 'b', undefined, undefined, undefined],
    'three misses: none kept, nothing evicted')
  cache.get('f', load)
  t.same(['a', 'b', 'f'].map((k) => cache.get(k, () => undefined)?.k), [undefined, 'b', 'f'], 'the fourth is kept, the oldest went')
})
