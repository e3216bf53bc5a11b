/**
 * Every write of the PostgreSQL store, each one statement (so one
 * transaction, committed before its promise resolves): the checks and the
 * changes together, with data-modifying CTEs, instead of a read from the
 * application and a write after it.
 *
 * A revocation deletes the session only while its row still names the
 * token and user, and in the same statement records the token and writes
 * its audit row. Of N concurrent logouts of one token, on any number of
 * instances, the first DELETE takes the row lock and the others, once it
 * commits, find the row gone (READ COMMITTED re-checks a row it waited
 * for): exactly one revokes it.
 *
 * Revocations of several sessions of one user (scopes `others` and
 * `global`, revoke by id) first lock the user's row, so that two of them
 * never delete each other's sessions in opposite orders (a deadlock). A
 * login's foreign key check takes only `FOR KEY SHARE` on it, which that
 * lock (`FOR NO KEY UPDATE`) does not block.
 * @see https://www.postgresql.org/docs/current/queries-with.html#QUERIES-WITH-MODIFYING
 * @see https://www.postgresql.org/docs/current/transaction-iso.html#XACT-READ-COMMITTED
 */
import type pg from 'pg'
import type { RequestMeta } from '../../request-meta.js'
import {
  sessionEvent, type AuditEvent, type EventType, type LogoutScope, type Revocations, type Revoked, type RevokedById,
  type SessionInsert, type SessionRef, type UserRecord
} from '../../domain.js'
import type { PurgeStep, PurgeTable, StoreTimes } from '../store.js'
import { nowMs, nowSeconds } from '../../time.js'
import { retried } from './pool.js'

export const AUDIT_COLUMNS = 'at, type, outcome, user_id, session_id, jti, ip, user_agent'

/**
 * The tail of every revocation: `victims` (id, user_id, jti, expires_at,
 * type, ord) become revocation records and audit rows; the statement
 * returns them, and `current` when the scope only checks the caller's
 * session. Parameters from $4: at, reason, ip, user agent.
 */
function revoking (victims: string, current = 'SELECT NULL::text AS id WHERE false'): string {
  return `, victims AS (${victims}),
  revoked AS (
    INSERT INTO revoked_tokens (jti, user_id, session_id, expires_at, revoked_at, reason)
    SELECT jti, user_id, id, expires_at, $4, $5 FROM victims ORDER BY ord, id
  ), audited AS (
    INSERT INTO audit_events (${AUDIT_COLUMNS})
    SELECT $4, type, 'success', user_id, id, jti, $6, $7 FROM victims ORDER BY ord, id
  )
  SELECT id, jti, expires_at AS "expiresAt", type FROM (
    SELECT id, jti, expires_at, type, ord FROM victims
    UNION ALL SELECT id, NULL, NULL, 'current', -1 FROM (${current}) c
  ) r ORDER BY ord, id`
}

/** The caller's session, locked against a concurrent delete, after its owner's row ($1 user, $2 session, $3 jti). */
const OWNER_AND_CURRENT = `WITH owner AS (SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE),
  current AS (
    SELECT s.id, s.user_id FROM sessions s JOIN owner o ON s.user_id = o.id
    WHERE s.id = $2 AND s.jti = $3 FOR SHARE OF s
  )`

const LOGOUT: Record<LogoutScope, string> = {
  local: `WITH gone AS (
    DELETE FROM sessions WHERE user_id = $1 AND id = $2 AND jti = $3
    RETURNING id, user_id, jti, token_exp AS expires_at, 'logout'::text AS type, 0 AS ord
  )` + revoking('SELECT * FROM gone'),

  // $8: the live cutoff (expires_at above it): an expired row awaiting the
  // purge is not a session a logout records and audits (SQLite's ops.ts too).
  others: `${OWNER_AND_CURRENT},
  others AS (
    DELETE FROM sessions s USING current c
    WHERE s.user_id = c.user_id AND s.id <> c.id AND s.expires_at > $8
    RETURNING s.id, s.user_id, s.jti, s.token_exp AS expires_at, 'session_revoked'::text AS type, 1 AS ord
  )` + revoking('SELECT * FROM others', 'SELECT id FROM current'),

  global: `WITH owner AS (SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE),
  gone AS (
    DELETE FROM sessions s USING owner o WHERE s.user_id = o.id AND s.id = $2 AND s.jti = $3
    RETURNING s.id, s.user_id, s.jti, s.token_exp AS expires_at, 'logout'::text AS type, 0 AS ord
  ), others AS (
    DELETE FROM sessions s USING gone g
    WHERE s.user_id = g.user_id AND s.id <> g.id AND s.expires_at > $8
    RETURNING s.id, s.user_id, s.jti, s.token_exp AS expires_at, 'session_revoked'::text AS type, 1 AS ord
  )` + revoking('SELECT * FROM gone UNION ALL SELECT * FROM others')
}

