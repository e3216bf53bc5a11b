/**
 * The rules of refresh tokens and session lifetimes (docs/CONTRACT.md §3),
 * as pure functions that every store calls inside its own transaction.
 *
 * A refresh token is 256 random bits (base64url). Each rotation issues the
 * successor of the token it replaces: HMAC-SHA-256 of that token under a key
 * derived from the signing key. So a retry of the token just replaced
 * (a lost response, two tabs) is given the very same new refresh token, and
 * the same access token signed again from the claims the session keeps,
 * while nothing secret is stored: the store keeps only the SHA-256 of every
 * refresh token it issued, with its session and generation. A presented
 * token whose hash the store does not know was never issued: it ends
 * nothing. One it knows, of an older generation, is a leaked token.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto'

export interface SessionPolicy {
  ttlSeconds: number
  idleSeconds: number
  maxSeconds: number
  graceSeconds: number
}

/** The shape of every refresh token: 32 bytes, base64url without padding. */
export const REFRESH_TOKEN = /^[A-Za-z0-9_-]{43}$/

export const newRefreshToken = (): string => randomBytes(32).toString('base64url')

/** The key successors are derived with: bound to the signing key, never stored. */
export const refreshKey = (signingKey: string): Buffer =>
  createHmac('sha256', signingKey).update('auth-sessions refresh-token successor v1').digest()

/** The refresh token a rotation from `token` issues. */
export const successorOf = (key: Buffer, token: string): string =>
  createHmac('sha256', key).update(token).digest('base64url')

/** What the store keeps of a refresh token. */
export const hashOf = (token: string): Buffer => createHash('sha256').update(token).digest()

/** A session's deadline (epoch seconds): idle time after its last login or refresh, capped by its maximum age. */
export function deadlineOf (createdAtMs: number, refreshedAtMs: number, policy: SessionPolicy): number {
  return Math.floor(Math.min(refreshedAtMs / 1000 + policy.idleSeconds, createdAtMs / 1000 + policy.maxSeconds))
}

/** An access token's `exp`: its time to live, and never past its session's deadline. */
export const accessExpiry = (iat: number, deadline: number, policy: SessionPolicy): number =>
  Math.min(iat + policy.ttlSeconds, deadline)

export type RefreshDecision = 'rotate' | 'replay' | 'reuse' | 'refuse'

/**
 * What a refresh does, given the generation of the presented token (undefined:
 * never issued) and the state of its session (undefined: ended).
 */
export function decideRefresh (
  presented: number | undefined,
  session: { generation: number, createdAt: number, refreshedAt: number } | undefined,
  at: number,
  policy: SessionPolicy
): RefreshDecision {
  if (presented === undefined || session === undefined) return 'refuse'
  if (at >= deadlineOf(session.createdAt, session.refreshedAt, policy) * 1000) return 'refuse'
  if (presented === session.generation) return 'rotate'
  if (presented === session.generation - 1 && at - session.refreshedAt <= policy.graceSeconds * 1000) return 'replay'
  return presented < session.generation ? 'reuse' : 'refuse'
}
