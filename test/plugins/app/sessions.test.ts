/**
 * The session store's writes are all-or-nothing: the change and its audit
 * row commit together, or neither does. A trigger that refuses audit rows
 * breaks the real store mid-transaction.
 */
import t from 'tap'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import { build, login, logout, me, INTERNAL, PASSWORD, sqlite, tempDir } from '../../helper.js'

const count = (app: FastifyInstance, sql: string) => (sqlite(app).prepare(sql).get() as { n: number }).n
function refuseAudit (app: FastifyInstance, type: string) {
  sqlite(app).exec(`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events WHEN NEW.type = '${type}'
    BEGIN SELECT RAISE(ABORT, 'audit refused'); END`)
}

t.test('logout: when its audit row cannot be written, nothing is revoked', async (t) => {
  const app = await build(t)
  const a1 = await login(app)
  const a2 = await login(app, a1.email)
  refuseAudit(app, 'session_revoked')
  const res = await logout(app, a1.token, { token: a1.token, scope: 'global' })
  t.equal(res.statusCode, 500)
  t.strictSame(res.json(), INTERNAL)
  t.notMatch(res.body, 'audit refused')
  t.equal((await me(app, a1.token)).statusCode, 200, 'current session untouched')
  t.equal((await me(app, a2.token)).statusCode, 200, 'other session untouched')
  t.equal(count(app, 'SELECT count(*) AS n FROM revoked_tokens'), 0)
  t.equal(count(app, "SELECT count(*) AS n FROM audit_events WHERE type = 'logout'"), 0, 'no logout row for a logout that did not happen')
})

t.test('revoke by id: when its audit row cannot be written, the session lives', async (t) => {
  const app = await build(t)
  const a1 = await login(app)
  const a2 = await login(app, a1.email)
  refuseAudit(app, 'session_revoked')
  const res = await app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${a2.sessionId}`, headers: { authorization: `Bearer ${a1.token}` } })
  t.equal(res.statusCode, 500)
  t.equal((await me(app, a2.token)).statusCode, 200)
  t.equal(count(app, 'SELECT count(*) AS n FROM revoked_tokens'), 0)
})

t.test('login and register: no session or user without its audit row', async (t) => {
  const app = await build(t)
  const a = await login(app)
  refuseAudit(app, 'login')
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: a.email, password: PASSWORD } })
  t.equal(res.statusCode, 500)
  t.strictSame(res.json(), INTERNAL)
  t.equal(count(app, 'SELECT count(*) AS n FROM sessions'), 1, 'no new session')
  sqlite(app).exec('DROP TRIGGER refuse_audit')
  refuseAudit(app, 'register')
  const reg = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'new@example.com', password: PASSWORD } })
  t.equal(reg.statusCode, 500)
  t.equal(count(app, "SELECT count(*) AS n FROM users WHERE email = 'new@example.com'"), 0, 'no user')
})

/*
 * `find` answers from a cache (lib/store/sqlite/read-cache.ts). Every test below first
 * has the session read and cached by a 200, then changes it the way a
 * revocation does, and expects the very next request to be refused.
 */
t.test('cached sessions: a logout is enforced on the next request', async (t) => {
  const app = await build(t)
  const a = await login(app)
  t.equal((await me(app, a.token)).statusCode, 200)
  t.equal((await logout(app, a.token)).statusCode, 200)
  t.equal((await me(app, a.token)).statusCode, 401)
})

t.test('cached sessions: logout of the others and global logout', async (t) => {
  const app = await build(t)
  const a1 = await login(app)
  const a2 = await login(app, a1.email)
  const a3 = await login(app, a1.email)
  for (const a of [a1, a2, a3]) t.equal((await me(app, a.token)).statusCode, 200)
  t.equal((await logout(app, a1.token, { token: a1.token, scope: 'others' })).statusCode, 200)
  t.equal((await me(app, a1.token)).statusCode, 200)
  t.equal((await me(app, a2.token)).statusCode, 401)
  t.equal((await me(app, a3.token)).statusCode, 401)
  const b1 = await login(app, a1.email)
  t.equal((await me(app, b1.token)).statusCode, 200)
  t.equal((await logout(app, a1.token, { token: a1.token, scope: 'global' })).statusCode, 200)
  t.equal((await me(app, a1.token)).statusCode, 401)
  t.equal((await me(app, b1.token)).statusCode, 401)
})

t.test('cached sessions: a session revoked by id', async (t) => {
  const app = await build(t)
  const a1 = await login(app)
  const a2 = await login(app, a1.email)
  t.equal((await me(app, a2.token)).statusCode, 200)
  const res = await app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${a2.sessionId}`, headers: { authorization: `Bearer ${a1.token}` } })
  t.equal(res.statusCode, 200)
  t.equal((await me(app, a2.token)).statusCode, 401)
  t.equal((await me(app, a1.token)).statusCode, 200)
})

t.test('cached sessions: a row the purge deleted', async (t) => {
  const app = await build(t)
  const a = await login(app)
  // The row says expired while the token does not yet: only the row decides.
  sqlite(app).prepare('UPDATE sessions SET expires_at = 1 WHERE id = ?').run(a.sessionId)
  t.equal((await me(app, a.token)).statusCode, 200, 'cached again, expired row and all')
  t.equal(await app.purge(), 1)
  t.equal((await me(app, a.token)).statusCode, 401)
})

t.test('cached sessions: a row another connection (another process) deleted', async (t) => {
  const dir = tempDir(t)
  const path = join(dir, 'sessions.db')
  const app = await build(t, { DATABASE_PATH: path })
  const a = await login(app)
  t.equal((await me(app, a.token)).statusCode, 200)
  const other = new Database(path)
  other.prepare('DELETE FROM sessions WHERE id = ?').run(a.sessionId)
  other.close()
  t.equal((await me(app, a.token)).statusCode, 401)
})

t.test('a session is found only with the user it belongs to, cached or not', async (t) => {
  const app = await build(t)
  const a1 = await login(app)
  const b1 = await login(app)
  const as = (user: typeof b1) => ({ sub: user.userId, sid: a1.sessionId, jti: a1.ref.jti })
  t.equal(await app.sessions.find(as(b1)), undefined, 'not cached yet')
  t.equal((await app.sessions.find(as(a1)))?.id, a1.sessionId)
  t.equal(await app.sessions.find(as(b1)), undefined, 'cached for its owner only')
})
