import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { respond } from '../schemas/envelope.js'
import { HealthOk, HealthUnavailable } from '../schemas/responses.js'

const health: FastifyPluginAsyncTypebox = async function (fastify) {
  fastify.get('/health', {
    schema: {
      tags: ['health'],
      operationId: 'health',
      summary: 'Liveness and database check',
      description: 'Answers 200 when the database answers a query, 503 when it does not.',
      security: [],
      response: {
        200: respond(HealthOk, 'The database answers.', { status: 'ok' }),
        503: respond(HealthUnavailable, 'The database does not answer.', { status: 'unavailable' })
      }
    }
  }, async function (request, reply) {
    try {
      await fastify.store.ping()
    } catch (err) {
      request.log.error({ err }, 'health check failed')
      return reply.code(503).send({ status: 'unavailable' })
    }
    return { status: 'ok' as const }
  })
}

export default health
