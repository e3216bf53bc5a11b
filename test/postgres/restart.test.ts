/**
 * SPEC §7, "an acknowledged revocation survives a restart of PostgreSQL",
 * with real processes: three server processes on one database of a
 * PostgreSQL server of the test's own (test/pg-server.ts: the machine's is
 * shared and never restarted), logout load spread over the three, and the
 * database restarted under it: a fast shutdown, then a SIGKILL of the
 * postmaster (recovery from the WAL). While it is down, requests answer 503
 * with Retry-After (or 500), never later than the store's bounded
 * timeouts; then all three instances recover by themselves, and every
 * logout that was answered 200 is refused on every instance and recorded
 * in the database. A logout that failed is all-or-nothing.
 */
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { call, start, stop, type Server } from '../spawn.js'
import { tempDir, testConfig, waitFor } from '../helper.js'
import { claimsOf } from '../jwt.js'
import { ownPostgres, ownPostgresOrSkip, type OwnPostgres } from '../pg-server.js'
import { seed } from '../../scripts/seed.js'

/** Concurrent clients of the load, each sending one logout at a time. */
const CLIENTS = 12
/** A request answers within this, database down or not (the store's connect and query timeouts are 2 and 5 s). */
const BOUND_MS = 8000
/** How long the database stays down: long enough for many requests to find it gone. */
const DOWN_MS = 1500

if (ownPostgresOrSkip()) {
  t.test('three instances on a PostgreSQL server of our own', async (t) => {
    const own = await ownPostgres(t)
    const dir = tempDir(t)
    const tokensFile = join(dir, 'tokens.txt')
    await seed(testConfig({ DATABASE_URL: own.url }), { sessions: 10_000, tokensFile, revoked: 0 })
    const tokens = readFileSync(tokensFile, 'utf8').trim().split('\n')
    const servers = await Promise.all([0, 1, 2].map(() => start({ DATABASE_URL: own.url })))
    t.teardown(() => Promise.all(servers.map((s) => stop(s))))
    let next = 0
    const take = () => tokens[next++]

    t.test('a fast shutdown and start under load', (t) => restartUnderLoad(t, own, servers, take, 'stop'))
    t.test('a SIGKILL of the postmaster and start under load', (t) => restartUnderLoad(t, own, servers, take, 'kill'))
  })
}

/**
 * Runs the calls CLIENTS at a time: hundreds at once would wait for one of
 * an instance's 10 connections longer than the pool's 2 s and get a 503,
 * which is the overload answer, not what these checks are about.
 */
async function limited<T> (calls: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < calls.length; i += CLIENTS) out.push(...await Promise.all(calls.slice(i, i + CLIENTS).map((c) => c())))
  return out
}

interface Outcome { token: string, status: number, ms: number, retryAfter: string | null }

