/**
 * The purge's sweeps (lib/write-ops.ts), one step at a time: each looks at
 * `limit` rows in key order from its cursor, deletes the expired ones, and
 * hands back where to go on, null at the end. A row expires at `expires_at`
 * plus the clock tolerance.
 */
import t, { type Test } from 'tap'
import { openDatabase } from '../../../../lib/store/sqlite/open.js'
import { createOps, type RowKey, type SessionKey } from '../../../../lib/store/sqlite/ops.js'
import { nowSeconds } from '../../../../lib/time.js'

const TOLERANCE = 5

function setup (t: Test) {
  const db = openDatabase(':memory:')
  t.teardown(() => db.close())
  db.exec("INSERT INTO users VALUES ('u1', 'a@example.com', 'h', 1), ('u2', 'b@example.com', 'h', 1)")
  return { db, ops: createOps(db, { toleranceSeconds: TOLERANCE, auditRetentionDays: 0 }) }
}

t.test('sessions: swept across steps in (user, id) order; live rows and the boundary stay', async (t) => {
  const { db, ops } = setup(t)
  const cutoff = nowSeconds() - TOLERANCE
  const add = db.prepare('INSERT INTO sessions (user_id, id, jti, created_at, expires_at) VALUES (?, ?, ?, 0, ?)')
  add.run('u1', 'a', 'ja', cutoff - 100)
  add.run('u1', 'b', 'jb', cutoff + 100)
  add.run('u1', 'c', 'jc', cutoff)
  add.run('u2', 'a', 'jd', cutoff + 1)
  add.run('u2', 'b', 'je', cutoff - 1)
  const steps = []
  let after: SessionKey | null = ['', '']
  while (after !== null) {
    const step = ops.purgeSessions({ limit: 2, after })
    steps.push(step)
    after = step.next
  }
  t.strictSame(steps, [
    { deleted: 1, next: ['u1', 'b'] },
    { deleted: 1, next: ['u2', 'a'] },
    { deleted: 1, next: null }
  ])
  t.strictSame(db.prepare('SELECT user_id || id FROM sessions').pluck().all(), ['u1b', 'u2a'])
})

t.test('revocations: swept across steps in the order they were written', async (t) => {
  const { db, ops } = setup(t)
  const cutoff = nowSeconds() - TOLERANCE
  const add = db.prepare("INSERT INTO revoked_tokens (jti, user_id, session_id, expires_at, revoked_at, reason) VALUES (?, 'u1', 's', ?, 0, 'logout_local')")
  for (const [jti, exp] of [['j1', cutoff + 100], ['j2', cutoff - 100], ['j3', cutoff - 1], ['j4', cutoff + 1]] as const) add.run(jti, exp)
  t.strictSame(ops.purgeRevocations({ limit: 2, after: [0] }), { deleted: 1, next: [2] })
  const second = ops.purgeRevocations({ limit: 2, after: [2] as RowKey })
  t.strictSame(second, { deleted: 1, next: [4] }, 'a full chunk: the sweep goes on')
  t.strictSame(ops.purgeRevocations({ limit: 2, after: [4] }), { deleted: 0, next: null }, 'nothing after: done')
  t.strictSame(db.prepare('SELECT jti FROM revoked_tokens').pluck().all(), ['j1', 'j4'])
})
