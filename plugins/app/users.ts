/**
 * Accounts: registration and credential checks. Passwords are hashed with
 * argon2id at OWASP's parameters (19 MiB, 2 iterations, 1 lane). An unknown
 * e-mail is checked against a dummy hash, so it costs what a wrong password
 * costs and gives the same answer.
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html
 */
import fp from 'fastify-plugin'
import argon2 from 'argon2'
import type { FastifyBaseLogger } from 'fastify'
import { EmailTakenError, InvalidCredentialsError } from '../../lib/errors.js'
import { userId } from '../../lib/ids.js'
import { iso, nowMs } from '../../lib/time.js'
import type { RequestMeta } from '../../lib/request-meta.js'
import { accountEvent, type SessionRow } from '../../lib/domain.js'

export const HASH_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

/** argon2id's cost: OWASP's unless the app is given another (the tests, where hashing is not the subject). */
export interface HashCost {
  memoryCost: number
  timeCost: number
}

/**
 * What an unknown e-mail is verified against: an argon2id hash at exactly
 * HASH_OPTIONS (a test holds it to them), so checking it costs what checking
 * a real one costs. A constant rather than hashed at start-up, which would
 * cost time and argon2's memory before any request. It is the hash of a
 * password nobody has, and knowing it helps no one: no account has it.
 */
export const DUMMY_HASH = '$argon2id$v=19$m=19456,p=1,t=2$srd+MT1Lv8fBGBqEkB8IjQ$Qh2IVPm53kwcOyAZgRvOlhW6/hOdYtL2sx4e18MDvTQ'

export interface User {
  id: string
  email: string
  createdAt: string
}

export interface UserService {
  register (email: string, password: string, meta: RequestMeta, log: FastifyBaseLogger): Promise<User>
  /** The user whose password this is, or InvalidCredentialsError after a `login_failed` event. */
  authenticate (email: string, password: string, meta: RequestMeta, log: FastifyBaseLogger): Promise<User>
  /**
   * Checks the current password (argon2 runs whether it is right or wrong),
   * then stores the new hash and ends every other session of the user, in
   * one transaction. InvalidCredentialsError when the password is wrong
   * (nothing changes); 'gone' when the caller's session ended meanwhile.
   */
  changePassword (current: SessionRow, password: string, newPassword: string, meta: RequestMeta, log: FastifyBaseLogger): Promise<'changed' | 'gone'>
}

declare module 'fastify' {
  interface FastifyInstance {
    users: UserService
  }
}

export const normalizeEmail = (email: string): string => email.trim().toLowerCase()

export default fp<{ hashCost?: HashCost | undefined }>(async function users (fastify, opts) {
  const hashOptions = { ...HASH_OPTIONS, ...opts.hashCost }
  const { store, audit, revocationList } = fastify

  fastify.decorate('users', {
    async register (rawEmail, password, meta, log) {
      const email = normalizeEmail(rawEmail)
      const hash = await argon2.hash(password, hashOptions)
      const id = userId()
      const createdAt = nowMs()
      const e = accountEvent('register', 'success', id, meta, createdAt)
      const created = await store.register({ id, email, hash, createdAt }, e)
      if (!created) throw new EmailTakenError()
      audit.log(log, [e])
      return { id, email, createdAt: iso(createdAt) }
    },

    async authenticate (rawEmail, password, meta, log) {
      const row = await store.userByEmail(normalizeEmail(rawEmail))
      const ok = await argon2.verify(row?.hash ?? DUMMY_HASH, password)
      if (row !== undefined && ok) return { id: row.id, email: row.email, createdAt: iso(row.createdAt) }
      const e = accountEvent('login_failed', 'failure', row?.id ?? null, meta, nowMs())
      await store.audit(e)
      audit.log(log, [e])
      throw new InvalidCredentialsError()
    },

    async changePassword (current, password, newPassword, meta, log) {
      // The session's user exists: deleting a user deletes its sessions.
      const row = (await store.userByEmail(current.email))!
      if (!await argon2.verify(row.hash, password)) throw new InvalidCredentialsError()
      const done = await store.changePassword(current, await argon2.hash(newPassword, hashOptions), meta)
      audit.log(log, done.events)
      await revocationList.publish(done.revoked)
      return done.outcome
    }
  } satisfies UserService)
}, { name: 'users', dependencies: ['store', 'audit', 'revocation-list'] })
