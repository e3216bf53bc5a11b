/**
 * The Store contract (lib/store/store.ts) as one suite that every
 * implementation runs: what makes the stores agree. Each test gets a fresh,
 * empty store from `make` and talks to it only through the contract.
 */
import type { Test } from 'tap'
import type { PurgeCursor, PurgeTable, Store, StoreTimes } from '../../../lib/store/store.js'
import type { AuditEvent, SessionInsert, SessionRef, SessionRow } from '../../../lib/domain.js'
import { nowSeconds } from '../../../lib/time.js'
import { hashOf } from '../../../lib/refresh.js'

export type MakeStore = (t: Test, times: StoreTimes) => Promise<Store>

const META = { ip: '192.0.2.1', userAgent: 'contract' }
let counter = 0

/** The store's session lookup as a promise. */
export function sessionOf (store: Store, userId: string, id: string): Promise<SessionRow | undefined> {
  return new Promise((resolve, reject) => {
    store.session(userId, id, (err, row) => { if (err === null) resolve(row); else reject(err) })
  })
}

function event (type: AuditEvent['type'], userId: string | null, at = Date.now()): AuditEvent {
  return { type, outcome: type === 'login_failed' ? 'failure' : 'success', userId, sessionId: null, jti: null, ip: META.ip, userAgent: META.userAgent, at }
}

async function user (store: Store, email = `u${++counter}@example.com`): Promise<string> {
  const id = `user-${++counter}`
  if (!await store.register({ id, email, hash: 'hash', createdAt: 1000 }, event('register', id))) throw new Error('register failed')
  return id
}

/** Opens sessions for `userId`; each expires `ttl` seconds from now, created 1 ms apart. */
async function open (store: Store, userId: string, count = 1, ttl = 3600, at = Date.now(), refreshHash?: Buffer): Promise<SessionRef[]> {
  const rows: SessionInsert[] = Array.from({ length: count }, (_, i) => sessionRow(`s${++counter}`, userId, at + i, nowSeconds() + ttl, refreshHash))
  await store.openSessions(rows, META, at)
  return rows.map(([id, , jti]) => ({ id, userId, jti }))
}

/** A session row as login opens it, its token and its deadline both at `deadline`. */
export function sessionRow (id: string, userId: string, createdAt: number, deadline: number, refreshHash = hashOf(`refresh-${id}`)): SessionInsert {
  return [id, userId, `j-${id}`, createdAt, deadline, Math.floor(createdAt / 1000), deadline, refreshHash, deadline]
}

/** A whole purge sweep of `table`, `limit` rows a step: the rows each step deleted. */
async function sweep (store: Store, table: PurgeTable, limit: number): Promise<number[]> {
  const steps: number[] = []
  for (let after: PurgeCursor | null = null; ;) {
    const step = await store.purge(table, limit, after)
    steps.push(step.deleted)
    if ((after = step.next) === null) return steps
  }
}

