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
import type { AuditEvent, EventType } from './audit.js'

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

export type LogoutScope = 'local' | 'others' | 'global'

export interface SessionStore {
  open (userId: string, meta: RequestMeta, log: FastifyBaseLogger): Promise<OpenedSession>
  /**
   * Opens `count` sessions of one user in a single commit, each exactly as
   * `open` would (token, row, audit row), handing each to `each` once
   * committed. For the seed command (scripts/seed.ts), which loads test data
   * through the same code as login.
   */
  openMany (userId: string, count: number, meta: RequestMeta, each: (opened: OpenedSession) => void): Promise<void>
  /** The live session a token names, or undefined. */
  find (sessionId: string): SessionRow | undefined
  /** Logout by the current session; null when that session is already gone (a concurrent logout won). */
  logout (current: SessionRow, scope: LogoutScope, meta: RequestMeta, log: FastifyBaseLogger): Promise<number | null>
  /** Revokes one of the owner's sessions by id: 'revoked', 'not_found', or 'gone' when the caller's own session was revoked meanwhile. */
  revokeById (current: SessionRow, id: string, meta: RequestMeta, log: FastifyBaseLogger): Promise<'revoked' | 'not_found' | 'gone'>
  list (current: SessionRow): SessionView[]
  /** Deletes up to `limit` expired sessions and expired revocation records; returns how many. */
  purgeExpired (limit: number): number
}

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionStore
  }
}

/** Sessions kept in memory for `find`; a few MiB at most. */
export const SESSION_CACHE_MAX = 10_000

type Victim = Pick<SessionRow, 'id' | 'jti' | 'userId' | 'expiresAt'>

