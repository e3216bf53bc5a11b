import t from 'tap'
import argon2 from 'argon2'
import { build, login, PASSWORD, query } from '../../../../helper.js'
import { DUMMY_HASH, HASH_OPTIONS } from '../../../../../plugins/app/users.js'

const URL = '/api/v1/auth/login'
const FAILED = { success: false, message: 'Credenciales inválidas' }
const LIMITED = { success: false, message: 'Demasiadas solicitudes, intente más tarde' }

t.test('200 with the token and its session', async (t) => {
  const app = await build(t)
  const { email } = await login(app)
  const before = Date.now()
  const res = await app.inject({ method: 'POST', url: URL, payload: { email: email.toUpperCase(), password: PASSWORD } })
  t.equal(res.statusCode, 200, 'e-mail compared case-insensitively')
  const body = res.json()
  t.strictSame(Object.keys(body), ['success', 'message', 'data'])
  t.equal(body.message, 'Inicio de sesión exitoso')
  t.strictSame(Object.keys(body.data).sort(), ['expiresAt', 'expiresIn', 'refreshExpiresAt', 'refreshToken', 'sessionId', 'token', 'tokenType'])
  t.equal(body.data.tokenType, 'Bearer')
  t.equal(body.data.expiresIn, 3600)
  const expiresAt = Date.parse(body.data.expiresAt)
  t.ok(expiresAt >= Math.floor(before / 1000) * 1000 + 3600_000 && expiresAt <= Date.now() + 3600_000)
  t.match(body.data.expiresAt, /Z$/)
  t.equal(res.headers['cache-control'], 'no-store')
  const row = (await query(app, 'SELECT id FROM sessions WHERE id = ?', body.data.sessionId))[0]
  t.ok(row, 'a session row')
})

t.test('unknown e-mail and wrong password: the same 401, both audited', async (t) => {
  const app = await build(t)
  const { email, userId } = await login(app)
  const unknown = await app.inject({ method: 'POST', url: URL, payload: { email: 'nobody@example.com', password: PASSWORD } })
  const wrong = await app.inject({ method: 'POST', url: URL, payload: { email, password: 'wrong password' } })
  t.equal(unknown.statusCode, 401)
  t.equal(wrong.statusCode, 401)
  t.strictSame(unknown.json(), FAILED)
  t.equal(unknown.body, wrong.body)
  t.equal(unknown.headers['www-authenticate'], undefined, 'not a Bearer challenge')
  const rows = await query(app, "SELECT user_id AS userId, outcome FROM audit_events WHERE type = 'login_failed' ORDER BY id")
  t.strictSame(rows, [{ userId: null, outcome: 'failure' }, { userId, outcome: 'failure' }])
})

t.test('400 on a bad body', async (t) => {
  const app = await build(t)
  for (const payload of [{}, { email: 'a@example.com' }, { email: 'a@example.com', password: 12345678 }, { email: 'a@example.com', password: PASSWORD, extra: 1 }]) {
    const res = await app.inject({ method: 'POST', url: URL, payload })
    t.equal(res.statusCode, 400)
    t.strictSame(res.json(), { success: false, message: 'Solicitud inválida' })
  }
})

t.test('rate-limited per IP, with Retry-After', async (t) => {
  const app = await build(t, { LOGIN_RATE_LIMIT_MAX: '3' })
  const statuses = []
  let last
  for (let i = 0; i < 4; i++) {
    last = await app.inject({ method: 'POST', url: URL, payload: { email: `n${i}@example.com`, password: PASSWORD } })
    statuses.push(last.statusCode)
  }
  t.strictSame(statuses, [401, 401, 401, 429])
  t.strictSame(last!.json(), LIMITED)
  t.match(last!.headers['retry-after'], /^[1-9]\d*$/)
})

