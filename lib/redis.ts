/**
 * The Redis client (ioredis, the one @fastify/rate-limit's RedisStore is
 * written for), set to fail fast: Redis is a shared cache beside the
 * store, never the source of truth, so a request never waits on it for
 * more than REDIS_TIMEOUT_MS. Every key gets REDIS_KEY_PREFIX (ioredis's
 * `keyPrefix`, Lua scripts' KEYS included).
 * @see https://github.com/redis/ioredis/blob/main/API.md
 * @see ../shared/SPEC.md §7
 */
import { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'

export type { Redis }

/** The longest a command may take before the caller stops waiting and carries on without Redis. */
export const REDIS_TIMEOUT_MS = 50
/** How long one connection attempt may take. */
const CONNECT_TIMEOUT_MS = 1000
/** The longest pause between reconnection attempts: Redis is used again within this of answering. */
const RECONNECT_MAX_MS = 500

export function createRedis (url: string, keyPrefix: string, log: FastifyBaseLogger): Redis {
  const client = new Redis(url, {
    keyPrefix,
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: REDIS_TIMEOUT_MS,
    // While disconnected, a command fails at once instead of queueing
    // until Redis is back; one in flight when the link drops fails too.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Never give up: keep trying, quickly, for as long as the process runs.
    retryStrategy: (times) => Math.min(times * 50, RECONNECT_MAX_MS)
  })
  // One line per outage, not one per reconnection attempt; the message
  // only (host and port), never the URL, which may carry a password.
  let down = false
  client.on('error', (err: Error) => {
    if (down) return
    down = true
    log.warn({ redis: err.message }, 'Redis unreachable: rate limits fall back to memory; revocations are written to Redis once it is back')
  })
  client.on('ready', () => {
    if (!down) return
    down = false
    log.info('Redis answers again')
  })
  return client
}

/** Connects, waiting at most `ms`: resolves true once ready, false if not yet (ioredis keeps trying). */
export function connect (client: Redis, ms = CONNECT_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { client.off('ready', onReady); resolve(false) }, ms)
    function onReady () { clearTimeout(timer); resolve(true) }
    client.once('ready', onReady)
    // A first attempt that fails rejects here; the retries go on, and 'error' logs it.
    client.connect().catch(() => {})
  })
}

export const isUp = (client: Redis): boolean => client.status === 'ready'
