/**
 * The security controls around the token, attacked directly: issuer and
 * audience binding (RFC 8725 §3.8-3.9), rate limits (brute force), client
 * IP spoofing through X-Forwarded-For, account enumeration at login,
 * cross-user session revocation (IDOR), revocations surviving the purge,
 * and the signing key surviving a restart.
 */
import { join } from 'node:path'
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import root from '../../app.js'
import { clientErrorHandler } from '../../lib/server-options.js'
import { statusOf } from '../../plugins/app/errors.js'
import { trustProxy } from '../../fastify.config.js'
import { openDatabase } from '../../lib/store/sqlite/open.js'
import { build, login, logout, me, testConfig, PASSWORD, SECRET, EXPIRED, UNAUTHORIZED, sqlite, tempDir } from '../helper.js'
import { claimsOf, sign } from '../jwt.js'

const TOO_MANY = { success: false, message: 'Demasiadas solicitudes, intente más tarde' }
const NOT_FOUND = { success: false, message: 'Recurso no encontrado' }

/** The app without encapsulation, to reach its decorators (purge, jwtSecret). */
async function exposed (t: Test, env: Record<string, string>): Promise<FastifyInstance> {
  return build(t, { RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0', ...env })
}

t.test('issuer and audience are bound when configured', async (t) => {
  const app = await build(t, { JWT_ISSUER: 'https://auth.example', JWT_AUDIENCE: 'api', RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0' })
  const victim = await login(app)
  const claims = claimsOf(victim.token)
  t.equal(claims.iss, 'https://auth.example')
  t.equal(claims.aud, 'api')
  for (const [name, change] of [['another issuer', { iss: 'https://evil.example' }], ['another audience', { aud: 'other' }],
    ['no issuer', { iss: undefined }], ['no audience', { aud: undefined }], ['audience as a list without ours', { aud: ['other', 'evil'] }]] as const) {
    const res = await logout(app, sign({ ...claims, ...change }, { alg: 'HS256', typ: 'JWT' }, SECRET))
    t.equal(res.statusCode, 401, name)
    t.same(res.json(), UNAUTHORIZED)
  }
  t.equal((await me(app, victim.token)).statusCode, 200, 'the victim session is untouched')
})

t.test('rate limits: 429 envelope with Retry-After, per IP and per e-mail', async (t) => {
  const app = await build(t, { RATE_LIMIT_MAX: '3', LOGIN_RATE_LIMIT_MAX: '2' })
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'rl@example.com', password: PASSWORD } })
  t.equal(res.statusCode, 201)
  const attempt = (ip: string) => app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: ip, payload: { email: 'rl@example.com', password: 'wrong password' } })
  // Per e-mail over all addresses: ten times LOGIN_RATE_LIMIT_MAX (SECURITY.md, "Login limits").
  for (let i = 0; i < 20; i++) t.equal((await attempt(`10.0.${i}.1`)).statusCode, 401)
  const limited = await attempt('10.0.0.3')
  t.equal(limited.statusCode, 429, 'the e-mail is limited whatever the IP')
  t.same(limited.json(), TOO_MANY)
  t.ok(limited.headers['retry-after'])
  // One after the other: @fastify/rate-limit's local store judges a concurrent burst by its
  // final count, so a burst past the limit is refused whole (stricter, never looser).
  const guesses = []
  for (let i = 0; i < 4; i++) guesses.push(await logout(app, 'x.y.z'))
  t.same(guesses.map((r) => r.statusCode), [401, 401, 401, 429], 'token guessing on logout is limited per IP')
  t.same(guesses[3]!.json(), TOO_MANY)
})

t.test('X-Forwarded-For is ignored unless the proxy is trusted', async (t) => {
  const app = await build(t, { RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0' })
  const victim = await login(app, undefined, { 'x-forwarded-for': '203.0.113.9' })
  const session = (await me(app, victim.token)).json().data.session
  t.equal(session.ip, '127.0.0.1', 'the recorded IP is the socket\'s, not the spoofed one')
  t.equal(trustProxy('false'), false)
  t.equal(trustProxy('true'), true)
  t.equal(trustProxy('10.0.0.0/8, 127.0.0.1'), '10.0.0.0/8, 127.0.0.1')
  const hops = trustProxy('1') as (address: string, hop: number) => boolean
  t.ok(hops('10.0.0.1', 0))
  t.notOk(hops('10.0.0.1', 1), 'only as many hops as configured')
})

t.test('login does not tell an unknown e-mail from a wrong password', async (t) => {
  const app = await build(t, { RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0' })
  const { email } = await login(app)
  const wrong = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: 'wrong password' } })
  const unknown = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'nobody@example.com', password: 'wrong password' } })
  t.equal(wrong.statusCode, 401)
  t.equal(unknown.statusCode, 401)
  t.equal(wrong.body, unknown.body)
  const again = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: email.toUpperCase(), password: PASSWORD } })
  t.equal(again.statusCode, 409, 'the same e-mail in another case is the same account')
})

