/**
 * The writer thread (see lib/write-queue.ts): owns the write connection and
 * runs the group commits, so that SQLite's work and each commit's fsync
 * happen beside the event loop, not on it. Every message that arrived while
 * a batch was committing joins the next batch; each job's outcome goes back
 * only after its batch has committed.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { openDatabase, type DB } from './sqlite.js'
import { createOps } from './write-ops.js'
import { createBatchRunner, toWire, type FromWriter, type Job, type ThreadOptions, type ToWriter, type WireOutcome } from './write-queue.js'

const opts = workerData as ThreadOptions
const port = parentPort!
const post = (msg: FromWriter) => port.postMessage(msg)

function open (): DB | null {
  try {
    const db = openDatabase(opts.path)
    // The checkpoint thread copies the WAL back; a commit never does it inline.
    if (!opts.autocheckpoint) db.pragma('wal_autocheckpoint = 0')
    return db
  } catch (error) {
    post({ t: 'failed', error: toWire(error) })
    return null
  }
}

/** Serves the event loop's messages until it says close. */
function serve (db: DB): void {
  const runBatch = createBatchRunner(db, createOps(db, opts.toleranceSeconds))
  let ids: number[] = []
  let jobs: Job[] = []
  let scheduled = false

  function flush (): void {
    scheduled = false
    if (jobs.length === 0) return
    const batchIds = ids
    const batch = jobs
    ids = []
    jobs = []
    const outcomes: WireOutcome[] = runBatch(batch).map((o) => o.ok ? o : { ok: false, error: toWire(o.error) })
    post({ t: 'done', ids: batchIds, outcomes })
  }

  port.on('message', (msg: ToWriter) => {
    switch (msg.t) {
      case 'jobs':
        for (let i = 0; i < msg.ids.length; i++) {
          ids.push(msg.ids[i]!)
          jobs.push(msg.jobs[i]!)
        }
        // Messages that are already here are handled before the check phase: they join this batch.
        if (!scheduled) {
          scheduled = true
          setImmediate(flush)
        }
        break
      case 'pragma': {
        let outcome: WireOutcome
        try {
          outcome = { ok: true, value: db.pragma(msg.sql) }
        } catch (error) {
          outcome = { ok: false, error: toWire(error) }
        }
        post({ t: 'done', ids: [msg.id], outcomes: [outcome] })
        break
      }
      case 'close':
        flush()
        db.close()
        port.close()
        break
    }
  })
  post({ t: 'ready' })
}

// Without a connection the thread just ends: start() has been told why.
const db = open()
if (db !== null) serve(db)
