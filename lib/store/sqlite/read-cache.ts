/**
 * A bounded cache of rows read from SQLite, emptied whenever the database
 * may have changed, so that it never answers with a row a commit has
 * deleted: a revoked session is refused on the very next request.
 *
 * "May have changed" is two counters of the reading connection, read
 * before every lookup:
 * - `PRAGMA data_version`, which changes when any other connection commits
 *   (another process on the same file, an operator's tool), but not for this
 *   connection's own commits;
 * - `total_changes()`, the rows this connection's own statements have
 *   inserted, updated or deleted: the write queue's batches, and any other
 *   write on it (migrations, maintenance). A rolled-back change still
 *   counts, which is merely safe.
 * Inside an open transaction (a write job reading) nothing is cached: the
 * rows it sees may yet be rolled back, which neither counter would show.
 * @see https://www.sqlite.org/pragma.html#pragma_data_version
 * @see https://www.sqlite.org/lang_corefunc.html#total_changes
 */
import type { Statement } from 'better-sqlite3'
import type { DB } from './open.js'

export class ReadCache<V, A = undefined> {
  readonly #rows = new Map<string, V>()
  readonly #db: DB
  readonly #max: number
  readonly #dataVersion: Statement<[], number>
  readonly #totalChanges: Statement<[], number>
  #seenVersion = -1
  #seenChanges = -1

  constructor (db: DB, max: number) {
    this.#db = db
    this.#max = max
    this.#dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck()
    // No table read, no read transaction: a fraction of a microsecond.
    this.#totalChanges = db.prepare<[], number>('SELECT total_changes()').pluck()
  }

  /**
   * The cached row for `key`, or `load(key, arg)` (cached unless undefined).
   * The counters are read before `load` runs: a commit landing between the
   * two makes the row newer than its stamp, and the next lookup drops it.
   */
  get (key: string, load: (key: string, arg: A) => V | undefined, arg?: A): V | undefined {
    if (this.#db.inTransaction) return load(key, arg as A)
    const version = this.#dataVersion.get()!
    const changes = this.#totalChanges.get()!
    if (version !== this.#seenVersion || changes !== this.#seenChanges) {
      this.#rows.clear()
      this.#seenVersion = version
      this.#seenChanges = changes
    }
    let row = this.#rows.get(key)
    if (row === undefined) {
      row = load(key, arg as A)
      if (row === undefined) return undefined
      // Oldest first out: a Map iterates in insertion order.
      if (this.#rows.size >= this.#max) this.#rows.delete(this.#rows.keys().next().value!)
      this.#rows.set(key, row)
    }
    return row
  }

  /** How many rows are cached now. */
  get size (): number {
    return this.#rows.size
  }
}
