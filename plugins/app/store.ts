/**
 * The store, decorated once as `fastify.store` (lib/store/store.ts): every
 * read and write of the data goes through it, and it is closed last.
 */
import fp from 'fastify-plugin'
import type { Store } from '../../lib/store/store.js'
import { createSqliteStore } from '../../lib/store/sqlite/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    store: Store
  }
}

export default fp(async function store (fastify) {
  const { config } = fastify
  const store = await createSqliteStore({
    path: config.DATABASE_PATH,
    toleranceSeconds: config.CLOCK_TOLERANCE_SECONDS,
    auditRetentionDays: config.AUDIT_RETENTION_DAYS,
    log: fastify.log
  })
  fastify.decorate('store', store)
  fastify.addHook('onClose', () => store.close())
}, { name: 'store', dependencies: ['config'] })
