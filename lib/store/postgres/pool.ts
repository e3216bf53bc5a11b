/**
 * The connection pool behind the PostgreSQL store, with bounds on every
 * wait, so that a database that is gone or hung fails a request within a
 * few seconds instead of holding it; and the translation of a connection
 * failure into the 503 the contract answers with (SPEC §7).
 * @see https://node-postgres.com/apis/pool
 */
import pg from 'pg'
import { ServiceUnavailableError } from '../../errors.js'

/** Connections per instance: a few per core is what PostgreSQL's own wiki advises, shared by N instances. */
export const POOL_MAX = 10
/** How long a query waits for a connection (pool full, or the server not answering). */
export const CONNECT_TIMEOUT_MS = 2000
/** The server cancels a statement after this; migrations lift it for themselves. */
export const STATEMENT_TIMEOUT_MS = 4000
/** A row lock held longer than this (a stuck transaction) fails the statement rather than the request hanging. */
export const LOCK_TIMEOUT_MS = 2000
/** The client gives up on an answer after this: a network that drops packets, which the server's timeout cannot see. */
export const QUERY_TIMEOUT_MS = 5000

// bigint (int8) as a number: the epoch times and counts the store reads fit
// in 2^53. Per pool, not pg's global parsers: nothing else is affected.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser
}

/** A connection of its own, with no timeout on its statements: the migrations'. */
export function createClient (url: string): pg.Client {
  return new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'auth-sessions', types })
}

export function createPool (url: string): pg.Pool {
  return new pg.Pool({
    connectionString: url,
    max: POOL_MAX,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    lock_timeout: LOCK_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    // A transaction left open by a crashed request must not hold its locks.
    idle_in_transaction_session_timeout: 10_000,
    keepAlive: true,
    application_name: 'auth-sessions',
    types
  })
}

/**
 * SQLSTATE classes that say the database cannot serve now, not that the
 * statement is wrong: connection exceptions (08, but not 08P01, a protocol
 * violation: a bug of ours), insufficient resources
 * (53), operator intervention (57: shutdown, terminated, statement timeout)
 * and a lock not obtained in time (55P03).
 * @see https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
const UNAVAILABLE_SQLSTATE = /^(08\d|53|57)|^55P03$/

/**
 * True for a failure to reach or keep the database: pg's own errors for a
 * lost or refused connection and its timeouts carry no SQLSTATE, a socket's
 * carry a system code (ECONNREFUSED, ...).
 */
export function isUnavailable (err: unknown): boolean {
  if (!(err instanceof Error)) return false
  if (err instanceof pg.DatabaseError) return UNAVAILABLE_SQLSTATE.test(err.code ?? '')
  const code = (err as { code?: unknown }).code
  return (typeof code === 'string' && /^E[A-Z]+$/.test(code)) ||
    /connection|timeout|terminated/i.test(err.message)
}

/** deadlock_detected, serialization_failure: PostgreSQL rolled the statement back whole, and it may be run again. */
export function isConflict (err: unknown): boolean {
  return err instanceof pg.DatabaseError && (err.code === '40P01' || err.code === '40001')
}

/** Times a statement is run again after a conflict; then its error stands (a 500). */
const RETRIES = 3

/** `run`, run again while it fails with a conflict, at most RETRIES times more. */
export async function retried<T> (run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (err) {
      if (!isConflict(err) || attempt > RETRIES) throw err
    }
  }
}

/** The error a request sees: a 503 for an unreachable database (its cause logged), anything else as it is (500). */
export function storeError (err: unknown): Error {
  return isUnavailable(err) ? new ServiceUnavailableError({ cause: err }) : err as Error
}
