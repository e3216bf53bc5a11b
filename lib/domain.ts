/**
 * The domain's data, as the services and every store see it: users,
 * sessions, revocations and audit events. Plain types, no storage.
 * Times are epoch milliseconds, except token and session expiries, which
 * are epoch seconds like the JWT `exp` they mirror.
 */
import type { RequestMeta } from './request-meta.js'

export type EventType = 'register' | 'login' | 'login_failed' | 'logout' | 'session_revoked' |
  'password_changed' | 'token_refreshed' | 'refresh_token_reused'

/** One security event: a row of the audit trail and an info log line (docs/CONTRACT.md §5). */
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

/** An audit event as the caller's own list shows it. */
export interface EventRecord {
  type: EventType
  at: number
  sessionId: string | null
  ip: string | null
  userAgent: string | null
}

export interface UserRecord {
  id: string
  email: string
  hash: string
  createdAt: number
}

export type LogoutScope = 'local' | 'others' | 'global'

/** A session as a revocation names it: revoked only while its row still names this token and user. */
export interface SessionRef {
  id: string
  jti: string
  userId: string
}

/** A live session as every protected route sees it. */
export interface SessionRow extends SessionRef {
  email: string
  createdAt: number
  expiresAt: number
  ip: string | null
  userAgent: string | null
}

/**
 * A session to open. A tuple: a seed sends a million.
 * - createdAt: ms; deadline: the session's end as it stands (s);
 * - iat/exp: its first access token's (s);
 * - refreshHash: the SHA-256 of its first refresh token (the token itself is never stored);
 * - refreshUntil: when the session's refresh tokens are worth keeping no longer, its maximum age (s).
 */
export type SessionInsert = [id: string, userId: string, jti: string, createdAt: number, deadline: number, iat: number, exp: number, refreshHash: Buffer, refreshUntil: number]

/** The claims of a session's current access token, from which it is signed again, byte for byte. */
export interface AccessClaims {
  sub: string
  sid: string
  jti: string
  iat: number
  exp: number
}

/** A revoked access token, kept until it would have expired anyway. */
export interface RevocationRecord {
  jti: string
  userId: string
  sessionId: string
  /** The token's `exp`, epoch seconds. */
  expiresAt: number
  reason: string
}

/** What a revocation did: its audit events and the tokens it revoked, to log and to publish once committed. */
export interface Revocations {
  events: AuditEvent[]
  revoked: RevocationRecord[]
}

export interface Revoked extends Revocations {
  /** Sessions ended; null when the caller's own session was already gone (a concurrent logout won). */
  count: number | null
}

export interface RevokedById extends Revocations {
  outcome: 'revoked' | 'not_found' | 'gone'
}

/** A successful event of `type` about the session `s` (its user, id and token), from the request `meta`. */
export function sessionEvent (type: EventType, s: SessionRef, meta: RequestMeta, at: number): AuditEvent {
  return { type, outcome: 'success', userId: s.userId, sessionId: s.id, jti: s.jti, ip: meta.ip, userAgent: meta.userAgent, at }
}

export function loginEvent (userId: string, sessionId: string, jti: string, meta: RequestMeta, at: number): AuditEvent {
  return sessionEvent('login', { userId, id: sessionId, jti }, meta, at)
}

/** An event of the request `meta` made, about no session. */
export function accountEvent (type: EventType, outcome: AuditEvent['outcome'], userId: string | null, meta: RequestMeta, at: number): AuditEvent {
  return { type, outcome, userId, sessionId: null, jti: null, ip: meta.ip, userAgent: meta.userAgent, at }
}

/** What a refresh needs of the session it refreshes; computed before the store decides. */
export interface RefreshRequest {
  /** SHA-256 of the presented refresh token. */
  hash: Buffer
  /** SHA-256 of its successor (the refresh token a rotation from it issues). */
  successorHash: Buffer
  /** The new access token's jti, used only if the store rotates. */
  jti: string
  at: number
  meta: RequestMeta
}

/** What the store decided, inside its transaction (lib/refresh.ts says how). */
export type RefreshOutcome =
  | { outcome: 'rotated', claims: AccessClaims, deadline: number, events: AuditEvent[], revoked: RevocationRecord[] }
  | { outcome: 'replayed', claims: AccessClaims, deadline: number }
  | { outcome: 'reused', events: AuditEvent[], revoked: RevocationRecord[] }
  | { outcome: 'refused' }

export interface PasswordChange extends Revocations {
  /** 'gone' when the caller's own session ended meanwhile: nothing changed. */
  outcome: 'changed' | 'gone'
}