t.test('a session of another user cannot be revoked by id (IDOR)', async (t) => {
  const app = await build(t, { RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0' })
  const victim = await login(app)
  const attacker = await login(app)
  const del = (token: string, id: string) => app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${encodeURIComponent(id)}`, headers: { authorization: `Bearer ${token}` } })
  const res = await del(attacker.token, victim.sessionId)
  t.equal(res.statusCode, 404, 'another user\'s session is "not found"')
  t.same(res.json(), NOT_FOUND)
  t.equal((await del(attacker.token, "x' OR '1'='1")).statusCode, 404)
  t.equal((await me(app, victim.token)).statusCode, 200, 'the victim session is untouched')
  const second = await login(app, victim.email)
  t.equal((await del(victim.token, second.sessionId)).statusCode, 200, 'the owner may')
  t.equal((await me(app, second.token)).statusCode, 401)
  // A token that ends its own session cannot, in the same instant, still revoke another one.
  const third = await login(app, victim.email)
  const [own, other] = await Promise.all([del(victim.token, victim.sessionId), del(victim.token, third.sessionId)])
  t.equal(own!.statusCode, 200)
  t.equal(other!.statusCode, 401, 'the caller\'s session was gone when its second revocation ran')
  t.same(other!.json(), UNAUTHORIZED)
  t.equal((await me(app, third.token)).statusCode, 200, 'so that session lives')
})

t.test('a revoked token stays refused after the purge removes its records', async (t) => {
  // The background purge runs too, every second.
  // Three seconds: the logout must come before the token expires, however
  // slow the second login's argon2 hash is on a loaded machine.
  const app = await exposed(t, { TOKEN_TTL_SECONDS: '3', SESSION_IDLE_SECONDS: '3', PURGE_INTERVAL_SECONDS: '1' })
  const gone = await login(app)
  const idle = await login(app)
  t.equal((await logout(app, gone.token)).statusCode, 200)
  // Past the later of the two expiries (the logins may straddle a second).
  const exp = Math.max(claimsOf(gone.token).exp as number, claimsOf(idle.token).exp as number)
  await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 1100))
  t.ok(await app.purge() >= 0, 'a purge on demand joins or follows the background one')
  t.equal((sqlite(app).prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n, 0, 'the expired sessions are purged')
  t.equal((sqlite(app).prepare('SELECT count(*) AS n FROM revoked_tokens').get() as { n: number }).n, 0, 'and the expired revocation')
  for (const token of [gone.token, idle.token]) {
    const res = await me(app, token)
    t.equal(res.statusCode, 403, 'refused: expired, whatever the purge removed')
    t.same(res.json(), EXPIRED)
  }
})

t.test('a generated signing key is kept across restarts, and never a default', async (t) => {
  const dir = tempDir(t)
  const env = { DATABASE_PATH: join(dir, 'auth.db'), JWT_SECRET: '' }
  const first = await exposed(t, env)
  const { token } = await login(first)
  const key = first.jwtSecret
  t.ok(key.length >= 43, '256 bits')
  await first.close()
  const second = await exposed(t, env)
  t.equal(second.jwtSecret, key)
  t.equal((await me(second, token)).statusCode, 200, 'tokens survive a restart')
})

t.test('the error boundary and the parser-error handler never leak', async (t) => {
  t.equal(statusOf({ statusCode: 418 }), 400, 'an unlisted client error is 400')
  t.equal(statusOf({ statusCode: 502 }), 500, 'an unlisted server error is 500')
  t.equal(statusOf({}), 500)
  let written = ''
  let destroyed = 0
  const socket = { destroyed: false, writable: true, write: (s: string) => { written += s }, destroy: () => { destroyed++ } }
  clientErrorHandler(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), socket as never)
  t.equal(written, '', 'a reset connection is left alone')
  clientErrorHandler(Object.assign(new Error('bad'), { code: 'HPE_INVALID_METHOD' }), { ...socket, writable: false } as never)
  t.equal(written, '', 'nothing is written to a socket that cannot take it')
  t.equal(destroyed, 1, 'but it is closed')
})

t.test('a store whose migrations fail is closed and the error surfaces', async (t) => {
  const dir = tempDir(t)
  const path = join(dir, 'auth.db')
  const db = openDatabase(path)
  db.pragma('user_version = 0')
  db.close()
  t.throws(() => openDatabase(path), /already exists/)
})

t.test('the app reads the environment itself when given no config (fastify-cli)', async (t) => {
  process.env.DATABASE_PATH = ':memory:'
  process.env.JWT_SECRET = SECRET
  process.env.LOG_LEVEL = 'silent'
  const app = Fastify()
  await app.register(root)
  await app.ready()
  t.teardown(() => app.close())
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
})

t.test('scope others by a token whose own session just ended revokes nothing', async (t) => {
  const app = await build(t, { RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0' })
  const victim = await login(app)
  const sibling = await login(app, victim.email)
  const [local, others] = await Promise.all([
    logout(app, victim.token),
    logout(app, victim.token, { token: victim.token, scope: 'others' })
  ])
  t.equal(local!.statusCode, 200)
  t.equal(others!.statusCode, 401, 'the session was gone when the second logout ran')
  t.equal((await me(app, sibling.token)).statusCode, 200, 'the other session lives')
})

t.test('registration can be closed, and the switch is strict', async (t) => {
  const app = await build(t, { REGISTRATION_ENABLED: 'false' })
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'x@example.com', password: PASSWORD } })
  t.equal(res.statusCode, 404)
  t.same(res.json(), NOT_FOUND)
  t.equal(testConfig({ REGISTRATION_ENABLED: 'true' }).REGISTRATION_ENABLED, true)
  t.throws(() => testConfig({ REGISTRATION_ENABLED: 'yes' }), /REGISTRATION_ENABLED must be "true" or "false" \(got "yes"\)/)
})
