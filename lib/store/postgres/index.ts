/**
 * The PostgreSQL store: N instances of the service on one database
 * (SPEC §7), through a pool of connections (./pool.ts).
 *
 * - At start, the schema is migrated under an advisory lock (./migrate.ts);
 *   a database that cannot be reached stops the instance with one line
 *   naming DATABASE_URL, without its password.
 * - Every write is one statement (./writes.ts): one transaction, committed
 *   before its promise resolves. Concurrent local logouts share one
 *   (./logout-batch.ts).
 * - Every protected request reads its session from the database: no
 *   per-instance cache, so a revocation that one instance has acknowledged
 *   is refused by every other on its next request. Concurrent lookups
 *   share one statement (./session-reads.ts).
 * - A database lost while running fails reads and writes with a 503
 *   (./pool.ts); the pool replaces broken connections by itself, so the
 *   instance recovers when the database is back.
 */
import type { FastifyBaseLogger } from 'fastify'
import type pg from 'pg'
import type { Store, StoreTimes } from '../store.js'
import type { EventRecord, RevocationRecord, UserRecord } from '../../domain.js'
import { nowSeconds } from '../../time.js'
import { createClient, createPool, storeError } from './pool.js'
import { redactUrl as redact } from '../../redact-url.js'
import { migrate, SchemaTooNewError } from './migrate.js'
import { createWrites } from './writes.js'
import { createRefreshWrites } from './refresh.js'
import { createLocalLogouts } from './logout-batch.js'
import { createSessionReads, SESSION_COLUMNS } from './session-reads.js'
import type { BatchOptions } from './batch.js'

export interface PostgresStoreOptions extends StoreTimes {
  url: string
  /** Told when an idle connection breaks (the database restarted, a connection was terminated). */
  log: Pick<FastifyBaseLogger, 'warn'>
  /** How local logouts and session lookups are grouped into statements (./batch.ts); the defaults, unless a test needs a batch on cue. */
  batching?: BatchOptions
}

/** The store, and (for its own tests only) the pool behind it. */
export interface PostgresStore extends Store {
  readonly pool: pg.Pool
}

const rethrow = (err: unknown): never => { throw storeError(err) }

/** The one line a start-up failure prints: what failed, where, never the password. */
function startupError (url: string, err: Error & { code?: string }): Error {
  // A refused connection to a name with several addresses is an AggregateError with no message, only a code.
  const why = [err.code, err.message].filter(Boolean).join(' ').replace(/\s+/g, ' ')
  return new Error(`DATABASE_URL: PostgreSQL at ${redact(url)} cannot be used: ${why}`, { cause: err })
}

/** Migrates the schema on a connection of its own, then opens the pool. */
export async function createPostgresStore (opts: PostgresStoreOptions): Promise<PostgresStore> {
  const { url, toleranceSeconds } = opts
  const client = createClient(url)
  try {
    await client.connect()
    await migrate(client)
  } catch (err) {
    throw err instanceof SchemaTooNewError ? err : startupError(url, err as Error)
  } finally {
    // Ending the connection also rolls back a migration that failed half-way.
    await client.end()
  }

  const pool = createPool(url)
  // An idle connection that breaks is dropped by the pool; without a
  // listener, its 'error' event would end the process.
  pool.on('error', (err) => opts.log.warn({ err }, 'an idle PostgreSQL connection was lost'))

  async function inTransaction<T> (fn: (c: Pick<pg.Pool, 'query'>) => Promise<T>): Promise<T> {
    const c = await pool.connect()
    let failed = true
    try {
      await c.query('BEGIN')
      const value = await fn(c)
      await c.query('COMMIT')
      failed = false
      return value
    } finally {
      // A failed transaction's connection is closed, not reused: that rolls it back.
      c.release(failed)
    }
  }
  const writes = createWrites(pool, opts, inTransaction)
  const refreshing = createRefreshWrites(inTransaction, writes.revoke)
  const reads = createSessionReads(pool, opts.batching)
  const locals = createLocalLogouts(pool, (current, meta) => writes.logout(current, 'local', meta), opts.batching)
  const cutoff = () => nowSeconds() - toleranceSeconds
  const LIVE = `SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.user_id = $1 AND s.expires_at > $2 ORDER BY s.created_at DESC, s.id DESC`

  const rows = <R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<R[]> =>
    pool.query<R>({ name, text, values }).then((r) => r.rows, rethrow)

  return {
    description: `PostgreSQL ${redact(url)}`,
    pool,

    session (userId, id, cb) {
      reads.read(userId, id).then(
        (row) => cb(null, row),
        (err: unknown) => cb(storeError(err), undefined))
    },

    liveSessions: (userId) => rows('liveSessions', LIVE, [userId, cutoff()]),
    userByEmail: async (email) => (await rows<UserRecord>('userByEmail',
      'SELECT id, email, password_hash AS hash, created_at AS "createdAt" FROM users WHERE email = $1', [email]))[0],
    recentEvents: (userId, limit) => rows<EventRecord>('recentEvents', `SELECT type, at, session_id AS "sessionId",
      ip, user_agent AS "userAgent" FROM audit_events WHERE user_id = $1 AND type <> 'token_refreshed'
      ORDER BY id DESC LIMIT $2`, [userId, limit]),

    async setting (key, initial) {
      // ON CONFLICT DO NOTHING waits for a concurrent insert of the key to
      // commit: of several instances starting at once, one inserts, the
      // others then read its value (a new statement, a new snapshot).
      const [added] = await rows<{ value: string }>('addSetting',
        'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value', [key, initial])
      if (added !== undefined) return { value: added.value, created: true }
      const [stored] = await rows<{ value: string }>('readSetting', 'SELECT value FROM settings WHERE key = $1', [key])
      return { value: stored!.value, created: false }
    },

    async revocations (limit, after) {
      const page = await rows<RevocationRecord & { id: number }>('revocations', `SELECT id, jti, user_id AS "userId",
        session_id AS "sessionId", expires_at AS "expiresAt", reason
        FROM revoked_tokens WHERE id > $1 AND expires_at > $2 ORDER BY id LIMIT $3`, [after?.[0] ?? 0, cutoff(), limit])
      const last = page.length < limit ? undefined : page[page.length - 1]
      return { rows: page.map(({ id, ...r }) => r), next: last === undefined ? null : [last.id] }
    },

    async ping () {
      await rows('ping', 'SELECT 1', [])
    },

    openSessions: (insert, meta, at) => writes.openSessions(insert, meta, at).catch(rethrow),
    logout: (current, scope, meta) =>
      (scope === 'local' ? locals.logout(current, meta) : writes.logout(current, scope, meta)).catch(rethrow),
    revokeById: (current, id, meta) => writes.revokeById(current, id, meta).catch(rethrow),
    register: (user, event) => writes.register(user, event).catch(rethrow),
    audit: (event) => writes.audit(event).catch(rethrow),
    purge: (table, limit) => writes.purge(table, limit).catch(rethrow),
    refresh: (request, policy) => refreshing.refresh(request, policy).catch(rethrow),
    changePassword: (current, hash, meta) => refreshing.changePassword(current, hash, meta).catch(rethrow),

    async close () {
      // Every acknowledged write is already committed; this waits for queries in flight.
      await pool.end()
    }
  }
}
