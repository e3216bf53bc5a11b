import { randomBytes, randomUUID } from 'node:crypto'

/** 128 random bits, base64url: for `jti` and session ids. */
export const randomId = (): string => randomBytes(16).toString('base64url')

export const userId = (): string => randomUUID()
