import t from 'tap'
import { build, login, me, UNAUTHORIZED } from '../../../../helper.js'

t.test('200 with the user and the session', async (t) => {
  const app = await build(t)
  const a = await login(app, undefined, { 'user-agent': 'test-agent/1.0' })
  const res = await me(app, a.token)
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.success, true)
  t.equal(body.message, 'Sesión activa')
  t.strictSame(body.data.user, { id: a.userId, email: a.email })
  t.strictSame(Object.keys(body.data.session), ['id', 'createdAt', 'expiresAt', 'ip', 'userAgent'])
  t.equal(body.data.session.id, a.sessionId)
  t.equal(body.data.session.ip, '127.0.0.1')
  t.equal(body.data.session.userAgent, 'test-agent/1.0')
  // The session's deadline: SESSION_IDLE_SECONDS after its login (the access token expires sooner).
  t.equal(Date.parse(body.data.session.expiresAt) - Math.floor(Date.parse(body.data.session.createdAt) / 1000) * 1000, 604_800_000)
  t.equal(res.headers['cache-control'], 'no-store')
  t.notMatch(res.body, a.token, 'the token is never echoed')
})

t.test('401 without a token, with WWW-Authenticate and no error code', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/api/v1/auth/me' })
  t.equal(res.statusCode, 401)
  t.strictSame(res.json(), UNAUTHORIZED)
  t.equal(res.headers['www-authenticate'], 'Bearer realm="auth-sessions"')
})

t.test('a long user agent is cut at 512 characters', async (t) => {
  const app = await build(t)
  const a = await login(app, undefined, { 'user-agent': 'x'.repeat(2000) })
  t.equal((await me(app, a.token)).json().data.session.userAgent.length, 512)
})
