/**
 * The HTTP half of the attack catalogue (OWASP Session Management cheat
 * sheet, ASVS 5.0 V7 and V16): Authorization header shapes, content types,
 * hostile bodies, mass assignment, tokens offered in the query string or a
 * cookie. Each refused case checks the exact envelope, that nothing leaks,
 * and that the victim's session is still alive.
 */
import t from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { build, login, me, LOGGED_OUT, UNAUTHORIZED } from '../helper.js'
import { assertNoLeak } from '../jwt.js'
import { listen, logoutRequest, raw } from './raw-http.js'

const BAD_REQUEST = { success: false, message: 'Solicitud inválida' }
const UNSUPPORTED = { success: false, message: 'Tipo de contenido no soportado' }
const TOO_LARGE = { success: false, message: 'Solicitud demasiado grande' }
const NOT_FOUND = { success: false, message: 'Recurso no encontrado' }
const HEADERS_TOO_LARGE = { success: false, message: 'Encabezados de solicitud demasiado grandes' }

interface Attempt {
  headers?: Record<string, string | string[]>
  body?: string
  url?: string
  method?: 'POST' | 'GET'
}

function send (app: FastifyInstance, a: Attempt): Promise<LightMyRequestResponse> {
  return app.inject({
    method: a.method ?? 'POST',
    url: a.url ?? '/api/v1/auth/logout',
    headers: a.headers ?? {},
    ...(a.body === undefined ? {} : { payload: a.body })
  })
}

