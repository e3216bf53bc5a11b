/**
 * @fastify/rate-limit with no global limit: each route opts in through its
 * `config.rateLimit` (see lib/limits.ts). Never the `ban` option: its 403
 * would collide with the seed's 403 for an expired token.
 * @see https://github.com/fastify/fastify-rate-limit
 */
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import { MESSAGES } from '../../lib/errors.js'

export default fp(async function rateLimiter (fastify) {
  await fastify.register(rateLimit, {
    global: false,
    timeWindow: fastify.config.RATE_LIMIT_WINDOW_MS,
    errorResponseBuilder: (_request, context) => ({
      statusCode: context.statusCode,
      code: 'RATE_LIMITED',
      message: MESSAGES[429]
    })
  })
}, { name: 'rate-limit', dependencies: ['config'] })