async function restartUnderLoad (t: Test, db: OwnPostgres, servers: Server[], take: () => string | undefined, how: 'stop' | 'kill') {
  const outcomes: Outcome[] = []
  const load$ = { running: true }
  let sent = 0
  const client = async (k: number) => {
    for (let i = k; load$.running; i += CLIENTS) {
      const token = take()
      if (token === undefined) throw new Error('out of seeded tokens')
      const started = Date.now()
      const r = await call(servers[i % 3]!.url, 'POST', '/api/v1/auth/logout', { token, body: { token }, timeoutMs: BOUND_MS })
      sent++
      outcomes.push({ token, status: r.status, ms: Date.now() - started, retryAfter: r.headers.get('retry-after') })
      // A client told to come back later waits a little (not Retry-After's 5 s: the test wants requests while it is down).
      if (r.status !== 200) await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  const load = Promise.all(Array.from({ length: CLIENTS }, (_, k) => client(k)))
  const acked = () => outcomes.filter((o) => o.status === 200).length

  await waitFor('logouts acknowledged before the restart', () => acked() >= 50, 20_000)
  const before = acked()
  const pid = db.pid()
  await (how === 'stop' ? db.stop() : db.kill())
  const downAt = sent
  const health = await call(servers[0]!.url, 'GET', '/health', { timeoutMs: BOUND_MS })
  t.equal(health.status, 503, '/health is 503 while the database is down')
  await new Promise((resolve) => setTimeout(resolve, DOWN_MS))
  t.ok(sent > downAt, `requests went on while it was down (${sent - downAt})`)
  await db.start()
  t.not(db.pid(), pid, 'a new postmaster')

  // Every instance recovers by itself, within a bound.
  const healthy = new Set<number>()
  const until = Date.now() + 30_000
  while (healthy.size < 3) {
    if (Date.now() > until) throw new Error(`instances ${[0, 1, 2].filter((i) => !healthy.has(i)).join(', ')} not healthy 30 s after the database came back`)
    await Promise.all(servers.map(async (s, i) => {
      if ((await call(s.url, 'GET', '/health', { timeoutMs: BOUND_MS })).status === 200) healthy.add(i)
    }))
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.pass('all three instances answer /health 200 again')
  const recovered = acked()
  await waitFor('logouts acknowledged after the restart', () => acked() >= recovered + 50, 20_000)
  load$.running = false
  await load

  const statuses = [...new Set(outcomes.map((o) => o.status))].sort()
  t.ok(before > 0 && acked() > recovered, `${acked()} of ${outcomes.length} acknowledged (statuses ${statuses.join(', ')})`)
  t.same(outcomes.filter((o) => ![200, 500, 503].includes(o.status)), [], 'every answer is 200, or 503/500 while the database is down')
  const unavailable = outcomes.filter((o) => o.status === 503)
  t.ok(unavailable.length > 0, `${unavailable.length} answered 503`)
  t.same(unavailable.filter((o) => o.retryAfter !== '5'), [], 'every 503 has Retry-After')
  const slowest = Math.max(...outcomes.map((o) => o.ms))
  t.ok(slowest < BOUND_MS, `no request took longer than ${BOUND_MS} ms (slowest ${slowest} ms)`)

  // No acknowledged logout lost: refused on every instance, gone from the database, its revocation recorded.
  const ackedTokens = outcomes.filter((o) => o.status === 200).map((o) => o.token)
  const refused = await limited(ackedTokens.flatMap((token) => servers.map((s, i) => async () => {
    const r = await call(s.url, 'GET', '/api/v1/auth/me', { token, timeoutMs: BOUND_MS })
    return { instance: i, status: r.status, body: r.body }
  })))
  t.same(refused.filter((r) => r.status !== 401), [], `each of the ${ackedTokens.length} acknowledged tokens is 401 on all three instances`)
  const claims = ackedTokens.map(claimsOf)
  const c = new pg.Client({ connectionString: db.url })
  await c.connect()
  try {
    const live = await c.query('SELECT s.id FROM sessions s JOIN unnest($1::text[], $2::text[]) AS a (u, i) ON s.user_id = a.u AND s.id = a.i',
      [claims.map((x) => x.sub), claims.map((x) => x.sid)])
    t.same(live.rows, [], 'no acknowledged session row is back')
    const revoked = await c.query<{ jti: string, sid: string }>('SELECT jti, session_id AS sid FROM revoked_tokens WHERE jti = ANY ($1::text[])', [claims.map((x) => x.jti)])
    const recorded = new Map(revoked.rows.map((r) => [r.jti, r.sid]))
    t.same(claims.filter((x) => recorded.get(x.jti) !== x.sid).map((x) => x.sid), [], 'every acknowledged logout has its revocation record')
  } finally {
    await c.end()
  }

  // A logout that failed is all or nothing: the session either ended (401) or still works and logs out now (200).
  const failed = outcomes.filter((o) => o.status !== 200)
  const again = await limited(failed.map((o, i) => async () =>
    (await call(servers[i % 3]!.url, 'POST', '/api/v1/auth/logout', { token: o.token, body: { token: o.token }, timeoutMs: BOUND_MS })).status))
  t.same(again.filter((s) => s !== 200 && s !== 401), [], `the ${failed.length} failed logouts: each ended or still live, none half-done`)
}
