/**
 * CORS_ORIGINS: unset, no CORS headers at all; a list, exactly those
 * origins; `*`, any origin; never credentials. A bad value stops the
 * configuration with one line.
 */
import t from 'tap'
import { build, login } from '../../helper.js'
import { loadConfig } from '../../../fastify.config.js'

const APP = 'https://app.example.com'
const preflight = (origin: string) => ({
  method: 'OPTIONS' as const,
  url: '/api/v1/auth/logout',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' }
})

t.test('unset: no CORS headers at all', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { origin: APP } })
  t.notOk(Object.keys(res.headers).some((h) => h.startsWith('access-control-')))
  t.equal((await app.inject(preflight(APP))).statusCode, 404, 'no preflight route')
})

t.test('a list: those origins exactly, no credentials; others get no CORS headers', async (t) => {
  const app = await build(t, { CORS_ORIGINS: `${APP}, http://localhost:5173` })
  const pre = await app.inject(preflight(APP))
  t.equal(pre.statusCode, 204)
  t.equal(pre.headers['access-control-allow-origin'], APP)
  t.match(pre.headers['access-control-allow-headers'], /Authorization/)
  t.match(pre.headers['access-control-allow-methods'], /POST/)
  t.notOk(pre.headers['access-control-allow-credentials'])
  const { token } = await login(app)
  const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { origin: 'http://localhost:5173', authorization: `Bearer ${token}` } })
  t.equal(me.statusCode, 200)
  t.equal(me.headers['access-control-allow-origin'], 'http://localhost:5173')
  t.match(me.headers['access-control-expose-headers'], /WWW-Authenticate/)
  const other = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { origin: 'https://evil.example.com' } })
  t.notOk(other.headers['access-control-allow-origin'])
  const suffix = await app.inject({ method: 'GET', url: '/health', headers: { origin: APP + '.evil.example' } })
  t.notOk(suffix.headers['access-control-allow-origin'], 'exact match, not a prefix')
})

t.test('*: any origin, never with credentials', async (t) => {
  const app = await build(t, { CORS_ORIGINS: '*' })
  const res = await app.inject(preflight('https://anywhere.example'))
  t.equal(res.headers['access-control-allow-origin'], '*')
  t.notOk(res.headers['access-control-allow-credentials'])
})

t.test('a bad value: one line naming CORS_ORIGINS', async (t) => {
  for (const bad of ['https://app.example.com/path', '*,https://x.example', 'app.example.com', 'https://*.example.com']) {
    t.throws(() => loadConfig({ CORS_ORIGINS: bad }), /^Invalid configuration: CORS_ORIGINS must be \* or a comma-separated list of origins/, bad)
  }
})