export function storeContract (t: Test, make: MakeStore): void {
  const fresh = (t: Test, toleranceSeconds = 0, auditRetentionDays = 0) => make(t, { toleranceSeconds, auditRetentionDays })

  t.test('register: the user and its audit row; a taken e-mail writes nothing', async (t) => {
    const store = await fresh(t)
    const id = await user(store, 'ada@example.com')
    t.match(await store.userByEmail('ada@example.com'), { id, email: 'ada@example.com', hash: 'hash', createdAt: 1000 })
    t.equal(await store.userByEmail('nobody@example.com'), undefined)
    t.equal(await store.register({ id: 'other', email: 'ada@example.com', hash: 'h', createdAt: 1 }, event('register', 'other')), false)
    t.strictSame((await store.recentEvents(id, 50)).map((e) => e.type), ['register'])
    t.strictSame(await store.recentEvents('other', 50), [], 'no audit row for the refused registration')
  })

  t.test('sessions: opened with their login rows, found only with their owner', async (t) => {
    const store = await fresh(t)
    const a = await user(store, 'a@example.com')
    const b = await user(store)
    const [s] = await open(store, a)
    t.match(await sessionOf(store, a, s!.id), { id: s!.id, userId: a, jti: s!.jti, email: 'a@example.com', ip: META.ip, userAgent: META.userAgent })
    t.equal(await sessionOf(store, b, s!.id), undefined, 'another user')
    t.equal(await sessionOf(store, a, 'nope'), undefined)
    const events = await store.recentEvents(a, 50)
    t.match(events[0], { type: 'login', sessionId: s!.id, ip: META.ip })
  })

  t.test('liveSessions: newest first, expired ones left out', async (t) => {
    const store = await fresh(t)
    const a = await user(store)
    const live = await open(store, a, 3)
    await open(store, a, 1, -10)
    t.strictSame((await store.liveSessions(a)).map((s) => s.id), live.map((s) => s.id).reverse())
  })

  t.test('logout local: one session ended with its record; a second logout finds nothing', async (t) => {
    const store = await fresh(t)
    const a = await user(store)
    const [s1, s2] = await open(store, a, 2)
    const first = await store.logout(s1!, 'local', META)
    t.equal(first.count, 1)
    t.match(first.events, [{ type: 'logout', sessionId: s1!.id, jti: s1!.jti, userId: a }])
    t.match(first.revoked, [{ jti: s1!.jti, userId: a, sessionId: s1!.id, reason: 'logout_local' }])
    t.ok(first.revoked[0]!.expiresAt > nowSeconds(), 'with its token\'s expiry')
    t.equal(await sessionOf(store, a, s1!.id), undefined)
    t.ok(await sessionOf(store, a, s2!.id), 'the other session lives')
    t.strictSame(await store.logout(s1!, 'local', META), { count: null, events: [], revoked: [] })
    const { rows } = await store.revocations(100, null)
    t.match(rows, [{ jti: s1!.jti, userId: a, sessionId: s1!.id, reason: 'logout_local' }])
  })

  t.test('concurrent local logouts, repeated ones among them: each session ended once, each answered for its own', async (t) => {
    const store = await fresh(t)
    const users = await Promise.all(Array.from({ length: 12 }, () => user(store)))
    // Three sessions of each user, so that sessions of one user are in flight together.
    const sessions = (await Promise.all(users.map((u) => open(store, u, 3)))).flat()
    const stale = sessions.slice(0, 4)
    for (const s of stale) t.equal((await store.logout(s, 'local', META)).count, 1)
    const live = sessions.slice(4)
    // Every live session three times, the stale ones and a forged token once, all at once.
    const calls = [...live, ...live, ...stale, { ...live[0]!, jti: 'forged' }, ...live]
    const answers = await Promise.all(calls.map((s) => store.logout(s, 'local', META)))
    for (const s of live) {
      const mine = answers.filter((a, i) => calls[i] === s)
      t.equal(mine.filter((a) => a.count === 1).length, 1, `${s.id}: one logout of three ends it`)
      const won = mine.find((a) => a.count === 1)!
      t.match(won.events, [{ type: 'logout', sessionId: s.id, jti: s.jti, userId: s.userId }])
      t.match(won.revoked, [{ jti: s.jti, sessionId: s.id, userId: s.userId, reason: 'logout_local' }])
      t.equal(await sessionOf(store, s.userId, s.id), undefined)
    }
    t.equal(answers.filter((a) => a.count === null).length, calls.length - live.length, 'every other one finds nothing')
    t.ok(answers.every((a) => a.count === 1 || (a.events.length === 0 && a.revoked.length === 0)))
    const { rows } = await store.revocations(1000, null)
    t.equal(rows.length, sessions.length, 'one record per session')
    t.strictSame(new Set(rows.map((r) => r.jti)), new Set(sessions.map((s) => s.jti)))
    for (const u of users) t.equal((await store.recentEvents(u, 100)).filter((e) => e.type === 'logout').length, 3, 'one audit row per session')
  })

  t.test('logout of a session whose row names another token: nothing changes', async (t) => {
    const store = await fresh(t)
    const a = await user(store)
    const [s] = await open(store, a)
    t.strictSame(await store.logout({ ...s!, jti: 'stale' }, 'global', META), { count: null, events: [], revoked: [] })
    t.strictSame(await store.logout({ ...s!, userId: 'someone-else' }, 'local', META), { count: null, events: [], revoked: [] })
    t.ok(await sessionOf(store, a, s!.id))
    t.strictSame((await store.revocations(100, null)).rows, [])
  })

  t.test('logout others and global: every session of the user the scope covers, one record each', async (t) => {
    const store = await fresh(t)
    const a = await user(store)
    const b = await user(store)
    const [mine, o1, o2] = await open(store, a, 3)
    const [bystander] = await open(store, b)
    const others = await store.logout(mine!, 'others', META)
    t.equal(others.count, 2)
    t.strictSame(others.events.map((e) => e.type), ['session_revoked', 'session_revoked'])
    t.ok(await sessionOf(store, a, mine!.id), 'the current session stays')
    t.equal(await sessionOf(store, a, o1!.id), undefined)
    t.equal(await sessionOf(store, a, o2!.id), undefined)
    const [again] = await open(store, a)
    const global = await store.logout(mine!, 'global', META)
    t.equal(global.count, 2)
    t.strictSame(global.events.map((e) => e.type).sort(), ['logout', 'session_revoked'])
    t.equal(await sessionOf(store, a, again!.id), undefined)
    t.ok(await sessionOf(store, b, bystander!.id), 'another user untouched')
    t.equal((await store.revocations(100, null)).rows.length, 4)
  })

  t.test('logout others by a session already gone: nothing changes', async (t) => {
    const store = await fresh(t)
    const a = await user(store)
    const [mine, other] = await open(store, a, 2)
    await store.logout(mine!, 'local', META)
    t.strictSame(await store.logout(mine!, 'others', META), { count: null, events: [], revoked: [] })
    t.ok(await sessionOf(store, a, other!.id))
  })

  t.test('revokeById: own live session revoked; unknown, foreign or expired is not_found; a gone caller is gone', async (t) => {
    const store = await fresh(t)
    const a = await user(store)
    const b = await user(store)
    const [mine, other] = await open(store, a, 2)
    const [expired] = await open(store, a, 1, -10)
    const [foreign] = await open(store, b)
    t.match(await store.revokeById(mine!, other!.id, META), { outcome: 'revoked', events: [{ type: 'session_revoked', sessionId: other!.id }] })
    t.equal(await sessionOf(store, a, other!.id), undefined)
    t.strictSame(await store.revokeById(mine!, other!.id, META), { outcome: 'not_found', events: [], revoked: [] })
    t.strictSame(await store.revokeById(mine!, foreign!.id, META), { outcome: 'not_found', events: [], revoked: [] })
    t.strictSame(await store.revokeById(mine!, expired!.id, META), { outcome: 'not_found', events: [], revoked: [] })
    t.ok(await sessionOf(store, b, foreign!.id))
    await store.logout(mine!, 'local', META)
    const [third] = await open(store, a)
    t.strictSame(await store.revokeById(mine!, third!.id, META), { outcome: 'gone', events: [], revoked: [] })
  })

  t.test('audit: newest first, at most `limit`', async (t) => {
    const store = await fresh(t)
    const a = await user(store)
    for (let i = 0; i < 5; i++) await store.audit({ ...event('login_failed', a), ip: `10.0.0.${i}` })
    const recent = await store.recentEvents(a, 3)
    t.strictSame(recent.map((e) => e.ip), ['10.0.0.4', '10.0.0.3', '10.0.0.2'])
    t.match(recent[0], { type: 'login_failed', sessionId: null, userAgent: META.userAgent })
    t.type(recent[0]!.at, 'number')
  })

  t.test('setting: the first value stored wins, also among concurrent callers', async (t) => {
    const store = await fresh(t)
    const all = await Promise.all(['v1', 'v2', 'v3'].map((v) => store.setting('k', v)))
    t.equal(new Set(all.map((r) => r.value)).size, 1)
    t.equal(all.filter((r) => r.created).length, 1)
    t.strictSame(await store.setting('k', 'later'), { value: all[0]!.value, created: false })
  })

  t.test('purge: expired rows go in bounded steps, live ones and the tolerance window stay', async (t) => {
    const store = await fresh(t, 5)
    const a = await user(store)
    const live = await open(store, a, 3)
    const withinTolerance = await open(store, a, 1, -2)
    await open(store, a, 4, -10)
    const toRevoke = await open(store, a, 2)
    for (const s of toRevoke) await store.logout(s, 'local', META)
    const steps = await sweep(store, 'sessions', 2)
    // How a store walks its rows is its own (SQLite: the key in order,
    // PostgreSQL: the expiry index); what it promises is a bounded step.
    t.equal(steps.reduce((a, b) => a + b), 4)
    t.ok(steps.length >= 2 && steps.every((n) => n <= 2), `at most two rows a step (${steps.join(', ')})`)
    t.strictSame((await store.liveSessions(a)).map((s) => s.id).sort(), [...live, ...withinTolerance].map((s) => s.id).sort())
    t.equal((await store.purge('revocations', 100, null)).deleted, 0, 'revocations of live tokens stay')
    t.equal((await store.revocations(100, null)).rows.length, 2)
  })

  t.test('revocations: unexpired records in pages, in the order written', async (t) => {
    const store = await fresh(t)
    const a = await user(store)
    const sessions = await open(store, a, 5)
    for (const s of sessions) await store.logout(s, 'local', META)
    const seen: string[] = []
    let pages = 0
    for (let after = null as Awaited<ReturnType<Store['revocations']>>['next']; ; pages++) {
      const page = await store.revocations(2, after)
      seen.push(...page.rows.map((r) => r.jti))
      if ((after = page.next) === null) break
    }
    t.strictSame(seen, sessions.map((s) => s.jti))
    t.equal(pages, 2, 'two full pages, then the last')
  })

  t.test('refresh: rotate, replay within the grace, reuse ends the session, unknown refused', async (t) => {
    const store = await fresh(t)
    const a = await user(store)
    const at = Date.now()
    const [s] = await open(store, a, 1, 3600, at, hashOf('rt0'))
    const POLICY = { ttlSeconds: 600, idleSeconds: 3600, maxSeconds: 7200, graceSeconds: 30 }
    const ask = (token: string, next: string, jti: string, when: number) =>
      store.refresh({ hash: hashOf(token), successorHash: hashOf(next), jti, at: when, meta: META }, POLICY)
    t.strictSame(await ask('never-issued', 'x', 'jx', at), { outcome: 'refused' })
    const rotated = await ask('rt0', 'rt1', 'j-new', at + 1000)
    t.match(rotated, { outcome: 'rotated', claims: { sub: a, sid: s!.id, jti: 'j-new', iat: Math.floor((at + 1000) / 1000) } })
    if (rotated.outcome !== 'rotated') throw new Error('not rotated')
    t.equal(rotated.claims.exp, rotated.claims.iat + 600)
    t.equal(rotated.deadline, Math.floor((at + 1000) / 1000) + 3600, 'idle deadline moved')
    t.match(rotated.revoked, [{ jti: s!.jti, reason: 'rotated' }])
    t.match(rotated.events, [{ type: 'token_refreshed', jti: 'j-new' }])
    t.match(await sessionOf(store, a, s!.id), { jti: 'j-new', expiresAt: rotated.deadline })
    t.strictSame(await ask('rt0', 'rt1', 'j-other', at + 20_000), { outcome: 'replayed', claims: rotated.claims, deadline: rotated.deadline }, 'the same claims again')
    t.match(await sessionOf(store, a, s!.id), { jti: 'j-new' }, 'nothing changed')
    const reused = await ask('rt0', 'rt1', 'j-3', at + 40_000)
    t.match(reused, { outcome: 'reused', revoked: [{ jti: 'j-new', reason: 'refresh_token_reused' }], events: [{ type: 'refresh_token_reused' }] })
    t.equal(await sessionOf(store, a, s!.id), undefined, 'the session ended')
    t.strictSame(await ask('rt1', 'rt2', 'j-4', at + 41_000), { outcome: 'refused' }, 'its current token too')
  })

  t.test('refresh past the deadline is refused and changes nothing', async (t) => {
    const store = await fresh(t)
    const a = await user(store)
    const at = Date.now()
    const [s] = await open(store, a, 1, 3600, at, hashOf('rt0'))
    const POLICY = { ttlSeconds: 600, idleSeconds: 100, maxSeconds: 7200, graceSeconds: 30 }
    t.strictSame(await store.refresh({ hash: hashOf('rt0'), successorHash: hashOf('rt1'), jti: 'j', at: at + 101_000, meta: META }, POLICY), { outcome: 'refused' })
    t.match(await sessionOf(store, a, s!.id), { jti: s!.jti })
  })

  t.test('changePassword: the hash stored, the other sessions ended, the current kept; nothing when it is gone', async (t) => {
    const store = await fresh(t)
    const a = await user(store, 'pw@example.com')
    const [mine, other] = await open(store, a, 2)
    const done = await store.changePassword(mine!, 'new-hash', META)
    t.equal(done.outcome, 'changed')
    t.match(done.revoked, [{ jti: other!.jti, reason: 'password_changed' }])
    t.strictSame(done.events.map((e) => e.type), ['session_revoked', 'password_changed'])
    t.equal((await store.userByEmail('pw@example.com'))!.hash, 'new-hash')
    t.ok(await sessionOf(store, a, mine!.id))
    t.equal(await sessionOf(store, a, other!.id), undefined)
    await store.logout(mine!, 'local', META)
    t.strictSame(await store.changePassword(mine!, 'newer-hash', META), { outcome: 'gone', events: [], revoked: [] })
    t.equal((await store.userByEmail('pw@example.com'))!.hash, 'new-hash', 'unchanged')
  })

  t.test('purge: refresh token hashes past their session\'s maximum age, audit rows past the retention', async (t) => {
    const store = await fresh(t, 0, 1)
    // Audit rows are written in time order; the oldest first here too.
    const old = Date.now() - 2 * 86_400_000
    for (let i = 0; i < 3; i++) await store.audit({ ...event('login_failed', null, old), ip: `old-${i}` })
    const a = await user(store)
    await open(store, a, 2, -10)
    await open(store, a, 1)
    t.equal((await store.purge('refreshTokens', 100, null)).deleted, 2)
    await store.audit(event('login_failed', a))
    t.equal((await sweep(store, 'audit', 2)).reduce((a, b) => a + b, 0), 3)
    t.equal((await store.recentEvents(a, 50)).length, 5, 'the user\'s recent rows stay')
    const keep = await fresh(t, 0, 0)
    await keep.audit(event('login_failed', null, 0))
    t.strictSame(await keep.purge('audit', 100, null), { deleted: 0, next: null }, 'retention 0 keeps everything')
  })

  t.test('ping answers', async (t) => {
    const store = await fresh(t)
    await t.resolves(store.ping())
  })
}
