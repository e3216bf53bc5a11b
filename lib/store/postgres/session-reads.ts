/**
 * The session lookup of every protected request, several per statement
 * under load (./batch.ts): lookups that arrive while others run go together
 * in one primary-key read of all their rows. Each is still read from the
 * database, after its request arrived: no cache, so a revocation that any
 * instance has acknowledged is seen by the next lookup (SPEC §7).
 */
import type { SessionRow } from '../../domain.js'
import { createBatcher, sessionKey as keyOf, type BatchOptions, type Waiting } from './batch.js'
import type { Queryable } from './writes.js'

/** A session row's columns (of `sessions s`), as the store's types name them. */
export const SESSION_COLUMNS = `s.id, s.user_id AS "userId", s.jti, s.created_at AS "createdAt", s.expires_at AS "expiresAt",
  s.ip, s.user_agent AS "userAgent"`
const COLUMNS = `${SESSION_COLUMNS}, u.email`
const ONE = `SELECT ${COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.user_id = $1 AND s.id = $2`
const MANY = `SELECT ${COLUMNS} FROM unnest($1::text[], $2::text[]) AS r (user_id, id)
  JOIN sessions s ON s.user_id = r.user_id AND s.id = r.id JOIN users u ON u.id = s.user_id`

interface Key { userId: string, id: string }

export function createSessionReads (pool: Queryable, opts: BatchOptions = {}) {
  async function send (batch: Array<Waiting<Key, SessionRow | undefined>>): Promise<void> {
    if (batch.length === 1) {
      const { userId, id } = batch[0]!.item
      const { rows } = await pool.query<SessionRow>({ name: 'session', text: ONE, values: [userId, id] })
      return batch[0]!.resolve(rows[0])
    }
    const { rows } = await pool.query<SessionRow>({
      name: 'sessions', text: MANY, values: [batch.map((w) => w.item.userId), batch.map((w) => w.item.id)]
    })
    const found = new Map(rows.map((r) => [keyOf(r), r]))
    for (const w of batch) w.resolve(found.get(keyOf(w.item)))
  }
  const batcher = createBatcher(send, opts)
  return { read: (userId: string, id: string) => batcher.add({ userId, id }) }
}