export default fp(async function sessions (fastify) {
  const { db, writes, audit, tokens, config } = fastify
  const COLUMNS = `s.id, s.user_id AS userId, s.jti, s.created_at AS createdAt, s.expires_at AS expiresAt,
    s.ip, s.user_agent AS userAgent`
  const insert = db.prepare(`INSERT INTO sessions (id, user_id, jti, created_at, expires_at, ip, user_agent)
    VALUES (?, ?, ?, ?, ?, ?, ?)`)
  const byId = db.prepare<[string], SessionRow>(
    `SELECT ${COLUMNS}, u.email FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`)
  // Live sessions only, as the list shows them: an expired row awaiting the
  // purge is not a session that can be revoked (SPEC §4: 404), nor one that
  // a logout of other or all sessions records and audits.
  const ownedBy = db.prepare<[string, string, number], Victim>(
    `SELECT ${COLUMNS} FROM sessions s WHERE s.id = ? AND s.user_id = ? AND s.expires_at > ?`)
  const othersOf = db.prepare<[string, string, number], Victim>(
    `SELECT ${COLUMNS} FROM sessions s WHERE s.user_id = ? AND s.id <> ? AND s.expires_at > ?`)
  const stillLive = db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM sessions WHERE id = ? AND jti = ?')
  const remove = db.prepare('DELETE FROM sessions WHERE id = ? AND jti = ?')
  const recordRevocation = db.prepare(`INSERT OR IGNORE INTO revoked_tokens
    (jti, user_id, session_id, expires_at, revoked_at, reason) VALUES (?, ?, ?, ?, ?, ?)`)
  const liveOf = db.prepare<[string, number], Omit<SessionRow, 'email'>>(
    `SELECT ${COLUMNS} FROM sessions s WHERE s.user_id = ? AND s.expires_at > ?
     ORDER BY s.created_at DESC, s.id DESC`)
  const purgeSessions = db.prepare(`DELETE FROM sessions WHERE id IN
    (SELECT id FROM sessions WHERE expires_at < ? LIMIT ?)`)
  // A revocation is kept until its token could no longer be accepted anyway.
  const purgeRevocations = db.prepare(`DELETE FROM revoked_tokens WHERE (expires_at, jti) IN
    (SELECT expires_at, jti FROM revoked_tokens WHERE expires_at < ? LIMIT ?)`)
  // Every authenticated request reads its session row; an unchanged
  // database answers from memory (lib/read-cache.ts says when it may have changed).
  const cache = new ReadCache<SessionRow>(db, SESSION_CACHE_MAX)
  const load = (id: string): SessionRow | undefined => {
    const row = byId.get(id)
    // Shared by every request of the session until evicted: never changed in place.
    return row === undefined ? undefined : Object.freeze(row)
  }
  const tolerance = config.CLOCK_TOLERANCE_SECONDS
  /** Rows with `expires_at` above this are live; at or below, expired (the purge's). */
  const cutoff = () => nowSeconds() - tolerance

  const event = (type: EventType, s: Pick<SessionRow, 'id' | 'jti'> & { userId: string }, meta: RequestMeta, at: number): AuditEvent =>
    ({ type, outcome: 'success', userId: s.userId, sessionId: s.id, jti: s.jti, ip: meta.ip, userAgent: meta.userAgent, at })

  /** Inside a job: deletes the row and records the revocation; false when it was already gone. */
  function revoke (victim: Victim, reason: string, type: EventType, meta: RequestMeta, at: number, out: AuditEvent[]): boolean {
    if (remove.run(victim.id, victim.jti).changes === 0) return false
    recordRevocation.run(victim.jti, victim.userId, victim.id, victim.expiresAt, at, reason)
    const e = event(type, victim, meta, at)
    audit.insert(e)
    out.push(e)
    return true
  }

  /** Inside a job: issues a token and writes its session row and `login` audit row. */
  function insertSession (userId: string, meta: RequestMeta): { opened: OpenedSession, event: AuditEvent } {
    const sessionId = randomId()
    const issued = tokens.issue(userId, sessionId)
    const at = Date.now()
    const e = event('login', { id: sessionId, jti: issued.jti, userId }, meta, at)
    insert.run(sessionId, userId, issued.jti, at, issued.exp, meta.ip, meta.userAgent)
    audit.insert(e)
    const opened = { token: issued.token, sessionId, expiresAt: iso(issued.exp * 1000), expiresIn: issued.exp - issued.iat }
    return { opened, event: e }
  }

  const store: SessionStore = {
    async open (userId, meta, log) {
      const { opened, event } = await writes.run(() => insertSession(userId, meta))
      audit.log(log, [event])
      return opened
    },

    async openMany (userId, count, meta, each) {
      const opened = await writes.run(() => {
        const out: OpenedSession[] = []
        for (let i = 0; i < count; i++) out.push(insertSession(userId, meta).opened)
        return out
      })
      for (const o of opened) each(o)
    },

    find (sessionId) {
      return cache.get(sessionId, load)
    },

    async logout (current, scope, meta, log) {
      const events: AuditEvent[] = []
      const count = await writes.run(() => {
        // A job may run twice (batch rolled back, retried alone): start clean.
        events.length = 0
        const at = Date.now()
        let n = 0
        if (scope === 'others') {
          if (stillLive.get(current.id, current.jti) === undefined) return null
        } else if (revoke(current, `logout_${scope}`, 'logout', meta, at, events)) {
          n++
        } else {
          return null
        }
        if (scope !== 'local') {
          for (const other of othersOf.all(current.userId, current.id, cutoff())) {
            if (revoke(other, `logout_${scope}`, 'session_revoked', meta, at, events)) n++
          }
        }
        return n
      })
      audit.log(log, events)
      return count
    },

    async revokeById (current, id, meta, log) {
      const events: AuditEvent[] = []
      const outcome = await writes.run(() => {
        events.length = 0
        if (stillLive.get(current.id, current.jti) === undefined) return 'gone' as const
        const victim = ownedBy.get(id, current.userId, cutoff())
        if (victim === undefined) return 'not_found' as const
        revoke(victim, 'session_revoked', 'session_revoked', meta, Date.now(), events)
        return 'revoked' as const
      })
      audit.log(log, events)
      return outcome
    },

    list (current) {
      return liveOf.all(current.userId, cutoff()).map((s) => ({
        id: s.id,
        createdAt: iso(s.createdAt),
        expiresAt: iso(s.expiresAt * 1000),
        ip: s.ip,
        userAgent: s.userAgent,
        current: s.id === current.id
      }))
    },

    purgeExpired (limit) {
      const before = cutoff()
      const n = purgeSessions.run(before, limit).changes
      return n + purgeRevocations.run(before, limit).changes
    }
  }
  fastify.decorate('sessions', store)
}, { name: 'sessions', dependencies: ['db', 'audit', 'tokens'] })
