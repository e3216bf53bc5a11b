/**
 * A @fastify/rate-limit store that counts in Redis, so that a client's
 * requests over all instances count together (§7), and falls back to this
 * instance's memory while Redis does not answer: login and register stay
 * limited through an outage. Both are the plugin's own stores; this one
 * only chooses between them, request by request. Falling back and coming
 * back are each logged once.
 * @see https://github.com/fastify/fastify-rate-limit#custom-store
 */
import type { FastifyBaseLogger } from 'fastify'
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import LocalStore from '@fastify/rate-limit/store/LocalStore.js'
import RedisStore from '@fastify/rate-limit/store/RedisStore.js'
import { isUp, type Redis } from './redis.js'

type Incr = FastifyRateLimitStore['incr']
type RouteOptions = Parameters<FastifyRateLimitStore['child']>[0]

/** The store class for the plugin's `store` option; its keys start with `nameSpace` (after the client's prefix). */
export function sharedRateLimitStore (redis: Redis, log: FastifyBaseLogger, nameSpace: string): FastifyRateLimitStoreCtor {
  let degraded = false
  function fallBack (err: Error | null) {
    if (degraded) return
    degraded = true
    log.warn({ redis: err?.message ?? redis.status }, 'rate limits counted in this instance\'s memory until Redis answers')
  }
  function recover () {
    if (!degraded) return
    degraded = false
    log.info('rate limits shared through Redis again')
  }

  class Shared implements FastifyRateLimitStore {
    constructor (readonly remote: FastifyRateLimitStore, readonly local: FastifyRateLimitStore) {}

    incr (key: string, cb: Parameters<Incr>[1], timeWindow: number, max: number): void {
      // Not connected: no round trip at all (ioredis would fail it at once anyway).
      if (!isUp(redis)) {
        fallBack(null)
        this.local.incr(key, cb, timeWindow, max)
        return
      }
      this.remote.incr(key, (err, result) => {
        if (err !== null) {
          fallBack(err)
          this.local.incr(key, cb, timeWindow, max)
          return
        }
        recover()
        cb(null, result)
      }, timeWindow, max)
    }

    child (routeOptions: RouteOptions): FastifyRateLimitStore {
      return new Shared(this.remote.child(routeOptions), this.local.child(routeOptions))
    }
  }

  return class extends Shared {
    constructor (options: { continueExceeding?: boolean, exponentialBackoff?: boolean }) {
      const c = options.continueExceeding === true
      const e = options.exponentialBackoff === true
      super(new RedisStore(c, e, redis, nameSpace), new LocalStore(c, e))
    }
  } as unknown as FastifyRateLimitStoreCtor
}
