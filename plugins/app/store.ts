/**
 * The store, decorated once as `fastify.store` (lib/store/store.ts): every
 * read and write of the data goes through it, and it is closed last.
 * DATABASE_URL selects PostgreSQL (SPEC §7); without it, SQLite at
 * DATABASE_PATH. The PostgreSQL store (and `pg`) is loaded only when it is
 * used: a SQLite instance starts no slower for it.
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
  const times = { toleranceSeconds: config.CLOCK_TOLERANCE_SECONDS, auditRetentionDays: config.AUDIT_RETENTION_DAYS }
  const url = config.DATABASE_URL
  const store: Store = url === undefined
    ? await createSqliteStore({ path: config.DATABASE_PATH, ...times, log: fastify.log })
    /* c8 ignore next 2 -- run by every PostgreSQL suite (test/pg.ts); ignored so that a machine without PostgreSQL, which skips them, keeps 100 % */
    : await (await import('../../lib/store/postgres/index.js'))
      .createPostgresStore({ url, ...times, log: fastify.log })
  fastify.decorate('store', store)
  fastify.addHook('onClose', () => store.close())
}, { name: 'store', dependencies: ['config'] })
