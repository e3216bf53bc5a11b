/**
 * The SQLite store, its group-commit write queue, and (for a file) the
 * checkpoint thread that keeps WAL checkpoints off the event loop.
 * @see ../../lib/sqlite.ts for the pragmas and migrations
 * @see ../../lib/checkpointer.ts
 */
import fp from 'fastify-plugin'
import { openDatabase, type DB } from '../../lib/sqlite.js'
import { WriteQueue } from '../../lib/write-queue.js'
import { startCheckpointer, type Checkpointer } from '../../lib/checkpointer.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: DB
    writes: WriteQueue
  }
}

export default fp(async function db (fastify) {
  const db = openDatabase(fastify.config.DATABASE_PATH)
  const writes = new WriteQueue(db)
  let checkpointer: Checkpointer | null = null
  if (!db.memory) {
    checkpointer = await startCheckpointer(db, { log: fastify.log })
  }
  fastify.decorate('db', db)
  fastify.decorate('writes', writes)
  fastify.addHook('onClose', async () => {
    // Every acknowledged write is already committed; commit what is queued.
    writes.flush()
    await checkpointer?.stop()
    db.close()
  })
}, { name: 'db', dependencies: ['config'] })
