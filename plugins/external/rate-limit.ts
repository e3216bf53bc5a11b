/**
 * @fastify/rate-limit with no global limit: each route opts in through its
 * `config.rateLimit` (see lib/limits.ts). Never the `ban` option: its 403
 * would collide with the seed's 403 for an expired token. With Redis, the
 * counts are shared by every instance (lib/shared-rate-limit.ts).
 * @see https://github.com/fastify/fastify-rate-limit
 */
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import { MESSAGES } from '../../lib/errors.js'
import { sharedRateLimitStore } from '../../lib/shared-rate-limit.js'

export default fp(async function rateLimiter (fastify) {
  const { redis } = fastify
  await fastify.register(rateLimit, {
    global: false,
    timeWindow: fastify.config.RATE_LIMIT_WINDOW_MS,
    ...(redis === null ? {} : { store: sharedRateLimitStore(redis, fastify.log, 'rate-limit:') }),
    errorResponseBuilder: (_request, context) => ({
      statusCode: context.statusCode,
      code: 'RATE_LIMITED',
      message: MESSAGES[429]
    })
  })
}, { name: 'rate-limit', dependencies: ['config', 'redis'] })
