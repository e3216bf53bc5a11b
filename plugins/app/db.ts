/**
 * The SQLite store: the event loop's connection for reads, the group-commit
 * write queue for every write, and (for a file) the checkpoint thread that
 * keeps WAL checkpoints off the event loop.
 *
 * For a file, the writes go to a writer thread with its own connection
 * (lib/write-queue.ts): a commit's fsync then overlaps with serving the next
 * requests. `:memory:` cannot be shared between connections, so there the
 * same batches run on the event loop's connection; so they do when the
 * plugin is registered with `inlineWrites` (the seed command, which loads a
 * million rows in one commit and serves nothing meanwhile).
 * @see ../../lib/sqlite.ts for the pragmas and migrations
 * @see ../../lib/checkpointer.ts
 */
import fp from 'fastify-plugin'
import { openDatabase, type DB } from '../../lib/sqlite.js'
import { InlineWriteQueue, ThreadWriteQueue, type WriteQueue } from '../../lib/write-queue.js'
import { createOps } from '../../lib/write-ops.js'
import { startCheckpointer, type Checkpointer } from '../../lib/checkpointer.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: DB
    writes: WriteQueue
  }
}

export interface DbOptions {
  inlineWrites?: boolean
}

export default fp<DbOptions>(async function db (fastify, opts) {
  const { DATABASE_PATH: path, CLOCK_TOLERANCE_SECONDS: toleranceSeconds } = fastify.config
  const db = openDatabase(path)
  const writes: WriteQueue = db.memory || opts.inlineWrites === true
    ? new InlineWriteQueue(db, createOps(db, toleranceSeconds))
    : await ThreadWriteQueue.start({ path, toleranceSeconds, autocheckpoint: false })
  let checkpointer: Checkpointer | null = null
  if (!db.memory) {
    checkpointer = await startCheckpointer(db, {
      log: fastify.log,
      /* c8 ignore next -- called only when the checkpoint thread fails (see there) */
      inline: (pages) => { writes.pragma(`wal_autocheckpoint = ${pages}`).catch(() => {}) }
    })
  }
  fastify.decorate('db', db)
  fastify.decorate('writes', writes)
  fastify.addHook('onClose', async () => {
    // Every acknowledged write is already committed; commit what is queued.
    await writes.close()
    await checkpointer?.stop()
    db.close()
  })
}, { name: 'db', dependencies: ['config'] })
