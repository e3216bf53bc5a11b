/**
 * A failing store, simulated by breaking the real one (STYLE.md): a full
 * disk, a database that refuses writes, a lock held by another connection
 * past the busy timeout. Each is answered with the 500 envelope, leaves no
 * half-revoked session, and the service recovers once the fault clears.
 */
import { join } from 'node:path'
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import { build, login, logout, me, INTERNAL, LOGGED_OUT, type Login, sqlite, tempDir } from '../helper.js'
import { assertNoLeak } from '../jwt.js'
import { BUSY_TIMEOUT_MS } from '../../lib/store/sqlite/open.js'

/**
 * The real app on a temporary file, registered without encapsulation so the
 * test reaches the live handle (`sqlite(app)`): `max_page_count` and `query_only`
 * are per connection, so only the service's own handle can be broken this way.
 */
async function fileApp (t: Test): Promise<{ app: FastifyInstance, path: string }> {
  const dir = tempDir(t)
  const path = join(dir, 'auth.db')
  const app = await build(t, { DATABASE_PATH: path, RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0' })
  return { app, path }
}

/** Row gone, revocation, audit row: all three or none. */
function stateOf (app: FastifyInstance, s: Login, jti: string) {
  return {
    gone: sqlite(app).prepare('SELECT 1 FROM sessions WHERE id = ?').get(s.sessionId) === undefined,
    revoked: sqlite(app).prepare('SELECT 1 FROM revoked_tokens WHERE jti = ?').get(jti) !== undefined,
    audited: sqlite(app).prepare("SELECT 1 FROM audit_events WHERE type = 'logout' AND session_id = ?").get(s.sessionId) !== undefined
  }
}
const jtiOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti
const NOTHING = { gone: false, revoked: false, audited: false }
const ALL = { gone: true, revoked: true, audited: true }

t.test('disk full (SQLITE_FULL): 500 envelope, nothing half-revoked, recovers', async (t) => {
  const { app } = await fileApp(t)
  const victims = await Promise.all([login(app), login(app), login(app)])
  const loner = await login(app)
  // Cap the file at its current size, then fill every page: the next write that needs a page fails.
  const pages = sqlite(app).pragma('page_count', { simple: true }) as number
  sqlite(app).pragma(`max_page_count = ${pages}`)
  const fill = sqlite(app).prepare("INSERT INTO audit_events (at, type, outcome) VALUES (0, 'filler', 'success')")
  t.throws(() => { for (let i = 0; i < 100_000; i++) fill.run() }, { code: 'SQLITE_FULL' }, 'the disk is full')

  // In the same batch, a logout that writes nothing (scope others, no other session) still succeeds:
  // the failed batch is retried job by job, so one job's failure does not sink the others.
  const [lonerRes, ...results] = await Promise.all([
    logout(app, loner.token, { token: loner.token, scope: 'others' }),
    ...victims.map((v) => logout(app, v.token))
  ])
  t.equal(lonerRes!.statusCode, 200, 'a job that needs no page commits alone')
  for (const [i, res] of results.entries()) {
    t.equal(res.statusCode, 500)
    t.same(res.json(), INTERNAL)
    assertNoLeak(t, res, victims[i]!.token)
    t.same(stateOf(app, victims[i]!, jtiOf(victims[i]!.token)), NOTHING, 'nothing half-revoked')
    t.equal((await me(app, victims[i]!.token)).statusCode, 200, 'the session still works')
  }

  sqlite(app).pragma('max_page_count = 1073741823')
  for (const v of victims) {
    const res = await logout(app, v.token)
    t.equal(res.statusCode, 200, 'recovered once space is back')
    t.same(res.json(), LOGGED_OUT)
    t.same(stateOf(app, v, jtiOf(v.token)), ALL)
  }
})

t.test('a database that refuses writes: 500 envelope, nothing half-revoked, recovers', async (t) => {
  const { app } = await fileApp(t)
  const victim = await login(app)
  // The live handle turned read-only (SQLITE_READONLY); a chmod would not stop root, who runs CI here.
  sqlite(app).pragma('query_only = ON')
  const res = await logout(app, victim.token)
  t.equal(res.statusCode, 500)
  t.same(res.json(), INTERNAL)
  assertNoLeak(t, res, victim.token)
  t.same(stateOf(app, victim, jtiOf(victim.token)), NOTHING)
  const loginRes = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: victim.email, password: 'correct horse battery' } })
  t.equal(loginRes.statusCode, 500, 'login cannot open a session either')
  t.same(loginRes.json(), INTERNAL)
  t.equal((await me(app, victim.token)).statusCode, 200, 'reads still work')

  sqlite(app).pragma('query_only = OFF')
  t.equal((await logout(app, victim.token)).statusCode, 200, 'recovered')
  t.same(stateOf(app, victim, jtiOf(victim.token)), ALL)
})

t.test('a lock held past the busy timeout: 500 envelope within about one busy timeout, recovers', async (t) => {
  const { app, path } = await fileApp(t)
  const victims = await Promise.all([login(app), login(app), login(app), login(app), login(app)])
  const other = new Database(path)
  t.teardown(() => { if (other.open) other.close() })
  other.exec('BEGIN IMMEDIATE')

  const started = Date.now()
  const results = await Promise.all(victims.map((v) => logout(app, v.token)))
  const elapsed = Date.now() - started
  for (const [i, res] of results.entries()) {
    t.equal(res.statusCode, 500)
    t.same(res.json(), INTERNAL)
    t.same(stateOf(app, victims[i]!, jtiOf(victims[i]!.token)), NOTHING, 'nothing half-revoked')
  }
  // One wait for the whole batch, not one per request: the event loop is blocked while SQLite waits.
  t.ok(elapsed < BUSY_TIMEOUT_MS * 2.5, `${victims.length} logouts failed in ${elapsed} ms`)

  other.exec('ROLLBACK')
  other.close()
  for (const v of victims) {
    t.equal((await logout(app, v.token)).statusCode, 200, 'recovered once the lock is released')
    t.same(stateOf(app, v, jtiOf(v.token)), ALL)
  }
})

t.test('a database that is gone: /health 503, routes 500 envelope', async (t) => {
  const { app } = await fileApp(t)
  const victim = await login(app)
  sqlite(app).close()
  const health = await app.inject({ method: 'GET', url: '/health' })
  t.equal(health.statusCode, 503)
  t.same(health.json(), { status: 'unavailable' })
  const res = await logout(app, victim.token)
  t.equal(res.statusCode, 500)
  t.same(res.json(), INTERNAL)
  assertNoLeak(t, res, victim.token)
  // The session lookups themselves: the auth hook's, and the one a bad body makes.
  const who = await me(app, victim.token)
  t.equal(who.statusCode, 500)
  t.same(who.json(), INTERNAL)
  const bad = await logout(app, victim.token, { token: victim.token, scope: 'everywhere' })
  t.equal(bad.statusCode, 500)
  t.same(bad.json(), INTERNAL)
})
