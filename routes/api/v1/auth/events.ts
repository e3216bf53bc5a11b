import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { EventView } from '../../../../schemas/auth.js'
import { Success, failures } from '../../../../schemas/envelope.js'
import { perIp } from '../../../../lib/limits.js'

const events: FastifyPluginAsyncTypebox = async function (fastify) {
  fastify.get('/events', {
    config: perIp(fastify.config, fastify.config.RATE_LIMIT_MAX),
    preValidation: fastify.authenticate,
    schema: {
      tags: ['sessions'],
      operationId: 'listEvents',
      summary: 'The caller\'s last 50 security events',
      description: 'Newest first: register, login, login_failed, logout and session_revoked.',
      security: [{ bearerAuth: [] }],
      response: {
        200: Success('Eventos de seguridad', Type.Object({ events: Type.Array(EventView) }, { additionalProperties: false })),
        ...failures(401, 403, 429, 500)
      }
    }
  }, async function (request) {
    return { success: true as const, message: 'Eventos de seguridad', data: { events: fastify.audit.recent(request.auth.userId) } }
  })
}

export default events
