/**
 * A second rate limit on a route, keyed by something other than the IP
 * (an e-mail address, a user), as a preHandler: the body is parsed and
 * valid, the caller authenticated. Not fastify.rateLimit(): its handler
 * skips a request that the route's per-IP limit has already counted, so a
 * second limit would never count.
 * @see https://github.com/fastify/fastify-rate-limit#createratelimit
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { TooManyRequestsError } from './errors.js'

export type KeyLimit = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

/** The limit of `max` per window by `key`; undefined (no hook at all) when `max` is 0. */
export function limitBy (fastify: FastifyInstance, max: number, key: (request: FastifyRequest) => string): KeyLimit | undefined {
  if (max === 0) return undefined
  const check = fastify.createRateLimit({ max, keyGenerator: key })
  return async function limit (request, reply) {
    const result = await check(request)
    if (!result.isAllowed && result.isExceeded) {
      reply.header('retry-after', String(result.ttlInSeconds))
      throw new TooManyRequestsError()
    }
  }
}
