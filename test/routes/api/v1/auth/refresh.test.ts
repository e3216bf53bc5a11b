/**
 * POST /refresh: rotation, a retry within the grace, reuse detection, and
 * the session's idle and absolute limits, on the real app with real tokens
 * and the clock moved (lib/time.ts) instead of slept on.
 */
import t from 'tap'
import { advance, build, login, logout, me, refresh, sqlite, UNAUTHORIZED } from '../../../../helper.js'
import { claimsOf } from '../../../../jwt.js'
import { clock } from '../../../../../lib/time.js'

const REFRESHED = 'Token renovado exitosamente'
const NO_LIMITS = { RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0' }

t.test('a round trip: a new pair, the old access token refused, the new one accepted', async (t) => {
  const app = await build(t, NO_LIMITS)
  const a = await login(app)
  const res = await refresh(app, a.refreshToken)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json()
  t.equal(body.message, REFRESHED)
  t.strictSame(Object.keys(body.data).sort(), ['expiresAt', 'expiresIn', 'refreshExpiresAt', 'refreshToken', 'sessionId', 'token', 'tokenType'])
  t.equal(body.data.sessionId, a.sessionId, 'the same session')
  t.not(body.data.token, a.token)
  t.not(body.data.refreshToken, a.refreshToken)
  t.match(body.data.refreshToken, /^[A-Za-z0-9_-]{43}$/)
  t.not(claimsOf(body.data.token).jti, a.ref.jti, 'a new jti')
  t.equal((await me(app, a.token)).statusCode, 401, 'the old access token is refused from now on')
  t.equal((await me(app, body.data.token)).statusCode, 200)
  const revoked = sqlite(app).prepare('SELECT reason FROM revoked_tokens WHERE jti = ?').pluck().get(a.ref.jti)
  t.equal(revoked, 'rotated', 'the old access token is recorded as revoked')
  const next = await refresh(app, body.data.refreshToken)
  t.equal(next.statusCode, 200, 'the new refresh token works in turn')
  const events = (await app.inject({ url: '/api/v1/auth/events', headers: { authorization: `Bearer ${next.json().data.token}` } })).json().data.events
  t.notOk(events.some((e: { type: string }) => e.type === 'token_refreshed'), 'routine refreshes are not listed')
  t.equal(sqlite(app).prepare("SELECT count(*) FROM audit_events WHERE type = 'token_refreshed'").pluck().get(), 2, 'but audited')
})

t.test('20 concurrent refreshes with one token: all 200 with one identical pair; the session lives on', async (t) => {
  const app = await build(t, NO_LIMITS)
  const a = await login(app)
  const results = await Promise.all(Array.from({ length: 20 }, () => refresh(app, a.refreshToken)))
  t.strictSame(results.map((r) => r.statusCode), Array(20).fill(200))
  const pairs = new Set(results.map((r) => JSON.stringify(r.json().data)))
  t.equal(pairs.size, 1, 'byte for byte the same pair')
  const pair = results[0]!.json().data
  t.equal((await me(app, pair.token)).statusCode, 200)
  t.equal(sqlite(app).prepare('SELECT refresh_gen FROM sessions WHERE id = ?').pluck().get(a.sessionId), 1, 'one rotation')
})

t.test('a retry after a lost response, within the grace: the same pair, nothing changes', async (t) => {
  const app = await build(t, NO_LIMITS)
  const a = await login(app)
  const first = (await refresh(app, a.refreshToken)).json().data
  const before = sqlite(app).prepare('SELECT * FROM sessions').all()
  advance(t, 29_000)
  const retry = await refresh(app, a.refreshToken)
  t.equal(retry.statusCode, 200)
  t.strictSame(retry.json().data, first, 'the same pair again')
  t.strictSame(sqlite(app).prepare('SELECT * FROM sessions').all(), before, 'nothing changed, nor extended')
  t.equal((await me(app, first.token)).statusCode, 200)
})

t.test('the token just replaced, after the grace: the session ends, every token of it dead', async (t) => {
  const app = await build(t, NO_LIMITS)
  const a = await login(app)
  const b = await login(app, a.email)
  const first = (await refresh(app, a.refreshToken)).json().data
  advance(t, 31_000)
  const reuse = await refresh(app, a.refreshToken)
  t.equal(reuse.statusCode, 401)
  t.strictSame(reuse.json(), UNAUTHORIZED)
  t.notOk(reuse.headers['www-authenticate'], 'no Bearer challenge: no Bearer token was involved')
  t.equal((await me(app, first.token)).statusCode, 401, 'the current access token is dead')
  t.equal((await me(app, a.token)).statusCode, 401, 'and the older one')
  t.equal((await refresh(app, first.refreshToken)).statusCode, 401, 'and the current refresh token')
  t.equal((await me(app, b.token)).statusCode, 200, 'another session of the user lives')
  t.equal(sqlite(app).prepare('SELECT reason FROM revoked_tokens WHERE jti = ?').pluck().get(claimsOf(first.token).jti), 'refresh_token_reused')
  const events = (await app.inject({ url: '/api/v1/auth/events', headers: { authorization: `Bearer ${b.token}` } })).json().data.events
  t.match(events[0], { type: 'refresh_token_reused', sessionId: a.sessionId })
})

t.test('an older refresh token, even within the grace: the session ends', async (t) => {
  const app = await build(t, NO_LIMITS)
  const a = await login(app)
  const first = (await refresh(app, a.refreshToken)).json().data
  const second = (await refresh(app, first.refreshToken)).json().data
  t.equal((await refresh(app, a.refreshToken)).statusCode, 401, 'two generations back')
  t.equal((await me(app, second.token)).statusCode, 401)
  t.equal((await refresh(app, second.refreshToken)).statusCode, 401)
})

t.test('a refresh token never issued, and another session\'s: nothing ends', async (t) => {
  const app = await build(t, NO_LIMITS)
  const a = await login(app)
  const b = await login(app)
  const forged = 'A'.repeat(43)
  t.equal((await refresh(app, forged)).statusCode, 401)
  t.equal((await refresh(app, a.refreshToken.slice(0, -1) + (a.refreshToken.endsWith('A') ? 'B' : 'A'))).statusCode, 401, 'one character changed')
  t.equal((await me(app, a.token)).statusCode, 200, 'a untouched')
  const other = await refresh(app, b.refreshToken)
  t.equal(other.json().data.sessionId, b.sessionId, 'another session\'s token refreshes that session only')
  t.equal((await me(app, a.token)).statusCode, 200, 'a still untouched')
  t.equal((await refresh(app, a.refreshToken)).statusCode, 200, 'and a\'s own token still works')
})

t.test('logout, revoke by id and password change end the refresh token in the same transaction', async (t) => {
  const app = await build(t, NO_LIMITS)
  const a = await login(app)
  t.equal((await logout(app, a.token)).statusCode, 200)
  t.equal((await refresh(app, a.refreshToken)).statusCode, 401, 'after a logout')
  const b1 = await login(app)
  const b2 = await login(app, b1.email)
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${b2.sessionId}`, headers: { authorization: `Bearer ${b1.token}` } })).statusCode, 200)
  t.equal((await refresh(app, b2.refreshToken)).statusCode, 401, 'after a revocation by id')
  const b3 = await login(app, b1.email)
  const changed = await app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: { authorization: `Bearer ${b1.token}` }, payload: { currentPassword: 'correct horse battery', newPassword: 'another horse battery' } })
  t.equal(changed.statusCode, 200)
  t.equal((await refresh(app, b3.refreshToken)).statusCode, 401, 'after a password change, for the other sessions')
  t.equal((await refresh(app, b1.refreshToken)).statusCode, 200, 'the current session keeps its own')
})

t.test('idle limit: a session not refreshed for SESSION_IDLE_SECONDS ends; each refresh moves it', async (t) => {
  const app = await build(t, { ...NO_LIMITS, SESSION_IDLE_SECONDS: '600', SESSION_MAX_SECONDS: '100000' })
  const a = await login(app)
  advance(t, 599_000)
  const first = await refresh(app, a.refreshToken)
  t.equal(first.statusCode, 200, 'within the idle time')
  const deadline = Date.parse(first.json().data.refreshExpiresAt)
  t.ok(Math.abs(deadline - (clock.now() + 600_000)) < 1000, 'the deadline moved to a new idle period')
  advance(t, 601_000)
  t.equal((await refresh(app, first.json().data.refreshToken)).statusCode, 401, 'idle too long')
  const listed = sqlite(app).prepare('SELECT expires_at FROM sessions WHERE id = ?').pluck().get(a.sessionId) as number
  t.ok(listed * 1000 <= clock.now(), 'the session is past its deadline: the purge takes it')
})

t.test('absolute limit: no session outlives SESSION_MAX_SECONDS, and no access token outlives its session', async (t) => {
  const app = await build(t, { ...NO_LIMITS, TOKEN_TTL_SECONDS: '3600', SESSION_IDLE_SECONDS: '3000', SESSION_MAX_SECONDS: '5000' })
  const a = await login(app)
  const created = claimsOf(a.token).iat
  t.equal(claimsOf(a.token).exp, created + 3000, 'the first token ends with the idle deadline')
  advance(t, 2900_000)
  const near = (await refresh(app, a.refreshToken)).json().data
  t.equal(claimsOf(near.token).exp, created + 5000, 'capped by the absolute deadline')
  t.equal(Date.parse(near.refreshExpiresAt) / 1000, created + 5000)
  advance(t, 2200_000)
  t.equal((await refresh(app, near.refreshToken)).statusCode, 401, 'past the absolute limit')
})
