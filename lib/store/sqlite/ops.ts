/**
 * Every write of the SQLite store, as a named operation over plain data
 * (never a closure), run by the group commit (./write-queue.ts).
 *
 * Each operation is synchronous and runs inside the group commit's
 * transaction; it reports business outcomes through its return value and
 * throws only for a store failure. It may run twice (its batch rolled back
 * and retried alone), so it keeps no state between runs.
 */
import type { Statement } from 'better-sqlite3'
import type { DB } from './open.js'
import type { RequestMeta } from '../../request-meta.js'
import { nowSeconds } from '../../time.js'
import {
  loginEvent, type AuditEvent, type EventType, type LogoutScope, type Revocations, type Revoked, type RevokedById,
  type SessionInsert, type SessionRef, type UserRecord
} from '../../domain.js'

/** Where a purge sweep stands: the last key it looked at. */
export type SessionKey = [userId: string, id: string]
export type RevocationKey = [id: number]

export interface PurgeStep<K> {
  deleted: number
  /** The cursor for the next step; null when the sweep is done. */
  next: K | null
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
  const ownedBy = db.prepare<[string, string, number], SessionRef>(
    `SELECT ${COLUMNS} FROM sessions s WHERE s.user_id = ? AND s.id = ? AND s.expires_at > ?`)
  const othersOf = db.prepare<[string, string, number], SessionRef>(
    `SELECT ${COLUMNS} FROM sessions s WHERE s.user_id = ? AND s.id <> ? AND s.expires_at > ?`)
  const stillLive = db.prepare<[string, string, string], { one: number }>(
    'SELECT 1 AS one FROM sessions WHERE user_id = ? AND id = ? AND jti = ?')
  // The check and the delete in one statement: the event loop does not look
  // the session up before a logout (plugins/app/sessions.ts).
  const remove = db.prepare<[string, string, string], { expiresAt: number }>(
    'DELETE FROM sessions WHERE user_id = ? AND id = ? AND jti = ? RETURNING expires_at AS expiresAt')
  const recordRevocation = db.prepare(`INSERT INTO revoked_tokens
    (jti, user_id, session_id, expires_at, revoked_at, reason) VALUES (?, ?, ?, ?, ?, ?)`)
  // The purge sweeps each table in key order, `limit` rows a step, from a
  // cursor it is handed back (migrations/sqlite/002_sessions_by_owner.sql: no expiry
  // index to write on every login and logout). A revocation is kept until
  // its token could no longer be accepted anyway.
  const sessionsAfter = db.prepare<[string, string, number], [...SessionKey, number]>(
    'SELECT user_id, id, expires_at FROM sessions WHERE (user_id, id) > (?, ?) ORDER BY user_id, id LIMIT ?').raw()
  const deleteSession = db.prepare<SessionKey>('DELETE FROM sessions WHERE user_id = ? AND id = ?')
  const revocationsAfter = db.prepare<[number, number], [...RevocationKey, number]>(
    'SELECT id, expires_at FROM revoked_tokens WHERE id > ? ORDER BY id LIMIT ?').raw()
  const deleteRevocation = db.prepare<RevocationKey>('DELETE FROM revoked_tokens WHERE id = ?')
  const insertUser = db.prepare(`INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (email) DO NOTHING`)
  /** Rows with `expires_at` above this are live; at or below, expired (the purge's). */
  const cutoff = () => nowSeconds() - toleranceSeconds

  /** Deletes the row and records the revocation and its audit row; false when it was already gone. */
  function revoke (victim: SessionRef, reason: string, type: EventType, meta: RequestMeta, at: number, out: Revocations): boolean {
    const row = remove.get(victim.userId, victim.id, victim.jti)
    if (row === undefined) return false
    recordRevocation.run(victim.jti, victim.userId, victim.id, row.expiresAt, at, reason)
    const e: AuditEvent = { type, outcome: 'success', userId: victim.userId, sessionId: victim.id, jti: victim.jti, ip: meta.ip, userAgent: meta.userAgent, at }
    insertAudit.run(e)
    out.events.push(e)
    out.revoked.push({ jti: victim.jti, userId: victim.userId, sessionId: victim.id, expiresAt: row.expiresAt, reason })
    return true
  }

