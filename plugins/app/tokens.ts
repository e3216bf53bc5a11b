/**
 * Issues and verifies access tokens. One verifier for every protected route.
 *
 * Before the signature is checked, a token must have exactly the shape we
 * issue: our own header byte for byte (so `alg` none, other algorithms,
 * `jwk`, `jku`, `x5u`, `kid` and `crit` never reach the library), three
 * canonical base64url segments and an HS256-sized signature. After it, every
 * claim must have the type we wrote. Any failure is the 401 envelope; only a
 * correctly signed, well-formed token whose `exp` has passed is the 403.
 *
 * A token that passed all of it is remembered, by its exact text, until its
 * `exp` (plus the clock tolerance) or for ten minutes, whichever is first,
 * as fast-jwt's own cache would; a repeat is then one map lookup instead of
 * a SHA-256 cache key, two regular expressions and the claim checks. Only
 * the token is cached: its session is looked up on every request.
 * @see https://www.rfc-editor.org/rfc/rfc8725 (JWT BCP)
 */
import fp from 'fastify-plugin'
import { randomId } from '../../lib/ids.js'
import { nowSeconds } from '../../lib/time.js'
import { TokenExpiredError, TokenInvalidError, TokenMissingError } from '../../lib/errors.js'

export interface Claims {
  sub: string
  sid: string
  jti: string
  iat: number
  exp: number
}

export interface IssuedToken extends Claims {
  token: string
}

export interface TokenService {
  /** A new token (a new `jti`) for the session, expiring after its time to live and never after `deadline`. */
  issue (userId: string, sessionId: string, deadline: number): IssuedToken
  /** The token of these exact claims: the same claims give the same token, byte for byte (HS256 is deterministic). */
  sign (claims: Claims): string
  /** `remember: false` for a token about to be revoked: it would only take a place in the cache. */
  verify (token: string, remember?: boolean): Claims
  /** The token of an `Authorization: Bearer <token>` header, or a 401 error. */
  bearer (header: string | undefined): string
}

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenService
  }
}

/** Far above any token we issue; refuses oversized input before any work. */
const MAX_TOKEN_LENGTH = 2048
// base64url segments; an HS256 signature is 32 bytes, 43 characters unpadded.
const SHAPE = /^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/
// RFC 6750 §2.1: case-insensitive scheme (RFC 7235), one or more spaces, token68.
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i
// The Bearer scheme with something after it: `Bearer` alone (or with only
// spaces) carries no token, so RFC 6750 §3.1 wants no error code.
const SCHEME = /^bearer +[^ ]/i

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** True when the unpadded base64url text has no stray bits in its last character. */
function canonical (segment: string): boolean {
  const rest = segment.length % 4
  if (rest === 0) return true
  if (rest === 1) return false
  const index = BASE64URL.indexOf(segment[segment.length - 1]!)
  return (index & (rest === 2 ? 0b1111 : 0b11)) === 0
}

/** Verified tokens remembered; fast-jwt's default cache holds 1000. */
export const VERIFIED_CACHE_MAX = 10_000
/**
 * Once the cache is full, one verified token in this many is remembered
 * (lib/store/sqlite/read-cache.ts explains why: under traffic rotating over
 * more tokens than it holds, remembering each one is pure churn).
 */
const ADMIT_EVERY = 16
/** How long a verified token is remembered at most (fast-jwt's default cacheTTL). */
const VERIFIED_TTL_MS = 600_000

const isString = (v: unknown, max = 256): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max
const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0

export function createTokenService (opts: {
  sign: (payload: Record<string, unknown>) => string
  verify: (token: string) => unknown
  ttlSeconds: number
  toleranceSeconds: number
  issuer?: string | undefined
  audience?: string | undefined
  cacheSize?: number
  admitEvery?: number
}): TokenService {
  const verified = new Map<string, { claims: Claims, until: number }>()
  const cacheSize = opts.cacheSize ?? VERIFIED_CACHE_MAX
  const admitEvery = opts.admitEvery ?? ADMIT_EVERY
  let misses = 0
  const toleranceMs = opts.toleranceSeconds * 1000
  const extra: Record<string, string> = {}
  if (opts.issuer !== undefined) extra.iss = opts.issuer
  if (opts.audience !== undefined) extra.aud = opts.audience
  const header = opts.sign({ probe: true }).split('.')[0]! + '.'

  // The claims in one fixed order, then iss/aud: the same claims always sign to the same text.
  const sign = (c: Claims): string => opts.sign({ sub: c.sub, sid: c.sid, jti: c.jti, iat: c.iat, exp: c.exp, ...extra })

  function issue (sub: string, sid: string, deadline: number): IssuedToken {
    const iat = nowSeconds()
    const claims = { sub, sid, jti: randomId(), iat, exp: Math.min(iat + opts.ttlSeconds, deadline) }
    return { ...claims, token: sign(claims) }
  }

  function verify (token: string, remember = true): Claims {
    const hit = verified.get(token)
    if (hit !== undefined) {
      // fast-jwt's own bound: a hit is valid while exp * 1000 + tolerance is not past.
      if (Date.now() <= hit.until) return hit.claims
      verified.delete(token)
    }
    const shape = token.length <= MAX_TOKEN_LENGTH && token.startsWith(header) ? SHAPE.exec(token) : null
    if (shape === null || !canonical(shape[1]!)) throw new TokenInvalidError()
    let payload: any
    try {
      payload = opts.verify(token)
    } catch (err) {
      // Reached only with a valid signature: fast-jwt checks it before the claims.
      if ((err as { code?: string }).code === 'FAST_JWT_EXPIRED') throw new TokenExpiredError()
      throw new TokenInvalidError()
    }
    if (
      typeof payload !== 'object' || payload === null || Array.isArray(payload) ||
      !isString(payload.sub) || !isString(payload.sid) || !isString(payload.jti) ||
      !isTime(payload.iat) || !isTime(payload.exp) || payload.exp <= payload.iat ||
      payload.iat > nowSeconds() + opts.toleranceSeconds
    ) throw new TokenInvalidError()
    // We never issue `nbf`; a token that has one is not worth remembering.
    if (remember && payload.nbf === undefined && (verified.size < cacheSize || ++misses % admitEvery === 0)) {
      // Oldest first out: a Map iterates in insertion order.
      if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!)
      verified.set(token, { claims: Object.freeze(payload), until: Math.min(payload.exp * 1000 + toleranceMs, Date.now() + VERIFIED_TTL_MS) })
    }
    return payload as Claims
  }

  function bearer (value: string | undefined): string {
    if (value === undefined || !SCHEME.test(value)) throw new TokenMissingError()
    const match = BEARER.exec(value)
    if (match === null) throw new TokenInvalidError()
    return match[1]!
  }

  return { issue, sign, verify, bearer }
}

export default fp(async function tokens (fastify) {
  const { config, jwt } = fastify
  fastify.decorate('tokens', createTokenService({
    sign: (payload) => jwt.sign(payload),
    verify: (token) => jwt.verify(token),
    ttlSeconds: config.TOKEN_TTL_SECONDS,
    toleranceSeconds: config.CLOCK_TOLERANCE_SECONDS,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE
  }))
}, { name: 'tokens', dependencies: ['config', 'jwt'] })