t.test('HTTP-level attacks on logout', async (t) => {
  const app = await build(t, { RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0', BODY_LIMIT_BYTES: '65536' })
  const victim = await login(app)
  const tok = victim.token
  const json = (body: unknown) => JSON.stringify(body)
  const withBearer = (value: string, body: unknown = { token: tok }, extra: Record<string, string> = {}): Attempt =>
    ({ headers: { authorization: value, 'content-type': 'application/json', ...extra }, body: json(body) })

  async function refused (name: string, attempt: Attempt, status: number, envelope: object) {
    await t.test(name, async (t) => {
      const res = await send(app, attempt)
      t.equal(res.statusCode, status)
      t.same(res.json(), envelope)
      t.same(Object.keys(res.json()).sort(), ['message', 'success'])
      assertNoLeak(t, res, tok)
      t.equal((await me(app, tok)).statusCode, 200, 'the victim session is untouched')
    })
  }

  /** Shapes the contract accepts: run on a fresh session of the victim's user, which they end. */
  async function accepted (name: string, make: (token: string) => Attempt) {
    await t.test(name, async (t) => {
      const own = await login(app, victim.email)
      const res = await send(app, make(own.token))
      t.equal(res.statusCode, 200)
      t.same(res.json(), LOGGED_OUT)
      t.equal((await me(app, own.token)).statusCode, 401, 'that session is over')
      t.equal((await me(app, tok)).statusCode, 200, 'the victim session is untouched')
    })
  }

  // --- Authorization header shapes (RFC 6750 §2.1: "Bearer" 1*SP b64token) ---
  await refused('tab after the scheme', withBearer(`Bearer\t${tok}`), 401, UNAUTHORIZED)
  await refused('trailing junk after the token', withBearer(`Bearer ${tok} junk`), 401, UNAUTHORIZED)
  await refused('junk glued to the token', withBearer(`Bearer ${tok}x`), 401, UNAUTHORIZED)
  await refused('two tokens, comma-separated', withBearer(`Bearer ${tok}, Bearer ${tok}`), 401, UNAUTHORIZED)
  await refused('scheme only', withBearer('Bearer'), 401, UNAUTHORIZED)
  await refused('scheme and a space', withBearer('Bearer '), 401, UNAUTHORIZED)
  await refused('empty Authorization', withBearer(''), 401, UNAUTHORIZED)
  await refused('Basic scheme', withBearer(`Basic ${Buffer.from('a:b').toString('base64')}`), 401, UNAUTHORIZED)
  await refused('Token scheme', withBearer(`Token ${tok}`), 401, UNAUTHORIZED)
  await refused('JWT scheme', withBearer(`JWT ${tok}`), 401, UNAUTHORIZED)
  await refused('token without a scheme', withBearer(tok), 401, UNAUTHORIZED)
  await refused('Bearer glued to the token', withBearer(`Bearer${tok}`), 401, UNAUTHORIZED)
  await refused('two Authorization headers (inject)', { headers: { authorization: [`Bearer ${tok}`, `Bearer ${tok}`], 'content-type': 'application/json' }, body: json({ token: tok }) }, 401, UNAUTHORIZED)
  await accepted('lower-case scheme (RFC 7235 §2.1)', (own) => withBearer(`bearer ${own}`, { token: own }))
  await accepted('upper-case scheme', (own) => withBearer(`BEARER ${own}`, { token: own }))
  await accepted('two spaces after the scheme (1*SP)', (own) => withBearer(`Bearer  ${own}`, { token: own }))

  // --- the body must repeat the Bearer token, as a string, exactly ---
  const attacker = await login(app)
  await refused('attacker Bearer, victim token in the body', withBearer(`Bearer ${attacker.token}`, { token: tok }), 401, UNAUTHORIZED)
  await refused('victim Bearer, attacker token in the body', withBearer(`Bearer ${tok}`, { token: attacker.token }), 401, UNAUTHORIZED)
  t.equal((await me(app, attacker.token)).statusCode, 200, 'the attacker session is untouched too')
  await refused('body token as a number', withBearer(`Bearer ${tok}`, { token: 123 }), 401, UNAUTHORIZED)
  await refused('body token in an array', withBearer(`Bearer ${tok}`, { token: [tok] }), 401, UNAUTHORIZED)
  await refused('body token in an object', withBearer(`Bearer ${tok}`, { token: { value: tok } }), 401, UNAUTHORIZED)
  await refused('body token true', withBearer(`Bearer ${tok}`, { token: true }), 401, UNAUTHORIZED)
  await refused('body token null', withBearer(`Bearer ${tok}`, { token: null }), 401, UNAUTHORIZED)
  await refused('body token padded with spaces', withBearer(`Bearer ${tok}`, { token: ` ${tok} ` }), 401, UNAUTHORIZED)
  await refused('body token in another case', withBearer(`Bearer ${tok}`, { token: tok.toUpperCase() }), 401, UNAUTHORIZED)
  await refused('body missing its token', withBearer(`Bearer ${tok}`, {}), 401, UNAUTHORIZED)
  await refused('body is an array holding the token', withBearer(`Bearer ${tok}`, [{ token: tok }]), 401, UNAUTHORIZED)
  await refused('body is the token as a JSON string', withBearer(`Bearer ${tok}`, tok), 401, UNAUTHORIZED)
  await refused('body is null', withBearer(`Bearer ${tok}`, null), 401, UNAUTHORIZED)
  await refused('duplicate token keys, the last one wrong', { headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' }, body: `{"token":"${tok}","token":"x"}` }, 401, UNAUTHORIZED)

  // --- content types (only application/json is parsed; Fastify >= 5.8.1 matches it strictly) ---
  const ct = (type: string, body = json({ token: tok }), bearer = tok): Attempt => ({ headers: { authorization: `Bearer ${bearer}`, 'content-type': type }, body })
  await refused('form-urlencoded', ct('application/x-www-form-urlencoded', `token=${tok}`), 415, UNSUPPORTED)
  await refused('multipart', ct('multipart/form-data; boundary=X', `--X\r\nContent-Disposition: form-data; name="token"\r\n\r\n${tok}\r\n--X--\r\n`), 415, UNSUPPORTED)
  await refused('text/plain', ct('text/plain'), 415, UNSUPPORTED)
  await refused('"application/json whatever"', ct('application/json whatever'), 415, UNSUPPORTED)
  await refused('application/json followed by a tab and junk', ct('application/json\tfoo'), 415, UNSUPPORTED)
  await refused('application/jsonx', ct('application/jsonx'), 415, UNSUPPORTED)
  await refused('application/json-patch+json', ct('application/json-patch+json'), 415, UNSUPPORTED)
  await refused('text/json', ct('text/json'), 415, UNSUPPORTED)
  await refused('a list of types', ct('application/json, text/plain'), 415, UNSUPPORTED)
  await refused('application/xml', ct('application/xml', `<token>${tok}</token>`), 415, UNSUPPORTED)
  await refused('a body with no content type', { headers: { authorization: `Bearer ${tok}` }, body: json({ token: tok }) }, 415, UNSUPPORTED)
  await accepted('application/json; charset=utf-8', (own) => ct('application/json; charset=utf-8', json({ token: own }), own))
  await accepted('upper-case media type', (own) => ct('APPLICATION/JSON', json({ token: own }), own))
  await accepted('mixed-case type and parameter', (own) => ct('Application/Json; Charset=UTF-8', json({ token: own }), own))
  // RFC 8259 §8.1: JSON is UTF-8; a charset parameter has no meaning and is not obeyed.
  await accepted('a charset other than UTF-8 is ignored, the body read as UTF-8', (own) => ct('application/json; charset=latin1', json({ token: own }), own))

  // --- hostile bodies ---
  await refused('empty body declared as JSON', ct('application/json', ''), 400, BAD_REQUEST)
  await refused('whitespace body declared as JSON', ct('application/json', '   '), 400, BAD_REQUEST)
  await refused('malformed JSON', ct('application/json', `{"token":"${tok}"`), 400, BAD_REQUEST)
  await refused('no body, no content type', { headers: { authorization: `Bearer ${tok}` } }, 401, UNAUTHORIZED)
  await refused('1 MB body (over the 64 KiB limit)', ct('application/json', json({ token: tok, pad: 'x'.repeat(1024 * 1024) })), 413, TOO_LARGE)
  await refused('a body just over the limit', ct('application/json', json({ token: tok, pad: 'x'.repeat(65536) })), 413, TOO_LARGE)
  const deepArray = '['.repeat(5000) + ']'.repeat(5000)
  const deepObject = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000)
  await refused('5000-deep array, no token', ct('application/json', `{"x":${deepArray}}`), 401, UNAUTHORIZED)
  await refused('5000-deep object as the scope', ct('application/json', `{"token":"${tok}","scope":${deepObject}}`), 400, BAD_REQUEST)
  await refused('5000-deep object as the token', ct('application/json', `{"token":${deepObject}}`), 401, UNAUTHORIZED)
  await refused('__proto__ pollution', ct('application/json', `{"token":"${tok}","__proto__":{"admin":true,"scope":"global"}}`), 400, BAD_REQUEST)
  await refused('__proto__ nested', ct('application/json', `{"token":"${tok}","x":{"__proto__":{"admin":true}}}`), 400, BAD_REQUEST)
  await refused('constructor.prototype pollution', ct('application/json', `{"token":"${tok}","constructor":{"prototype":{"admin":true}}}`), 400, BAD_REQUEST)
  t.equal(({} as { admin?: unknown }).admin, undefined, 'Object.prototype was not polluted')

  // --- mass assignment: only token and scope are accepted; anything else is 400 and revokes nothing ---
  await refused('mass assignment of identity fields', withBearer(`Bearer ${tok}`, { token: tok, userId: attacker.userId, sub: attacker.userId, sessionId: attacker.sessionId, sid: attacker.sessionId }), 400, BAD_REQUEST)
  await refused('mass assignment of privilege fields', withBearer(`Bearer ${tok}`, { token: tok, admin: true, role: 'admin', revoked: false }), 400, BAD_REQUEST)
  await refused('mass assignment with scope global', withBearer(`Bearer ${tok}`, { token: tok, scope: 'global', userId: attacker.userId }), 400, BAD_REQUEST)
  await refused('scope in upper case', withBearer(`Bearer ${tok}`, { token: tok, scope: 'GLOBAL' }), 400, BAD_REQUEST)
  await refused('scope as an array', withBearer(`Bearer ${tok}`, { token: tok, scope: ['global'] }), 400, BAD_REQUEST)
  await refused('scope null', withBearer(`Bearer ${tok}`, { token: tok, scope: null }), 400, BAD_REQUEST)
  await refused('scope of another user', withBearer(`Bearer ${tok}`, { token: tok, scope: attacker.userId }), 400, BAD_REQUEST)
  t.equal((await me(app, attacker.token)).statusCode, 200, 'no mass assignment reached the attacker\'s target either')

  // --- tokens offered anywhere but the Authorization header (RFC 6750 §2.3, §5.3) ---
  await refused('token in the query string', { url: `/api/v1/auth/logout?token=${tok}`, headers: { 'content-type': 'application/json' }, body: json({ token: tok }) }, 401, UNAUTHORIZED)
  await refused('access_token in the query string', { url: `/api/v1/auth/logout?access_token=${tok}`, headers: { 'content-type': 'application/json' }, body: json({ token: tok }) }, 401, UNAUTHORIZED)
  await refused('token in a cookie', { headers: { cookie: `token=${tok}; access_token=${tok}; session=${tok}`, 'content-type': 'application/json' }, body: json({ token: tok }) }, 401, UNAUTHORIZED)
  await refused('token only in the body', { headers: { 'content-type': 'application/json' }, body: json({ token: tok }) }, 401, UNAUTHORIZED)
  await refused('token in a form field', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `access_token=${tok}` }, 415, UNSUPPORTED)
  await refused('token in X-Access-Token', { headers: { 'x-access-token': tok, 'content-type': 'application/json' }, body: json({ token: tok }) }, 401, UNAUTHORIZED)
  await refused('GET on logout', { method: 'GET', url: `/api/v1/auth/logout?token=${tok}`, headers: { authorization: `Bearer ${tok}` } }, 404, NOT_FOUND)
  await refused('method override header', { method: 'GET', url: '/api/v1/auth/logout', headers: { authorization: `Bearer ${tok}`, 'x-http-method-override': 'POST' } }, 404, NOT_FOUND)
  await t.test('/me ignores a token in the query string', async (t) => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/auth/me?access_token=${tok}` })
    t.equal(res.statusCode, 401)
    t.same(res.json(), UNAUTHORIZED)
  })

  // --- what only real sockets show ---
  const port = await listen(app)
  await t.test('two Authorization headers on the wire', async (t) => {
    const res = await raw(port, logoutRequest([`Authorization: Bearer ${tok}`, `Authorization: Bearer ${tok}`], json({ token: tok })))
    t.equal(res.status, 401)
    t.same(JSON.parse(res.body), UNAUTHORIZED)
    t.equal((await me(app, tok)).statusCode, 200)
  })
  await t.test('two Authorization headers, a different case each', async (t) => {
    const res = await raw(port, logoutRequest([`authorization: Bearer ${tok}`, `AUTHORIZATION: Bearer ${attacker.token}`], json({ token: tok })))
    t.equal(res.status, 401)
    t.same(JSON.parse(res.body), UNAUTHORIZED)
    t.equal((await me(app, tok)).statusCode, 200)
  })
  await t.test('100 KB Authorization header: 431 envelope from the parser', async (t) => {
    const res = await raw(port, logoutRequest([`Authorization: Bearer ${tok}${'A'.repeat(100 * 1024)}`], json({ token: tok })))
    t.equal(res.status, 431)
    t.same(JSON.parse(res.body), HEADERS_TOO_LARGE)
    t.notOk(res.body.includes(tok))
    t.equal((await me(app, tok)).statusCode, 200)
  })
  await t.test('8 KB Authorization header: 401', async (t) => {
    const big = tok + 'A'.repeat(8 * 1024)
    const res = await raw(port, logoutRequest([`Authorization: Bearer ${big}`], json({ token: big })))
    t.equal(res.status, 401)
    t.same(JSON.parse(res.body), UNAUTHORIZED)
  })
  await t.test('malformed request line: 400 envelope from the parser', async (t) => {
    const res = await raw(port, 'POST /api/v1/auth/logout HTTP/9.9 junk\r\n\r\n')
    t.equal(res.status, 400)
    t.same(JSON.parse(res.body), BAD_REQUEST)
  })
  await t.test('header injection with a bare LF in the value', async (t) => {
    const res = await raw(port, logoutRequest([`Authorization: Bearer ${tok}\nX-Injected: 1`], json({ token: tok })))
    t.ok(res.status === 400 || res.status === 401, `refused (${res.status})`)
    t.equal((await me(app, tok)).statusCode, 200)
  })
})
