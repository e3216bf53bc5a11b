import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { SessionView } from '../../../../schemas/auth.js'
import { Success, failures } from '../../../../schemas/envelope.js'
import { perIp } from '../../../../lib/limits.js'
import { iso } from '../../../../lib/time.js'

const MeData = Type.Object({
  user: Type.Object({ id: Type.String(), email: Type.String() }, { additionalProperties: false }),
  session: SessionView
}, { additionalProperties: false })

const me: FastifyPluginAsyncTypebox = async function (fastify) {
  fastify.get('/me', {
    config: perIp(fastify.config, fastify.config.RATE_LIMIT_MAX),
    preValidation: fastify.authenticate,
    schema: {
      tags: ['auth'],
      operationId: 'me',
      summary: 'The current user and session',
      description: 'Answers who the Bearer token belongs to and the session it opened.',
      security: [{ bearerAuth: [] }],
      response: {
        200: Success('Sesión activa', MeData),
        ...failures(401, 403, 429, 500)
      }
    }
  }, async function (request) {
    const s = request.auth
    return {
      success: true as const,
      message: 'Sesión activa',
      data: {
        user: { id: s.userId, email: s.email },
        session: { id: s.id, createdAt: iso(s.createdAt), expiresAt: iso(s.expiresAt * 1000), ip: s.ip, userAgent: s.userAgent }
      }
    }
  })
}

export default me
