/**
 * Group commit: the write jobs queued during one event-loop turn (or, on a
 * file, during one sync of the WAL) run in one SQLite transaction, and each
 * job's promise settles only once that transaction is durable. One commit
 * and one fsync then cover many requests, and a request is never
 * acknowledged before its write is on disk.
 *
 * A job is a named operation over plain data (./ops.ts). If the
 * batch fails (a job throws, the disk is full, the file is locked), it is
 * rolled back whole and each job is retried alone, so one bad job cannot
 * sink the others and no job is ever half-applied. If the transaction could
 * not even begin (the write lock was not granted within the busy timeout),
 * every job fails at once: the store is unavailable to all of them alike,
 * and a retry per job would wait one busy timeout per queued job.
 *
 * The fsync leaves the event loop. better-sqlite3 is synchronous: with
 * `synchronous = FULL` each COMMIT syncs the WAL inline, and nothing is
 * served while the disk works. Given the WAL's path, the queue's connection
 * commits with `synchronous = NORMAL` (the WAL written, not synced) and the
 * queue then runs one `fdatasync` of the WAL on libuv's thread pool; the
 * batch's jobs settle when it returns. That is FULL's guarantee (committed
 * frames synced before anyone is told) with the event loop parsing,
 * verifying the next requests meanwhile. One sync at a time: the jobs
 * queued while it runs are committed together when it returns, then synced.
 * @see https://www.sqlite.org/pragma.html#pragma_synchronous
 * @see https://www.sqlite.org/wal.html
 */
import { open, type FileHandle } from 'node:fs/promises'
import type { DB } from './open.js'
import type { OpArgs, OpName, OpResult, Ops } from './ops.js'

export interface Job {
  op: OpName
  args: unknown
}

export type Outcome = { ok: true, value: unknown } | { ok: false, error: unknown }

/** Runs one batch as described above; never throws. */
export function createBatchRunner (db: DB, ops: Ops): (jobs: Job[]) => Outcome[] {
  const exec = (job: Job): unknown => (ops[job.op] as (args: unknown) => unknown)(job.args)
  let began = false
  const all = db.transaction((jobs: Job[]) => {
    began = true
    return jobs.map(exec)
  })
  const alone = db.transaction(exec)
  return function runBatch (jobs) {
    began = false
    try {
      return all.immediate(jobs).map((value) => ({ ok: true, value }))
    } catch (error) {
      if (jobs.length === 1 || !began) return jobs.map(() => ({ ok: false, error }))
      return jobs.map((job) => {
        try {
          return { ok: true, value: alone.immediate(job) }
        } catch (error) {
          return { ok: false, error }
        }
      })
    }
  }
}

interface Waiter {
  resolve: (value: any) => void
  reject: (err: unknown) => void
}

interface Committed {
  waiters: Waiter[]
  outcomes: Outcome[]
}

function settle (waiter: Waiter, outcome: Outcome): void {
  if (outcome.ok) waiter.resolve(outcome.value)
  else waiter.reject(outcome.error)
}

export interface WriteQueueOptions {
  /**
   * The WAL file of the database, whose connection commits with
   * `synchronous = NORMAL`: jobs settle after an fdatasync of it, off the
   * event loop. Without it (`:memory:`), they settle after the commit.
   */
  wal?: string | undefined
}

export class WriteQueue {
  readonly #runBatch: (jobs: Job[]) => Outcome[]
  readonly #wal: string | undefined
  #jobs: Job[] = []
  #waiters: Waiter[] = []
  #scheduled: NodeJS.Immediate | null = null
  #syncing: Promise<void> | null = null
  #file: FileHandle | null = null
  /** Batches committed so far (how many commits a burst of jobs took). */
  commits = 0

  constructor (db: DB, ops: Ops, opts: WriteQueueOptions = {}) {
    this.#runBatch = createBatchRunner(db, ops)
    this.#wal = opts.wal
  }

  /** Queues `op` for the next group commit; settles once that commit is durable. */
  run<K extends OpName> (op: K, args: OpArgs<K>): Promise<OpResult<K>> {
    return new Promise((resolve, reject) => {
      this.#jobs.push({ op, args })
      this.#waiters.push({ resolve, reject })
      this.#scheduled ??= setImmediate(this.flush)
    })
  }

  /**
   * Commits everything queued so far; called on the next turn, and on close.
   * While a sync runs, it leaves the jobs queued: they could not be answered
   * before the next sync anyway, and the running sync's end commits them all
   * at once (#sync), so a page that many of them touch is written once.
   */
  flush = (): void => {
    if (this.#scheduled) clearImmediate(this.#scheduled)
    this.#scheduled = null
    if (this.#syncing !== null) return
    const batch = this.#commit()
    if (batch === null) return
    if (this.#wal === undefined) {
      for (let i = 0; i < batch.outcomes.length; i++) settle(batch.waiters[i]!, batch.outcomes[i]!)
      return
    }
    this.#syncing = this.#sync(this.#wal, batch)
  }

  /** Runs the queued jobs in one transaction; null when none was queued. */
  #commit (): Committed | null {
    const jobs = this.#jobs
    if (jobs.length === 0) return null
    const waiters = this.#waiters
    this.#jobs = []
    this.#waiters = []
    const outcomes = this.#runBatch(jobs)
    this.commits++
    return { waiters, outcomes }
  }

  /**
   * Syncs the WAL, settles the batch it made durable, then commits and syncs
   * whatever was queued meanwhile, until nothing is. The file is opened once
   * and kept: SQLite truncates and rewrites its WAL in place but unlinks it
   * only when the last connection closes, and this queue's connection stays
   * open until drain() has returned. fsync acts on the file, whichever
   * descriptor asks.
   */
  async #sync (wal: string, first: Committed): Promise<void> {
    let batch: Committed | null = first
    while (batch !== null) {
      let failure: unknown = null
      try {
        this.#file ??= await open(wal, 'r')
        await this.#file.datasync()
      } catch (err) {
        // Committed, but not known to be on disk: nobody is told it succeeded.
        failure = err
      }
      const { waiters, outcomes } = batch
      for (let i = 0; i < outcomes.length; i++) settle(waiters[i]!, failure === null ? outcomes[i]! : { ok: false, error: failure })
      batch = this.#commit()
    }
    this.#syncing = null
  }

  /** Commits what is queued, waits until it is durable, and lets the WAL go (on close). */
  async drain (): Promise<void> {
    this.flush()
    await this.#syncing
    await this.#file?.close()
    this.#file = null
  }
}
