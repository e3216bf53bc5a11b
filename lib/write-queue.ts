/**
 * Group commit: every write job queued during one event-loop turn runs in
 * one SQLite transaction, and each job's promise settles only after that
 * transaction has committed. One fsync then covers many requests, and a
 * request is never acknowledged before its write is durable.
 *
 * A job is a named operation over plain data (lib/write-ops.ts). If the
 * batch fails (a job throws, the disk is full, the file is locked), it is
 * rolled back whole and each job is retried alone, so one bad job cannot
 * sink the others and no job is ever half-applied. If the transaction could
 * not even begin (the write lock was not granted within the busy timeout),
 * every job fails at once: the store is unavailable to all of them alike,
 * and a retry per job would wait one busy timeout per queued job.
 *
 * Two queues run the same batches:
 * - `ThreadWriteQueue`, for a database file: a writer thread owns the write
 *   connection (lib/writer-thread.ts), so SQLite's work and the commit's
 *   fsync no longer block the event loop; requests keep being parsed,
 *   verified and answered while a batch commits, and the next batch forms
 *   meanwhile. The event loop keeps its own connection for reads.
 * - `InlineWriteQueue`, for `:memory:` (one connection cannot be shared
 *   between threads) and for one-off scripts: the same batches on the event
 *   loop's own connection.
 */
import { extname } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { DB } from './sqlite.js'
import type { OpArgs, OpName, OpResult, Ops } from './write-ops.js'

export interface WriteQueue {
  /** Queues `op` for the next group commit; settles once that commit is done. */
  run<K extends OpName> (op: K, args: OpArgs<K>): Promise<OpResult<K>>
  /** Runs a PRAGMA on the write connection (the checkpointer's fallback; fault tests). */
  pragma (sql: string): Promise<unknown>
  /** Commits what is queued, then releases the write connection. */
  close (): Promise<void>
  /** Batches settled so far: a reader's cache can tell that this process wrote. */
  readonly commits: number
}

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

export class InlineWriteQueue implements WriteQueue {
  readonly #db: DB
  readonly #runBatch: (jobs: Job[]) => Outcome[]
  #jobs: Job[] = []
  #waiters: Waiter[] = []
  #scheduled: NodeJS.Immediate | null = null
  commits = 0

  constructor (db: DB, ops: Ops) {
    this.#db = db
    this.#runBatch = createBatchRunner(db, ops)
  }

  run<K extends OpName> (op: K, args: OpArgs<K>): Promise<OpResult<K>> {
    return new Promise((resolve, reject) => {
      this.#jobs.push({ op, args })
      this.#waiters.push({ resolve, reject })
      this.#scheduled ??= setImmediate(this.flush)
    })
  }

  /** Commits everything queued so far; called on the next turn, and on close. */
  flush = (): void => {
    if (this.#scheduled) clearImmediate(this.#scheduled)
    this.#scheduled = null
    const jobs = this.#jobs
    if (jobs.length === 0) return
    const waiters = this.#waiters
    this.#jobs = []
    this.#waiters = []
    const outcomes = this.#runBatch(jobs)
    this.commits++
    for (let i = 0; i < outcomes.length; i++) settle(waiters[i]!, outcomes[i]!)
  }

  async pragma (sql: string): Promise<unknown> {
    return this.#db.pragma(sql)
  }

  async close (): Promise<void> {
    this.flush()
  }
}

function settle (waiter: Waiter, outcome: Outcome): void {
  if (outcome.ok) waiter.resolve(outcome.value)
  else waiter.reject(outcome.error)
}

/** A job, a pragma or the close, as the writer thread receives them. */
export type ToWriter =
  | { t: 'jobs', ids: number[], jobs: Job[] }
  | { t: 'pragma', id: number, sql: string }
  | { t: 'close' }

/** What comes back: each id with its outcome, errors as plain data. */
export type FromWriter =
  | { t: 'ready' }
  | { t: 'failed', error: WireError }
  | { t: 'done', ids: number[], outcomes: WireOutcome[] }

export interface WireError { message: string, code?: string | undefined, name: string }
export type WireOutcome = { ok: true, value: unknown } | { ok: false, error: WireError }

export function toWire (error: unknown): WireError {
  const e = error as { message?: unknown, code?: unknown, name?: unknown }
  return {
    message: String(e?.message ?? error),
    code: typeof e?.code === 'string' ? e.code : undefined,
    name: typeof e?.name === 'string' ? e.name : 'Error'
  }
}

export function fromWire (wire: WireError): Error {
  const err = new Error(wire.message) as Error & { code?: string }
  err.name = wire.name
  if (wire.code !== undefined) err.code = wire.code
  return err
}

// The thread's module beside this one, with this one's extension: .ts under the tests' loader, .js in dist/.
const THREAD = new URL('./writer-thread' + extname(import.meta.url), import.meta.url)

export interface ThreadOptions {
  path: string
  toleranceSeconds: number
  /** The checkpointer runs beside it: never checkpoint inside a commit. */
  autocheckpoint: boolean
}

export class ThreadWriteQueue implements WriteQueue {
  readonly #worker: Worker
  readonly #exited: Promise<void>
  readonly #waiters = new Map<number, Waiter>()
  #ids: number[] = []
  #jobs: Job[] = []
  #next = 0
  #scheduled: NodeJS.Immediate | null = null
  #dead: Error | null = null
  #closing = false
  commits = 0

