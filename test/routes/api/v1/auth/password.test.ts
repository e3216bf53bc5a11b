/**
 * POST /password: the current password checked, the new one stored, every
 * other session of the user ended with its refresh token, this one kept,
 * all in one transaction.
 */
import t from 'tap'
import { build, login, me, refresh, sqlite, PASSWORD, UNAUTHORIZED } from '../../../../helper.js'
import { HASH_OPTIONS } from '../../../../../plugins/app/users.js'

const URL = '/api/v1/auth/password'
const NEW = 'a brand new passphrase'
const NO_LIMITS = { RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0' }

const change = (app: Awaited<ReturnType<typeof build>>, token: string, payload: unknown) =>
  app.inject({ method: 'POST', url: URL, headers: { authorization: `Bearer ${token}` }, payload: payload as Record<string, unknown> })

t.test('200: the new password works, the old one not; other sessions end, this one stays', async (t) => {
  const app = await build(t, NO_LIMITS)
  const a = await login(app)
  const other = await login(app, a.email)
  const bystander = await login(app)
  const res = await change(app, a.token, { currentPassword: PASSWORD, newPassword: NEW })
  t.equal(res.statusCode, 200)
  t.strictSame(res.json(), { success: true, message: 'Contraseña actualizada exitosamente' })
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal((await me(app, a.token)).statusCode, 200, 'the current session stays')
  t.equal((await me(app, other.token)).statusCode, 401, 'every other session ends')
  t.equal((await refresh(app, other.refreshToken)).statusCode, 401, 'with its refresh token')
  t.equal((await me(app, bystander.token)).statusCode, 200, 'another user untouched')
  const loginWith = (password: string) => app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: a.email, password } })
  t.equal((await loginWith(PASSWORD)).statusCode, 401, 'the old password is refused')
  t.equal((await loginWith(NEW)).statusCode, 200, 'the new one works')
  const rows = sqlite(app).prepare("SELECT type, session_id AS sessionId FROM audit_events WHERE user_id = ? AND type IN ('session_revoked', 'password_changed') ORDER BY id").all(a.userId)
  t.match(rows, [{ type: 'session_revoked', sessionId: other.sessionId }, { type: 'password_changed', sessionId: a.sessionId }])
  t.equal(sqlite(app).prepare('SELECT reason FROM revoked_tokens WHERE session_id = ?').pluck().get(other.sessionId), 'password_changed')
})

t.test('401 Credenciales inválidas for a wrong current password: nothing changes', async (t) => {
  const app = await build(t, NO_LIMITS)
  const a = await login(app)
  const other = await login(app, a.email)
  const hash = sqlite(app).prepare('SELECT password_hash FROM users').pluck().get()
  const res = await change(app, a.token, { currentPassword: 'not the password', newPassword: NEW })
  t.equal(res.statusCode, 401)
  t.strictSame(res.json(), { success: false, message: 'Credenciales inválidas' })
  t.notOk(res.headers['www-authenticate'], 'the token is good: no Bearer challenge')
  t.equal((await me(app, a.token)).statusCode, 200, 'the session stays')
  t.equal((await me(app, other.token)).statusCode, 200)
  t.equal(sqlite(app).prepare('SELECT password_hash FROM users').pluck().get(), hash)
})

t.test('the Bearer first, then the body: 401 without a token, 400 on a bad body', async (t) => {
  const app = await build(t, NO_LIMITS)
  const a = await login(app)
  const anonymous = await app.inject({ method: 'POST', url: URL, payload: { currentPassword: PASSWORD, newPassword: NEW } })
  t.equal(anonymous.statusCode, 401)
  t.strictSame(anonymous.json(), UNAUTHORIZED)
  for (const body of [{}, { currentPassword: PASSWORD }, { currentPassword: PASSWORD, newPassword: 'short' },
    { currentPassword: PASSWORD, newPassword: 'x'.repeat(129) }, { currentPassword: 123, newPassword: NEW },
    { currentPassword: PASSWORD, newPassword: NEW, extra: true }]) {
    t.equal((await change(app, a.token, body)).statusCode, 400, JSON.stringify(body).slice(0, 60))
  }
  t.equal((await me(app, a.token)).statusCode, 200)
})

t.test('rate-limited per user, whatever the address', async (t) => {
  const app = await build(t, { RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '3' })
  const a = await login(app)
  const codes: number[] = []
  for (let i = 0; i < 4; i++) {
    const res = await app.inject({ method: 'POST', url: URL, remoteAddress: `10.0.0.${i}`, headers: { authorization: `Bearer ${a.token}` }, payload: { currentPassword: 'wrong password', newPassword: NEW } })
    codes.push(res.statusCode)
    if (res.statusCode === 429) t.ok(res.headers['retry-after'])
  }
  t.strictSame(codes, [401, 401, 401, 429])
})

t.test('a wrong and a right current password take about the same time (argon2 runs for both)', async (t) => {
  const app = await build(t, NO_LIMITS, {}, { hashCost: HASH_OPTIONS })
  const a = await login(app)
  const time = async (currentPassword: string, newPassword: string) => {
    const start = process.hrtime.bigint()
    await change(app, a.token, { currentPassword, newPassword })
    return Number(process.hrtime.bigint() - start) / 1e6
  }
  const wrong: number[] = []
  const right: number[] = []
  let current = PASSWORD
  for (let i = 0; i < 5; i++) {
    wrong.push(await time('wrong password', NEW))
    const next = `passphrase number ${i}`
    right.push(await time(current, next))
    current = next
  }
  const median = (a: number[]) => a.sort((x, y) => x - y)[2]!
  // A right one also hashes the new password: about twice the work, never ~0.
  const ratio = median(wrong) / median(right)
  t.ok(ratio > 0.2 && ratio < 3, `median ratio ${ratio.toFixed(2)}`)
})
