/**
 * The SQLite store and its group-commit write queue.
 * @see ../../lib/sqlite.ts for the pragmas and migrations
 */
import fp from 'fastify-plugin'
import { openDatabase, type DB } from '../../lib/sqlite.js'
import { WriteQueue } from '../../lib/write-queue.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: DB
    writes: WriteQueue
  }
}

export default fp(async function db (fastify) {
  const db = openDatabase(fastify.config.DATABASE_PATH)
  const writes = new WriteQueue(db)
  fastify.decorate('db', db)
  fastify.decorate('writes', writes)
  fastify.addHook('onClose', async () => {
    // Every acknowledged write is already committed; commit what is queued.
    writes.flush()
    db.close()
  })
}, { name: 'db', dependencies: ['config'] })
