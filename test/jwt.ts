/**
 * Hand-made JWTs for the tests: any header, any payload, signed with
 * node:crypto HMAC and the test secret (or another key), so that every odd
 * shape reaches the real verifier.
 */
import { createHmac } from 'node:crypto'
import { SECRET } from './helper.js'

export const HEADER = { alg: 'HS256', typ: 'JWT' }

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')

/** The claims of a token, read without verifying it. */
export function claimsOf (token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
}

export function hmac (data: string, key = SECRET, hash = 'sha256'): string {
  return createHmac(hash, key).update(data).digest('base64url')
}

/** header.payload.signature; `payload` may be an object, an array or raw JSON text. */
export function sign (payload: unknown, header: unknown = HEADER, key = SECRET, hash = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${hmac(input, key, hash)}`
}

/** The same claims, changed, and signed again with the test secret. */
export function resign (token: string, change: Record<string, unknown>): string {
  const claims = { ...claimsOf(token), ...change }
  for (const [k, v] of Object.entries(change)) if (v === undefined) delete claims[k]
  return sign(claims)
}

export const now = (): number => Math.floor(Date.now() / 1000)
