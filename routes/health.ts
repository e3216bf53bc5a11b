import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { respond } from '../schemas/envelope.js'
import { HealthOk, HealthUnavailable } from '../schemas/responses.js'

const health: FastifyPluginAsyncTypebox = async function (fastify) {
  const { redis } = fastify

  /** Whether Redis answers a PING within the client's command timeout; nothing when it is not configured. */
  async function redisStatus (): Promise<{ redis?: 'ok' | 'unavailable' }> {
    if (redis === null) return {}
    try {
      await redis.ping()
      return { redis: 'ok' }
    } catch {
      return { redis: 'unavailable' }
    }
  }

  fastify.get('/health', {
    schema: {
      tags: ['health'],
      operationId: 'health',
      summary: 'Liveness, database and Redis check',
      description: 'Answers 200 when the database answers a query, 503 when it does not. With Redis configured, `redis` says whether it answers; a Redis outage alone keeps the 200.',
      security: [],
      response: {
        200: respond(HealthOk, 'The database answers.', { status: 'ok', redis: 'ok' }),
        503: respond(HealthUnavailable, 'The database does not answer.', { status: 'unavailable', redis: 'ok' })
      }
    }
  }, async function (request, reply) {
    const [db, cache] = await Promise.all([fastify.store.ping().then(() => null, (err: unknown) => err), redisStatus()])
    if (db !== null) {
      request.log.error({ err: db }, 'health check failed')
      return reply.code(503).send({ status: 'unavailable', ...cache })
    }
    return { status: 'ok' as const, ...cache }
  })
}

export default health
