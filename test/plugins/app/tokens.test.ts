/**
 * The one verifier of every protected route, fed every shape that the
 * default @fastify/jwt + fast-jwt stack mishandles (issue 2, item 8).
 * Each is the 401 envelope with error="invalid_token"; only a correctly
 * signed, expired token is the 403.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, login, logout, me, EXPIRED, UNAUTHORIZED } from '../../helper.js'
import { claimsOf, hmac, HEADER, now, resign, sign } from '../../jwt.js'
import { createTokenService } from '../../../plugins/app/tokens.js'

const INVALID = 'Bearer realm="auth-sessions", error="invalid_token"'

async function rejected (t: Test, app: FastifyInstance, token: string, status = 401, what = '') {
  const res = await me(app, token)
  t.equal(res.statusCode, status, what)
  t.same(res.json(), status === 401 ? UNAUTHORIZED : EXPIRED, what)
  t.equal(res.headers['www-authenticate'], INVALID, what)
}

t.test('issued tokens: HS256, the claims of SPEC §3, a 128-bit jti', async (t) => {
  const app = await build(t)
  const a = await login(app)
  const b = await login(app, a.email)
  const header = JSON.parse(Buffer.from(a.token.split('.')[0]!, 'base64url').toString())
  t.strictSame(header, HEADER)
  const c = claimsOf(a.token)
  t.strictSame(Object.keys(c).sort(), ['exp', 'iat', 'jti', 'sid', 'sub'])
  t.equal(c.sub, a.userId)
  t.equal(c.sid, a.sessionId)
  t.equal(c.exp - c.iat, 3600)
  t.ok(Buffer.from(c.jti, 'base64url').length >= 16)
  t.not(c.jti, claimsOf(b.token).jti)
  t.not(c.sid, c.jti, 'the session id is not the jti')
  t.equal((await me(app, a.token)).statusCode, 200)
})

/**
 * A valid token whose signature, written in standard base64, differs from
 * base64url (most signatures hold a `-` or `_`; for one that does not, an
 * extra claim is added and the token signed again), with `+`/`/` in place.
 */
function standardBase64 (token: string): string {
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? token : resign(token, { n })
    const [h, p, sig] = candidate.split('.') as [string, string, string]
    if (/[-_]/.test(sig)) return `${h}.${p}.${sig.replace(/-/g, '+').replace(/_/g, '/')}`
  }
}

t.test('library error shapes are the 401 envelope, never 400 or 500', async (t) => {
  const app = await build(t)
  const { token } = await login(app)
  const claims = claimsOf(token)
  const [h, p] = token.split('.') as [string, string, string]
  const cases: Array<[string, string]> = [
    ['nbf in the future', resign(token, { nbf: now() + 3600 })],
    ['HS384 header', sign(claims, { alg: 'HS384', typ: 'JWT' }, undefined, 'sha384')],
    ['HS512 header', sign(claims, { alg: 'HS512', typ: 'JWT' }, undefined, 'sha512')],
    ['RS256 header', sign(claims, { alg: 'RS256', typ: 'JWT' })],
    ['alg none', sign(claims, { alg: 'none', typ: 'JWT' }).replace(/[^.]+$/, '')],
    ['crit header', sign(claims, { ...HEADER, crit: ['exp'] })],
    ['kid header', sign(claims, { ...HEADER, kid: '../../etc/passwd' })],
    ['string exp', resign(token, { exp: String(claims.exp) })],
    ['fractional exp', resign(token, { exp: claims.exp + 0.5 })],
    ['JSON-array payload', sign([claims])],
    ['JSON-string payload', sign(JSON.stringify('x'))],
    ['non-JSON payload', sign('not json')],
    ['signature with = padding', `${h}.${p}.${hmac(`${h}.${p}`)}=`],
    ['signature in standard base64 (+ and /)', standardBase64(token)],
    ['non-canonical last signature character', `${h}.${p}.${hmac(`${h}.${p}`).slice(0, -1)}B`],
    ['tampered payload', `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${token.split('.')[2]}`],
    ['other secret', sign(claims, HEADER, 'another-secret-of-at-least-32-characters')],
    ['no exp', resign(token, { exp: undefined })],
    ['no jti', resign(token, { jti: undefined })],
    ['no iat', resign(token, { iat: undefined })],
    ['no sub', resign(token, { sub: undefined })],
    ['no sid', resign(token, { sid: undefined })],
    ['empty jti', resign(token, { jti: '' })],
    ['iat in the future', resign(token, { iat: now() + 600, exp: now() + 3600 })],
    ['sub of another user', resign(token, { sub: 'not-the-owner' })],
    ['jti not the session\'s', resign(token, { jti: 'AAAAAAAAAAAAAAAAAAAAAA' })],
    ['unknown session', resign(token, { sid: 'no-such-session' })],
    ['payload of impossible base64 length', `${h}.${p}${'A'.repeat((5 - p.length % 4) % 4)}.${token.split('.')[2]}`],
    ['payload with stray bits in its last character', `${h}.${p.length % 4 === 0 ? p.slice(0, -2) + 'A_' : p.slice(0, -1) + '_'}.${token.split('.')[2]}`],
    ['two segments', `${h}.${p}`],
    ['four segments', `${token}.x`],
    ['oversized', resign(token, { pad: 'x'.repeat(3000) })],
    ['garbage', 'not-a-jwt']
  ]
  for (const [what, bad] of cases) await rejected(t, app, bad, 401, what)
  t.equal((await me(app, token)).statusCode, 200, 'the real token still works')
})

