/**
 * The Store: every read and write of users, sessions, revocations, audit
 * events and settings, behind one small contract, in the manner of
 * @fastify/rate-limit's stores. The services in plugins/app keep the rules
 * (who may revoke what, which event to audit); a store keeps the data.
 *
 * - Each write is one transaction, durable before its promise resolves, and
 *   reports business outcomes (a session already gone, an e-mail taken)
 *   through its value; it rejects only when the store fails, and then
 *   nothing of it was applied.
 * - The hot read, `session`, takes a callback: a synchronous store (SQLite)
 *   calls it at once, so the authenticated read path costs no promise; an
 *   asynchronous one calls it later.
 * Every store is made with StoreTimes: a row is live while its expiry plus
 * the clock tolerance is in the future.
 * Implementations: lib/store/sqlite/. The shared contract suite in
 * test/lib/store/contract.ts is what makes them agree.
 */
import type { RequestMeta } from '../request-meta.js'
import type { SessionPolicy } from '../refresh.js'
import type {
  AuditEvent, EventRecord, LogoutScope, PasswordChange, RefreshOutcome, RefreshRequest, RevocationRecord, Revoked, RevokedById,
  SessionInsert, SessionRef, SessionRow, UserRecord
} from '../domain.js'

export type SessionCallback = (err: Error | null, session: SessionRow | undefined) => void

/** Where a purge sweep stands; only the store that returned it reads it. */
export type PurgeCursor = readonly unknown[]

export interface PurgeStep {
  deleted: number
  /** Where the sweep goes on; null once it is done. */
  next: PurgeCursor | null
}

/** What the purge sweeps. */
export type PurgeTable = 'sessions' | 'revocations' | 'refreshTokens' | 'audit'

/** How a store is made to see time: the clock tolerance, the audit retention. */
export interface StoreTimes {
  toleranceSeconds: number
  /** Audit rows older than this many days are purged; 0 keeps them. */
  auditRetentionDays: number
}

export interface Store {
  /** Names the store in logs, without any secret ("SQLite ./data/auth.db"). */
  readonly description: string

  /** The session `id` of `userId`, with the user's e-mail, expired or not; undefined when there is no such row. */
  session (userId: string, id: string, cb: SessionCallback): void
  /** The user's live sessions (docs/CONTRACT.md: expiry plus the clock tolerance not yet past), newest first. */
  liveSessions (userId: string): Promise<Array<Omit<SessionRow, 'email'>>>
  userByEmail (email: string): Promise<UserRecord | undefined>
  /** The user's last `limit` audit events, newest first. */
  recentEvents (userId: string, limit: number): Promise<EventRecord[]>
  /**
   * The setting `key`; when it has none yet, `initial` is stored and
   * returned. Of several callers at once (several processes included), all
   * get the one value stored first.
   */
  setting (key: string, initial: string): Promise<{ value: string, created: boolean }>
  /**
   * Revocation records whose token has not expired yet, in the order they
   * were written, `limit` at a time from `after` (null: from the start):
   * what a shared revocation list is filled from.
   */
  revocations (limit: number, after: PurgeCursor | null): Promise<{ rows: RevocationRecord[], next: PurgeCursor | null }>
  /** Resolves when the store answers a query, rejects when it does not. */
  ping (): Promise<void>

  /** Session rows and their `login` audit rows, all from one origin at one time. */
  openSessions (rows: SessionInsert[], meta: RequestMeta, at: number): Promise<void>
  /**
   * Ends `current` (scope local or global) and, for others or global, every
   * other live session of its user, each with its revocation record and
   * audit row. `count` is null, and nothing changes, when `current` is gone.
   */
  logout (current: SessionRef, scope: LogoutScope, meta: RequestMeta): Promise<Revoked>
  /** Ends the live session `id` of `current`'s user, while `current` itself is live. */
  revokeById (current: SessionRef, id: string, meta: RequestMeta): Promise<RevokedById>
  /**
   * A refresh, decided inside the transaction by lib/refresh.ts's
   * `decideRefresh`: rotated (the session's access token replaced by
   * `request.jti`'s, the old one recorded as revoked, the successor's hash
   * kept), replayed (nothing changes), reused (the session ended) or refused.
   */
  refresh (request: RefreshRequest, policy: SessionPolicy): Promise<RefreshOutcome>
  /** The user's new password hash; every other session of the user ended; while `current` is live. */
  changePassword (current: SessionRef, hash: string, meta: RequestMeta): Promise<PasswordChange>
  /** The user and its `register` audit row; false, and nothing written, when the e-mail is taken. */
  register (user: UserRecord, event: AuditEvent): Promise<boolean>
  /** An audit row on its own (a failed login). */
  audit (event: AuditEvent): Promise<void>
  /**
   * One step of a sweep of `table`, from `after` (null: from the start):
   * deletes at most `limit` rows no longer needed: a session past its
   * deadline, a revocation or a refresh token hash once its token could no
   * longer be accepted anyway, an audit row past the retention. How a step
   * walks the table, and so what its cursor holds, is the store's own.
   */
  purge (table: PurgeTable, limit: number, after: PurgeCursor | null): Promise<PurgeStep>

  /** Commits what is queued and lets the store go. */
  close (): Promise<void>
}
