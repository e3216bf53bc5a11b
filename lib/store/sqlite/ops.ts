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
import { nowMs, nowSeconds } from '../../time.js'
import {
  loginEvent, sessionEvent, type AuditEvent, type EventType, type LogoutScope, type PasswordChange, type RefreshOutcome,
  type RefreshRequest, type Revocations, type Revoked, type RevokedById, type SessionInsert, type SessionRef, type UserRecord
} from '../../domain.js'
import { accessExpiry, deadlineOf, decideRefresh, type SessionPolicy } from '../../refresh.js'
import type { StoreTimes } from '../store.js'

/** Where a purge sweep stands: the last key it looked at. */
export type SessionKey = [userId: string, id: string]
export type RowKey = [id: number]
export type HashKey = [hash: Buffer]

export interface PurgeStep<K> {
  deleted: number
  /** The cursor for the next step; null when the sweep is done. */
  next: K | null
}

/** The operations, their statements prepared once on `db`. */
export function createOps (db: DB, times: StoreTimes) {
  const COLUMNS = 's.id, s.user_id AS userId, s.jti'
  const insertSession = db.prepare(`INSERT INTO sessions (id, user_id, jti, created_at, expires_at, token_iat, token_exp,
    refreshed_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const insertRefresh = db.prepare<[Buffer, string, string, number, number]>(
    'INSERT INTO refresh_tokens (hash, user_id, session_id, generation, expires_at) VALUES (?, ?, ?, ?, ?)')
  const insertAudit = db.prepare(`INSERT INTO audit_events (at, type, outcome, user_id, session_id, jti, ip, user_agent)
    VALUES (@at, @type, @outcome, @userId, @sessionId, @jti, @ip, @userAgent)`)
  // Live sessions only, as the list shows them: an expired row awaiting the
  // purge is not a session that can be revoked (a 404), nor one that a
  // logout of other or all sessions records and audits.
  const ownedBy = db.prepare<[string, string, number], SessionRef>(
    `SELECT ${COLUMNS} FROM sessions s WHERE s.user_id = ? AND s.id = ? AND s.expires_at > ?`)
  const othersOf = db.prepare<[string, string, number], SessionRef>(
    `SELECT ${COLUMNS} FROM sessions s WHERE s.user_id = ? AND s.id <> ? AND s.expires_at > ?`)
  const stillLive = db.prepare<[string, string, string], { one: number }>(
    'SELECT 1 AS one FROM sessions WHERE user_id = ? AND id = ? AND jti = ?')
  // The check and the delete in one statement: the event loop does not look
  // the session up before a logout (plugins/app/sessions.ts).
  const remove = db.prepare<[string, string, string], { tokenExp: number }>(
    'DELETE FROM sessions WHERE user_id = ? AND id = ? AND jti = ? RETURNING token_exp AS tokenExp')
  const recordRevocation = db.prepare(`INSERT INTO revoked_tokens
    (jti, user_id, session_id, expires_at, revoked_at, reason) VALUES (?, ?, ?, ?, ?, ?)`)
  const refreshByHash = db.prepare<[Buffer], { userId: string, sessionId: string, generation: number }>(
    'SELECT user_id AS userId, session_id AS sessionId, generation FROM refresh_tokens WHERE hash = ?')
  const refreshState = db.prepare<[string, string], { jti: string, createdAt: number, refreshedAt: number, generation: number, iat: number, exp: number }>(
    `SELECT jti, created_at AS createdAt, refreshed_at AS refreshedAt, refresh_gen AS generation,
     token_iat AS iat, token_exp AS exp FROM sessions WHERE user_id = ? AND id = ?`)
  const rotate = db.prepare<[string, number, number, number, number, string, string]>(`UPDATE sessions
    SET jti = ?, token_iat = ?, token_exp = ?, expires_at = ?, refreshed_at = ?, refresh_gen = refresh_gen + 1
    WHERE user_id = ? AND id = ?`)
  const setPassword = db.prepare<[string, string]>('UPDATE users SET password_hash = ? WHERE id = ?')
  // The purge sweeps each table in key order, `limit` rows a step, from a
  // cursor it is handed back (migrations/sqlite/002_sessions_by_owner.sql:
  // no expiry index to write on every login and logout). A revocation is
  // kept until its token could no longer be accepted anyway.
  const sessionsAfter = db.prepare<[string, string, number], [...SessionKey, number]>(
    'SELECT user_id, id, expires_at FROM sessions WHERE (user_id, id) > (?, ?) ORDER BY user_id, id LIMIT ?').raw()
  const deleteSession = db.prepare<SessionKey>('DELETE FROM sessions WHERE user_id = ? AND id = ?')
  const revocationsAfter = db.prepare<[number, number], [...RowKey, number]>(
    'SELECT id, expires_at FROM revoked_tokens WHERE id > ? ORDER BY id LIMIT ?').raw()
  const deleteRevocation = db.prepare<RowKey>('DELETE FROM revoked_tokens WHERE id = ?')
  const refreshAfter = db.prepare<[Buffer, number], [...HashKey, number]>(
    'SELECT hash, expires_at FROM refresh_tokens WHERE hash > ? ORDER BY hash LIMIT ?').raw()
  const deleteRefresh = db.prepare<HashKey>('DELETE FROM refresh_tokens WHERE hash = ?')
  const auditAfter = db.prepare<[number, number], [...RowKey, number]>(
    'SELECT id, at FROM audit_events WHERE id > ? ORDER BY id LIMIT ?').raw()
  const deleteAudit = db.prepare<RowKey>('DELETE FROM audit_events WHERE id = ?')
  const insertUser = db.prepare(`INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (email) DO NOTHING`)
  /** Rows with `expires_at` above this are live; at or below, expired (the purge's). */
  const cutoff = () => nowSeconds() - times.toleranceSeconds

  /** Deletes the row and records the revocation and its audit row; false when it was already gone. */
  function revoke (victim: SessionRef, reason: string, type: EventType, meta: RequestMeta, at: number, out: Revocations): boolean {
    const row = remove.get(victim.userId, victim.id, victim.jti)
    if (row === undefined) return false
    recordRevocation.run(victim.jti, victim.userId, victim.id, row.tokenExp, at, reason)
    audit(type, victim, meta, at, out)
    out.revoked.push({ jti: victim.jti, userId: victim.userId, sessionId: victim.id, expiresAt: row.tokenExp, reason })
    return true
  }

  function audit (type: EventType, session: SessionRef, meta: RequestMeta, at: number, out: Revocations): void {
    const e = sessionEvent(type, session, meta, at)
    insertAudit.run(e)
    out.events.push(e)
  }

  /** Every other live session of `current`'s user, revoked. */
  function revokeOthers (current: SessionRef, reason: string, meta: RequestMeta, at: number, out: Revocations): void {
    for (const other of othersOf.all(current.userId, current.id, cutoff())) {
      revoke(other, reason, 'session_revoked', meta, at, out)
    }
  }

  /**
   * Deletes the rows of a chunk a sweep looked at (its key columns, then a
   * time) whose time is at or before `before`. With `ordered` (rows in time
   * order), the sweep ends at the first row that stays.
   */
  function sweep<K extends unknown[]> (rows: Array<[...K, number]>, limit: number, remove: Statement<K>, before: number, ordered = false): PurgeStep<K> {
    let deleted = 0
    for (const row of rows) {
      if (row[row.length - 1] as number > before) {
        if (ordered) return { deleted, next: null }
        continue
      }
      deleted += remove.run(...row.slice(0, -1) as K).changes
    }
    const last = rows.length < limit ? undefined : rows[rows.length - 1]
    return { deleted, next: last === undefined ? null : last.slice(0, -1) as K }
  }

  return {
    /** Session rows, their first refresh tokens and their `login` audit rows, all from one origin at one time. */
    openSessions ({ rows, meta, at }: { rows: SessionInsert[], meta: RequestMeta, at: number }): void {
      for (const [id, userId, jti, createdAt, deadline, iat, exp, refreshHash, refreshUntil] of rows) {
        insertSession.run(id, userId, jti, createdAt, deadline, iat, exp, createdAt, meta.ip, meta.userAgent)
        insertRefresh.run(refreshHash, userId, id, 0, refreshUntil)
        insertAudit.run(loginEvent(userId, id, jti, meta, at))
      }
    },

    logout ({ current, scope, meta }: { current: SessionRef, scope: LogoutScope, meta: RequestMeta }): Revoked {
      const out: Revocations = { events: [], revoked: [] }
      const at = nowMs()
      if (scope === 'others') {
        if (stillLive.get(current.userId, current.id, current.jti) === undefined) return { count: null, ...out }
      } else if (!revoke(current, `logout_${scope}`, 'logout', meta, at, out)) {
        return { count: null, ...out }
      }
      if (scope !== 'local') revokeOthers(current, `logout_${scope}`, meta, at, out)
      return { count: out.revoked.length, ...out }
    },

    revokeById ({ current, id, meta }: { current: SessionRef, id: string, meta: RequestMeta }): RevokedById {
      const out: Revocations = { events: [], revoked: [] }
      if (stillLive.get(current.userId, current.id, current.jti) === undefined) return { outcome: 'gone', ...out }
      const victim = ownedBy.get(current.userId, id, cutoff())
      if (victim === undefined) return { outcome: 'not_found', ...out }
      revoke(victim, 'session_revoked', 'session_revoked', meta, nowMs(), out)
      return { outcome: 'revoked', ...out }
    },

    /** A refresh, decided here, inside the transaction (lib/refresh.ts). */
    refresh ({ request: r, policy }: { request: RefreshRequest, policy: SessionPolicy }): RefreshOutcome {
      const token = refreshByHash.get(r.hash)
      const s = token === undefined ? undefined : refreshState.get(token.userId, token.sessionId)
      const decision = decideRefresh(token?.generation, s, r.at, policy)
      if (decision === 'refuse') return { outcome: 'refused' }
      const { userId, sessionId: sid } = token!
      const session = { id: sid, userId, jti: s!.jti }
      if (decision === 'replay') {
        return { outcome: 'replayed', claims: { sub: userId, sid, jti: s!.jti, iat: s!.iat, exp: s!.exp }, deadline: deadlineOf(s!.createdAt, s!.refreshedAt, policy) }
      }
      const out: Revocations = { events: [], revoked: [] }
      if (decision === 'reuse') {
        revoke(session, 'refresh_token_reused', 'refresh_token_reused', r.meta, r.at, out)
        return { outcome: 'reused', ...out }
      }
      const iat = Math.floor(r.at / 1000)
      const deadline = deadlineOf(s!.createdAt, r.at, policy)
      const exp = accessExpiry(iat, deadline, policy)
      rotate.run(r.jti, iat, exp, deadline, r.at, userId, sid)
      insertRefresh.run(r.successorHash, userId, sid, s!.generation + 1, Math.floor(s!.createdAt / 1000) + policy.maxSeconds)
      recordRevocation.run(s!.jti, userId, sid, s!.exp, r.at, 'rotated')
      out.revoked.push({ jti: s!.jti, userId, sessionId: sid, expiresAt: s!.exp, reason: 'rotated' })
      audit('token_refreshed', { ...session, jti: r.jti }, r.meta, r.at, out)
      return { outcome: 'rotated', claims: { sub: userId, sid, jti: r.jti, iat, exp }, deadline, ...out }
    },

    /** The new hash, every other session of the user ended, the current one kept, while it is live. */
    changePassword ({ current, hash, meta }: { current: SessionRef, hash: string, meta: RequestMeta }): PasswordChange {
      const out: Revocations = { events: [], revoked: [] }
      if (stillLive.get(current.userId, current.id, current.jti) === undefined) return { outcome: 'gone', ...out }
      const at = nowMs()
      setPassword.run(hash, current.userId)
      revokeOthers(current, 'password_changed', meta, at, out)
      audit('password_changed', current, meta, at, out)
      return { outcome: 'changed', ...out }
    },

    /**
     * One step of the sessions' sweep: looks at up to `limit` sessions after
     * `after` in key order and deletes those past their deadline. `next` is
     * where the sweep goes on, null once it has reached the end.
     */
    purgeSessions ({ limit, after }: { limit: number, after: SessionKey }): PurgeStep<SessionKey> {
      return sweep(sessionsAfter.all(after[0], after[1], limit), limit, deleteSession, cutoff())
    },

    /** The same step over the revocation records, in the order they were written. */
    purgeRevocations ({ limit, after }: { limit: number, after: RowKey }): PurgeStep<RowKey> {
      return sweep(revocationsAfter.all(after[0], limit), limit, deleteRevocation, cutoff())
    },

    /** The same step over the refresh token hashes, kept until their session's maximum age. */
    purgeRefreshTokens ({ limit, after }: { limit: number, after: HashKey }): PurgeStep<HashKey> {
      return sweep(refreshAfter.all(after[0], limit), limit, deleteRefresh, cutoff())
    },

    /** The same step over the audit trail, oldest first, ending at the first row young enough to keep. */
    purgeAudit ({ limit, after }: { limit: number, after: RowKey }): PurgeStep<RowKey> {
      if (times.auditRetentionDays === 0) return { deleted: 0, next: null }
      return sweep(auditAfter.all(after[0], limit), limit, deleteAudit, nowMs() - times.auditRetentionDays * 86_400_000, true)
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