t.test('a correctly signed expired token is 403; a forged one 401 (signature before expiry)', async (t) => {
  const app = await build(t)
  const { token } = await login(app)
  const expired = resign(token, { iat: now() - 7200, exp: now() - 3600 })
  await rejected(t, app, expired, 403, 'expired')
  const forged = sign({ ...claimsOf(expired) }, HEADER, 'another-secret-of-at-least-32-characters')
  await rejected(t, app, forged, 401, 'forged and expired')
  const res = await logout(app, expired)
  t.equal(res.statusCode, 403, 'logout with an expired token')
})

t.test('revoked and expired is 403 (expiry is checked before the session)', async (t) => {
  const app = await build(t)
  const { token } = await login(app)
  t.equal((await logout(app, token)).statusCode, 200)
  await rejected(t, app, token, 401, 'revoked')
  await rejected(t, app, resign(token, { iat: now() - 7200, exp: now() - 3600 }), 403, 'revoked and expired')
})

t.test('the Authorization header', async (t) => {
  const app = await build(t)
  const { token, sessionId } = await login(app)
  const get = (headers: Record<string, string | string[] | undefined>) => app.inject({ method: 'GET', url: '/api/v1/auth/me', headers })
  for (const value of [`Bearer ${token}`, `bearer ${token}`, `BEARER ${token}`, `Bearer  ${token}`]) {
    t.equal((await get({ authorization: value })).statusCode, 200, value.slice(0, 9))
  }
  for (const headers of [{}, { authorization: `Basic ${token}` }, { authorization: 'Bearer' }, { authorization: 'Bearer   ' }, { authorization: `Bearer\t${token}` }, { authorization: token }]) {
    const res = await get(headers)
    t.equal(res.statusCode, 401)
    t.same(res.json(), UNAUTHORIZED)
    t.equal(res.headers['www-authenticate'], 'Bearer realm="auth-sessions"', `no error= without a token: ${JSON.stringify(headers).slice(0, 30)}`)
  }
  for (const value of [`Bearer ${token} x`, `Bearer ${sessionId}`, `Bearer ${token},x`]) {
    const res = await get({ authorization: value })
    t.equal(res.statusCode, 401, JSON.stringify(value.slice(0, 12)))
    t.equal(res.headers['www-authenticate'], INVALID)
  }
  const two = await get({ authorization: [`Bearer ${token}`, 'Bearer other'] })
  t.equal(two.statusCode, 401, 'two Authorization headers')
  t.equal(two.headers['www-authenticate'], INVALID)
})

t.test('JWT_ISSUER and JWT_AUDIENCE are written and required', async (t) => {
  const app = await build(t, { JWT_ISSUER: 'https://auth.example', JWT_AUDIENCE: 'api' })
  const { token } = await login(app)
  const c = claimsOf(token)
  t.equal(c.iss, 'https://auth.example')
  t.equal(c.aud, 'api')
  t.equal((await me(app, token)).statusCode, 200)
  for (const [what, change] of [
    ['no iss', { iss: undefined }], ['other iss', { iss: 'https://evil.example' }],
    ['no aud', { aud: undefined }], ['other aud', { aud: 'other' }]
  ] as const) {
    await rejected(t, app, resign(token, change), 401, what)
  }
  // The same token is refused by a server that does not expect that audience.
  const other = await build(t, { JWT_ISSUER: 'https://auth.example', JWT_AUDIENCE: 'other' })
  await rejected(t, other, token, 401, 'audience of another deployment')
})

