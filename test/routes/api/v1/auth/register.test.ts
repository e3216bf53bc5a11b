import t from 'tap'
import { build, PASSWORD, query } from '../../../../helper.js'
import { HASH_OPTIONS } from '../../../../../plugins/app/users.js'

const URL = '/api/v1/auth/register'
const BAD = { success: false, message: 'Solicitud inválida' }

t.test('201 with the user; e-mail stored lower-cased; 409 on a duplicate in any case', async (t) => {
  // The real cost: this test holds the stored hash to OWASP's parameters.
  const app = await build(t, {}, {}, { hashCost: HASH_OPTIONS })
  const res = await app.inject({ method: 'POST', url: URL, payload: { email: 'Ada@Example.COM', password: PASSWORD } })
  t.equal(res.statusCode, 201)
  const body = res.json()
  t.strictSame(Object.keys(body), ['success', 'message', 'data'])
  t.equal(body.message, 'Usuario registrado exitosamente')
  t.strictSame(Object.keys(body.data.user), ['id', 'email', 'createdAt'])
  t.equal(body.data.user.email, 'ada@example.com')
  t.match(body.data.user.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.equal(res.headers['cache-control'], 'no-store')
  const row = (await query(app, 'SELECT email, password_hash AS hash FROM users'))[0] as { email: string, hash: string }
  t.equal(row.email, 'ada@example.com')
  t.match(row.hash, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/, 'argon2id at OWASP parameters')
  t.notMatch(row.hash, PASSWORD)
  const dup = await app.inject({ method: 'POST', url: URL, payload: { email: 'ADA@example.com', password: 'another password' } })
  t.equal(dup.statusCode, 409)
  t.strictSame(dup.json(), { success: false, message: 'El correo ya está registrado' })
  t.equal(((await query(app, 'SELECT count(*) AS n FROM users'))[0] as { n: number }).n, 1)
})

t.test('400 on a bad body, nothing created', async (t) => {
  const app = await build(t, { LOGIN_RATE_LIMIT_MAX: '0' })
  const bodies: unknown[] = [
    {},
    { email: 'a@example.com' },
    { password: PASSWORD },
    { email: 'not-an-email', password: PASSWORD },
    { email: 'a@example.com', password: 'short12' },
    { email: 'a@example.com', password: 'x'.repeat(129) },
    { email: 'a@example.com', password: '😀'.repeat(129) },
    { email: 'a@example.com', password: 12345678 },
    { email: ['a@example.com'], password: PASSWORD },
    { email: 'a@example.com', password: PASSWORD, role: 'admin' },
    [{ email: 'a@example.com', password: PASSWORD }],
    'a@example.com'
  ]
  for (const payload of bodies) {
    const res = await app.inject({ method: 'POST', url: URL, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) })
    t.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 60))
    t.strictSame(res.json(), BAD)
  }
  t.equal(((await query(app, 'SELECT count(*) AS n FROM users'))[0] as { n: number }).n, 0)
})

t.test('passwords are counted in code points: 128 emoji pass, 8 emoji pass', async (t) => {
  const app = await build(t)
  for (const [i, password] of ['😀'.repeat(128), '😀'.repeat(8)].entries()) {
    const res = await app.inject({ method: 'POST', url: URL, payload: { email: `e${i}@example.com`, password } })
    t.equal(res.statusCode, 201)
  }
  const short = await app.inject({ method: 'POST', url: URL, payload: { email: 'e9@example.com', password: '😀'.repeat(7) } })
  t.equal(short.statusCode, 400, '7 code points (14 UTF-16 units) is too short')
})

t.test('REGISTRATION_ENABLED=false removes the route', async (t) => {
  const app = await build(t, { REGISTRATION_ENABLED: 'false' })
  const res = await app.inject({ method: 'POST', url: URL, payload: { email: 'a@example.com', password: PASSWORD } })
  t.equal(res.statusCode, 404)
  t.strictSame(res.json(), { success: false, message: 'Recurso no encontrado' })
})

t.test('rate-limited per IP by LOGIN_RATE_LIMIT_MAX', async (t) => {
  const app = await build(t, { LOGIN_RATE_LIMIT_MAX: '2' })
  const statuses = []
  let last
  for (let i = 0; i < 3; i++) {
    last = await app.inject({ method: 'POST', url: URL, payload: { email: 'x' } })
    statuses.push(last.statusCode)
  }
  t.strictSame(statuses, [400, 400, 429])
  t.strictSame(last!.json(), { success: false, message: 'Demasiadas solicitudes, intente más tarde' })
  t.match(last!.headers['retry-after'], /^\d+$/)
  const other = await app.inject({ method: 'POST', url: URL, remoteAddress: '10.9.9.9', payload: { email: 'x' } })
  t.equal(other.statusCode, 400, 'another IP has its own budget')
})

t.test('concurrent registrations of one e-mail: exactly one 201, the rest 409', async (t) => {
  const app = await build(t, { LOGIN_RATE_LIMIT_MAX: '0' })
  const answers = await Promise.all(['race@example.com', 'RACE@example.com', 'Race@Example.com', 'race@EXAMPLE.com'].map((email) =>
    app.inject({ method: 'POST', url: URL, payload: { email, password: PASSWORD } })))
  t.strictSame(answers.map((r) => r.statusCode).sort(), [201, 409, 409, 409])
  t.strictSame((await query(app, 'SELECT count(*) AS n FROM users'))[0], { n: 1 })
  t.strictSame((await query(app, "SELECT count(*) AS n FROM audit_events WHERE type = 'register'"))[0], { n: 1 }, 'one register event')
})
