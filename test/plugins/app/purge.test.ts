import t from 'tap'
import { Writable } from 'node:stream'
import { build, login, me, testConfig, sqlite, waitFor } from '../../helper.js'
import { serverOptions } from '../../../lib/server-options.js'
import { MIN_BATCH } from '../../../plugins/app/purge.js'

/** Enough expired rows for several batches, whatever size they adapt to. */
const ROWS = 500

const now = () => Math.floor(Date.now() / 1000)

function seed (app: any, userId: string, expiredSessions: number, expiredRevocations: number) {
  const session = sqlite(app).prepare('INSERT INTO sessions (id, user_id, jti, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
  const revocation = sqlite(app).prepare('INSERT INTO revoked_tokens (jti, user_id, session_id, expires_at, revoked_at, reason) VALUES (?, ?, ?, ?, ?, ?)')
  sqlite(app).transaction(() => {
    for (let i = 0; i < expiredSessions; i++) session.run(`old-s-${i}`, userId, `old-j-${i}`, Date.now() - 7200_000, now() - 3600)
    for (let i = 0; i < expiredRevocations; i++) revocation.run(`old-r-${i}`, userId, `old-s-${i}`, now() - 3600, Date.now() - 7200_000, 'logout_local')
  })()
}
/** Polls (a loaded CI machine may fire timers late), failing with a message after 30 s. */
const until = (done: () => boolean) => waitFor('the purge to run', done, 30_000, 20)
const count = (app: any, table: string) => (sqlite(app).prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n

t.test('expired sessions and revocations go, in batches; live ones and unexpired revocations stay', async (t) => {
  const app = await build(t)
  const live = await login(app)
  const revoked = await login(app, live.email)
  await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { authorization: `Bearer ${revoked.token}` }, payload: { token: revoked.token } })
  seed(app, live.userId, ROWS * 2 + 100, ROWS + 7)
  // A revocation whose token expires in a minute is not expired yet. (Not
  // one second: a row is expired from its `exp` on, like the token, and a
  // slow machine's purge can take longer than the second that is left.)
  sqlite(app).prepare('INSERT INTO revoked_tokens (jti, user_id, session_id, expires_at, revoked_at, reason) VALUES (?, ?, ?, ?, ?, ?)')
    .run('almost', live.userId, 'x', now() + 60, Date.now(), 'logout_local')
  const [a, b] = [app.purge(), app.purge()]
  t.equal(a, b, 'one purge at a time')
  t.equal(await a, ROWS * 3 + 107)
  t.equal(count(app, 'sessions'), 1)
  t.equal(count(app, 'revoked_tokens'), 2)
  t.equal((await me(app, live.token)).statusCode, 200)
  t.equal((await me(app, revoked.token)).statusCode, 401, 'the revoked token is still refused')
  t.equal(await app.purge(), 0)
})

t.test('requests are served between batches', async (t) => {
  const app = await build(t)
  const live = await login(app)
  seed(app, live.userId, ROWS * 4, 0)
  const purging = app.purge()
  const res = await me(app, live.token)
  t.equal(res.statusCode, 200)
  t.ok(count(app, 'sessions') > 1, 'answered before the purge finished')
  t.equal(await purging, ROWS * 4)
})

t.test('runs on its interval; a failure is logged, not thrown', async (t) => {
  const lines: any[] = []
  const stream = new Writable({ write (chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb() } })
  const env = { PURGE_INTERVAL_SECONDS: '1', LOG_LEVEL: 'info' }
  const app = await build(t, env, { logger: { ...(serverOptions(testConfig(env)).logger as object), stream } })
  const live = await login(app)
  seed(app, live.userId, 3, 0)
  // Nothing but the timer calls the purge here.
  await until(() => count(app, 'sessions') === 1)
  t.pass('purged by the timer')
  sqlite(app).pragma('query_only = ON')
  await until(() => lines.some((l) => l.msg === 'purge failed' && l.level === 50))
  t.pass('a failed purge is logged as an error')
  sqlite(app).pragma('query_only = OFF')
})

t.test('close waits for a running purge and stops it after the current batch', async (t) => {
  const app = await build(t)
  const live = await login(app)
  seed(app, live.userId, ROWS * 3, 0)
  const purging = app.purge()
  await app.close()
  const n = await purging
  // The first batch looks at MIN_BATCH rows, the live session among them.
  t.ok(n >= MIN_BATCH - 1 && n < ROWS * 3, `stopped early (${n})`)
})

t.test('a purge failing while the server closes does not fail the close', async (t) => {
  const app = await build(t)
  const live = await login(app)
  seed(app, live.userId, 3, 0)
  sqlite(app).pragma('query_only = ON')
  const purging = app.purge()
  await t.resolves(app.close(), 'close() resolves')
  await t.rejects(purging, 'the purge itself reports its failure')
})
