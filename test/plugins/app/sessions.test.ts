/**
 * The session store's writes are all-or-nothing: the change and its audit
 * row commit together, or neither does. A trigger that refuses audit rows
 * breaks the real store mid-transaction.
 */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, login, logout, me, INTERNAL, PASSWORD } from '../../helper.js'

const count = (app: FastifyInstance, sql: string) => (app.db.prepare(sql).get() as { n: number }).n
function refuseAudit (app: FastifyInstance, type: string) {
  app.db.exec(`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events WHEN NEW.type = '${type}'
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
  app.db.exec('DROP TRIGGER refuse_audit')
  refuseAudit(app, 'register')
  const reg = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'new@example.com', password: PASSWORD } })
  t.equal(reg.statusCode, 500)
  t.equal(count(app, "SELECT count(*) AS n FROM users WHERE email = 'new@example.com'"), 0, 'no user')
})
