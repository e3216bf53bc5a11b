/**
 * Redis stopped, slow, restarted empty, flushed: a redis-server of the
 * test's own (test/redis.ts), never the shared one. Redis is never the
 * source of truth: revocations answer 200 at once through all of it, and
 * the list is complete again within 5 s of Redis answering (§7).
 */
import t, { type Test } from 'tap'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { build, login, logout, tempDir, waitFor, type Login } from '../helper.js'
import { claimsOf } from '../jwt.js'
import { logLines, ownRedis, redisAvailable, redisKit, type RedisKit } from '../redis.js'
import { revokedKey, type SharedRevocationList } from '../../lib/revocation-list.js'
import { isUp } from '../../lib/redis.js'

/** Polls the async `check` until it holds; resolves with the ms it took, or fails after `ms`. */
async function within (ms: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now()
  while (!await check()) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return Date.now() - started
}

/**
 * Puts the Redis of `kit` to sleep for `seconds` (DEBUG SLEEP) and resolves
 * once it sleeps: a PING on a connection of its own unanswered for 100 ms,
 * so that what the test sends next is sure to meet a Redis that does not
 * answer, however late the machine ran the sleep. `awake` resolves when it
 * answers again.
 */
async function asleep (t: Test, kit: RedisKit, seconds: number): Promise<{ awake: Promise<unknown> }> {
  const [sleeper, prober] = [kit.client.duplicate(), kit.client.duplicate()]
  for (const c of [sleeper, prober]) {
    await c.connect()
    t.teardown(() => c.disconnect())
  }
  const awake = sleeper.call('DEBUG', 'SLEEP', String(seconds))
  const deadline = Date.now() + 5000
  for (;;) {
    const answered = await Promise.race([prober.ping().then(() => true), new Promise((resolve) => setTimeout(resolve, 100, false))])
    if (!answered) return { awake }
    if (Date.now() > deadline) throw new Error('Redis did not fall asleep within 5 s')
  }
}