  private constructor (worker: Worker) {
    this.#worker = worker
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()))
    worker.on('message', (msg: FromWriter) => {
      /* c8 ignore next -- 'ready' and 'failed' are consumed by start() before this listener matters */
      if (msg.t !== 'done') return
      for (let i = 0; i < msg.ids.length; i++) {
        const waiter = this.#waiters.get(msg.ids[i]!)!
        this.#waiters.delete(msg.ids[i]!)
        const outcome = msg.outcomes[i]!
        settle(waiter, outcome.ok ? outcome : { ok: false, error: fromWire(outcome.error) })
      }
      this.commits++
      // Idle, it must not keep a script alive; closing, it must until it has exited.
      if (this.#waiters.size === 0 && !this.#closing) worker.unref()
    })
    /* c8 ignore next -- the thread fails only of a bug or of running out of
       memory; neither can be provoked without taking the test process down */
    worker.on('error', (err) => { this.#fail(err) })
    // After close(), and after a failure: whatever still waits is refused.
    worker.once('exit', () => { this.#fail(new Error('the writer thread has stopped')) })
  }

  /** Starts the thread; resolves once its connection is open, rejects if it could not be. */
  static async start (opts: ThreadOptions): Promise<ThreadWriteQueue> {
    const worker = new Worker(THREAD, { workerData: opts })
    const first = await new Promise<FromWriter>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    if (first.t === 'failed') {
      // It ends by itself, having nothing to serve.
      await new Promise((resolve) => worker.once('exit', resolve))
      throw fromWire(first.error)
    }
    worker.unref()
    return new ThreadWriteQueue(worker)
  }

  #fail (err: Error): void {
    this.#dead ??= err
    // Jobs still wait only when the thread died under them, which cannot be
    // provoked in a test (see the 'error' listener).
    /* c8 ignore next */
    for (const waiter of this.#waiters.values()) waiter.reject(err)
    this.#waiters.clear()
  }

  #wait (id: number, waiter: Waiter): void {
    if (this.#waiters.size === 0) this.#worker.ref()
    this.#waiters.set(id, waiter)
  }

  run<K extends OpName> (op: K, args: OpArgs<K>): Promise<OpResult<K>> {
    return new Promise((resolve, reject) => {
      if (this.#dead !== null) return reject(this.#dead)
      const id = ++this.#next
      this.#wait(id, { resolve, reject })
      this.#ids.push(id)
      this.#jobs.push({ op, args })
      this.#scheduled ??= setImmediate(this.#send)
    })
  }

  /** Hands the turn's jobs to the thread in one message; it commits them together. */
  #send = (): void => {
    if (this.#scheduled) clearImmediate(this.#scheduled)
    this.#scheduled = null
    if (this.#jobs.length === 0) return
    const msg: ToWriter = { t: 'jobs', ids: this.#ids, jobs: this.#jobs }
    this.#ids = []
    this.#jobs = []
    this.#worker.postMessage(msg)
  }

  pragma (sql: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#dead !== null) return reject(this.#dead)
      const id = ++this.#next
      this.#wait(id, { resolve, reject })
      this.#worker.postMessage({ t: 'pragma', id, sql } satisfies ToWriter)
    })
  }

  async close (): Promise<void> {
    this.#send()
    if (this.#dead === null) {
      this.#closing = true
      this.#worker.ref()
      this.#worker.postMessage({ t: 'close' } satisfies ToWriter)
    }
    await this.#exited
  }
}