t.test('CLOCK_TOLERANCE_SECONDS is leeway on exp, nbf and iat', async (t) => {
  const strict = await build(t)
  const lenient = await build(t, { CLOCK_TOLERANCE_SECONDS: '60' })
  for (const [app, ok] of [[strict, false], [lenient, true]] as const) {
    const { token } = await login(app)
    const cases = [
      resign(token, { iat: now() - 3600, exp: now() - 5 }),
      resign(token, { nbf: now() + 5 }),
      resign(token, { iat: now() + 5, exp: now() + 3600 })
    ]
    const statuses = await Promise.all(cases.map(async (tok) => (await me(app, tok)).statusCode))
    t.strictSame(statuses, ok ? [200, 200, 200] : [403, 401, 401])
  }
  // Within the leeway, but exp not after iat: not a token we issue.
  const { token } = await login(lenient)
  await rejected(t, lenient, resign(token, { iat: now() + 30, exp: now() + 30 }), 401, 'exp not after iat')
})

t.test('TOKEN_TTL_SECONDS sets exp and expiresIn', async (t) => {
  // Two seconds: `iat` is whole seconds, so a token lives between 1 and 2 s,
  // long enough for login() to use it at once, however loaded the machine.
  const app = await build(t, { TOKEN_TTL_SECONDS: '2' })
  const { token } = await login(app)
  const c = claimsOf(token)
  t.equal(c.exp - c.iat, 2)
  await new Promise((resolve) => setTimeout(resolve, (c.exp + 1) * 1000 - Date.now()))
  await rejected(t, app, token, 403, 'expired by the real clock')
})

t.test('the longest JWT_ISSUER and JWT_AUDIENCE the config accepts still give working tokens', async (t) => {
  const app = await build(t, { JWT_ISSUER: 'i'.repeat(256), JWT_AUDIENCE: 'a'.repeat(256) })
  const { token } = await login(app)
  t.equal((await me(app, token)).statusCode, 200)
})

/** A token service over the app's keys that counts the signature checks it really makes. */
async function counting (t: Test, cache: { cacheSize: number, admitEvery: number }) {
  const app = await build(t)
  const counter = { verifications: 0 }
  const tokens = createTokenService({
    sign: (payload) => app.jwt.sign(payload),
    verify: (token) => { counter.verifications++; return app.jwt.verify(token) },
    ttlSeconds: 3600,
    toleranceSeconds: 0,
    ...cache
  })
  return { tokens, counter }
}
const FAR = Number.MAX_SAFE_INTEGER

t.test('verified tokens are remembered, at most cacheSize of them, each until its exp', async (t) => {
  const { tokens, counter } = await counting(t, { cacheSize: 2, admitEvery: 1 })
  const [a, b, c] = [tokens.issue('u', 's1', FAR), tokens.issue('u', 's2', FAR), tokens.issue('u', 's3', FAR)]
  t.equal(tokens.verify(a.token).sid, 's1')
  t.equal(tokens.verify(a.token).sid, 's1')
  t.equal(counter.verifications, 1, 'the second time from memory')
  tokens.verify(b.token)
  tokens.verify(c.token)
  t.equal(counter.verifications, 3)
  tokens.verify(c.token)
  tokens.verify(b.token)
  t.equal(counter.verifications, 3, 'b and c are remembered')
  tokens.verify(a.token)
  t.equal(counter.verifications, 4, 'a, the oldest, was forgotten')
  t.equal(tokens.verify(resign(a.token, { sid: 'other' })).sid, 'other', 'another text is another token')
  t.equal(counter.verifications, 5)
  const d = tokens.issue('u', 's4', FAR)
  tokens.verify(d.token, false)
  tokens.verify(d.token, false)
  t.equal(counter.verifications, 7, 'a token verified for its logout is not remembered')
  tokens.verify(a.token)
  t.equal(counter.verifications, 7, 'nor does it push out a remembered one')
})

t.test('once the verified-token cache is full, one token in admitEvery is remembered', async (t) => {
  const { tokens, counter } = await counting(t, { cacheSize: 1, admitEvery: 3 })
  const [a, b, c, d] = ['s1', 's2', 's3', 's4'].map((sid) => tokens.issue('u', sid, FAR))
  const verifyAll = (...xs: typeof a[]) => { for (const x of xs) tokens.verify(x!.token) }
  verifyAll(a, b, c)
  t.equal(counter.verifications, 3)
  verifyAll(a)
  t.equal(counter.verifications, 3, 'a stayed: b and c were not admitted')
  verifyAll(d)
  verifyAll(d, a)
  t.equal(counter.verifications, 5, 'd, the third miss since the cache was full, took the place of a')
})