if (await redisAvailable(t)) {
  /** A logout that must not wait on Redis. */
  async function quickLogout (t: Test, app: FastifyInstance, s: Login): Promise<void> {
    const started = performance.now()
    const res = await logout(app, s.token)
    const ms = performance.now() - started
    t.equal(res.statusCode, 200, 'the revocation stands without Redis')
    t.ok(ms < 400, `answered in ${Math.round(ms)} ms`)
  }

  const listed = async (kit: RedisKit, s: Login) => await kit.client.exists(kit.prefix + revokedKey(s.ref.jti)) === 1
  const allListed = (kit: RedisKit, all: Login[]) => async () => (await Promise.all(all.map((s) => listed(kit, s)))).every(Boolean)
  const logged = (lines: Array<Record<string, unknown>>, msg: string) => lines.filter((l) => l.msg === msg)

  t.test('stopped, back empty, flushed: revocations 200 throughout, the list complete again within 5 s', async (t) => {
    const own = await ownRedis(t)
    const kit = await redisKit(t, own.url)
    const DATABASE_PATH = join(tempDir(t), 'auth.db')
    // Two instances on one database: one issues tokens of 1 s, the other of an hour.
    const briefLog = logLines()
    const brief = await build(t, { ...kit.env, DATABASE_PATH, TOKEN_TTL_SECONDS: '1' }, { logger: { level: 'info', stream: briefLog.stream } })
    const appLog = logLines()
    const app = await build(t, { ...kit.env, DATABASE_PATH }, { logger: { level: 'info', stream: appLog.stream } })

    const before = await login(app)
    await quickLogout(t, app, before)
    t.ok(await listed(kit, before), 'listed while Redis is up')

    await own.stop()
    await waitFor('the clients to see the outage', () => !isUp(app.redis!) && !isUp(brief.redis!), 5000)
    const expiring = await login(brief)
    await quickLogout(t, brief, expiring)
    const during: Login[] = []
    for (let i = 0; i < 3; i++) {
      const s = await login(app)
      await quickLogout(t, app, s)
      during.push(s)
    }
    const health = await app.inject({ method: 'GET', url: '/health' })
    t.equal(health.statusCode, 200, 'a Redis outage alone keeps the instance healthy')
    t.equal(health.body, '{"status":"ok","redis":"unavailable"}')
    const OUTAGE = 'Redis unreachable: rate limits fall back to memory; revocations are written to Redis once it is back'
    // The client's 'error' event may come after its status changed.
    await waitFor('the outage to be logged', () => logged(appLog.lines, OUTAGE).length > 0, 5000)
    const outage = logged(appLog.lines, OUTAGE)
    t.equal(outage.length, 1, 'the outage logged once, whatever the reconnection attempts')
    t.notMatch(JSON.stringify(outage), 'redis://', 'never the URL')
    t.ok(logged(appLog.lines, 'revocation not yet in Redis: written when Redis answers').length >= 3, 'each owed write logged')

    const exp: number = claimsOf(expiring.token).exp
    await waitFor('the 1 s token to expire', () => Date.now() > (exp + 1) * 1000, 5000, 50)

    const refilled = () => logged([...briefLog.lines, ...appLog.lines], 'revocation list refilled from the store').length
    const refillsBefore = refilled()
    await own.start()
    const all = [before, ...during]
    const ms = await within(5000, 'every unexpired revocation back in Redis', allListed(kit, all))
    t.pass(`every unexpired revocation back ${ms} ms after Redis answered`)
    t.notOk(await listed(kit, expiring), 'an expired one is not written back')
    // The other instance, which owed writes too, takes the refill as covering
    // them: once both are connected (one may reconnect later than the other)
    // and the refill is done (the first round of checks waits for it, or
    // meets its lock), a check of each finds the list marked filled.
    await waitFor('both instances to reconnect', () => isUp(app.redis!) && isUp(brief.redis!), 5000)
    const syncBoth = () => Promise.all([brief, app].map((i) => (i.revocationList as SharedRevocationList).sync()))
    await syncBoth()
    await syncBoth()
    t.equal(refilled() - refillsBefore, 1, 'refilled by one instance of the two')
    await waitFor('the reconnection to be logged', () => logged(appLog.lines, 'Redis answers again').length > 0, 5000)
    t.equal(logged(appLog.lines, 'Redis answers again').length, 1)

    await kit.client.flushall()
    t.pass(`refilled ${await within(5000, 'refilled after FLUSHALL', allListed(kit, all))} ms after a FLUSHALL`)
  })

  t.test('a slow Redis: a logout waits the command timeout at most, and its key is written once Redis answers', async (t) => {
    const own = await ownRedis(t)
    const kit = await redisKit(t, own.url)
    const log = logLines()
    const app = await build(t, kit.env, { logger: { level: 'info', stream: log.stream } })
    const s = await login(app)
    const { awake } = await asleep(t, kit, 2)
    await quickLogout(t, app, s)
    t.equal(logged(log.lines, 'revocation not yet in Redis: written when Redis answers').length, 1, 'the write timed out: owed')
    const health = await app.inject({ method: 'GET', url: '/health' })
    t.equal(health.body, '{"status":"ok","redis":"unavailable"}', 'a PING that times out')
    await awake
    t.pass(`listed ${await within(5000, 'the owed key written', async () => listed(kit, s))} ms after Redis woke`)
  })

  t.test('rate limits fall back to memory while Redis is away, logged once each way', async (t) => {
    const own = await ownRedis(t)
    const kit = await redisKit(t, own.url)
    const log = logLines()
    const app = await build(t, { ...kit.env, LOGIN_RATE_LIMIT_MAX: '2' }, { logger: { level: 'info', stream: log.stream } })
    const attempt = async () => (await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: {} })).statusCode
    t.equal(await attempt(), 400)
    t.equal(await kit.client.get(kit.prefix + 'rate-limit:POST/api/v1/auth/register-127.0.0.1'), '1', 'counted in Redis')

    await own.stop()
    await waitFor('the client to see the outage', () => !isUp(app.redis!), 5000)
    t.same([await attempt(), await attempt(), await attempt(), await attempt()], [400, 400, 429, 429], 'still limited, in memory')
    const fallback = 'rate limits counted in this instance\'s memory until Redis answers'
    t.equal(logged(log.lines, fallback).length, 1, 'one line for the outage, not one per request')

    await own.start()
    await waitFor('the client to reconnect', () => isUp(app.redis!), 5000)
    // The first count after the restart loads the plugin's script again (two
    // round trips): on a loaded machine it may miss the 50 ms timeout and
    // count in memory, as any late answer does. Within 5 s one counts in
    // Redis, which restarted empty: a fresh count, 400.
    const key = kit.prefix + 'rate-limit:POST/api/v1/auth/register-127.0.0.1'
    let status = 0
    await within(5000, 'a request counted in Redis again', async () => {
      status = await attempt()
      return status === 400 && await kit.client.exists(key) === 1
    })
    t.equal(status, 400, 'a fresh count in Redis, which restarted empty')
    const back = 'rate limits shared through Redis again'
    t.ok(logged(log.lines, back).length >= 1)
    t.equal(logged(log.lines, back).length, logged(log.lines, fallback).length, 'each fall back followed by one line coming back')

    // A Redis that answers too late: this request counts in memory (its 5th there, at least).
    const fallbacks = logged(log.lines, fallback).length
    const { awake } = await asleep(t, kit, 2)
    t.equal(await attempt(), 429)
    t.equal(logged(log.lines, fallback).length, fallbacks + 1, 'a second outage, a second line')
    await awake
  })

  t.test('Redis down at start: the instance starts, serves, and writes what it owes once Redis answers', async (t) => {
    const own = await ownRedis(t)
    const kit = await redisKit(t, own.url)
    await own.stop()
    const app = await build(t, kit.env)
    t.notOk(isUp(app.redis!))
    const s = await login(app)
    await quickLogout(t, app, s)
    await own.start()
    t.pass(`listed ${await within(5000, 'the owed key written', async () => listed(kit, s))} ms after Redis answered`)
  })
}
