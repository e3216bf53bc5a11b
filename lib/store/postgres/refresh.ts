/**
 * The PostgreSQL store's refresh and password change: each one transaction
 * in which the session row is locked first (`FOR UPDATE`), then decided on
 * (lib/refresh.ts, the same rules as every store), then written. Of several
 * refreshes of one token on any number of instances, the first locks and
 * rotates; the others wait for it and, under READ COMMITTED, read the row
 * it committed: a retry within the grace. A logout waiting on the same row
 * then finds the new `jti`, not the one it was sent for, and ends nothing.
 * @see https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-ROWS
 */
import type { RequestMeta } from '../../request-meta.js'
import { sessionEvent, type PasswordChange, type RefreshOutcome, type RefreshRequest, type Revocations, type SessionRef } from '../../domain.js'
import { accessExpiry, deadlineOf, decideRefresh, type SessionPolicy } from '../../refresh.js'
import { nowMs } from '../../time.js'
import { AUDIT, OTHERS_OF, type InTransaction, type Queryable } from './writes.js'

type Revoke = (name: string, sql: string, current: SessionRef, reason: string, meta: RequestMeta, extra: unknown[], q: Queryable) =>
Promise<{ live: boolean, out: Revocations }>

const TOKEN = 'SELECT user_id AS "userId", session_id AS "sessionId", generation FROM refresh_tokens WHERE hash = $1'
const SESSION = `SELECT jti, created_at AS "createdAt", refreshed_at AS "refreshedAt", refresh_gen AS generation,
  token_iat AS iat, token_exp AS exp FROM sessions WHERE user_id = $1 AND id = $2 FOR UPDATE`
const ROTATE = `WITH rotated AS (
    UPDATE sessions SET jti = $3, token_iat = $4, token_exp = $5, expires_at = $6, refreshed_at = $7, refresh_gen = refresh_gen + 1
    WHERE user_id = $1 AND id = $2 RETURNING 1
  ), successor AS (
    INSERT INTO refresh_tokens (hash, user_id, session_id, generation, expires_at) VALUES ($8, $1, $2, $9, $10)
  ), revoked AS (
    INSERT INTO revoked_tokens (jti, user_id, session_id, expires_at, revoked_at, reason) VALUES ($11, $1, $2, $12, $7, 'rotated')
  )
  INSERT INTO audit_events (at, type, outcome, user_id, session_id, jti, ip, user_agent)
  SELECT $7, 'token_refreshed', 'success', $1, $2, $3, $13, $14 FROM rotated`
const END_SESSION = `WITH gone AS (
    DELETE FROM sessions WHERE user_id = $1 AND id = $2 AND jti = $3 RETURNING token_exp
  ), revoked AS (
    INSERT INTO revoked_tokens (jti, user_id, session_id, expires_at, revoked_at, reason)
    SELECT $3, $1, $2, token_exp, $4, 'refresh_token_reused' FROM gone
  )
  INSERT INTO audit_events (at, type, outcome, user_id, session_id, jti, ip, user_agent)
  SELECT $4, 'refresh_token_reused', 'success', $1, $2, $3, $5, $6 FROM gone`
const LIVE = 'SELECT 1 FROM sessions WHERE user_id = $1 AND id = $2 AND jti = $3 FOR SHARE'
const SET_PASSWORD = 'UPDATE users SET password_hash = $2 WHERE id = $1'

export function createRefreshWrites (inTransaction: InTransaction, revoke: Revoke) {
  return {
    refresh (r: RefreshRequest, policy: SessionPolicy): Promise<RefreshOutcome> {
      return inTransaction(async (q) => {
        const { rows: [token] } = await q.query<{ userId: string, sessionId: string, generation: number }>({ name: 'refreshToken', text: TOKEN, values: [r.hash] })
        const { rows: [s] } = token === undefined
          ? { rows: [] }
          : await q.query<{ jti: string, createdAt: number, refreshedAt: number, generation: number, iat: number, exp: number }>({
            name: 'refreshSession', text: SESSION, values: [token.userId, token.sessionId]
          })
        const decision = decideRefresh(token?.generation, s, r.at, policy)
        if (decision === 'refuse') return { outcome: 'refused' }
        const { userId, sessionId: sid } = token!
        if (decision === 'replay') {
          return { outcome: 'replayed', claims: { sub: userId, sid, jti: s!.jti, iat: s!.iat, exp: s!.exp }, deadline: deadlineOf(s!.createdAt, s!.refreshedAt, policy) }
        }
        const { ip, userAgent } = r.meta
        if (decision === 'reuse') {
          await q.query({ name: 'refreshReused', text: END_SESSION, values: [userId, sid, s!.jti, r.at, ip, userAgent] })
          return {
            outcome: 'reused',
            events: [{ type: 'refresh_token_reused', outcome: 'success', userId, sessionId: sid, jti: s!.jti, ip, userAgent, at: r.at }],
            revoked: [{ jti: s!.jti, userId, sessionId: sid, expiresAt: s!.exp, reason: 'refresh_token_reused' }]
          }
        }
        const iat = Math.floor(r.at / 1000)
        const deadline = deadlineOf(s!.createdAt, r.at, policy)
        const exp = accessExpiry(iat, deadline, policy)
        await q.query({
          name: 'refreshRotate',
          text: ROTATE,
          values: [userId, sid, r.jti, iat, exp, deadline, r.at, r.successorHash, s!.generation + 1,
            Math.floor(s!.createdAt / 1000) + policy.maxSeconds, s!.jti, s!.exp, ip, userAgent]
        })
        return {
          outcome: 'rotated',
          claims: { sub: userId, sid, jti: r.jti, iat, exp },
          deadline,
          events: [{ type: 'token_refreshed', outcome: 'success', userId, sessionId: sid, jti: r.jti, ip, userAgent, at: r.at }],
          revoked: [{ jti: s!.jti, userId, sessionId: sid, expiresAt: s!.exp, reason: 'rotated' }]
        }
      })
    },

    changePassword (current: SessionRef, hash: string, meta: RequestMeta): Promise<PasswordChange> {
      return inTransaction(async (q) => {
        const { rows } = await q.query({ name: 'passwordLive', text: LIVE, values: [current.userId, current.id, current.jti] })
        if (rows.length === 0) return { outcome: 'gone', events: [], revoked: [] }
        await q.query({ name: 'setPassword', text: SET_PASSWORD, values: [current.userId, hash] })
        const { out } = await revoke('logout_others', OTHERS_OF, current, 'password_changed', meta, [], q)
        const at = nowMs()
        const e = sessionEvent('password_changed', current, meta, at)
        await q.query({ name: 'audit', text: AUDIT, values: [e.at, e.type, e.outcome, e.userId, e.sessionId, e.jti, e.ip, e.userAgent] })
        return { outcome: 'changed', events: [...out.events, e], revoked: out.revoked }
      })
    }
  }
}
