/**
 * The Redis client as `fastify.redis`, or null when REDIS_URL is unset:
 * then rate limits stay in memory and there is no shared revocation list.
 * Start-up waits a moment for the first connection, never for Redis to
 * come up: an instance serves without it (§7).
 */
import fp from 'fastify-plugin'
import { connect, createRedis, type Redis } from '../../lib/redis.js'

declare module 'fastify' {
  interface FastifyInstance {
    redis: Redis | null
  }
}

export default fp(async function redis (fastify) {
  const { REDIS_URL, REDIS_KEY_PREFIX } = fastify.config
  if (REDIS_URL === undefined) {
    fastify.decorate('redis', null)
    return
  }
  const client = createRedis(REDIS_URL, REDIS_KEY_PREFIX, fastify.log)
  fastify.decorate('redis', client)
  // Everything written to it was awaited by a request that has ended by now.
  fastify.addHook('onClose', async () => { client.disconnect() })
  await connect(client)
}, { name: 'redis', dependencies: ['config'] })
