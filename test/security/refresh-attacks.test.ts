/**
 * The refresh endpoint's attack catalogue: every shape a refresh token can
 * be sent in that is not the one we issue, a JWT where a refresh token
 * belongs, a refresh token where a JWT belongs. Each refused case answers
 * the 401 envelope (never a 403, which a client reads as "refresh", nor a
 * 400 for the token itself), leaks nothing, and ends nothing.
 */
import t from 'tap'
import { build, login, me, refresh, UNAUTHORIZED } from '../helper.js'
import { assertNoLeak } from '../jwt.js'

t.test('refresh tokens of every wrong shape: 401, nothing ends', async (t) => {
  const app = await build(t, { RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0' })
  const victim = await login(app)
  const rt = victim.refreshToken
  const cases: Array<[string, unknown]> = [
    ['missing', undefined],
    ['null', null],
    ['a number', 123],
    ['true', true],
    ['an array holding the token', [rt]],
    ['an object holding the token', { value: rt }],
    ['empty', ''],
    ['one character short', rt.slice(0, -1)],
    ['one character long', rt + 'A'],
    ['padded base64', rt + '='],
    ['standard base64 alphabet', rt.replace(/[-_]/g, '+').padEnd(43, '+').slice(0, 42) + '/'],
    ['percent-encoded', encodeURIComponent(rt).replace(/[A-Za-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`)],
    ['with a space', ` ${rt}`],
    ['with a newline', `${rt}\n`],
    ['a NUL byte', rt.slice(0, -1) + '\u0000'],
    ['non-ASCII look-alike', rt.slice(0, -1) + 'Å'],
    ['megabyte string', 'A'.repeat(60_000)],
    ['the access token (a JWT) where the refresh token belongs', victim.token],
    ['SQL injection', "' OR 1=1 --" + 'A'.repeat(32)],
    ['never issued', 'B'.repeat(43)]
  ]
  for (const [name, value] of cases) {
    await t.test(name, async (t) => {
      const res = value === undefined
        ? await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: {} })
        : await refresh(app, value)
      t.equal(res.statusCode, 401)
      t.strictSame(res.json(), UNAUTHORIZED)
      assertNoLeak(t, res, rt)
      t.equal((await me(app, victim.token)).statusCode, 200, 'the victim\'s session is untouched')
    })
  }
  t.equal((await refresh(app, rt)).statusCode, 200, 'and its refresh token still works')
})

t.test('bodies that are not a refresh request: 400, 413, 415 as everywhere', async (t) => {
  const app = await build(t, { RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0', BODY_LIMIT_BYTES: '1024' })
  const { refreshToken } = await login(app)
  const post = (payload: string, type = 'application/json') =>
    app.inject({ method: 'POST', url: '/api/v1/auth/refresh', headers: { 'content-type': type }, payload })
  t.equal((await post('{"refreshToken":')).statusCode, 400, 'malformed JSON')
  t.equal((await post(JSON.stringify({ refreshToken, extra: 1 }))).statusCode, 400, 'an unknown key')
  t.equal((await post(`refreshToken=${refreshToken}`, 'application/x-www-form-urlencoded')).statusCode, 415)
  t.equal((await post(JSON.stringify({ refreshToken, pad: 'x'.repeat(2000) }))).statusCode, 413)
  t.equal((await refresh(app, refreshToken)).statusCode, 200, 'the token survived all of them')
})

t.test('a refresh token as Bearer is not an access token', async (t) => {
  const app = await build(t, { RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0' })
  const { refreshToken, token } = await login(app)
  const res = await app.inject({ url: '/api/v1/auth/me', headers: { authorization: `Bearer ${refreshToken}` } })
  t.equal(res.statusCode, 401)
  t.strictSame(res.json(), UNAUTHORIZED)
  const logout = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { authorization: `Bearer ${refreshToken}` }, payload: { token: refreshToken } })
  t.equal(logout.statusCode, 401)
  t.equal((await me(app, token)).statusCode, 200)
})

t.test('rate-limited per address with LOGIN_RATE_LIMIT_MAX', async (t) => {
  const app = await build(t, { LOGIN_RATE_LIMIT_MAX: '2' })
  const codes = []
  for (let i = 0; i < 3; i++) codes.push((await refresh(app, 'C'.repeat(43))).statusCode)
  t.strictSame(codes, [401, 401, 429])
})
