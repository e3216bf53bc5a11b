/**
 * Sessions: the rules of opening, finding and ending them; the store keeps
 * the rows. Opening one writes its row and `login` audit row in one
 * transaction; ending one deletes its row and records the token's `jti`
 * with its audit row in one transaction, committed before the answer.
 *
 * What a logout does, in order: the route checks that the body repeats the
 * Bearer token (routes/api/v1/auth/logout.ts); the auth hook verifies the
 * token, but does not look its session up (plugins/app/auth.ts); `logout`
 * below asks the store to end the session only if its row still names this
 * token and user, in the same transaction as the revocation records and
 * audit rows of every session the scope covers (lib/store/store.ts). Of two
 * logouts of one token, the second finds nothing to end: 401.
 *
 * Once committed, and before the answer, the revoked tokens are published
 * to the shared revocation list (plugins/app/revocation-list.ts): other
 * services learn of a revocation before its client does, whenever Redis is up.
 */
import fp from 'fastify-plugin'
import type { FastifyBaseLogger } from 'fastify'
import { randomId } from '../../lib/ids.js'
import { iso } from '../../lib/time.js'
import type { RequestMeta } from '../../lib/request-meta.js'
import { loginEvent, type AccessClaims, type LogoutScope, type SessionInsert, type SessionRef, type SessionRow } from '../../lib/domain.js'
import { deadlineOf, hashOf, newRefreshToken, refreshKey, successorOf, type SessionPolicy } from '../../lib/refresh.js'
import { nowMs } from '../../lib/time.js'
import type { SessionCallback } from '../../lib/store/store.js'
import type { Claims } from './tokens.js'

export type { LogoutScope, SessionRow }

export interface SessionView {
  id: string
  createdAt: string
  expiresAt: string
  ip: string | null
  userAgent: string | null
  current: boolean
}

/** What a client gets for a login or a refresh. */
export interface OpenedSession {
  token: string
  sessionId: string
  expiresAt: string
  expiresIn: number
  refreshToken: string
  refreshExpiresAt: string
}

export interface SessionService {
  open (userId: string, meta: RequestMeta, log: FastifyBaseLogger): Promise<OpenedSession>
  /**
   * Opens `count` sessions of one user in a single commit, each exactly as
   * `open` would (token, row, audit row), handing each to `each` once
   * committed. For the seed command (scripts/seed.ts), which loads test data
   * through the same code as login.
   */
  openMany (userId: string, count: number, meta: RequestMeta, each: (opened: OpenedSession, ref: SessionRef) => void): Promise<void>
  /** The token's session while its row exists and names this token and user; otherwise undefined. Calls back at once on a synchronous store. */
  ofToken (claims: Pick<Claims, 'sid' | 'jti' | 'sub'>, cb: SessionCallback): void
  /** `ofToken` as a promise, for the paths that are not every request's. */
  find (claims: Pick<Claims, 'sid' | 'jti' | 'sub'>): Promise<SessionRow | undefined>
  /**
   * Logout by the current session, which the store's own transaction checks
   * and ends; null when that session is already gone (a concurrent logout
   * won, or it never was).
   */
  logout (current: SessionRef, scope: LogoutScope, meta: RequestMeta, log: FastifyBaseLogger): Promise<number | null>
  /** Revokes one of the owner's sessions by id: 'revoked', 'not_found', or 'gone' when the caller's own session was revoked meanwhile. */
  revokeById (current: SessionRef, id: string, meta: RequestMeta, log: FastifyBaseLogger): Promise<'revoked' | 'not_found' | 'gone'>
  list (current: SessionRow): Promise<SessionView[]>
  /**
   * A new pair for a refresh token (a retry within the grace: the same pair
   * again); undefined for every refusal, a reuse included (which ends the
   * session).
   */
  refresh (refreshToken: string, meta: RequestMeta, log: FastifyBaseLogger): Promise<OpenedSession | undefined>
}

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionService
  }
}

/** Only what the store needs of a session: never the row a route holds, with its e-mail. */
const refOf = (s: SessionRef): SessionRef => ({ id: s.id, jti: s.jti, userId: s.userId })

