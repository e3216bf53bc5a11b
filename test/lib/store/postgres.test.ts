/**
 * The PostgreSQL store runs the contract suite, each test on a schema of its
 * own (test/pg.ts), and shows what only it promises: migrations applied once
 * under a lock, a schema newer than the code refused, the start-up failure
 * in one line without the password, a lost database as a 503.
 */
import t, * as Tap from 'tap'
import pg from 'pg'
import { createPostgresStore, type PostgresStore } from '../../../lib/store/postgres/index.js'
import { migrate, migrations } from '../../../lib/store/postgres/migrate.js'
import { isUnavailable, retried } from '../../../lib/store/postgres/pool.js'
import { OPEN_CHUNK, PURGE_LOCK } from '../../../lib/store/postgres/writes.js'
import type { SessionInsert, SessionRef } from '../../../lib/domain.js'
import type { BatchOptions } from '../../../lib/store/postgres/batch.js'
import { nowSeconds } from '../../../lib/time.js'
import { sessionOf, sessionRow, storeContract } from './contract.js'
import { freshUrl, postgresOrSkip, proxy, TEST_DATABASE_URL, withDatabase } from '../../pg.js'
import { waitFor } from '../../helper.js'

/** A session row as login opens it, with the jti the test names. */
const withJti = (row: SessionInsert, jti: string): SessionInsert => { row[2] = jti; return row }

const log = { warn () {} }
const available = await postgresOrSkip()

if (available) {
  t.test('contract: PostgreSQL', async (t) => {
    storeContract(t, async (t, times) => {
      const store = await createPostgresStore({ url: await freshUrl(), ...times, log })
      t.teardown(() => store.close())
      return store
    })
  })
}

/** A store on its own schema, closed when `t` ends. */
async function open (t: Tap.Test, url?: string, warn: (...args: unknown[]) => void = () => {}): Promise<PostgresStore> {
  const store = await createPostgresStore({ url: url ?? await freshUrl(), toleranceSeconds: 0, auditRetentionDays: 0, log: { warn } })
  t.teardown(() => store.close())
  return store
}

const META = { ip: '192.0.2.1', userAgent: 'pg' }

