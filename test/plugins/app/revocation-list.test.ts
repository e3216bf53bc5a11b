/**
 * The shared revocation list on the shared Redis, each test under its own
 * key prefix: every kind of revocation writes its key before the 200, with
 * the token's expiry; a list that lost its keys is refilled from the store
 * by one instance, not by each.
 */
import t, { type Test } from 'tap'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { advance, build, login, logout, refresh, tempDir, PASSWORD } from '../../helper.js'
import { claimsOf } from '../../jwt.js'
import { redisAvailable, redisKit, type RedisKit } from '../../redis.js'
import { FILLED, FILLING, revokedKey, type SharedRevocationList } from '../../../lib/revocation-list.js'
import type { Store } from '../../../lib/store/store.js'

if (await redisAvailable(t)) {
  const TOLERANCE = 5
  const list = (app: FastifyInstance) => app.revocationList as SharedRevocationList

  /** The key of `token` exists with its user id as value, expiring at exp + tolerance. */
  async function assertListed (t: Test, kit: RedisKit, token: string, userId: string) {
    const { jti, exp } = claimsOf(token)
    const key = kit.prefix + revokedKey(jti)
    t.equal(await kit.client.get(key), userId, `revoked:${jti} = user id`)
    t.equal(await kit.client.expiretime(key), exp + TOLERANCE, 'expires with the token, plus the clock tolerance')
  }

  t.test('each kind of revocation is in Redis before its 200', async (t) => {
    const kit = await redisKit(t)
    const app = await build(t, { ...kit.env, CLOCK_TOLERANCE_SECONDS: String(TOLERANCE), LOGIN_RATE_LIMIT_MAX: '0' })
    const a1 = await login(app)
    const a2 = await login(app, a1.email)
    const a3 = await login(app, a1.email)
    const bystander = await login(app)

    t.equal((await logout(app, a1.token, { token: a1.token, scope: 'others' })).statusCode, 200)
    await assertListed(t, kit, a2.token, a1.userId)
    await assertListed(t, kit, a3.token, a1.userId)
    t.equal((await logout(app, a1.token, { token: a1.token, scope: 'others' })).statusCode, 200, 'nothing more to revoke, nothing to publish')
    t.equal((await logout(app, a1.token)).statusCode, 200, 'local')
    await assertListed(t, kit, a1.token, a1.userId)

    const g1 = await login(app, a1.email)
    const g2 = await login(app, a1.email)
    t.equal((await logout(app, g1.token, { token: g1.token, scope: 'global' })).statusCode, 200)
    await assertListed(t, kit, g1.token, a1.userId)
    await assertListed(t, kit, g2.token, a1.userId)

    const d1 = await login(app, a1.email)
    const d2 = await login(app, a1.email)
    const res = await app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${d2.sessionId}`, headers: { authorization: `Bearer ${d1.token}` } })
    t.equal(res.statusCode, 200)
    await assertListed(t, kit, d2.token, a1.userId)

    t.equal(await kit.client.exists(kit.prefix + revokedKey(claimsOf(bystander.token).jti)), 0, 'a live token is not listed')
    t.equal(await kit.client.exists(kit.prefix + revokedKey(claimsOf(d1.token).jti)), 0)
    // A refresh: the access token it replaces.
    const r1 = await login(app, a1.email)
    const rotated = await refresh(app, r1.refreshToken)
    t.equal(rotated.statusCode, 200)
    await assertListed(t, kit, r1.token, a1.userId)
    // A password change: every other session's token.
    const p1 = await login(app, a1.email)
    const p2 = await login(app, a1.email)
    const changed = await app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: { authorization: `Bearer ${p1.token}` }, payload: { currentPassword: PASSWORD, newPassword: 'another horse battery' } })
    t.equal(changed.statusCode, 200)
    await assertListed(t, kit, p2.token, a1.userId)
    await assertListed(t, kit, rotated.json().data.token, a1.userId)
    // A reuse: the session's current token.
    const u1 = await login(app, a1.email, {}, 'another horse battery')
    const next = (await refresh(app, u1.refreshToken)).json().data
    advance(t, 31_000)
    t.equal((await refresh(app, u1.refreshToken)).statusCode, 401, 'reused after the grace')
    await assertListed(t, kit, next.token, a1.userId)

    t.equal((await app.inject({ method: 'GET', url: '/health' })).body, '{"status":"ok","redis":"ok"}')
  })

  /** Counts the store reads of revocations, on the store object the list holds. */
  function countReads (app: FastifyInstance): { n: number } {
    const reads = { n: 0 }
    const store = app.store as Store
    const original = store.revocations.bind(store)
    store.revocations = (limit, after) => { reads.n++; return original(limit, after) }
    return reads
  }

  t.test('a list that lost its keys is refilled by one of two instances, once', async (t) => {
    const kit = await redisKit(t)
    const env = { ...kit.env, DATABASE_PATH: join(tempDir(t), 'auth.db') }
    const a = await build(t, env)
    const b = await build(t, env)
    const revoked = []
    for (let i = 0; i < 3; i++) {
      const s = await login(a)
      t.equal((await logout(a, s.token)).statusCode, 200)
      revoked.push(revokedKey(s.ref.jti))
    }
    const listed = async () => (await kit.keys()).filter((k) => !k.startsWith('rate-limit:')).sort()
    t.same(await listed(), [FILLED, ...revoked].sort())

    await kit.client.del(...(await listed()).map((k) => kit.prefix + k))
    const reads = [countReads(a), countReads(b)]
    await Promise.all([list(a).sync(), list(b).sync(), list(a).sync(), list(b).sync()])
    t.same(await listed(), [FILLED, ...revoked].sort(), 'every key back, the lock released')
    t.equal(reads[0]!.n + reads[1]!.n, 1, 'one read of the store: one refill, by one instance')
    await Promise.all([list(a).sync(), list(b).sync()])
    t.equal(reads[0]!.n + reads[1]!.n, 1, 'marked filled: no refill')
  })

  t.test('a flush during a refill leaves the list unmarked: the next check refills it', async (t) => {
    const kit = await redisKit(t)
    const app = await build(t, kit.env)
    const s = await login(app)
    await logout(app, s.token)
    await kit.client.del(kit.prefix + FILLED, kit.prefix + revokedKey(s.ref.jti))

    const store = app.store as Store
    const original = store.revocations.bind(store)
    let flushed = false
    store.revocations = async (limit, after) => {
      if (!flushed) {
        flushed = true
        await kit.client.del(kit.prefix + FILLING)
      }
      return original(limit, after)
    }
    await list(app).sync()
    t.equal(await kit.client.exists(kit.prefix + FILLED), 0, 'the lock was lost: not marked filled')
    await list(app).sync()
    t.equal(await kit.client.exists(kit.prefix + FILLED), 1)
    t.equal(await kit.client.exists(kit.prefix + revokedKey(s.ref.jti)), 1)
  })

  t.test('closing stops a refill between two pages', async (t) => {
    const kit = await redisKit(t)
    const app = await build(t, kit.env)
    await kit.client.del(kit.prefix + FILLED)
    let closing: Promise<void> | undefined
    const store = app.store as Store
    store.revocations = async () => {
      closing ??= list(app).close()
      return { rows: [], next: ['more'] }
    }
    await list(app).sync()
    await closing
    t.equal(await kit.client.exists(kit.prefix + FILLED), 0, 'not marked filled')
  })
}
