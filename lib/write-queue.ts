/**
 * Group commit: every write job queued during one event-loop turn runs in
 * one SQLite transaction, and each job's promise settles only after that
 * transaction has committed. One fsync then covers many requests, and a
 * request is never acknowledged before its write is durable.
 *
 * A job is a synchronous function run inside the transaction; it reports
 * business outcomes through its return value. If the batch fails (a job
 * throws, the disk is full, the file is locked), it is rolled back whole and
 * each job is retried alone, so one bad job cannot sink the others and no
 * job is ever half-applied. If the transaction could not even begin (the
 * write lock was not granted within the busy timeout), every job fails at
 * once: the store is unavailable to all of them alike, and SQLite's wait
 * blocks the event loop, so a retry per job would stall every request for
 * one busy timeout per queued job.
 */
import type { Transaction } from 'better-sqlite3'
import type { DB } from './sqlite.js'

interface Job {
  fn: () => unknown
  resolve: (value: any) => void
  reject: (err: unknown) => void
}

export class WriteQueue {
  readonly #db: DB
  #pending: Job[] = []
  #scheduled: NodeJS.Immediate | null = null
  /** Set when the batch's transaction has begun, i.e. its jobs started to run. */
  #began = false
  readonly #batch: Transaction<(jobs: Job[]) => unknown[]>

  constructor (db: DB) {
    this.#db = db
    this.#batch = db.transaction((jobs: Job[]) => {
      this.#began = true
      return jobs.map((job) => job.fn())
    })
  }

  run<T> (fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ fn, resolve, reject })
      this.#scheduled ??= setImmediate(this.flush)
    })
  }

  /** Commits everything queued so far; called on the next turn, and on close. */
  flush = (): void => {
    if (this.#scheduled) clearImmediate(this.#scheduled)
    this.#scheduled = null
    const jobs = this.#pending
    if (jobs.length === 0) return
    this.#pending = []
    let results: unknown[]
    this.#began = false
    try {
      results = this.#batch.immediate(jobs)
    } catch (err) {
      if (jobs.length === 1 || !this.#began) {
        for (const job of jobs) job.reject(err)
        return
      }
      for (const job of jobs) this.#runAlone(job)
      return
    }
    for (let i = 0; i < jobs.length; i++) jobs[i]!.resolve(results[i])
  }

  #runAlone (job: Job): void {
    let result: unknown
    try {
      result = this.#db.transaction(job.fn).immediate()
    } catch (err) {
      job.reject(err)
      return
    }
    job.resolve(result)
  }
}
