/**
 * Timing attacks on revocation and expiry: replaying one token in
 * concurrent logouts (exactly one may win), and a token the verifier has
 * already seen (fast-jwt's cache is on) used again after it expired.
 */
import t from 'tap'
import { build, login, logout, me, EXPIRED, LOGGED_OUT, UNAUTHORIZED } from '../helper.js'

t.test('replay race: of 20 concurrent logouts with one token, exactly one is 200', async (t) => {
  const app = await build(t, { RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0' })
  const { token } = await login(app)
  const results = await Promise.all(Array.from({ length: 20 }, () => logout(app, token)))
  const ok = results.filter((r) => r.statusCode === 200)
  t.equal(ok.length, 1, 'one winner')
  t.same(ok[0]!.json(), LOGGED_OUT)
  for (const r of results.filter((r) => r.statusCode !== 200)) {
    t.equal(r.statusCode, 401)
    t.same(r.json(), UNAUTHORIZED)
  }
  t.equal((await me(app, token)).statusCode, 401, 'and the token is over')
})

t.test('a cached, verified token is still refused once it expires', async (t) => {
  // Two seconds: a token lives at least one whole second, enough for login() and the first /me.
  const app = await build(t, { TOKEN_TTL_SECONDS: '2', RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0' })
  const { token } = await login(app)
  t.equal((await me(app, token)).statusCode, 200, 'verified once, so cached')
  // Past `exp` (whole seconds) for sure, with the real clock.
  const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp as number
  await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50))
  const res = await me(app, token)
  t.equal(res.statusCode, 403)
  t.same(res.json(), EXPIRED)
  t.equal((await logout(app, token)).statusCode, 403, 'logout of an expired token is 403 too')
})
