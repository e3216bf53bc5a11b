/**
 * The SQLite store, its group-commit write queue, and (for a file) the
 * checkpoint thread that keeps WAL checkpoints off the event loop.
 *
 * For a file, the connection commits with `synchronous = NORMAL` and the
 * queue syncs the WAL itself, off the event loop, before any job settles
 * (lib/write-queue.ts): FULL's durability without the event loop waiting
 * for the disk.
 * @see ../../lib/sqlite.ts for the pragmas and migrations
 * @see ../../lib/checkpointer.ts
 */
import fp from 'fastify-plugin'
import { openDatabase, type DB } from '../../lib/sqlite.js'
import { WriteQueue } from '../../lib/write-queue.js'
import { createOps } from '../../lib/write-ops.js'
import { startCheckpointer, type Checkpointer } from '../../lib/checkpointer.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: DB
    writes: WriteQueue
  }
}

export default fp(async function db (fastify) {
  const db = openDatabase(fastify.config.DATABASE_PATH)
  const ops = createOps(db, fastify.config.CLOCK_TOLERANCE_SECONDS)
  let writes: WriteQueue
  let checkpointer: Checkpointer | null = null
  if (db.memory) {
    writes = new WriteQueue(db, ops)
  } else {
    db.pragma('synchronous = NORMAL')
    writes = new WriteQueue(db, ops, { wal: `${db.name}-wal` })
    checkpointer = await startCheckpointer(db, { log: fastify.log })
  }
  fastify.decorate('db', db)
  fastify.decorate('writes', writes)
  fastify.addHook('onClose', async () => {
    // Every acknowledged write is already durable; commit and sync what is queued.
    await writes.drain()
    await checkpointer?.stop()
    db.close()
  })
}, { name: 'db', dependencies: ['config'] })