if (available) {
  t.test('three instances starting at once on an empty schema apply each migration exactly once', async (t) => {
    const url = await freshUrl()
    const stores = await Promise.all([open(t, url), open(t, url), open(t, url)])
    const { rows } = await stores[0]!.pool.query('SELECT version, name FROM schema_migrations ORDER BY version')
    t.strictSame(rows, migrations().map((m) => ({ version: m.version, name: m.name })))
    t.equal(stores[1]!.description, stores[2]!.description)
  })

  t.test('a schema newer than the code stops the store with one line; nothing half-applied', async (t) => {
    const url = await freshUrl()
    const store = await open(t, url)
    await store.pool.query("INSERT INTO schema_migrations (version, name) VALUES (999, '999_future.sql')")
    await t.rejects(createPostgresStore({ url, toleranceSeconds: 0, auditRetentionDays: 0, log }),
      { name: 'SchemaTooNewError', message: `DATABASE_URL: the database schema is at version 999, newer than this code's ${migrations().at(-1)!.version}: run a newer release` })
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    t.teardown(() => client.end())
    await t.rejects(migrate(client, []), /schema is at version 999, newer than this code's 0/)
    await client.end()
    // A migration that fails half-way leaves nothing behind: its connection ends, which rolls it back.
    const broken = { version: 1000, name: '1000_broken.sql', sql: 'CREATE TABLE half_done (x int); SELECT 1 / 0' }
    const again = new pg.Client({ connectionString: url })
    await again.connect()
    t.teardown(() => again.end())
    await t.rejects(migrate(again, [...migrations(), { ...broken, version: 999 }, broken]), /division by zero/)
    await again.end()
    const { rows } = await store.pool.query("SELECT to_regclass('half_done') AS t, max(version) AS v FROM schema_migrations")
    t.strictSame(rows, [{ t: null, v: 999 }])
  })

  t.test('unreachable at start: one line naming DATABASE_URL, never its password', async (t) => {
    const err = await createPostgresStore({ url: 'postgres://root:hunter2@127.0.0.1:1/auth', toleranceSeconds: 0, auditRetentionDays: 0, log }).catch((e: Error) => e) as Error
    t.equal(err.message, 'DATABASE_URL: PostgreSQL at postgres://root@127.0.0.1:1/auth cannot be used: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:1')
    t.notMatch(err.message, /hunter2|\n/)
    const missing = withDatabase(TEST_DATABASE_URL, 'auth_sessions_no_such_database')
    await t.rejects(createPostgresStore({ url: missing, toleranceSeconds: 0, auditRetentionDays: 0, log }),
      { message: /^DATABASE_URL: PostgreSQL at .*auth_sessions_no_such_database cannot be used: 3D000 database "auth_sessions_no_such_database" does not exist$/ })
  })

  t.test('the description names the database without the password', async (t) => {
    const url = new URL(await freshUrl())
    url.password = 'hunter2'
    const store = await open(t, url.toString())
    t.notMatch(store.description, 'hunter2')
    t.match(store.description, /^PostgreSQL postgres:\/\/root@127\.0\.0\.1/)
  })

  t.test('the database lost while running: reads and writes fail with a 503, and work again once it is back', async (t) => {
    const px = await proxy(t, await freshUrl())
    const warnings: string[] = []
    const store = await open(t, px.url, (_o, msg) => warnings.push(msg as string))
    await store.register({ id: 'u1', email: 'a@example.com', hash: 'h', createdAt: 1 }, { type: 'register', outcome: 'success', userId: 'u1', sessionId: null, jti: null, ip: null, userAgent: null, at: 1 })
    await store.openSessions([withJti(sessionRow('s1', 'u1', Date.now(), nowSeconds() + 60), 'j1')], META, Date.now())
    await px.down()
    await waitFor('the idle connection to be reported lost', () => warnings.length > 0)
    t.equal(warnings[0], 'an idle PostgreSQL connection was lost')
    const unavailable = { code: 'SERVICE_UNAVAILABLE', statusCode: 503 }
    await t.rejects(sessionOf(store, 'u1', 's1'), unavailable)
    await t.rejects(store.logout({ id: 's1', userId: 'u1', jti: 'j1' }, 'local', META), unavailable)
    await t.rejects(store.ping(), unavailable)
    await t.rejects(store.liveSessions('u1'), unavailable)
    await px.up()
    t.match(await sessionOf(store, 'u1', 's1'), { id: 's1', email: 'a@example.com' }, 'recovered without a restart')
    t.equal((await store.logout({ id: 's1', userId: 'u1', jti: 'j1' }, 'local', META)).count, 1)
  })

  t.test('a statement that is wrong is not a 503: it fails as itself, nothing written', async (t) => {
    const store = await open(t)
    await store.register({ id: 'u1', email: 'a@example.com', hash: 'h', createdAt: 1 }, { type: 'register', outcome: 'success', userId: 'u1', sessionId: null, jti: null, ip: null, userAgent: null, at: 1 })
    const at = Date.now()
    const rows = Array.from({ length: OPEN_CHUNK + 10 }, (_, i): SessionInsert => withJti(sessionRow(`s${i}`, 'u1', at, nowSeconds() + 60), `j${i}`))
    await store.openSessions(rows, META, at)
    t.equal((await store.liveSessions('u1')).length, OPEN_CHUNK + 10, 'a seed larger than one statement, in one transaction')
    const dup = Array.from({ length: OPEN_CHUNK + 1 }, (_, i): SessionInsert => withJti(sessionRow(`n${i}`, 'u1', at, nowSeconds() + 60), `k${i}`))
    dup.push(withJti(sessionRow('s0', 'u1', at, nowSeconds() + 60), 'again'))
    const err = await store.openSessions(dup, META, at).catch((e: Error & { code?: string }) => e)
    t.match(err, { code: '23505' }, 'a unique violation, as it is (a 500)')
    t.equal((await store.liveSessions('u1')).length, OPEN_CHUNK + 10, 'all or nothing')
  })

  t.test('purge: one instance at a time; another instance\'s batch ends this sweep', async (t) => {
    const store = await open(t)
    const other = await store.pool.connect()
    t.teardown(() => other.release(true))
    await other.query('SELECT pg_advisory_lock($1)', [PURGE_LOCK])
    t.strictSame(await store.purge('sessions', 10, null), { deleted: 0, next: null })
    await other.query('SELECT pg_advisory_unlock($1)', [PURGE_LOCK])
    t.strictSame(await store.purge('revocations', 10, null), { deleted: 0, next: null })
  })

  t.test('which failures are the database being unavailable', async (t) => {
    const dbError = (code: string) => Object.assign(new pg.DatabaseError('x', 1, 'error'), { code })
    for (const code of ['08006', '08001', '53300', '57P01', '57014', '55P03']) t.ok(isUnavailable(dbError(code)), code)
    for (const code of ['08P01', '23505', '42P01', '40P01']) t.notOk(isUnavailable(dbError(code)), code)
    t.ok(isUnavailable(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })))
    t.ok(isUnavailable(new Error('Connection terminated unexpectedly')))
    t.ok(isUnavailable(new Error('timeout exceeded when trying to connect')))
    t.notOk(isUnavailable(new TypeError('x is not a function')))
    t.notOk(isUnavailable('a string'))
    t.notOk(isUnavailable(new pg.DatabaseError('no code', 1, 'error')))
  })
}