/** $9: the session to revoke; ends it only while the caller's own session ($2, $3) is live. */
const REVOKE_BY_ID = `${OWNER_AND_CURRENT},
  gone AS (
    DELETE FROM sessions s USING current c
    WHERE s.user_id = c.user_id AND s.id = $9 AND s.expires_at > $8
    RETURNING s.id, s.user_id, s.jti, s.token_exp AS expires_at, 'session_revoked'::text AS type, 0 AS ord
  )` + revoking('SELECT * FROM gone', 'SELECT id FROM current')

const REGISTER = `WITH u AS (
    INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (email) DO NOTHING RETURNING id
  )
  INSERT INTO audit_events (${AUDIT_COLUMNS}) SELECT $5, $6, $7, u.id, $8, $9, $10, $11 FROM u`

export const AUDIT = `INSERT INTO audit_events (${AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

const OPEN_SESSIONS = `WITH r AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bytea[], $9::bigint[])
      AS r (id, user_id, jti, created_at, deadline, iat, exp, refresh_hash, refresh_until)
  ), s AS (
    INSERT INTO sessions (id, user_id, jti, created_at, expires_at, token_iat, token_exp, refreshed_at, ip, user_agent)
    SELECT id, user_id, jti, created_at, deadline, iat, exp, created_at, $10, $11 FROM r
    RETURNING id, user_id, jti
  ), t AS (
    INSERT INTO refresh_tokens (hash, user_id, session_id, generation, expires_at)
    SELECT refresh_hash, user_id, id, 0, refresh_until FROM r
  )
  INSERT INTO audit_events (${AUDIT_COLUMNS}) SELECT $12, 'login', 'success', user_id, id, jti, $10, $11 FROM s`

/** Rows of one `openSessions` statement; a seed's million are sent in chunks of one transaction. */
export const OPEN_CHUNK = 5000

/**
 * One purge batch: at most $2 rows whose expiry is at or below $1, taken
 * straight from the expiry index. Rows a logout holds are skipped, not
 * waited for, and a batch runs only while no other instance's batch does
 * (a transaction-level advisory lock, tried, never waited on).
 */
export const PURGE_LOCK = 0x70757267 // "purg"
const purgeSql = (table: string) => `WITH lock AS (SELECT pg_try_advisory_xact_lock(${PURGE_LOCK}) AS held),
  gone AS (
    DELETE FROM ${table} WHERE expires_at <= $1 AND ctid = ANY (ARRAY(
      SELECT ctid FROM ${table} WHERE expires_at <= $1 AND (SELECT held FROM lock) LIMIT $2 FOR UPDATE SKIP LOCKED
    )) RETURNING 1
  )
  SELECT (SELECT held FROM lock) AS held, (SELECT count(*) FROM gone) AS deleted`
const PURGE: Record<PurgeTable, string> = {
  sessions: purgeSql('sessions'),
  revocations: purgeSql('revoked_tokens'),
  refreshTokens: purgeSql('refresh_tokens'),
  // Audit rows by age ($1: epoch ms), oldest first along the key: ids grow with time.
  audit: `WITH lock AS (SELECT pg_try_advisory_xact_lock(${PURGE_LOCK}) AS held),
  gone AS (
    DELETE FROM audit_events WHERE id = ANY (ARRAY(
      SELECT id FROM audit_events WHERE at < $1 AND (SELECT held FROM lock) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
    )) RETURNING 1
  )
  SELECT (SELECT held FROM lock) AS held, (SELECT count(*) FROM gone) AS deleted`
}

/** How many parameters ($1 to $n) a statement names: counted once per statement text, not on every request. */
const counted = new Map<string, number>()
function parameters (sql: string): number {
  let n = counted.get(sql)
  if (n === undefined) counted.set(sql, n = Math.max(...[...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]))))
  return n
}

interface VictimRow { id: string, jti: string | null, expiresAt: number | null, type: EventType | 'current' }

/** Something that runs a query: the pool, or one client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>

/** Runs `fn` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
export type InTransaction = <T>(fn: (c: Queryable) => Promise<T>) => Promise<T>

/** The statement that ends every other live session of the caller's user while the caller's own is live. */
export const OTHERS_OF = LOGOUT.others

export function createWrites (pool: Queryable, times: StoreTimes, inTransaction: InTransaction) {
  /** Rows with `expires_at` above this are live; at or below, expired (the purge's). */
  const cutoff = () => nowSeconds() - times.toleranceSeconds

  async function revoke (name: string, sql: string, current: SessionRef, reason: string, meta: RequestMeta, extra: unknown[] = [], q: Queryable = pool) {
    const at = nowMs()
    const values = [current.userId, current.id, current.jti, at, reason, meta.ip, meta.userAgent, cutoff(), ...extra]
    // A statement is sent exactly the parameters it names (a local logout has no cutoff).
    const query = { name, text: sql, values: values.slice(0, parameters(sql)) }
    // On its own (the pool), a statement that lost a deadlock to a batch of
    // logouts (./logout-batch.ts) was rolled back whole: it is run again. Inside
    // a transaction (refresh, password change) the conflict fails the transaction.
    const { rows } = q === pool ? await retried(() => q.query<VictimRow>(query)) : await q.query<VictimRow>(query)
    const out: Revocations = { events: [], revoked: [] }
    let live = false
    for (const row of rows) {
      if (row.type === 'current') {
        live = true
        continue
      }
      if (row.id === current.id) live = true
      out.events.push(sessionEvent(row.type, { userId: current.userId, id: row.id, jti: row.jti! }, meta, at))
      out.revoked.push({ jti: row.jti!, userId: current.userId, sessionId: row.id, expiresAt: row.expiresAt!, reason })
    }
    return { live, out }
  }

  return {
    async openSessions (rows: SessionInsert[], meta: RequestMeta, at: number): Promise<void> {
      const chunk = async (q: Queryable, part: SessionInsert[]) => {
        const columns = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => part.map((r) => r[i]))
        await q.query({ name: 'openSessions', text: OPEN_SESSIONS, values: [...columns, meta.ip, meta.userAgent, at] })
      }
      if (rows.length <= OPEN_CHUNK) return chunk(pool, rows)
      await inTransaction(async (q) => {
        for (let i = 0; i < rows.length; i += OPEN_CHUNK) await chunk(q, rows.slice(i, i + OPEN_CHUNK))
      })
    },

    revoke,

    async logout (current: SessionRef, scope: LogoutScope, meta: RequestMeta): Promise<Revoked> {
      const { live, out } = await revoke(`logout_${scope}`, LOGOUT[scope], current, `logout_${scope}`, meta)
      return live ? { count: out.revoked.length, ...out } : { count: null, events: [], revoked: [] }
    },

    async revokeById (current: SessionRef, id: string, meta: RequestMeta): Promise<RevokedById> {
      const { live, out } = await revoke('revokeById', REVOKE_BY_ID, current, 'session_revoked', meta, [id])
      if (!live) return { outcome: 'gone', events: [], revoked: [] }
      return { outcome: out.revoked.length > 0 ? 'revoked' : 'not_found', ...out }
    },

    async register (user: UserRecord, e: AuditEvent): Promise<boolean> {
      const { rowCount } = await pool.query({
        name: 'register',
        text: REGISTER,
        values: [user.id, user.email, user.hash, user.createdAt, e.at, e.type, e.outcome, e.sessionId, e.jti, e.ip, e.userAgent]
      })
      return rowCount === 1
    },

    async audit (e: AuditEvent): Promise<void> {
      await pool.query({ name: 'audit', text: AUDIT, values: [e.at, e.type, e.outcome, e.userId, e.sessionId, e.jti, e.ip, e.userAgent] })
    },

    /**
     * The cursor is not a position: each batch deletes from the start of
     * the expiry index, so the sweep goes on (`[]`) while batches come back
     * full, and ends when one is not, or when another instance is purging.
     */
    async purge (table: PurgeTable, limit: number): Promise<PurgeStep> {
      if (table === 'audit' && times.auditRetentionDays === 0) return { deleted: 0, next: null }
      const before = table === 'audit' ? nowMs() - times.auditRetentionDays * 86_400_000 : cutoff()
      const { rows: [row] } = await pool.query<{ held: boolean, deleted: number }>({
        name: `purge_${table}`, text: PURGE[table], values: [before, limit]
      })
      const { held, deleted } = row!
      return { deleted, next: held && deleted === limit ? [] : null }
    }
  }
}
