/**
 * Refresh over real HTTP, against the real server process: a logout racing
 * a refresh of the same session, in either order, leaves no session alive
 * after the logout's 200; SIGKILL during concurrent refreshes keeps every
 * acknowledged rotation and half-applies none; and no refresh token ever
 * issued can be found in the database files.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import Database from 'better-sqlite3'
import { call, loginUser, registerUser, start, stop, type Session } from '../spawn.js'
import { tempDir } from '../helper.js'

const refresh = (url: string, refreshToken: string) => call(url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken }, timeoutMs: 10_000 })

t.test('logout racing a refresh, both orders, over real HTTP: no session survives a 200 logout', async (t) => {
  const dir = tempDir(t)
  const server = await start({ DATABASE_PATH: join(dir, 'auth.db') })
  t.teardown(() => stop(server))
  await registerUser(server.url, 'race@example.com')
  for (let round = 0; round < 12; round++) {
    const s = await loginUser(server.url, 'race@example.com')
    const logout = () => call(server.url, 'POST', '/api/v1/auth/logout', { token: s.token, body: { token: s.token, scope: round % 3 === 0 ? 'global' : 'local' } })
    const [first, second] = round % 2 === 0 ? [logout(), refresh(server.url, s.refreshToken)] : [refresh(server.url, s.refreshToken), logout()]
    const [a, b] = await Promise.all([first, second])
    const out = round % 2 === 0 ? a : b
    const ref = round % 2 === 0 ? b : a
    t.ok([200, 401].includes(out.status), `round ${round}: logout ${out.status}`)
    t.ok([200, 401].includes(ref.status), `round ${round}: refresh ${ref.status}`)
    if (out.status === 200) {
      // The logout won: whatever the refresh answered, nothing of the session works.
      if (ref.status === 200) {
        t.equal((await call(server.url, 'GET', '/api/v1/auth/me', { token: ref.body.data.token })).status, 401, `round ${round}: the refreshed token is dead`)
        t.equal((await refresh(server.url, ref.body.data.refreshToken)).status, 401, `round ${round}: the new refresh token is dead`)
      }
      t.equal((await refresh(server.url, s.refreshToken)).status, 401, `round ${round}: the old refresh token is dead`)
    } else {
      // The refresh rotated first: the logout's token was no longer the session's.
      t.equal(ref.status, 200, `round ${round}: a 401 logout means the refresh won`)
      t.equal((await call(server.url, 'GET', '/api/v1/auth/me', { token: ref.body.data.token })).status, 200)
    }
    t.equal((await call(server.url, 'GET', '/api/v1/auth/me', { token: s.token })).status, 401, `round ${round}: the first token is over either way`)
  }
})

t.test('SIGKILL during concurrent refreshes: acknowledged rotations hold, none half-applied; no refresh token in the files', async (t) => {
  const dir = tempDir(t)
  const env = { DATABASE_PATH: join(dir, 'auth.db') }
  let server = await start(env)
  t.teardown(() => stop(server))
  await registerUser(server.url, 'kill@example.com')
  const sessions: Session[] = []
  for (let i = 0; i < 24; i++) sessions.push(await loginUser(server.url, 'kill@example.com'))
  const issued = sessions.map((s) => s.refreshToken)
  const acked = new Map<string, { token: string, refreshToken: string }>()
  const inFlight = sessions.map((s, i) => new Promise<void>((resolve) => {
    setTimeout(() => {
      refresh(server.url, s.refreshToken).then((r) => {
        if (r.status === 200) {
          acked.set(s.sessionId, r.body.data)
          issued.push(r.body.data.refreshToken)
        } else t.fail(`refresh answered ${r.status}`)
      }, () => { /* killed before the answer */ }).finally(resolve)
    }, i)
  }))
  await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 25)))
  t.equal(await stop(server, 'SIGKILL'), 'SIGKILL')
  await Promise.all(inFlight)

  const db = new Database(env.DATABASE_PATH)
  t.equal(db.pragma('integrity_check', { simple: true }), 'ok')
  for (const s of sessions) {
    const row = db.prepare('SELECT jti, refresh_gen AS gen FROM sessions WHERE id = ?').get(s.sessionId) as { jti: string, gen: number }
    const revoked = db.prepare("SELECT 1 FROM revoked_tokens WHERE jti = ? AND reason = 'rotated'").get(s.jti) !== undefined
    const successors = db.prepare('SELECT count(*) FROM refresh_tokens WHERE session_id = ? AND generation = 1').pluck().get(s.sessionId)
    // Rotated or not, all of it or none: new jti ⇔ generation 1 ⇔ old jti revoked ⇔ successor hash kept.
    if (row.gen === 1) t.ok(row.jti !== s.jti && revoked && successors === 1, 'rotated whole')
    else t.ok(row.gen === 0 && row.jti === s.jti && !revoked && successors === 0, 'untouched whole')
    if (acked.has(s.sessionId)) t.equal(row.gen, 1, 'an acknowledged rotation holds')
  }
  db.close()

  server = await start(env)
  for (const s of sessions) {
    const done = acked.get(s.sessionId)
    if (done !== undefined) {
      t.equal((await call(server.url, 'GET', '/api/v1/auth/me', { token: done.token })).status, 200, 'the acknowledged access token works after the restart')
      const next = await refresh(server.url, done.refreshToken)
      t.equal(next.status, 200, 'and its refresh token')
      issued.push(next.body.data.refreshToken)
    } else {
      // Never answered: the old token is either still current or was just replaced (within the grace): 200 both ways.
      const again = await refresh(server.url, s.refreshToken)
      t.equal(again.status, 200, 'an unanswered refresh can be retried')
      issued.push(again.body.data.refreshToken)
    }
  }
  await stop(server, 'SIGTERM')
  const files = readdirSync(dir).map((f) => readFileSync(join(dir, f)))
  const hits = issued.filter((token) => files.some((bytes) => bytes.includes(token)))
  t.strictSame(hits, [], `none of the ${issued.length} refresh tokens issued is in the database files`)
})
