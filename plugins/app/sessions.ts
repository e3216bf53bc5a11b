/**
 * Sessions: one row per live token. Opening one writes the row and the
 * `login` audit row in one commit; revoking one deletes the row and records
 * the token's `jti` with its audit row in one commit. Every write goes
 * through the group-commit queue, so a request is answered only after its
 * change is on disk, and a concurrent second revocation of the same session
 * finds nothing to delete.
 */
import fp from 'fastify-plugin'
import type { FastifyBaseLogger } from 'fastify'
import { randomId } from '../../lib/ids.js'
import { iso, nowSeconds } from '../../lib/time.js'
import type { RequestMeta } from '../../lib/request-meta.js'
import { ReadCache } from '../../lib/read-cache.js'
import { loginEvent, type LogoutScope, type SessionInsert, type Victim } from '../../lib/write-ops.js'
import type { Claims } from './tokens.js'

export type { LogoutScope }

/** A live session as every protected route sees it. */
export interface SessionRow {
  id: string
  userId: string
  email: string
  jti: string
  createdAt: number
  expiresAt: number
  ip: string | null
  userAgent: string | null
}

export interface SessionView {
  id: string
  createdAt: string
  expiresAt: string
  ip: string | null
  userAgent: string | null
  current: boolean
}

export interface OpenedSession {
  token: string
  sessionId: string
  expiresAt: string
  expiresIn: number
}

export interface SessionStore {
  open (userId: string, meta: RequestMeta, log: FastifyBaseLogger): Promise<OpenedSession>
  /**
   * Opens `count` sessions of one user in a single commit, each exactly as
   * `open` would (token, row, audit row), handing each to `each` once
   * committed. For the seed command (scripts/seed.ts), which loads test data
   * through the same code as login.
   */
  openMany (userId: string, count: number, meta: RequestMeta, each: (opened: OpenedSession) => void): Promise<void>
  /** The user's session of this id, or undefined. */
  find (userId: string, sessionId: string): SessionRow | undefined
  /** The token's session while its row exists and names this token and user; otherwise undefined. */
  ofToken (claims: Pick<Claims, 'sid' | 'jti' | 'sub'>): SessionRow | undefined
  /**
   * Logout by the current session, which the logout's own statement checks
   * and deletes; null when that session is already gone (a concurrent
   * logout won, or it never was).
   */
  logout (current: Victim, scope: LogoutScope, meta: RequestMeta, log: FastifyBaseLogger): Promise<number | null>
  /** Revokes one of the owner's sessions by id: 'revoked', 'not_found', or 'gone' when the caller's own session was revoked meanwhile. */
  revokeById (current: Victim, id: string, meta: RequestMeta, log: FastifyBaseLogger): Promise<'revoked' | 'not_found' | 'gone'>
  list (current: SessionRow): SessionView[]
}

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionStore
  }
}

/** Sessions kept in memory for `find`; a few MiB at most. */
export const SESSION_CACHE_MAX = 10_000

export default fp(async function sessions (fastify) {
  const { db, writes, audit, tokens, config } = fastify
  const COLUMNS = `s.id, s.user_id AS userId, s.jti, s.created_at AS createdAt, s.expires_at AS expiresAt,
    s.ip, s.user_agent AS userAgent`
  const byKey = db.prepare<[string, string], SessionRow>(
    `SELECT ${COLUMNS}, u.email FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.user_id = ? AND s.id = ?`)
  const liveOf = db.prepare<[string, number], Omit<SessionRow, 'email'>>(
    `SELECT ${COLUMNS} FROM sessions s WHERE s.user_id = ? AND s.expires_at > ?
     ORDER BY s.created_at DESC, s.id DESC`)
  // Every authenticated request reads its session row; an unchanged
  // database answers from memory (lib/read-cache.ts says when it may have
  // changed). Cached by session id, which is unique: a row is served only to
  // the user it names (ofToken).
  const cache = new ReadCache<SessionRow, string>(db, SESSION_CACHE_MAX)
  const load = (id: string, userId: string): SessionRow | undefined => {
    const row = byKey.get(userId, id)
    // Shared by every request of the session until evicted: never changed in place.
    return row === undefined ? undefined : Object.freeze(row)
  }
  const tolerance = config.CLOCK_TOLERANCE_SECONDS
  const find = (userId: string, sessionId: string): SessionRow | undefined => {
    const session = cache.get(sessionId, load, userId)
    return session?.userId === userId ? session : undefined
  }

  /** Issues a token for a new session: the row to write and what the client gets. */
  function issue (userId: string, at: number): { row: SessionInsert, opened: OpenedSession } {
    const sessionId = randomId()
    const issued = tokens.issue(userId, sessionId)
    return {
      row: [sessionId, userId, issued.jti, at, issued.exp],
      opened: { token: issued.token, sessionId, expiresAt: iso(issued.exp * 1000), expiresIn: issued.exp - issued.iat }
    }
  }

  const store: SessionStore = {
    async open (userId, meta, log) {
      const at = Date.now()
      const { row, opened } = issue(userId, at)
      await writes.run('openSessions', { rows: [row], meta, at })
      audit.log(log, [loginEvent(userId, row[0], row[2], meta, at)])
      return opened
    },

    async openMany (userId, count, meta, each) {
      const at = Date.now()
      const rows: SessionInsert[] = []
      const opened: OpenedSession[] = []
      for (let i = 0; i < count; i++) {
        const one = issue(userId, at)
        rows.push(one.row)
        opened.push(one.opened)
      }
      await writes.run('openSessions', { rows, meta, at })
      for (const o of opened) each(o)
    },

    find,

    ofToken (claims) {
      const session = find(claims.sub, claims.sid)
      return session?.jti === claims.jti ? session : undefined
    },

    async logout (current, scope, meta, log) {
      const { count, events } = await writes.run('logout', { current: { id: current.id, jti: current.jti, userId: current.userId }, scope, meta })
      audit.log(log, events)
      return count
    },

    async revokeById (current, id, meta, log) {
      const { outcome, events } = await writes.run('revokeById', { current: { id: current.id, jti: current.jti, userId: current.userId }, id, meta })
      audit.log(log, events)
      return outcome
    },

    list (current) {
      return liveOf.all(current.userId, nowSeconds() - tolerance).map((s) => ({
        id: s.id,
        createdAt: iso(s.createdAt),
        expiresAt: iso(s.expiresAt * 1000),
        ip: s.ip,
        userAgent: s.userAgent,
        current: s.id === current.id
      }))
    }
  }
  fastify.decorate('sessions', store)
}, { name: 'sessions', dependencies: ['db', 'audit', 'tokens'] })
