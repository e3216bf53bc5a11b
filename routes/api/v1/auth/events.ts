import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { failures, respond } from '../../../../schemas/envelope.js'
import { EventsResponse } from '../../../../schemas/responses.js'
import { perIp } from '../../../../lib/limits.js'

const events: FastifyPluginAsyncTypebox = async function (fastify) {
  fastify.get('/events', {
    config: perIp(fastify.config, fastify.config.RATE_LIMIT_MAX),
    preValidation: fastify.authenticate,
    schema: {
      tags: ['sessions'],
      operationId: 'listEvents',
      summary: 'The caller\'s last 50 security events',
      description: 'Newest first: register, login, login_failed, logout, session_revoked, password_changed and refresh_token_reused (routine refreshes are audited but not listed).',
      security: [{ bearerAuth: [] }],
      response: {
        200: respond(EventsResponse, 'The caller\'s last 50 security events, newest first.', {
          success: true,
          message: 'Eventos de seguridad',
          data: {
            events: [
              { type: 'login', at: '2026-11-21T10:00:00.000Z', sessionId: 'q0Yb3r9X2mJ4kLw8Zt1sVA', ip: '127.0.0.1', userAgent: 'curl/8.5.0' },
              { type: 'register', at: '2026-11-21T09:59:00.000Z', sessionId: null, ip: '127.0.0.1', userAgent: 'curl/8.5.0' }
            ]
          }
        }),
        ...failures(401, 403, 429, 500)
      }
    }
  }, async function (request) {
    return { success: true as const, message: 'Eventos de seguridad', data: { events: await fastify.audit.recent(request.auth.userId) } }
  })
}

export default events
