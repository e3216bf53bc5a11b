import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Static } from 'typebox'
import { failures, respond } from '../../../../schemas/envelope.js'
import { MeResponse } from '../../../../schemas/responses.js'
import { perIp } from '../../../../lib/limits.js'
import { iso } from '../../../../lib/time.js'
import type { SessionRow } from '../../../../lib/domain.js'

const me: FastifyPluginAsyncTypebox = async function (fastify) {
  // The answer is the same for every request of a session: made once per
  // session row (a store may hand out one object per row while it is unchanged), then reused.
  const answers = new WeakMap<SessionRow, Static<typeof MeResponse>>()
  const answer = (s: SessionRow): Static<typeof MeResponse> => ({
    success: true as const,
    message: 'Sesión activa',
    data: {
      user: { id: s.userId, email: s.email },
      session: { id: s.id, createdAt: iso(s.createdAt), expiresAt: iso(s.expiresAt * 1000), ip: s.ip, userAgent: s.userAgent }
    }
  })

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
        200: respond(MeResponse, 'The user and the session of the Bearer token.', {
          success: true,
          message: 'Sesión activa',
          data: {
            user: { id: '0b8f0c7e-4f0e-4d2a-9a57-4f8f5f3c2a10', email: 'ada@example.com' },
            session: { id: 'q0Yb3r9X2mJ4kLw8Zt1sVA', createdAt: '2026-11-21T10:00:00.000Z', expiresAt: '2026-11-21T11:00:00.000Z', ip: '127.0.0.1', userAgent: 'curl/8.5.0' }
          }
        }),
        ...failures(401, 403, 429, 500)
      }
    }
  }, async function (request) {
    const s = request.auth
    let body = answers.get(s)
    if (body === undefined) answers.set(s, body = answer(s))
    return body
  })
}

export default me
