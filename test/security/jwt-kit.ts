/**
 * Token forgery kit for the attack catalogue: builds JWTs byte by byte, the
 * way jwt_tool does, so a test can send exactly the header, payload and
 * signature an attacker would.
 */
import { createHmac, randomBytes } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'

export const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64url')
export const json64 = (value: unknown): string => b64(JSON.stringify(value))

/** The header our service issues, byte for byte. */
export const OUR_HEADER = json64({ alg: 'HS256', typ: 'JWT' })

export function hmac (input: string, key: string | Buffer, hash = 'sha256'): string {
  return createHmac(hash, key).update(input).digest('base64url')
}

/** A token from raw header and payload text, HMAC-signed with `key` (SHA-256 unless `hash` says). */
export function signRaw (header: string, payload: string, key: string | Buffer, hash = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${hmac(input, key, hash)}`
}

export function sign (header: unknown, payload: unknown, key: string | Buffer, hash = 'sha256'): string {
  return signRaw(JSON.stringify(header), JSON.stringify(payload), key, hash)
}

/** A signature-sized run of random bytes, for algorithms whose key we do not hold. */
export const junkSignature = (bytes = 32): string => b64(randomBytes(bytes))

export function decode (token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
}

/** Words a response must never carry: library codes, SQL errors, stack frames. */
const LEAKS = [/FAST_JWT/i, /FST_/, /SQLITE/i, /\bat .*\(.*:\d+:\d+\)/, /node_modules/, /Error:/, /fast-jwt/i, /stack/i]

export function assertNoLeak (t: Test, res: LightMyRequestResponse | { body: string }, token?: string): void {
  for (const re of LEAKS) t.notMatch(res.body, re, `no ${re} in the body`)
  if (token !== undefined && token.length > 0) t.notOk(res.body.includes(token), 'the token is not echoed')
}
