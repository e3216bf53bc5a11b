/**
 * Every write the service makes, as a named operation over plain data
 * (never a closure), run by the group commit (lib/write-queue.ts) for every
 * route, the purge and the seed command alike.
 *
 * Each operation is synchronous and runs inside the group commit's
 * transaction; it reports business outcomes through its return value and
 * throws only for a store failure. It may run twice (its batch rolled back
 * and retried alone), so it keeps no state between runs.
 */
import type { DB } from './sqlite.js'
import type { RequestMeta } from './request-meta.js'
import { nowSeconds } from './time.js'

export type EventType = 'register' | 'login' | 'login_failed' | 'logout' | 'session_revoked'

export interface AuditEvent {
  type: EventType
  outcome: 'success' | 'failure'
  userId: string | null
  sessionId: string | null
  jti: string | null
  ip: string | null
  userAgent: string | null
  at: number
}

export type LogoutScope = 'local' | 'others' | 'global'

/** A session row to open: id, user id, jti, created at (ms), expires at (s). A tuple: a seed sends a million. */
export type SessionInsert = [id: string, userId: string, jti: string, createdAt: number, expiresAt: number]

/** What a revocation needs of a session: it is revoked only if its row still names this token and user. */
export interface Victim {
  id: string
  jti: string
  userId: string
}

export interface Revoked {
  /** Sessions ended; null when the caller's own session was already gone (a concurrent logout won). */
  count: number | null
  events: AuditEvent[]
}

export interface RevokedById {
  outcome: 'revoked' | 'not_found' | 'gone'
  events: AuditEvent[]
}

export interface NewUser {
  id: string
  email: string
  hash: string
  createdAt: number
}

export function loginEvent (userId: string, sessionId: string, jti: string, meta: RequestMeta, at: number): AuditEvent {
  return { type: 'login', outcome: 'success', userId, sessionId, jti, ip: meta.ip, userAgent: meta.userAgent, at }
}

