import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, login, logout, me, UNAUTHORIZED, query } from '../../../../helper.js'

const NOT_FOUND = { success: false, message: 'Recurso no encontrado' }
const list = (app: FastifyInstance, token: string) =>
  app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: { authorization: `Bearer ${token}` } })
const revoke = (app: FastifyInstance, token: string, id: string) =>
  app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${encodeURIComponent(id)}`, headers: { authorization: `Bearer ${token}` } })

t.test('the list: live sessions of the caller only, newest first, current flagged, no token', async (t) => {
  const app = await build(t)
  const a1 = await login(app, undefined, { 'user-agent': 'phone' })
  await new Promise((resolve) => setTimeout(resolve, 5))
  const a2 = await login(app, a1.email, { 'user-agent': 'laptop' })
  const b = await login(app)
  // An expired session not yet purged is not live.
  await query(app, 'INSERT INTO sessions (id, user_id, jti, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    'expired-session', a1.userId, 'expired-jti', Date.now(), Math.floor(Date.now() / 1000) - 10)
  const res = await list(app, a1.token)
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.message, 'Sesiones activas')
  t.strictSame(body.data.sessions.map((s: any) => [s.id, s.current, s.userAgent]), [[a2.sessionId, false, 'laptop'], [a1.sessionId, true, 'phone']])
  t.strictSame(Object.keys(body.data.sessions[0]), ['id', 'createdAt', 'expiresAt', 'ip', 'userAgent', 'current'])
  t.notMatch(res.body, a1.token.split('.')[2]!)
  t.notMatch(res.body, a2.token.split('.')[2]!)
  t.notMatch(res.body, b.sessionId, 'another user\'s session is not listed')
  t.notMatch(res.body, 'expired-jti')
  t.equal(res.headers['cache-control'], 'no-store')
  const fromA2 = (await list(app, a2.token)).json().data.sessions
  t.strictSame(fromA2.map((s: any) => s.current), [true, false])
})

t.test('revoke one of my sessions by id: 200, that token is dead, mine lives', async (t) => {
  const app = await build(t)
  const a1 = await login(app)
  const a2 = await login(app, a1.email)
  const res = await revoke(app, a1.token, a2.sessionId)
  t.equal(res.statusCode, 200)
  t.strictSame(res.json(), { success: true, message: 'Sesión revocada exitosamente' })
  t.equal((await me(app, a2.token)).statusCode, 401)
  t.equal((await me(app, a1.token)).statusCode, 200)
  t.equal((await revoke(app, a1.token, a2.sessionId)).statusCode, 404, 'already revoked')
  const row = (await query(app, 'SELECT reason, session_id AS sid FROM revoked_tokens'))[0]
  t.strictSame(row, { reason: 'session_revoked', sid: a2.sessionId })
  const audit = await query(app, "SELECT type, session_id AS sid FROM audit_events WHERE type = 'session_revoked'")
  t.strictSame(audit, [{ type: 'session_revoked', sid: a2.sessionId }])
})

t.test('revoking the current session ends it like a logout', async (t) => {
  const app = await build(t)
  const a = await login(app)
  t.equal((await revoke(app, a.token, a.sessionId)).statusCode, 200)
  const after = await me(app, a.token)
  t.equal(after.statusCode, 401)
  t.strictSame(after.json(), UNAUTHORIZED)
  t.equal((await logout(app, a.token)).statusCode, 401)
})

t.test('another user\'s session: 404 exactly like an unknown id, and untouched', async (t) => {
  const app = await build(t)
  const a = await login(app)
  const b = await login(app)
  const theirs = await revoke(app, a.token, b.sessionId)
  const unknown = await revoke(app, a.token, 'no-such-session-id')
  t.equal(theirs.statusCode, 404)
  t.strictSame(theirs.json(), NOT_FOUND)
  t.equal(theirs.body, unknown.body)
  t.equal(theirs.statusCode, unknown.statusCode)
  t.equal((await me(app, b.token)).statusCode, 200)
  const tooLong = await revoke(app, a.token, 'x'.repeat(65))
  t.equal(tooLong.statusCode, 400)
  t.strictSame(tooLong.json(), { success: false, message: 'Solicitud inválida' })
})

t.test('a session id is not a token', async (t) => {
  const app = await build(t)
  const a = await login(app)
  for (const res of [await me(app, a.sessionId), await list(app, a.sessionId), await revoke(app, a.sessionId, a.sessionId)]) {
    t.equal(res.statusCode, 401)
    t.strictSame(res.json(), UNAUTHORIZED)
  }
  t.equal((await me(app, a.token)).statusCode, 200)
})

t.test('protected: 401 without a token, 401 after logout', async (t) => {
  const app = await build(t)
  const a = await login(app)
  const b = await login(app, a.email)
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/sessions' })).statusCode, 401)
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${b.sessionId}` })).statusCode, 401)
  await logout(app, a.token)
  t.equal((await list(app, a.token)).statusCode, 401)
  t.equal((await revoke(app, a.token, b.sessionId)).statusCode, 401)
  t.equal((await me(app, b.token)).statusCode, 200)
})

t.test('the caller\'s own session revoked between authentication and the write: 401, nothing revoked', async (t) => {
  const app = await build(t)
  const a1 = await login(app)
  const a2 = await login(app, a1.email)
  const current = a1.ref
  // a1 is revoked (by another device) after its request was authenticated.
  await app.sessions.revokeById(a2.ref, a1.sessionId, { ip: '127.0.0.1', userAgent: null }, app.log)
  t.equal(await app.sessions.revokeById(current, a2.sessionId, { ip: '127.0.0.1', userAgent: null }, app.log), 'gone')
  t.equal(await app.sessions.logout(current, 'others', { ip: '127.0.0.1', userAgent: null }, app.log), null)
  t.equal((await me(app, a2.token)).statusCode, 200, 'a2 untouched')
})

t.test('an expired session of mine (not yet purged) is not live: 404, like the list says', async (t) => {
  const app = await build(t)
  const a = await login(app)
  await query(app, 'INSERT INTO sessions (id, user_id, jti, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    'expired-session', a.userId, 'expired-jti', Date.now() - 7200_000, Math.floor(Date.now() / 1000) - 10)
  const res = await revoke(app, a.token, 'expired-session')
  t.equal(res.statusCode, 404)
  t.strictSame(res.json(), NOT_FOUND)
  t.strictSame((await query(app, 'SELECT count(*) AS n FROM revoked_tokens'))[0], { n: 0 }, 'no revocation recorded')
})