t.test('a stranger guessing from one address does not lock the owner out; guesses from many addresses meet the account-wide limit', async (t) => {
  const app = await build(t, { LOGIN_RATE_LIMIT_MAX: '3', RATE_LIMIT_MAX: '0' })
  const { email } = await login(app, undefined, { 'x-test': '1' })
  const attempt = (ip: string, password: string, who = email) =>
    app.inject({ method: 'POST', url: URL, remoteAddress: ip, payload: { email: who, password } })
  // The stranger, at 10.0.0.1, over the per-address limit: the owner, elsewhere, still logs in.
  const stranger = []
  for (let i = 0; i < 4; i++) stranger.push((await attempt('10.0.0.1', `guess-${i}-xxxx`)).statusCode)
  t.strictSame(stranger, [401, 401, 401, 429], 'the stranger is limited')
  t.equal((await attempt('192.0.2.7', 'correct horse battery')).statusCode, 200, 'the owner is not locked out')
  // Many addresses against one account: EMAIL_WIDE (10) times the limit, then 429 from anywhere.
  const codes: number[] = []
  for (let i = 0; i < 30; i++) codes.push((await attempt(`10.1.${i}.1`, `guess-${i}-yyyy`)).statusCode)
  t.equal(codes.filter((c) => c === 429).length, 30 - (3 * 10 - 4 - 1), 'the account-wide limit: 30 attempts a window in all')
  const limited = await attempt('10.2.0.1', 'guess-zzzz')
  t.equal(limited.statusCode, 429)
  t.ok(limited.headers['retry-after'])
  t.equal((await attempt('10.2.0.2', 'guess-other', 'other@example.com')).statusCode, 401, 'another e-mail is not limited')
})

t.test('LOGIN_RATE_LIMIT_MAX=0 turns the limit off', async (t) => {
  const app = await build(t, { LOGIN_RATE_LIMIT_MAX: '0' })
  const statuses = new Set()
  for (let i = 0; i < 12; i++) {
    statuses.add((await app.inject({ method: 'POST', url: URL, payload: { email: 'a@example.com', password: PASSWORD } })).statusCode)
  }
  t.strictSame([...statuses], [401])
})

t.test('the session records IP and user agent; TRUST_PROXY decides the IP', async (t) => {
  for (const [trust, ip] of [['false', '127.0.0.1'], ['true', '203.0.113.7']]) {
    const app = await build(t, { TRUST_PROXY: trust! })
    const { token } = await login(app, undefined, { 'x-forwarded-for': '203.0.113.7', 'user-agent': 'curl/8.0' })
    const res = await app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: { authorization: `Bearer ${token}` } })
    const [s] = res.json().data.sessions
    t.equal(s.ip, ip, `TRUST_PROXY=${trust}`)
    t.equal(s.userAgent, 'curl/8.0')
  }
})

t.test('the dummy hash of an unknown e-mail has exactly the parameters of a real one', async (t) => {
  t.match(DUMMY_HASH, /^\$argon2id\$v=19\$/)
  t.equal(argon2.needsRehash(DUMMY_HASH, HASH_OPTIONS), false, 'same memory, iterations, lanes')
  const real = await argon2.hash(PASSWORD, HASH_OPTIONS)
  t.equal(DUMMY_HASH.split('$')[3], real.split('$')[3])
  t.equal(DUMMY_HASH.length, real.length, 'same salt and digest lengths')
})

t.test('unknown e-mail and wrong password take about the same time (both run argon2)', async (t) => {
  const app = await build(t, { LOGIN_RATE_LIMIT_MAX: '0' }, {}, { hashCost: HASH_OPTIONS })
  const { email } = await login(app)
  const time = async (e: string) => {
    const start = process.hrtime.bigint()
    await app.inject({ method: 'POST', url: URL, payload: { email: e, password: 'wrong password' } })
    return Number(process.hrtime.bigint() - start) / 1e6
  }
  const unknown: number[] = []
  const wrong: number[] = []
  for (let i = 0; i < 7; i++) {
    unknown.push(await time('nobody@example.com'))
    wrong.push(await time(email))
  }
  const median = (a: number[]) => a.sort((x, y) => x - y)[3]!
  const ratio = median(unknown) / median(wrong)
  // Loose bounds: a shared CI machine is noisy; a missing hash would be ~100x faster.
  t.ok(ratio > 0.33 && ratio < 3, `median ratio ${ratio.toFixed(2)}`)
})