/** The operations, their statements prepared once on `db`. */
export function createOps (db: DB, toleranceSeconds: number) {
  const COLUMNS = 's.id, s.user_id AS userId, s.jti'
  const insertSession = db.prepare(`INSERT INTO sessions (id, user_id, jti, created_at, expires_at, ip, user_agent)
    VALUES (?, ?, ?, ?, ?, ?, ?)`)
  const insertAudit = db.prepare(`INSERT INTO audit_events (at, type, outcome, user_id, session_id, jti, ip, user_agent)
    VALUES (@at, @type, @outcome, @userId, @sessionId, @jti, @ip, @userAgent)`)
  // Live sessions only, as the list shows them: an expired row awaiting the
  // purge is not a session that can be revoked (SPEC §4: 404), nor one that
  // a logout of other or all sessions records and audits.
  const ownedBy = db.prepare<[string, string, number], Victim>(
    `SELECT ${COLUMNS} FROM sessions s WHERE s.id = ? AND s.user_id = ? AND s.expires_at > ?`)
  const othersOf = db.prepare<[string, string, number], Victim>(
    `SELECT ${COLUMNS} FROM sessions s WHERE s.user_id = ? AND s.id <> ? AND s.expires_at > ?`)
  const stillLive = db.prepare<[string, string, string], { one: number }>(
    'SELECT 1 AS one FROM sessions WHERE id = ? AND jti = ? AND user_id = ?')
  // The check and the delete in one statement: the event loop does not look
  // the session up before a logout (routes/api/v1/auth/logout.ts).
  const remove = db.prepare<[string, string, string], { expiresAt: number }>(
    'DELETE FROM sessions WHERE id = ? AND jti = ? AND user_id = ? RETURNING expires_at AS expiresAt')
  const recordRevocation = db.prepare(`INSERT OR IGNORE INTO revoked_tokens
    (jti, user_id, session_id, expires_at, revoked_at, reason) VALUES (?, ?, ?, ?, ?, ?)`)
  const purgeSessions = db.prepare(`DELETE FROM sessions WHERE id IN
    (SELECT id FROM sessions WHERE expires_at < ? LIMIT ?)`)
  // A revocation is kept until its token could no longer be accepted anyway.
  const purgeRevocations = db.prepare(`DELETE FROM revoked_tokens WHERE (expires_at, jti) IN
    (SELECT expires_at, jti FROM revoked_tokens WHERE expires_at < ? LIMIT ?)`)
  const insertUser = db.prepare(`INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (email) DO NOTHING`)
  /** Rows with `expires_at` above this are live; at or below, expired (the purge's). */
  const cutoff = () => nowSeconds() - toleranceSeconds

  /** Deletes the row and records the revocation and its audit row; false when it was already gone. */
  function revoke (victim: Victim, reason: string, type: EventType, meta: RequestMeta, at: number, out: AuditEvent[]): boolean {
    const row = remove.get(victim.id, victim.jti, victim.userId)
    if (row === undefined) return false
    recordRevocation.run(victim.jti, victim.userId, victim.id, row.expiresAt, at, reason)
    const e: AuditEvent = { type, outcome: 'success', userId: victim.userId, sessionId: victim.id, jti: victim.jti, ip: meta.ip, userAgent: meta.userAgent, at }
    insertAudit.run(e)
    out.push(e)
    return true
  }

  return {
    /** Session rows and their `login` audit rows, all from one origin at one time. */
    openSessions ({ rows, meta, at }: { rows: SessionInsert[], meta: RequestMeta, at: number }): null {
      for (const [id, userId, jti, createdAt, expiresAt] of rows) {
        insertSession.run(id, userId, jti, createdAt, expiresAt, meta.ip, meta.userAgent)
        insertAudit.run(loginEvent(userId, id, jti, meta, at))
      }
      return null
    },

    logout ({ current, scope, meta }: { current: Victim, scope: LogoutScope, meta: RequestMeta }): Revoked {
      const events: AuditEvent[] = []
      const at = Date.now()
      let count = 0
      if (scope === 'others') {
        if (stillLive.get(current.id, current.jti, current.userId) === undefined) return { count: null, events }
      } else if (revoke(current, `logout_${scope}`, 'logout', meta, at, events)) {
        count++
      } else {
        return { count: null, events }
      }
      if (scope !== 'local') {
        for (const other of othersOf.all(current.userId, current.id, cutoff())) {
          if (revoke(other, `logout_${scope}`, 'session_revoked', meta, at, events)) count++
        }
      }
      return { count, events }
    },

    revokeById ({ current, id, meta }: { current: Victim, id: string, meta: RequestMeta }): RevokedById {
      const events: AuditEvent[] = []
      if (stillLive.get(current.id, current.jti, current.userId) === undefined) return { outcome: 'gone', events }
      const victim = ownedBy.get(id, current.userId, cutoff())
      if (victim === undefined) return { outcome: 'not_found', events }
      revoke(victim, 'session_revoked', 'session_revoked', meta, Date.now(), events)
      return { outcome: 'revoked', events }
    },

    /** Deletes up to `limit` expired sessions and up to `limit` expired revocation records; returns how many. */
    purge ({ limit }: { limit: number }): number {
      const before = cutoff()
      const n = purgeSessions.run(before, limit).changes
      return n + purgeRevocations.run(before, limit).changes
    },

    /** The user and its `register` audit row; false when the e-mail is taken. */
    register ({ user, event }: { user: NewUser, event: AuditEvent }): boolean {
      if (insertUser.run(user.id, user.email, user.hash, user.createdAt).changes === 0) return false
      insertAudit.run(event)
      return true
    },

    audit ({ event }: { event: AuditEvent }): null {
      insertAudit.run(event)
      return null
    }
  }
}

export type Ops = ReturnType<typeof createOps>
export type OpName = keyof Ops
export type OpArgs<K extends OpName> = Parameters<Ops[K]>[0]
export type OpResult<K extends OpName> = ReturnType<Ops[K]>
