/**
 * Crash consistency, SQLite's own method: SIGKILL the real server at a
 * random moment while logouts are in flight, restart it on the same file,
 * and check what survived.
 *  - every acknowledged logout is revoked for good (row gone, revocation and
 *    audit rows present, /me 401 after the restart);
 *  - every unacknowledged one is all-or-nothing: session row gone ⇔
 *    revocation row present ⇔ audit row present;
 *  - bystander sessions are alive; PRAGMA integrity_check is ok.
 * CRASH_ROUNDS (default 3) sets the number of rounds; the bench runs more.
 */
import { join } from 'node:path'
import t from 'tap'
import Database from 'better-sqlite3'
import { call, loginUser, registerUser, start, stop, type Session } from '../spawn.js'
import { tempDir } from '../helper.js'

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 3)
const PER_ROUND = Number(process.env.CRASH_SESSIONS ?? 16)

t.test('SIGKILL during concurrent logouts loses no acknowledged logout and half-applies none', async (t) => {
  const dir = tempDir(t)
  const env = { DATABASE_PATH: join(dir, 'auth.db') }

  let server = await start(env)
  t.teardown(() => stop(server))
  await registerUser(server.url, 'victim@example.com')
  await registerUser(server.url, 'bystander@example.com')
  const bystanders: Session[] = []
  for (let i = 0; i < 3; i++) bystanders.push(await loginUser(server.url, 'bystander@example.com'))

  const acked = new Map<string, Session>()
  const unacked = new Map<string, Session>()
  let pending: Session[] = []

  for (let round = 1; round <= ROUNDS; round++) {
    // Fresh sessions for this round, and whatever survived the last crash.
    const fresh = await Promise.all(Array.from({ length: PER_ROUND }, () => loginUser(server.url, 'victim@example.com')))
    pending = [...pending, ...fresh]

    // Fire the logouts a few milliseconds apart and kill at a random moment among them.
    const killAfter = Math.floor(Math.random() * 40)
    const inFlight = pending.map((s, i) => new Promise<void>((resolve) => {
      setTimeout(() => {
        call(server.url, 'POST', '/api/v1/auth/logout', { token: s.token, body: { token: s.token }, timeoutMs: 10_000 })
          .then((r) => {
            if (r.status === 200) acked.set(s.jti, s)
            else t.fail(`logout answered ${r.status} ${JSON.stringify(r.body)}`)
          }, () => { /* killed before the answer: unacknowledged */ })
          .finally(resolve)
      }, i * 2)
    }))
    await new Promise((resolve) => setTimeout(resolve, killAfter))
    const exit = await stop(server, 'SIGKILL')
    t.equal(exit, 'SIGKILL', `round ${round}: killed after ${killAfter} ms`)
    await Promise.all(inFlight)
    for (const s of pending) if (!acked.has(s.jti)) unacked.set(s.jti, s)

    // The file as the crash left it: whole, and every logout all-or-nothing.
    const db = new Database(env.DATABASE_PATH)
    t.equal(db.pragma('integrity_check', { simple: true }), 'ok', `round ${round}: integrity_check`)
    const sessionRow = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM sessions WHERE id = ?')
    const revocation = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM revoked_tokens WHERE jti = ?')
    const audit = db.prepare<[string, string], { one: number }>("SELECT 1 AS one FROM audit_events WHERE type = 'logout' AND session_id = ? AND jti = ?")
    const state = (s: Session) => ({
      gone: sessionRow.get(s.sessionId) === undefined,
      revoked: revocation.get(s.jti) !== undefined,
      audited: audit.get(s.sessionId, s.jti) !== undefined
    })
    let half = 0
    let committedUnacked = 0
    for (const s of pending) {
      const st = state(s)
      if (acked.has(s.jti)) {
        if (!(st.gone && st.revoked && st.audited)) t.fail(`acknowledged logout not durable: ${JSON.stringify(st)}`)
      } else if (st.gone !== st.revoked || st.revoked !== st.audited) {
        half++
      } else if (st.gone) {
        committedUnacked++
      }
    }
    t.equal(half, 0, `round ${round}: no half-applied logout`)
    for (const b of bystanders) t.ok(sessionRow.get(b.sessionId), 'bystander row kept')
    t.comment(`round ${round}: ${acked.size} acknowledged so far, ${committedUnacked} committed but unacknowledged, ${pending.length - committedUnacked - [...pending].filter((s) => acked.has(s.jti)).length} not committed`)
    const stillLive = pending.filter((s) => sessionRow.get(s.sessionId) !== undefined)
    db.close()

    server = await start(env)
    for (const s of pending) {
      if (acked.has(s.jti)) {
        const r = await call(server.url, 'GET', '/api/v1/auth/me', { token: s.token })
        t.equal(r.status, 401, 'an acknowledged logout stays revoked after the restart')
      }
    }
    pending = stillLive
  }

  for (const b of bystanders) {
    const r = await call(server.url, 'GET', '/api/v1/auth/me', { token: b.token })
    t.equal(r.status, 200, 'bystander alive after every crash')
  }
  // The unacknowledged logouts that did not commit left live sessions: they still end normally.
  for (const s of pending) {
    const r = await call(server.url, 'POST', '/api/v1/auth/logout', { token: s.token, body: { token: s.token } })
    t.equal(r.status, 200, 'an unacknowledged, uncommitted logout left a working session')
  }
  t.ok(acked.size + unacked.size >= ROUNDS, 'logouts were attempted')
  await stop(server, 'SIGTERM')
})
