import t from 'tap'
import { build, count, login, logout, me, onPostgres, query, INTERNAL, LOGGED_OUT, UNAUTHORIZED, sqlite } from '../../../../helper.js'
import { claimsOf } from '../../../../jwt.js'

t.test('logout revokes the token for good', async (t) => {
  const app = await build(t)
  const { token } = await login(app)
  const res = await logout(app, token)
  t.equal(res.statusCode, 200)
  t.same(res.json(), LOGGED_OUT)
  t.equal(res.body, JSON.stringify(LOGGED_OUT))
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers['clear-site-data'], '"cookies", "storage"')
  const again = await logout(app, token)
  t.equal(again.statusCode, 401)
  t.same(again.json(), UNAUTHORIZED)
  t.equal((await me(app, token)).statusCode, 401)
})

const BAD = { success: false, message: 'Solicitud inválida' }

t.test('the body token must be a string identical to the Bearer token (401, invalid_request: the token is not condemned)', async (t) => {
  const app = await build(t)
  const a = await login(app)
  const b = await login(app)
  const bodies: unknown[] = [{}, { token: '' }, { token: 123 }, { token: [a.token] }, { token: { a: a.token } }, { token: b.token }, { token: a.token + ' ' }, { token: null }]
  for (const body of bodies) {
    const res = await logout(app, a.token, body)
    t.equal(res.statusCode, 401, JSON.stringify(body).slice(0, 40))
    t.strictSame(res.json(), UNAUTHORIZED)
    t.equal(res.headers['www-authenticate'], 'Bearer realm="auth-sessions", error="invalid_request"')
  }
  const noBody = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { authorization: `Bearer ${a.token}` } })
  t.equal(noBody.statusCode, 401, 'no body at all')
  const noHeader = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', payload: { token: a.token } })
  t.equal(noHeader.statusCode, 401)
  t.equal(noHeader.headers['www-authenticate'], 'Bearer realm="auth-sessions"')
  t.equal((await me(app, a.token)).statusCode, 200, 'nothing was revoked')
  t.equal((await me(app, b.token)).statusCode, 200)
})

t.test('content type, size and JSON syntax come first: 415, 413, 400', async (t) => {
  const app = await build(t, { BODY_LIMIT_BYTES: '1024' })
  const { token } = await login(app)
  const post = (headers: Record<string, string>, payload: string) =>
    app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { authorization: `Bearer ${token}`, ...headers }, payload })
  const cases: Array<[number, string, Record<string, string>, string]> = [
    [415, 'Tipo de contenido no soportado', { 'content-type': 'text/plain' }, JSON.stringify({ token })],
    [415, 'Tipo de contenido no soportado', { 'content-type': 'application/x-www-form-urlencoded' }, `token=${token}`],
    [413, 'Solicitud demasiado grande', { 'content-type': 'application/json' }, JSON.stringify({ token, pad: 'x'.repeat(2000) })],
    [400, 'Solicitud inválida', { 'content-type': 'application/json' }, '{"token": '],
    [400, 'Solicitud inválida', { 'content-type': 'application/json' }, '']
  ]
  for (const [status, message, headers, payload] of cases) {
    const res = await post(headers, payload)
    t.equal(res.statusCode, status, `${headers['content-type']} ${payload.slice(0, 10)}`)
    t.strictSame(res.json(), { success: false, message })
    // The same without any Authorization header: still this status, not 401.
    const anon = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers, payload })
    t.equal(anon.statusCode, status)
  }
  t.equal((await me(app, token)).statusCode, 200, 'nothing was revoked')
})

t.test('a bad scope is 400 and revokes nothing; an extra field is 400', async (t) => {
  const app = await build(t)
  const { token } = await login(app)
  const other = await login(app)
  for (const body of [{ token, scope: 'everything' }, { token, scope: 1 }, { token, scope: ['global'] }, { token, admin: true }]) {
    const res = await logout(app, token, body)
    t.equal(res.statusCode, 400)
    t.strictSame(res.json(), BAD)
  }
  t.equal((await me(app, token)).statusCode, 200)
  t.equal((await me(app, other.token)).statusCode, 200)
  t.equal(await count(app, 'SELECT count(*) AS n FROM revoked_tokens'), 0)
})

t.test('a bad body with a token whose session is gone is 401, not 400: the session is judged first', async (t) => {
  const app = await build(t)
  const { token } = await login(app)
  t.equal((await logout(app, token)).statusCode, 200)
  for (const body of [{ token, scope: 'everything' }, { token, admin: true }]) {
    const res = await logout(app, token, body)
    t.equal(res.statusCode, 401, JSON.stringify(body))
    t.strictSame(res.json(), UNAUTHORIZED)
  }
})

