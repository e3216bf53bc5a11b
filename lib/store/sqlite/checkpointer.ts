/**
 * WAL checkpoints off the event loop. By default SQLite checkpoints inside
 * the COMMIT that pushes the WAL past 1000 pages: the event loop then stalls
 * while the database file is written and synced. Instead, the serving
 * connection never checkpoints (`wal_autocheckpoint = 0`) and a worker
 * thread with its own connection does, every `intervalMs`. Durability is
 * unchanged: a commit is durable once its WAL frames are synced.
 *
 * Only PASSIVE checkpoints: they never block the writer. Once a checkpoint
 * has copied every frame, the writer's next commit starts the log again from
 * its beginning. When the WAL has grown past `restartBytes` (the writer never
 * paused long enough), the thread checkpoints again at once, up to ten times,
 * to catch up, so the file stays bounded. Not RESTART: it holds off the
 * writer while it copies the whole WAL, and the serving connection then
 * waits in its busy handler, on the event loop (BENCHMARKS.md, "Checkpoints
 * in a worker thread"). If the thread fails, the serving connection
 * checkpoints inline again.
 * @see https://www.sqlite.org/wal.html#ckpt
 * @see https://www.sqlite.org/pragma.html#pragma_wal_checkpoint
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { FastifyBaseLogger } from 'fastify'
import type { DB } from './open.js'

export interface CheckpointerOptions {
  intervalMs?: number
  restartBytes?: number
  /** Told when the thread fails and checkpoints go back inline. */
  log: Pick<FastifyBaseLogger, 'error'>
}

export interface Checkpointer {
  /** Stops the thread and closes its connection; call before closing `db`. */
  stop (): Promise<void>
}

/**
 * How often the thread checkpoints: a page written by many commits in the
 * meantime (B-tree interiors, the audit tail) is copied to the file once,
 * and the WAL stays a few MiB.
 */
export const CHECKPOINT_INTERVAL_MS = 250

/** SQLite's default, restored if the thread is lost. */
const AUTOCHECKPOINT_PAGES = 1000

// The thread's code, evaluated rather than loaded from a file: it then runs
// the same under `node dist/` and under the tests' TypeScript loader.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.path)
db.pragma('busy_timeout = 5000')
db.pragma('synchronous = FULL')
const pageSize = db.pragma('page_size', { simple: true })
const timer = setInterval(() => {
  let [r] = db.pragma('wal_checkpoint(PASSIVE)')
  for (let i = 0; i < 10 && r.log * pageSize > workerData.restartBytes && r.checkpointed < r.log; i++) {
    [r] = db.pragma('wal_checkpoint(PASSIVE)')
  }
}, workerData.intervalMs)
parentPort.once('message', () => {
  clearInterval(timer)
  db.close()
  parentPort.close()
})
parentPort.postMessage('ready')
`

const DRIVER = createRequire(import.meta.url).resolve('better-sqlite3')

export async function startCheckpointer (db: DB, opts: CheckpointerOptions): Promise<Checkpointer> {
  const worker = new Worker(THREAD, {
    eval: true,
    workerData: { driver: DRIVER, path: db.name, intervalMs: opts.intervalMs ?? CHECKPOINT_INTERVAL_MS, restartBytes: opts.restartBytes ?? 64 * 1024 * 1024 }
  })
  let stopped = false
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve())
    worker.once('error', reject)
  })
  /* c8 ignore next 4 -- a failure inside the running thread (an I/O error in a
     checkpoint) cannot be provoked without breaking the serving connection too */
  worker.on('error', (err) => {
    db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`)
    opts.log.error({ err }, 'checkpoint thread failed; checkpointing inline')
  })
  db.pragma('wal_autocheckpoint = 0')
  worker.unref()
  return {
    async stop () {
      if (!stopped) {
        stopped = true
        // Keep the process alive until the thread has closed its connection.
        worker.ref()
        worker.postMessage('stop')
      }
      await exited
    }
  }
}
