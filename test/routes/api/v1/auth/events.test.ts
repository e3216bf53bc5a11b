import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, login, logout, UNAUTHORIZED } from '../../../../helper.js'

const events = (app: FastifyInstance, token: string) =>
  app.inject({ method: 'GET', url: '/api/v1/auth/events', headers: { authorization: `Bearer ${token}` } })

t.test('the caller\'s events, newest first, with every type', async (t) => {
  const app = await build(t)
  const a1 = await login(app, undefined, { 'user-agent': 'ua-1' })
  const bad = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: a1.email, password: 'wrong password' } })
  t.equal(bad.statusCode, 401)
  const a2 = await login(app, a1.email)
  const a3 = await login(app, a1.email)
  await app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${a3.sessionId}`, headers: { authorization: `Bearer ${a2.token}` } })
  await logout(app, a2.token)
  const b = await login(app)
  const res = await events(app, a1.token)
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.message, 'Eventos de seguridad')
  t.strictSame(body.data.events.map((e: any) => [e.type, e.sessionId]), [
    ['logout', a2.sessionId],
    ['session_revoked', a3.sessionId],
    ['login', a3.sessionId],
    ['login', a2.sessionId],
    ['login_failed', null],
    ['login', a1.sessionId],
    ['register', null]
  ])
  t.strictSame(Object.keys(body.data.events[0]), ['type', 'at', 'sessionId', 'ip', 'userAgent'])
  t.equal(body.data.events[5].userAgent, 'ua-1')
  t.equal(body.data.events[5].ip, '127.0.0.1')
  t.match(body.data.events[0].at, /^\d{4}-.*Z$/)
  t.notMatch(res.body, b.sessionId, 'only the caller\'s events')
})

t.test('at most 50 events', async (t) => {
  const app = await build(t)
  const a = await login(app)
  for (let i = 0; i < 60; i++) {
    await app.store.audit({ type: 'login_failed', outcome: 'failure', userId: a.userId, sessionId: null, jti: null, ip: `10.0.0.${i}`, userAgent: null, at: Date.now() })
  }
  const list = (await events(app, a.token)).json().data.events
  t.equal(list.length, 50)
  t.equal(list[0].ip, '10.0.0.59', 'newest first')
})

t.test('401 without a token', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/api/v1/auth/events' })
  t.equal(res.statusCode, 401)
  t.strictSame(res.json(), UNAUTHORIZED)
  t.equal(res.headers['www-authenticate'], 'Bearer realm="auth-sessions"')
})
