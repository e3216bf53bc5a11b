/**
 * A bounded cache of rows read from SQLite, emptied whenever the database
 * may have changed, so that it never answers with a row a commit has
 * deleted: a revoked session is refused on the very next request.
 *
 * "May have changed" is two signals:
 * - `total_changes()`, the rows this connection's own statements have
 *   inserted, updated or deleted: the write queue's batches, and any other
 *   write on it (migrations, maintenance). A rolled-back change still
 *   counts, which is merely safe. Read before every lookup: it starts no
 *   read transaction, a fraction of a microsecond.
 * - for a file, the WAL-index header, which every commit of any connection
 *   rewrites (another process on the same file, an operator's tool): its
 *   first 48 bytes, read from the `-shm` file with one `pread` before a
 *   lookup that would be answered from memory. `PRAGMA data_version` says
 *   the same but starts and ends a read transaction (two `fcntl` locks and
 *   an `fstat`, ~5 µs here against ~1 µs). A key that is not cached is read
 *   from the file anyway, which is the fresher answer, so a miss reads
 *   neither. Checkpoints rewrite the header too: the cache is then emptied
 *   for nothing, which is merely safe. `:memory:` has no other connection.
 * Inside an open transaction (a write job reading) nothing is cached: the
 * rows it sees may yet be rolled back, which neither counter would show.
 *
 * Admission: while the cache is not full, every row read is kept. Once it
 * is full, one read row in `admitEvery` is kept (the oldest then goes).
 * Under traffic rotating over more sessions than the cache holds, a row
 * kept would almost never be asked for again before it leaves: keeping each
 * one cost a map insertion, an eviction and an object promoted to V8's old
 * generation only to die there, on every request. Sampled, the cache still
 * fills with the keys asked for most (a key asked for k times is kept with
 * probability 1 - (1 - 1/admitEvery)^k) and churns `admitEvery` times less.
 * @see https://www.sqlite.org/walformat.html (2.1, the WAL-index header: `iChange`)
 * @see https://www.sqlite.org/lang_corefunc.html#total_changes
 */
import { openSync, closeSync, readSync } from 'node:fs'
import type { Statement } from 'better-sqlite3'
import type { DB } from './open.js'

/** The first copy of the WAL-index header: `iChange` (bumped by every commit), `mxFrame`, salts, checksums. */
const WAL_INDEX_HEADER = 48

/** Once full, one row read in this many is kept. */
export const ADMIT_EVERY = 16

export class ReadCache<V, A = undefined> {
  readonly #rows = new Map<string, V>()
  readonly #db: DB
  readonly #max: number
  readonly #admitEvery: number
  readonly #totalChanges: Statement<[], number>
  /** Whether another connection committed since last asked. */
  readonly #othersCommitted: () => boolean
  #shm: number | null = null
  #seenChanges = -1
  #misses = 0

  constructor (db: DB, max: number, admitEvery = ADMIT_EVERY) {
    this.#db = db
    this.#max = max
    this.#admitEvery = admitEvery
    this.#totalChanges = db.prepare<[], number>('SELECT total_changes()').pluck()
    this.#othersCommitted = db.memory ? () => false : this.#probe(db)
    this.#othersCommitted()
  }

  /**
   * The WAL-index header when there is one (openDatabase has read the file
   * in WAL mode: the -shm file exists while a connection is open);
   * otherwise (a file left in another journal mode) `PRAGMA data_version`.
   */
  #probe (db: DB): () => boolean {
    try {
      this.#shm = openSync(`${db.name}-shm`, 'r')
    } catch {
      const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck()
      let seen = -1
      return () => seen !== (seen = dataVersion.get()!)
    }
    const shm = this.#shm
    const header = Buffer.alloc(WAL_INDEX_HEADER)
    const seen = Buffer.alloc(WAL_INDEX_HEADER)
    return () => {
      readSync(shm, header, 0, WAL_INDEX_HEADER, 0)
      if (header.equals(seen)) return false
      header.copy(seen)
      return true
    }
  }

  /**
   * The cached row for `key`, or `load(key, arg)` (cached unless undefined).
   * The signals are stamped before `load` runs: a commit landing between
   * the two makes the row newer than its stamp, and the next hit drops it.
   */
  get (key: string, load: (key: string, arg: A) => V | undefined, arg?: A): V | undefined {
    if (this.#db.inTransaction) return load(key, arg as A)
    const changes = this.#totalChanges.get()!
    if (changes !== this.#seenChanges) {
      this.#rows.clear()
      this.#seenChanges = changes
      this.#othersCommitted()
    }
    let row = this.#rows.get(key)
    if (row !== undefined) {
      if (!this.#othersCommitted()) return row
      this.#rows.clear()
    }
    row = load(key, arg as A)
    if (row === undefined) return undefined
    if (this.#rows.size >= this.#max) {
      if (++this.#misses % this.#admitEvery !== 0) return row
      // Oldest first out: a Map iterates in insertion order.
      this.#rows.delete(this.#rows.keys().next().value!)
    }
    this.#rows.set(key, row)
    return row
  }

  /** How many rows are cached now. */
  get size (): number {
    return this.#rows.size
  }

  /** Lets the `-shm` file go; before the connection closes. */
  close (): void {
    if (this.#shm !== null) closeSync(this.#shm)
    this.#shm = null
  }
}
