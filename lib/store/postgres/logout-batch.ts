/**
 * Local logouts, several per statement: the PostgreSQL store's group commit
 * (./batch.ts). A logout on its own is one statement, one transaction, one
 * round trip and one WAL flush (./writes.ts); logouts that arrive while
 * others run go together, in one statement that deletes every session of
 * the batch that still names its token, records the revocations and writes
 * the audit rows (data-modifying CTEs, as for one).
 *
 * What a batch changes, and what it does not:
 * - Each logout is answered from the rows the statement returned: its
 *   session deleted by this statement (200) or not (401, a concurrent
 *   logout won). Committed before any of the batch is answered.
 * - A session at most once in a batch: a second logout of it waits for
 *   the next batch, so two logouts of one token are never decided by one
 *   statement (where both would see the row deleted). Sessions of one user
 *   go together: a service account with thousands of sessions logs them
 *   out as fast as thousands of users.
 * - Rows are sent in key order, so that two batches (of two instances)
 *   lock the rows they share in the same order. Should two statements
 *   still deadlock (a batch and a logout of other devices of the same
 *   user, which holds the caller's session first), PostgreSQL rolls the
 *   statement it ends back whole: a batch's logouts are then run one by
 *   one, and a single statement is run again (./writes.ts), so a conflict
 *   costs time, never an answer.
 * - Any other failure (the database lost, a timeout) fails every logout of
 *   the batch, as it would have failed each alone: nothing of the batch
 *   was committed, each request answers 503 or 500 and its session is
 *   untouched.
 * @see https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-DEADLOCKS
 */
import { sessionEvent, type Revoked, type SessionRef } from '../../domain.js'
import type { RequestMeta } from '../../request-meta.js'
import { nowMs } from '../../time.js'
import { AUDIT_COLUMNS, type Queryable } from './writes.js'
import { isConflict } from './pool.js'
import { createBatcher, sessionKey as keyOf, type BatchOptions, type Waiting } from './batch.js'

const REASON = 'logout_local'

const LOCAL_LOGOUTS = `WITH r AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[])
      AS r (user_id, id, jti, at, ip, user_agent)
  ), gone AS (
    DELETE FROM sessions s USING r WHERE s.user_id = r.user_id AND s.id = r.id AND s.jti = r.jti
    RETURNING s.user_id, s.id, s.jti, s.token_exp AS expires_at, r.at, r.ip, r.user_agent
  ), revoked AS (
    INSERT INTO revoked_tokens (jti, user_id, session_id, expires_at, revoked_at, reason)
    SELECT jti, user_id, id, expires_at, at, '${REASON}' FROM gone ORDER BY at, user_id, id
  ), audited AS (
    INSERT INTO audit_events (${AUDIT_COLUMNS})
    SELECT at, 'logout', 'success', user_id, id, jti, ip, user_agent FROM gone ORDER BY at, user_id, id
  )
  SELECT user_id AS "userId", id, expires_at AS "expiresAt" FROM gone`

interface Logout {
  current: SessionRef
  meta: RequestMeta
  at: number
}

/**
 * `single` is the one-statement logout (./writes.ts), used for a batch of
 * one and to run again, one by one, a batch that lost a conflict.
 */
export function createLocalLogouts (
  pool: Queryable,
  single: (current: SessionRef, meta: RequestMeta) => Promise<Revoked>,
  opts: BatchOptions = {}
) {
  function answer ({ current, meta, at }: Logout, row: { expiresAt: number } | undefined): Revoked {
    if (row === undefined) return { count: null, events: [], revoked: [] }
    return { count: 1, events: [sessionEvent('logout', current, meta, at)], revoked: [{ jti: current.jti, userId: current.userId, sessionId: current.id, expiresAt: row.expiresAt, reason: REASON }] }
  }

  async function one (w: Waiting<Logout, Revoked>): Promise<void> {
    await single(w.item.current, w.item.meta).then(w.resolve, w.reject)
  }

  async function send (batch: Array<Waiting<Logout, Revoked>>): Promise<void> {
    if (batch.length === 1) return one(batch[0]!)
    batch.sort((a, b) => keyOf(a.item.current) < keyOf(b.item.current) ? -1 : 1)
    const c = batch.map((w) => w.item.current)
    const m = batch.map((w) => w.item.meta)
    let rows: Array<{ userId: string, id: string, expiresAt: number }>
    try {
      ({ rows } = await pool.query({
        name: 'logoutLocalBatch',
        text: LOCAL_LOGOUTS,
        values: [c.map((s) => s.userId), c.map((s) => s.id), c.map((s) => s.jti), batch.map((w) => w.item.at), m.map((x) => x.ip), m.map((x) => x.userAgent)]
      }))
    } catch (err) {
      // Any other failure fails the whole batch (createBatcher), with nothing of it committed.
      if (!isConflict(err)) throw err
      for (const w of batch) await one(w)
      return
    }
    const gone = new Map(rows.map((r) => [keyOf(r), r]))
    for (const w of batch) w.resolve(answer(w.item, gone.get(keyOf(w.item.current))))
  }

  const batcher = createBatcher(send, { ...opts, once: (l: Logout) => keyOf(l.current) })
  return {
    logout: (current: SessionRef, meta: RequestMeta): Promise<Revoked> => batcher.add({ current, meta, at: nowMs() })
  }
}