export default fp(async function sessions (fastify) {
  const { store, audit, tokens, config, revocationList } = fastify
  const policy: SessionPolicy = {
    ttlSeconds: config.TOKEN_TTL_SECONDS,
    idleSeconds: config.SESSION_IDLE_SECONDS,
    maxSeconds: config.SESSION_MAX_SECONDS,
    graceSeconds: config.REFRESH_REUSE_GRACE_SECONDS
  }
  const key = refreshKey(fastify.jwtSecret)

  /** What the client gets: the access token of these claims, the refresh token, the deadline. */
  const opened = (claims: AccessClaims, token: string, refreshToken: string, deadline: number): OpenedSession => ({
    token,
    sessionId: claims.sid,
    expiresAt: iso(claims.exp * 1000),
    expiresIn: claims.exp - claims.iat,
    refreshToken,
    refreshExpiresAt: iso(deadline * 1000)
  })

  /** Issues the tokens of a new session: the row to write and what the client gets. */
  function issue (userId: string, at: number): { row: SessionInsert, opened: OpenedSession } {
    const sessionId = randomId()
    const deadline = deadlineOf(at, at, policy)
    const issued = tokens.issue(userId, sessionId, deadline)
    const refreshToken = newRefreshToken()
    return {
      row: [sessionId, userId, issued.jti, at, deadline, issued.iat, issued.exp, hashOf(refreshToken), Math.floor(at / 1000) + policy.maxSeconds],
      opened: opened(issued, issued.token, refreshToken, deadline)
    }
  }

  function ofToken (claims: Pick<Claims, 'sid' | 'jti' | 'sub'>, cb: SessionCallback): void {
    store.session(claims.sub, claims.sid, (err, session) => {
      cb(err, session?.jti === claims.jti ? session : undefined)
    })
  }

  const service: SessionService = {
    async open (userId, meta, log) {
      const at = nowMs()
      const { row, opened } = issue(userId, at)
      await store.openSessions([row], meta, at)
      audit.log(log, [loginEvent(userId, row[0], row[2], meta, at)])
      return opened
    },

    async openMany (userId, count, meta, each) {
      const at = nowMs()
      const issued = Array.from({ length: count }, () => issue(userId, at))
      await store.openSessions(issued.map((i) => i.row), meta, at)
      for (const { row, opened } of issued) each(opened, { id: row[0], userId, jti: row[2] })
    },

    ofToken,

    find (claims) {
      return new Promise((resolve, reject) => {
        ofToken(claims, (err, session) => { if (err === null) resolve(session); else reject(err) })
      })
    },

    async logout (current, scope, meta, log) {
      const { count, events, revoked } = await store.logout(refOf(current), scope, meta)
      audit.log(log, events)
      await revocationList.publish(revoked)
      return count
    },

    async revokeById (current, id, meta, log) {
      const { outcome, events, revoked } = await store.revokeById(refOf(current), id, meta)
      audit.log(log, events)
      await revocationList.publish(revoked)
      return outcome
    },

    async refresh (refreshToken, meta, log) {
      const successor = successorOf(key, refreshToken)
      const decided = await store.refresh({ hash: hashOf(refreshToken), successorHash: hashOf(successor), jti: randomId(), at: nowMs(), meta }, policy)
      switch (decided.outcome) {
        case 'refused':
          return undefined
        case 'reused':
          log.warn({ sessionId: decided.events[0]?.sessionId }, 'refresh token reused: the session is ended')
          audit.log(log, decided.events)
          await revocationList.publish(decided.revoked)
          return undefined
        case 'rotated':
          audit.log(log, decided.events)
          // The replaced access token, on the shared list before the new one is handed out.
          await revocationList.publish(decided.revoked)
      }
      // Rotated or replayed: the same claims always give the same token.
      return opened(decided.claims, tokens.sign(decided.claims), successor, decided.deadline)
    },

    async list (current) {
      return (await store.liveSessions(current.userId)).map((s) => ({
        id: s.id,
        createdAt: iso(s.createdAt),
        expiresAt: iso(s.expiresAt * 1000),
        ip: s.ip,
        userAgent: s.userAgent,
        current: s.id === current.id
      }))
    }
  }
  fastify.decorate('sessions', service)
}, { name: 'sessions', dependencies: ['config', 'secret', 'store', 'audit', 'tokens', 'revocation-list'] })
