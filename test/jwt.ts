/**
 * The one JWT kit of the tests: hand-made tokens with any header, payload
 * and key, signed with node:crypto HMAC byte by byte (the way jwt_tool
 * does), so that every odd shape an attacker could send reaches the real
 * verifier; and the checks that a response leaks nothing.
 */
import { createHmac, randomBytes } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'

/** The signing key every test app is built with. */
export const SECRET = 'test-secret-that-is-at-least-32-characters-long'

export const HEADER = { alg: 'HS256', typ: 'JWT' }

export const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64url')
export const json64 = (value: unknown): string => b64(JSON.stringify(value))

/** The header our service issues, byte for byte. */
export const OUR_HEADER = json64(HEADER)

/** The claims of a token, read without verifying it. */
export function claimsOf (token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
}

export function hmac (input: string, key: string | Buffer = SECRET, hash = 'sha256'): string {
  return createHmac(hash, key).update(input).digest('base64url')
}

/** A token from raw header and payload text, HMAC-signed with `key` (SHA-256 unless `hash` says). */
export function signRaw (header: string, payload: string, key: string | Buffer = SECRET, hash = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${hmac(input, key, hash)}`
}

/** header.payload.signature; `payload` may be an object, an array or raw JSON text. */
export function sign (payload: unknown, header: unknown = HEADER, key: string | Buffer = SECRET, hash = 'sha256'): string {
  return signRaw(JSON.stringify(header), typeof payload === 'string' ? payload : JSON.stringify(payload), key, hash)
}

/** The same claims, changed (undefined removes one), and signed again with the test secret. */
export function resign (token: string, change: Record<string, unknown>): string {
  const claims = { ...claimsOf(token), ...change }
  for (const [k, v] of Object.entries(change)) if (v === undefined) delete claims[k]
  return sign(claims)
}

/** A signature-sized run of random bytes, for algorithms whose key we do not hold. */
export const junkSignature = (bytes = 32): string => b64(randomBytes(bytes))

export const now = (): number => Math.floor(Date.now() / 1000)

/** Words a response must never carry: library codes, SQL errors, stack frames. */
const LEAKS = [/FAST_JWT/i, /FST_/, /SQLITE/i, /\bat .*\(.*:\d+:\d+\)/, /node_modules/, /Error:/, /fast-jwt/i, /stack/i]

export function assertNoLeak (t: Test, res: LightMyRequestResponse | { body: string }, token?: string): void {
  for (const re of LEAKS) t.notMatch(res.body, re, `no ${re} in the body`)
  if (token !== undefined && token.length > 0) t.notOk(res.body.includes(token), 'the token is not echoed')
}
