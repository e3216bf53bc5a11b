/**
 * Local logouts, several per statement: the PostgreSQL store's group commit.
 *
 * A logout on its own is one statement, one transaction, one round trip
 * and one WAL flush (./writes.ts). Under load most of that is per
 * statement, not per row: sending the query (a third of the process's CPU
 * in a profile), PostgreSQL's parse, bind, commit and flush. So while
 * `maxInFlight` statements of logouts are running, the logouts that arrive
 * wait for one of them to finish and then go together, in one statement
 * that deletes every session of the batch that still names its token,
 * records the revocations and writes the audit rows (data-modifying CTEs,
 * as for one). Nothing waits on a timer: below that concurrency a logout
 * is sent at once, alone, as before.
 *
 * What a batch changes, and what it does not:
 * - Each logout is answered from the rows the statement returned: its
 *   session deleted by this statement (200) or not (401, a concurrent
 *   logout won). Committed before any of the batch is answered.
 * - One session per user in a batch: a second logout of the same session
 *   (or another session of that user) waits for the next batch. So two
 *   logouts of one token are never decided by one statement, where both
 *   would see the row deleted, and a batch never holds two rows that a
 *   logout of other devices of that user (which locks them in its own
 *   order) could be waiting for.
 * - Rows are sent in key order, so that two batches (of two instances)
 *   lock the rows they share in the same order. Should two statements
 *   still deadlock (or a serialization failure end one), PostgreSQL rolls
 *   the whole statement back: its logouts are then run one by one, so a
 *   conflict costs time, never an answer.
 * - Any other failure (the database lost, a timeout) fails every logout of
 *   the batch, as it would have failed each alone: nothing of the batch
 *   was committed, each request answers 503 or 500 and its session is
 *   untouched.
 * @see https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-DEADLOCKS
 */
import pg from 'pg'
import type { AuditEvent, Revoked, SessionRef } from '../../domain.js'
import type { RequestMeta } from '../../request-meta.js'
import { nowMs } from '../../time.js'
import { AUDIT_COLUMNS, type Queryable } from './writes.js'

/** Statements of batched logouts running at once, per instance; the pool has 10 connections for everything else. */
export const MAX_IN_FLIGHT = 2
/** Logouts per statement at most. */
export const MAX_BATCH = 64

const REASON = 'logout_local'

const LOCAL_LOGOUTS = `WITH r AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[])
      AS r (user_id, id, jti, at, ip, user_agent)
  ), gone AS (
    DELETE FROM sessions s USING r WHERE s.user_id = r.user_id AND s.id = r.id AND s.jti = r.jti
    RETURNING s.user_id, s.id, s.jti, s.token_exp AS expires_at, r.at, r.ip, r.user_agent
  ), revoked AS (
    INSERT INTO revoked_tokens (jti, user_id, session_id, expires_at, revoked_at, reason)
    SELECT jti, user_id, id, expires_at, at, '${REASON}' FROM gone ORDER BY at, user_id
  ), audited AS (
    INSERT INTO audit_events (${AUDIT_COLUMNS})
    SELECT at, 'logout', 'success', user_id, id, jti, ip, user_agent FROM gone ORDER BY at, user_id
  )
  SELECT user_id AS "userId", expires_at AS "expiresAt" FROM gone`

/** deadlock_detected, serialization_failure: the statement was rolled back whole, and may be run again. */
const CONFLICT = new Set(['40P01', '40001'])

interface Entry {
  current: SessionRef
  meta: RequestMeta
  at: number
  resolve: (r: Revoked) => void
  reject: (err: unknown) => void
}

export interface LocalLogoutOptions {
  maxInFlight?: number
  maxBatch?: number
}

/**
 * `single` is the one-statement logout (./writes.ts), used for a batch of
 * one and to run again, one by one, a batch that lost a conflict.
 */
export function createLocalLogouts (
  pool: Queryable,
  single: (current: SessionRef, meta: RequestMeta) => Promise<Revoked>,
  opts: LocalLogoutOptions = {}
) {
  const maxInFlight = opts.maxInFlight ?? MAX_IN_FLIGHT
  const maxBatch = opts.maxBatch ?? MAX_BATCH
  let waiting: Entry[] = []
  let inFlight = 0

  /** The next batch: waiting logouts in arrival order, one per user; the rest keep waiting. */
  function take (): Entry[] {
    const batch: Entry[] = []
    const rest: Entry[] = []
    const users = new Set<string>()
    for (const e of waiting) {
      if (batch.length < maxBatch && !users.has(e.current.userId)) {
        users.add(e.current.userId)
        batch.push(e)
      } else {
        rest.push(e)
      }
    }
    waiting = rest
    return batch
  }

  function answer (e: Entry, row: { expiresAt: number } | undefined): Revoked {
    if (row === undefined) return { count: null, events: [], revoked: [] }
    const { current, meta, at } = e
    const event: AuditEvent = { type: 'logout', outcome: 'success', userId: current.userId, sessionId: current.id, jti: current.jti, ip: meta.ip, userAgent: meta.userAgent, at }
    return { count: 1, events: [event], revoked: [{ jti: current.jti, userId: current.userId, sessionId: current.id, expiresAt: row.expiresAt, reason: REASON }] }
  }

  async function one (e: Entry): Promise<void> {
    await single(e.current, e.meta).then(e.resolve, e.reject)
  }

  async function send (batch: Entry[]): Promise<void> {
    if (batch.length === 1) return one(batch[0]!)
    batch.sort((a, b) => a.current.userId < b.current.userId ? -1 : 1)
    const c = batch.map((e) => e.current)
    let rows: Array<{ userId: string, expiresAt: number }>
    try {
      ({ rows } = await pool.query({
        name: 'logoutLocalBatch',
        text: LOCAL_LOGOUTS,
        values: [c.map((s) => s.userId), c.map((s) => s.id), c.map((s) => s.jti), batch.map((e) => e.at),
          batch.map((e) => e.meta.ip), batch.map((e) => e.meta.userAgent)]
      }))
    } catch (err) {
      if (err instanceof pg.DatabaseError && CONFLICT.has(err.code!)) {
        for (const e of batch) await one(e)
      } else {
        for (const e of batch) e.reject(err)
      }
      return
    }
    const gone = new Map(rows.map((r) => [r.userId, r]))
    for (const e of batch) e.resolve(answer(e, gone.get(e.current.userId)))
  }

  function pump (): void {
    while (inFlight < maxInFlight && waiting.length > 0) {
      inFlight++
      // send() never rejects: each logout's own promise carries its failure.
      send(take()).finally(() => {
        inFlight--
        pump()
      })
    }
  }

  return {
    logout (current: SessionRef, meta: RequestMeta): Promise<Revoked> {
      return new Promise((resolve, reject) => {
        waiting.push({ current, meta, at: nowMs(), resolve, reject })
        pump()
      })
    }
  }
}