  /** Deletes the expired rows of a chunk a sweep looked at (its key columns, then expires_at). */
  function sweep<K extends unknown[]> (rows: Array<[...K, number]>, limit: number, remove: Statement<K>): PurgeStep<K> {
    const before = cutoff()
    let deleted = 0
    for (const row of rows) {
      if (row[row.length - 1] as number <= before) deleted += remove.run(...row.slice(0, -1) as K).changes
    }
    const last = rows.length < limit ? undefined : rows[rows.length - 1]
    return { deleted, next: last === undefined ? null : last.slice(0, -1) as K }
  }

  return {
    /** Session rows and their `login` audit rows, all from one origin at one time. */
    openSessions ({ rows, meta, at }: { rows: SessionInsert[], meta: RequestMeta, at: number }): void {
      for (const [id, userId, jti, createdAt, expiresAt] of rows) {
        insertSession.run(id, userId, jti, createdAt, expiresAt, meta.ip, meta.userAgent)
        insertAudit.run(loginEvent(userId, id, jti, meta, at))
      }
    },

    logout ({ current, scope, meta }: { current: SessionRef, scope: LogoutScope, meta: RequestMeta }): Revoked {
      const out: Revocations = { events: [], revoked: [] }
      const at = Date.now()
      if (scope === 'others') {
        if (stillLive.get(current.userId, current.id, current.jti) === undefined) return { count: null, ...out }
      } else if (!revoke(current, `logout_${scope}`, 'logout', meta, at, out)) {
        return { count: null, ...out }
      }
      if (scope !== 'local') {
        for (const other of othersOf.all(current.userId, current.id, cutoff())) {
          revoke(other, `logout_${scope}`, 'session_revoked', meta, at, out)
        }
      }
      return { count: out.revoked.length, ...out }
    },

    revokeById ({ current, id, meta }: { current: SessionRef, id: string, meta: RequestMeta }): RevokedById {
      const out: Revocations = { events: [], revoked: [] }
      if (stillLive.get(current.userId, current.id, current.jti) === undefined) return { outcome: 'gone', ...out }
      const victim = ownedBy.get(current.userId, id, cutoff())
      if (victim === undefined) return { outcome: 'not_found', ...out }
      revoke(victim, 'session_revoked', 'session_revoked', meta, Date.now(), out)
      return { outcome: 'revoked', ...out }
    },

    /**
     * One step of the sessions' sweep: looks at up to `limit` sessions after
     * `after` in key order and deletes the expired ones. `next` is where the
     * sweep goes on, null once it has reached the end.
     */
    purgeSessions ({ limit, after }: { limit: number, after: SessionKey }): PurgeStep<SessionKey> {
      return sweep(sessionsAfter.all(after[0], after[1], limit), limit, deleteSession)
    },

    /** The same step over the revocation records, in the order they were written. */
    purgeRevocations ({ limit, after }: { limit: number, after: RevocationKey }): PurgeStep<RevocationKey> {
      return sweep(revocationsAfter.all(after[0], limit), limit, deleteRevocation)
    },

    /** The user and its `register` audit row; false when the e-mail is taken. */
    register ({ user, event }: { user: UserRecord, event: AuditEvent }): boolean {
      if (insertUser.run(user.id, user.email, user.hash, user.createdAt).changes === 0) return false
      insertAudit.run(event)
      return true
    },

    audit ({ event }: { event: AuditEvent }): void {
      insertAudit.run(event)
    }
  }
}

export type Ops = ReturnType<typeof createOps>
export type OpName = keyof Ops
export type OpArgs<K extends OpName> = Parameters<Ops[K]>[0]
export type OpResult<K extends OpName> = ReturnType<Ops[K]>
