/**
 * No secret in the logs: the full flow with the real logger (the server
 * options' redaction and serializers, level trace) writing to a captured
 * stream; every line is searched for tokens (whole, or any segment of
 * one), passwords and the signing key.
 */
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { serverOptions } from '../../lib/server-options.js'
import { build, testConfig, SECRET, sqlite } from '../helper.js'

const PASSWORD = 'a-password-that-must-never-be-logged'
const WRONG = 'a-wrong-password-that-must-never-be-logged'

async function capture (t: Test, env: Record<string, string>) {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _enc, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done() } })
  const full = { LOG_LEVEL: 'trace', RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0', ...env }
  const app = await build(t, full, { logger: { ...(serverOptions(testConfig(full)).logger as object), stream } })
  return { app, lines }
}

for (const [name, env] of [['a configured JWT_SECRET', {}], ['a generated secret', { JWT_SECRET: '' }]] as const) {
  t.test(`the full flow logs no token, password or key (${name})`, async (t) => {
    const { app, lines } = await capture(t, env)
    const key = app.jwtSecret
    if (Object.keys(env).length === 0) t.equal(key, SECRET)
    const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url, payload: payload as object, headers })
    const email = 'logs@example.com'
    t.equal((await post('/api/v1/auth/register', { email, password: PASSWORD })).statusCode, 201)
    t.equal((await post('/api/v1/auth/login', { email, password: WRONG })).statusCode, 401)
    const tokens: string[] = []
    for (let i = 0; i < 3; i++) tokens.push((await post('/api/v1/auth/login', { email, password: PASSWORD })).json().data.token)
    const [a, b, c] = tokens as [string, string, string]
    const bearer = (tok: string) => ({ authorization: `Bearer ${tok}` })
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(a) })).statusCode, 200)
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: bearer(a) })).statusCode, 200)
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/events', headers: bearer(a) })).statusCode, 200)
    // Tokens in places they do not belong: the query string, a cookie, a malformed body.
    t.equal((await post(`/api/v1/auth/logout?token=${a}&access_token=${a}`, { token: a })).statusCode, 401)
    t.equal((await post('/api/v1/auth/logout', { token: a }, { cookie: `token=${a}` })).statusCode, 401)
    t.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { ...bearer(a), 'content-type': 'application/json' }, payload: `{"token":"${a}"` })).statusCode, 400)
    t.equal((await post('/api/v1/auth/logout', { token: a, extra: a }, bearer(a))).statusCode, 400)
    t.equal((await post('/api/v1/auth/logout', { token: `${a}x` }, bearer(`${a}x`))).statusCode, 401)
    t.equal((await post('/api/v1/auth/logout', `token=${a}`, { ...bearer(a), 'content-type': 'application/x-www-form-urlencoded' })).statusCode, 415)
    // A failure of the store: the 500 is logged with its error, which must not carry the token.
    sqlite(app).pragma('query_only = ON')
    t.equal((await post('/api/v1/auth/logout', { token: b }, bearer(b))).statusCode, 500)
    sqlite(app).pragma('query_only = OFF')
    t.equal((await post('/api/v1/auth/logout', { token: b }, bearer(b))).statusCode, 200)
    t.equal((await post('/api/v1/auth/logout', { token: b }, bearer(b))).statusCode, 401, 'revoked token reused')
    t.equal((await post('/api/v1/auth/logout', { token: c, scope: 'global' }, bearer(c))).statusCode, 200)
    t.equal((await post('/api/v1/auth/logout', { token: a }, bearer(a))).statusCode, 401)
    await app.close()

    t.ok(lines.length > 20, `${lines.length} log lines captured`)
    t.ok(lines.some((l) => l.includes('"audit"')), 'audit lines are among them')
    t.ok(lines.some((l) => l.includes('request failed')), 'the 500 is among them')
    const secrets: Array<[string, string]> = [['password', PASSWORD], ['wrong password', WRONG], ['signing key', key]]
    for (const tok of tokens) {
      const [, payload, signature] = tok.split('.') as [string, string, string]
      secrets.push(['token', tok], ['token payload', payload], ['token signature', signature])
    }
    for (const [what, secret] of secrets) {
      const leaks = lines.filter((l) => l.includes(secret))
      t.same(leaks, [], `no ${what} in any log line`)
    }
    t.notOk(lines.some((l) => /"authorization":"Bearer/i.test(l)), 'no Authorization header value')
  })
}
