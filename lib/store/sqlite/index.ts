/**
 * The SQLite store: one file (or `:memory:`) served by one process.
 *
 * - Writes go through the group commit (./write-queue.ts): the jobs of one
 *   event-loop turn share a transaction, and each settles once that
 *   transaction is durable. For a file, the connection commits with
 *   `synchronous = NORMAL` and the queue syncs the WAL itself, off the event
 *   loop, before any job settles: FULL's durability without the event loop
 *   waiting for the disk. WAL checkpoints run on a thread (./checkpointer.ts).
 * - Reads are synchronous; the session lookup of every authenticated request
 *   answers from a cache while the database is unchanged (./read-cache.ts)
 *   and calls back at once. The cache keeps the sessions asked for most;
 *   the rest are one primary-key read each.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Store, StoreTimes } from '../store.js'
import type { EventRecord, RevocationRecord, SessionRow, UserRecord } from '../../domain.js'
import { nowSeconds } from '../../time.js'
import { openDatabase, type DB } from './open.js'
import { WriteQueue } from './write-queue.js'
import { createOps, type HashKey, type RowKey, type SessionKey } from './ops.js'
import { startCheckpointer, type Checkpointer } from './checkpointer.js'
import { ReadCache } from './read-cache.js'

export interface SqliteStoreOptions extends StoreTimes {
  path: string
  /** Told when the checkpoint thread fails. */
  log: Pick<FastifyBaseLogger, 'error'>
}

/** The store, and (for its own tests only) the connection and queue behind it. */
export interface SqliteStore extends Store {
  readonly db: DB
  readonly writes: WriteQueue
}

/** Sessions kept in memory for `session`; a few MiB at most. */
export const SESSION_CACHE_MAX = 10_000

export async function createSqliteStore (opts: SqliteStoreOptions): Promise<SqliteStore> {
  const db = openDatabase(opts.path)
  const ops = createOps(db, opts)
  let writes: WriteQueue
  let checkpointer: Checkpointer | null = null
  if (db.memory) {
    writes = new WriteQueue(db, ops)
  } else {
    db.pragma('synchronous = NORMAL')
    writes = new WriteQueue(db, ops, { wal: `${db.name}-wal` })
    try {
      checkpointer = await startCheckpointer(db, { log: opts.log })
    /* c8 ignore start -- a worker thread that cannot start: out of memory or threads */
    } catch (err) {
      db.close()
      throw err
    }
    /* c8 ignore stop */
  }

  const COLUMNS = `s.id, s.user_id AS userId, s.jti, s.created_at AS createdAt, s.expires_at AS expiresAt,
    s.ip, s.user_agent AS userAgent`
  // Raw: better-sqlite3 names each column of each row from C++, which costs
  // more than the object literal below (`load`).
  const byKey = db.prepare<[string, string], [string, number, number, string | null, string | null, string]>(
    `SELECT s.jti, s.created_at, s.expires_at, s.ip, s.user_agent, u.email
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.user_id = ? AND s.id = ?`).raw()
  const liveOf = db.prepare<[string, number], Omit<SessionRow, 'email'>>(
    `SELECT ${COLUMNS} FROM sessions s WHERE s.user_id = ? AND s.expires_at > ?
     ORDER BY s.created_at DESC, s.id DESC`)
  const byEmail = db.prepare<[string], UserRecord>(
    'SELECT id, email, password_hash AS hash, created_at AS createdAt FROM users WHERE email = ?')
  // Routine refreshes are audited but left out of the caller's list.
  const recentRows = db.prepare<[string, number], EventRecord>(`SELECT type, at,
    session_id AS sessionId, ip, user_agent AS userAgent
    FROM audit_events WHERE user_id = ? AND type <> 'token_refreshed' ORDER BY id DESC LIMIT ?`)
  const readSetting = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?')
  // INSERT OR IGNORE + re-read: two processes starting at once agree on one value.
  const addSetting = db.prepare('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)')
  const pingQuery = db.prepare('SELECT 1')
  const revocationsAfter = db.prepare<[number, number, number], RevocationRecord & { id: number }>(`SELECT id, jti,
    user_id AS userId, session_id AS sessionId, expires_at AS expiresAt, reason
    FROM revoked_tokens WHERE id > ? AND expires_at > ? ORDER BY id LIMIT ?`)

  // Every authenticated request reads its session row; an unchanged
  // database answers from memory. Cached by session id, which is unique;
  // the row is served only to the user it names.
  const cache = new ReadCache<SessionRow, string>(db, SESSION_CACHE_MAX)
  const load = (id: string, userId: string): SessionRow | undefined => {
    const r = byKey.get(userId, id)
    if (r === undefined) return undefined
    // Shared by every request of the session until evicted: never changed in place.
    return Object.freeze({ id, userId, jti: r[0], createdAt: r[1], expiresAt: r[2], ip: r[3], userAgent: r[4], email: r[5] })
  }

  return {
    description: db.memory ? 'SQLite :memory:' : `SQLite ${opts.path}`,
    db,
    writes,

    session (userId, id, cb) {
      let row: SessionRow | undefined
      try {
        row = cache.get(id, load, userId)
      } catch (err) {
        cb(err as Error, undefined)
        return
      }
      cb(null, row?.userId === userId ? row : undefined)
    },

    async liveSessions (userId) {
      return liveOf.all(userId, nowSeconds() - opts.toleranceSeconds)
    },
    async userByEmail (email) {
      return byEmail.get(email)
    },
    async recentEvents (userId, limit) {
      return recentRows.all(userId, limit)
    },
    async setting (key, initial) {
      const created = addSetting.run(key, initial).changes > 0
      return { value: readSetting.get(key)!.value, created }
    },
    async revocations (limit, after) {
      const rows = revocationsAfter.all((after?.[0] ?? 0) as number, nowSeconds() - opts.toleranceSeconds, limit)
      const last = rows.length < limit ? undefined : rows[rows.length - 1]
      return { rows: rows.map(({ id, ...r }) => r), next: last === undefined ? null : [last.id] }
    },
    async ping () {
      pingQuery.get()
    },

    openSessions: (rows, meta, at) => writes.run('openSessions', { rows, meta, at }),
    logout: (current, scope, meta) => writes.run('logout', { current, scope, meta }),
    revokeById: (current, id, meta) => writes.run('revokeById', { current, id, meta }),
    register: (user, event) => writes.run('register', { user, event }),
    audit: (event) => writes.run('audit', { event }),
    refresh: (request, policy) => writes.run('refresh', { request, policy }),
    changePassword: (current, hash, meta) => writes.run('changePassword', { current, hash, meta }),
    async purge (table, limit, after) {
      switch (table) {
        case 'sessions': return writes.run('purgeSessions', { limit, after: (after ?? ['', '']) as SessionKey })
        case 'revocations': return writes.run('purgeRevocations', { limit, after: (after ?? [0]) as RowKey })
        case 'refreshTokens': return writes.run('purgeRefreshTokens', { limit, after: (after ?? [Buffer.alloc(0)]) as HashKey })
        case 'audit': return writes.run('purgeAudit', { limit, after: (after ?? [0]) as RowKey })
      }
    },

    async close () {
      // Every acknowledged write is already durable; commit and sync what is queued.
      await writes.drain()
      await checkpointer?.stop()
      cache.close()
      db.close()
    }
  }
}