t.test('each scope with bystanders: only the right sessions are revoked, each with its record and audit row', async (t) => {
  const app = await build(t, { LOGIN_RATE_LIMIT_MAX: '0' })
  for (const scope of ['local', 'others', 'global'] as const) {
    const a1 = await login(app)
    const a2 = await login(app, a1.email)
    const a3 = await login(app, a1.email)
    const b1 = await login(app)
    const b2 = await login(app, b1.email)
    const res = await logout(app, a1.token, { token: a1.token, scope })
    t.equal(res.statusCode, 200, scope)
    t.strictSame(res.json(), LOGGED_OUT)
    const expected = {
      local: { a1: 401, a2: 200, a3: 200 },
      others: { a1: 200, a2: 401, a3: 401 },
      global: { a1: 401, a2: 401, a3: 401 }
    }[scope]
    const got = { a1: (await me(app, a1.token)).statusCode, a2: (await me(app, a2.token)).statusCode, a3: (await me(app, a3.token)).statusCode }
    t.strictSame(got, expected, scope)
    t.equal((await me(app, b1.token)).statusCode, 200, 'bystander untouched')
    t.equal((await me(app, b2.token)).statusCode, 200, 'bystander untouched')
    const revoked = [a1, a2, a3].filter((_, i) => Object.values(expected)[i] === 401)
    const rows = await query(app, 'SELECT jti, user_id AS userId, session_id AS sessionId, expires_at AS exp, reason FROM revoked_tokens WHERE user_id = ? ORDER BY session_id', a1.userId)
    t.strictSame(rows, revoked.map((s) => ({ jti: claimsOf(s.token).jti, userId: s.userId, sessionId: s.sessionId, exp: claimsOf(s.token).exp, reason: `logout_${scope}` }))
      .sort((x, y) => x.sessionId < y.sessionId ? -1 : 1), `${scope}: one revocation record per revoked session`)
    const audit = await query(app, "SELECT type, session_id AS sessionId, jti, outcome FROM audit_events WHERE user_id = ? AND type IN ('logout', 'session_revoked') ORDER BY session_id", a1.userId)
    t.strictSame(audit, revoked.map((s) => ({ type: s === a1 ? 'logout' : 'session_revoked', sessionId: s.sessionId, jti: claimsOf(s.token).jti, outcome: 'success' }))
      .sort((x, y) => x.sessionId < y.sessionId ? -1 : 1), `${scope}: one audit row per revoked session`)
    t.equal(await count(app, 'SELECT count(*) AS n FROM revoked_tokens WHERE user_id = ?', b1.userId), 0)
  }
})

t.test('others with no other session is still 200; then the token still works', async (t) => {
  const app = await build(t)
  const { token } = await login(app)
  const res = await logout(app, token, { token, scope: 'others' })
  t.equal(res.statusCode, 200)
  t.equal((await me(app, token)).statusCode, 200)
})

t.test('logout of other devices after they were revoked does not fail, and revoking the current session ends it', async (t) => {
  const app = await build(t)
  const a1 = await login(app)
  const a2 = await login(app, a1.email)
  t.equal((await logout(app, a2.token, { token: a2.token, scope: 'others' })).statusCode, 200)
  t.equal((await logout(app, a1.token)).statusCode, 401, 'a1 was revoked by a2')
  t.equal((await logout(app, a2.token, { token: a2.token, scope: 'global' })).statusCode, 200)
  t.equal((await me(app, a2.token)).statusCode, 401)
})

t.test('RATE_LIMIT_MAX counts every request, whatever its outcome; 0 turns it off', async (t) => {
  const app = await build(t, { RATE_LIMIT_MAX: '2' })
  const statuses = []
  let last
  for (let i = 0; i < 3; i++) {
    last = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', payload: {} })
    statuses.push(last.statusCode)
  }
  t.strictSame(statuses, [401, 401, 429])
  t.strictSame(last!.json(), { success: false, message: 'Demasiadas solicitudes, intente más tarde' })
  t.match(last!.headers['retry-after'], /^\d+$/)
  const off = await build(t, { RATE_LIMIT_MAX: '0' })
  const seen = new Set()
  for (let i = 0; i < 105; i++) seen.add((await off.inject({ method: 'POST', url: '/api/v1/auth/logout', payload: {} })).statusCode)
  t.strictSame([...seen], [401])
})

t.test('a failing store is 500, leaks nothing, and leaves the session untouched', {
  skip: await onPostgres() && 'breaks the SQLite handle; PostgreSQL\'s failures: test/postgres/instances.test.ts'
}, async (t) => {
  const app = await build(t)
  const { token } = await login(app)
  // Reads still work, every write fails: the revocation cannot commit.
  sqlite(app).pragma('query_only = ON')
  const res = await logout(app, token, { token, scope: 'global' })
  t.equal(res.statusCode, 500)
  t.strictSame(res.json(), INTERNAL)
  t.notMatch(res.body, /sqlite|SQL|readonly|query_only|stack/i)
  sqlite(app).pragma('query_only = OFF')
  t.equal((await me(app, token)).statusCode, 200, 'the session is untouched')
  t.equal(await count(app, 'SELECT count(*) AS n FROM revoked_tokens'), 0)
  t.equal(await count(app, "SELECT count(*) AS n FROM audit_events WHERE type = 'logout'"), 0)
  t.equal((await logout(app, token)).statusCode, 200, 'and can still log out')
  // A closed handle: the session lookup itself fails.
  const { token: t2 } = await login(app)
  sqlite(app).close()
  const closed = await logout(app, t2)
  t.equal(closed.statusCode, 500)
  t.strictSame(closed.json(), INTERNAL)
})

t.test('global logout revokes live sessions only: an expired one awaiting the purge gets no record or event', async (t) => {
  const app = await build(t)
  const a = await login(app)
  await query(app, 'INSERT INTO sessions (id, user_id, jti, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    'expired-session', a.userId, 'expired-jti', Date.now() - 7200_000, Math.floor(Date.now() / 1000) - 10)
  t.equal((await logout(app, a.token, { token: a.token, scope: 'global' })).statusCode, 200)
  t.equal(await count(app, "SELECT count(*) AS n FROM revoked_tokens WHERE session_id = 'expired-session'"), 0)
  t.equal(await count(app, "SELECT count(*) AS n FROM audit_events WHERE session_id = 'expired-session'"), 0)
  t.equal(await count(app, 'SELECT count(*) AS n FROM revoked_tokens'), 1, 'the current session')
})
