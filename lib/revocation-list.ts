/**
 * The shared revocation list (§7): every revoked access token as the key
 * `revoked:<jti>` (after the client's REDIS_KEY_PREFIX), its value the user
 * id, expiring when the token would stop being accepted anyway (its `exp`
 * plus the clock tolerance). Gateways and other APIs that verify our JWTs
 * themselves refuse a token whose key exists (README, SECURITY.md).
 *
 * The store is the source of truth; Redis is a copy that can lag:
 * - `publish` writes the keys of a revocation that has just committed,
 *   waiting at most the client's command timeout; when Redis is down or
 *   slow, it notes the time (`owed`) and returns: the revocation stands.
 * - Every CHECK_EVERY_MS, and whenever the client (re)connects, `sync`
 *   looks at the `revocations:filled` marker: missing (Redis restarted
 *   empty, or was flushed) or older than this instance's last failed
 *   write, it refills every unexpired revocation from the store. One
 *   instance refills at a time (a SET NX lock); the marker, set only by
 *   the holder of a lock that survived the whole refill, tells the others
 *   that it is done, so N instances do not refill N times over.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { RevocationRecord } from './domain.js'
import type { PurgeCursor, Store } from './store/store.js'
import { randomId } from './ids.js'
import type { Result } from 'ioredis'
import { isUp, type Redis } from './redis.js'

export interface RevocationList {
  /** Writes the keys of revoked tokens; waits a few ms at most and never rejects. */
  publish (records: RevocationRecord[]): Promise<void>
}

export interface SharedRevocationList extends RevocationList {
  /** Checks the marker now and refills when it says so; the timer calls it too. */
  sync (): Promise<void>
  /** Stops the timer and waits for a refill under way. */
  close (): Promise<void>
}

export interface RevocationListOptions {
  redis: Redis
  store: Pick<Store, 'revocations'>
  toleranceSeconds: number
  log: FastifyBaseLogger
  checkEveryMs?: number
  /** Records read from the store, and keys written, per round trip. */
  batch?: number
  /** How long a refill may hold the lock; another instance takes over after it. */
  lockMs?: number
}

export const CHECK_EVERY_MS = 1000
export const FILLED = 'revocations:filled'
export const FILLING = 'revocations:filling'
export const revokedKey = (jti: string) => `revoked:${jti}`

/** Marks the list filled, and lets the lock go, only if the lock is still ours. */
const FINISH = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    revocationListFilled (lock: string, marker: string, token: string, startedAt: number): Result<number, Context>
  }
}

export function createRevocationList (opts: RevocationListOptions): SharedRevocationList {
  const { redis, store, toleranceSeconds, log } = opts
  const batch = opts.batch ?? 500
  const lockMs = opts.lockMs ?? 60_000
  redis.defineCommand('revocationListFilled', { numberOfKeys: 2, lua: FINISH })

  /** When the latest write that may not have reached Redis was attempted (ms); null when none. */
  let owed: number | null = null
  let syncing: Promise<void> | null = null
  let closed = false

  function owe (err?: unknown) {
    owed = Date.now()
    log.warn({ redis: err instanceof Error ? err.message : redis.status }, 'revocation not yet in Redis: written when Redis answers')
  }

  async function write (records: RevocationRecord[]): Promise<void> {
    const pipeline = redis.pipeline()
    for (const r of records) pipeline.set(revokedKey(r.jti), r.userId, 'EXAT', r.expiresAt + toleranceSeconds)
    for (const [err] of (await pipeline.exec())!) if (err !== null) throw err
  }

  async function refill (): Promise<void> {
    const token = randomId()
    if (await redis.set(FILLING, token, 'PX', lockMs, 'NX') === null) return
    const startedAt = Date.now()
    let after: PurgeCursor | null = null
    let count = 0
    do {
      const page = await store.revocations(batch, after)
      if (page.rows.length > 0) await write(page.rows)
      count += page.rows.length
      after = page.next
      // Closing: the lock expires, and another instance (or the next start) refills.
      if (closed) return
    } while (after !== null)
    // A flush during the refill took the lock with it: not done, go again.
    if (await redis.revocationListFilled(FILLING, FILLED, token, startedAt) !== 1) return
    if (owed !== null && owed <= startedAt) owed = null
    log.info({ count, ms: Date.now() - startedAt }, 'revocation list refilled from the store')
  }

  async function check (): Promise<void> {
    if (closed || !isUp(redis)) return
    const filled = await redis.get(FILLED)
    if (filled !== null && (owed === null || Number(filled) >= owed)) {
      owed = null
      return
    }
    await refill()
  }

  function sync (): Promise<void> {
    syncing ??= check()
      .catch((err: unknown) => log.warn({ redis: (err as Error).message }, 'revocation list: refill failed, retried'))
      .finally(() => { syncing = null })
    return syncing
  }

  const timer = setInterval(sync, opts.checkEveryMs ?? CHECK_EVERY_MS)
  timer.unref()
  redis.on('ready', sync)

  return {
    async publish (records) {
      if (records.length === 0) return
      if (!isUp(redis)) return owe()
      try {
        await write(records)
      } catch (err) {
        owe(err)
      }
    },
    sync,
    async close () {
      closed = true
      clearInterval(timer)
      redis.off('ready', sync)
      await syncing
    }
  }
}