/** Local logouts several to a statement (lib/store/postgres/logout-batch.ts). */
if (available) {
  const register = (store: PostgresStore, id: string) =>
    store.register({ id, email: `${id}@example.com`, hash: 'h', createdAt: 1 }, { type: 'register', outcome: 'success', userId: id, sessionId: null, jti: null, ip: null, userAgent: null, at: 1 })

  /**
   * A store whose local logouts are batched as `batching` says, with
   * `perUser` sessions for each of `users` (`s-<user>-<k>`, token
   * `j-<user>-<k>`), in key order. Its connections check for a deadlock
   * after `deadlockMs` of waiting.
   */
  async function batched (t: Tap.Test, users: string[], batching: BatchOptions, perUser = 1, deadlockMs = 1000) {
    const url = new URL(await freshUrl())
    url.searchParams.set('options', `${url.searchParams.get('options')} -c deadlock_timeout=${deadlockMs}`)
    const store = await createPostgresStore({ url: url.toString(), toleranceSeconds: 0, auditRetentionDays: 0, log, batching })
    t.teardown(() => store.close())
    for (const u of users) await register(store, u)
    const at = Date.now()
    const sessions = users.flatMap((u) => Array.from({ length: perUser }, (_, k): SessionRef => ({ userId: u, id: `s-${u}-${k}`, jti: `j-${u}-${k}` })))
    await store.openSessions(sessions.map((s) => withJti(sessionRow(s.id, s.userId, at, nowSeconds() + 60), s.jti)), META, at)
    return { store, sessions }
  }

  /** A connection of its own in an open transaction, holding the row lock of each of `sessions`; ended when `t` ends. */
  async function holding (t: Tap.Test, store: PostgresStore, sessions: SessionRef[]) {
    const c = await store.pool.connect()
    t.teardown(() => c.release(true))
    await c.query('BEGIN')
    await c.query('SELECT 1 FROM sessions WHERE id = ANY ($1) FOR UPDATE', [sessions.map((s) => s.id)])
    return c
  }

  /** Resolves when `n` statements on the store's database wait for a lock; fails after 5 s. */
  async function lockWaits (store: PostgresStore, n: number): Promise<void> {
    const deadline = Date.now() + 5000
    for (;;) {
      const { rows: [row] } = await store.pool.query<{ n: number }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
      if (row!.n === n) return
      if (Date.now() > deadline) throw new Error(`not within 5 s: ${n} statements waiting for a lock (${row!.n})`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  /** What the database holds of `sessions`: rows left, revocation records, audit rows of their ending. */
  async function traces (store: PostgresStore, sessions: SessionRef[]) {
    const ids = sessions.map((s) => s.id)
    const count = async (sql: string) => Number((await store.pool.query<{ n: string }>(sql, [ids])).rows[0]!.n)
    return {
      sessions: await count('SELECT count(*) AS n FROM sessions WHERE id = ANY ($1)'),
      revoked: await count('SELECT count(*) AS n FROM revoked_tokens WHERE session_id = ANY ($1)'),
      audited: await count("SELECT count(*) AS n FROM audit_events WHERE type IN ('logout', 'session_revoked') AND session_id = ANY ($1)")
    }
  }

  /** The number of requests in each statement named `name` the store sends from now on. */
  function batchSizes (store: PostgresStore, name: string): number[] {
    const sizes: number[] = []
    const pool = store.pool as unknown as { query: (q: { name?: string, values?: unknown[][] }, ...rest: unknown[]) => Promise<unknown> }
    const query = pool.query.bind(pool)
    pool.query = (q, ...rest) => {
      if (q.name === name) sizes.push(q.values![0]!.length)
      return query(q, ...rest)
    }
    return sizes
  }

  t.test('logouts that arrive while a statement runs go together, a batch at most `maxBatch`', async (t) => {
    // Four sessions for each of five users: sessions of one user go together.
    const { store, sessions } = await batched(t, ['u1', 'u2', 'u3', 'u4', 'u5'], { maxInFlight: 1, maxBatch: 8 }, 4)
    const batches = batchSizes(store, 'logoutLocalBatch')
    const answers = await Promise.all(sessions.map((s) => store.logout(s, 'local', META)))
    t.strictSame(answers.map((a) => a.count), sessions.map(() => 1), 'each ended')
    t.strictSame(batches, [8, 8, 3], 'the first alone (one statement of its own), the rest in three statements')
    t.strictSame(await traces(store, sessions), { sessions: 0, revoked: 20, audited: 20 })
    // The same logouts again: each answered as gone, by a batch too.
    const again = await Promise.all(sessions.map((s) => store.logout(s, 'local', META)))
    t.ok(again.every((a) => a.count === null))
    t.strictSame(await traces(store, sessions), { sessions: 0, revoked: 20, audited: 20 }, 'nothing written twice')
  })

  t.test('a batch that loses a deadlock is run again one logout at a time: every logout answered, nothing twice', async (t) => {
    const { store, sessions: [first, s1, s2] } = await batched(t, ['a', 'b', 'c'], { maxInFlight: 1 })
    const holdsFirst = await holding(t, store, [first!])
    const holdsS2 = await holding(t, store, [s2!])
    // This side waits long enough that the batch is the one PostgreSQL ends.
    await holdsS2.query("SET LOCAL deadlock_timeout = '10s'")
    const logouts = [first, s1, s2].map((s) => store.logout(s!, 'local', META))
    await lockWaits(store, 1)
    await holdsFirst.query('COMMIT')
    await logouts[0]
    // The batch (b, then c) locks b's row and waits for c's; this side then waits for b's.
    await lockWaits(store, 1)
    await holdsS2.query('DELETE FROM sessions WHERE id = $1', [s1!.id])
    await holdsS2.query('ROLLBACK')
    const answers = await Promise.all(logouts)
    t.strictSame(answers.map((a) => a.count), [1, 1, 1])
    t.strictSame(await traces(store, [first!, s1!, s2!]), { sessions: 0, revoked: 3, audited: 3 })
  })

  t.test('a batch whose connection is lost fails every logout in it; none of their sessions is touched', async (t) => {
    const { store, sessions: [first, s1, s2] } = await batched(t, ['a', 'b', 'c'], { maxInFlight: 1 })
    const holdsFirst = await holding(t, store, [first!])
    const holdsS2 = await holding(t, store, [s2!])
    const logouts = [first, s1, s2].map((s) => store.logout(s!, 'local', META).then((r) => r.count, (err: Error) => err))
    await lockWaits(store, 1)
    await holdsFirst.query('COMMIT')
    await logouts[0]
    await lockWaits(store, 1)
    await store.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'`)
    const [one, ...batch] = await Promise.all(logouts)
    t.equal(one, 1, 'the logout before the batch')
    for (const err of batch) t.match(err, { code: 'SERVICE_UNAVAILABLE', statusCode: 503 })
    await holdsS2.query('ROLLBACK')
    t.strictSame(await traces(store, [s1!, s2!]), { sessions: 2, revoked: 0, audited: 0 }, 'untouched')
    t.strictSame((await Promise.all([s1, s2].map((s) => store.logout(s!, 'local', META)))).map((a) => a.count), [1, 1], 'and ended by the next logouts')
  })

  t.test('a logout of all devices and a batch that deadlock: the one PostgreSQL ends is run again, every answer stands', async (t) => {
    // Deadlocks are looked for after 200 ms of waiting, once per wait.
    const { store, sessions: [first, s1, s2] } = await batched(t, ['a', 'u'], { maxInFlight: 1 }, 2, 200).then(
      ({ store, sessions }) => ({ store, sessions: [sessions[0], sessions[2], sessions[3]] }))
    const holdsFirst = await holding(t, store, [first!])
    const holdsS2 = await holding(t, store, [s2!])
    const local = [first, s1, s2].map((s) => store.logout(s!, 'local', META))
    await lockWaits(store, 1)
    // From s2, all devices of u: it takes u's row, then waits for s2.
    const global = store.logout(s2!, 'global', META)
    await lockWaits(store, 2)
    await holdsFirst.query('COMMIT')
    await local[0]
    // The batch (s1, s2) takes s1 and waits for s2, behind the global logout.
    await lockWaits(store, 2)
    // Past the batch's one look for a deadlock: there was none yet.
    await new Promise((resolve) => setTimeout(resolve, 400))
    // s2 goes to the global logout, which then waits for s1, held by the batch,
    // which waits for s2 anew: a deadlock. Which of the two PostgreSQL ends
    // depends on whose look comes first; either way, every answer stands.
    await holdsS2.query('ROLLBACK')
    const counts = (await Promise.all(local)).map((a) => a.count)
    const all = await global
    t.equal(counts[0], 1)
    if (all.count === null) t.strictSame(counts, [1, 1, 1], 'the batch won; the global logout, run again, found its session gone')
    else t.strictSame([all.count, counts[1], counts[2]], [2, null, null], 'the global logout won; the batch, run again one by one, found both gone')
    t.strictSame(await traces(store, [first!, s1!, s2!]), { sessions: 0, revoked: 3, audited: 3 })
  })

  t.test('a statement is run again after a conflict at most three times, then fails as itself', async (t) => {
    const conflict = (code: string) => Object.assign(new pg.DatabaseError('conflict', 1, 'error'), { code })
    let calls = 0
    const failing = async (codes: string[]) => { calls = 0; return retried(async () => { const code = codes[calls++]; if (code !== undefined) throw conflict(code); return 'done' }) }
    t.equal(await failing(['40P01', '40001', '40P01']), 'done')
    t.equal(calls, 4)
    await t.rejects(failing(['40P01', '40P01', '40P01', '40001']), { code: '40001' })
    t.equal(calls, 4, 'three runs again, no more')
    await t.rejects(failing(['23505']), { code: '23505' })
    t.equal(calls, 1, 'any other error is not run again')
  })

  t.test('session lookups that arrive while one runs go together; each gets its own row, or none', async (t) => {
    const { store, sessions } = await batched(t, ['u1', 'u2', 'u3'], { maxInFlight: 1, maxBatch: 8 }, 4)
    const batches = batchSizes(store, 'sessions')
    t.equal((await store.logout(sessions[5]!, 'local', META)).count, 1)
    const keys = [...sessions, sessions[0]!, sessions[1]!, { ...sessions[2]!, userId: 'u3' }, { ...sessions[3]!, id: 'unknown' }]
    const rows = await Promise.all(keys.map((k) => sessionOf(store, k.userId, k.id)))
    t.strictSame(batches, [8, 7], 'the first alone, the rest in two statements')
    keys.forEach((k, i) => {
      const row = rows[i]
      if (k === sessions[5] || k.userId !== k.id.split('-')[1] || k.id === 'unknown') t.equal(row, undefined, `${k.userId} ${k.id}: none`)
      else t.match(row, { id: k.id, userId: k.userId, jti: k.jti, email: `${k.userId}@example.com`, ip: META.ip }, `${k.userId} ${k.id}`)
    })
  })
}
