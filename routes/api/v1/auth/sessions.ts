import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { Done, failures, respond } from '../../../../schemas/envelope.js'
import { SessionsResponse } from '../../../../schemas/responses.js'
import { perIp } from '../../../../lib/limits.js'
import { requestMeta } from '../../../../lib/request-meta.js'
import { NotFoundError, TokenInvalidError } from '../../../../lib/errors.js'

const sessions: FastifyPluginAsyncTypebox = async function (fastify) {
  const limit = perIp(fastify.config, fastify.config.RATE_LIMIT_MAX)

  fastify.get('/sessions', {
    config: limit,
    preValidation: fastify.authenticate,
    schema: {
      tags: ['sessions'],
      operationId: 'listSessions',
      summary: 'The caller\'s live sessions',
      description: 'Newest first; `current` marks the session of the Bearer token. No token is ever listed.',
      security: [{ bearerAuth: [] }],
      response: {
        200: respond(SessionsResponse, 'The caller\'s live sessions, newest first.', {
          success: true,
          message: 'Sesiones activas',
          data: {
            sessions: [
              { id: 'q0Yb3r9X2mJ4kLw8Zt1sVA', createdAt: '2026-11-21T10:00:00.000Z', expiresAt: '2026-11-21T11:00:00.000Z', ip: '127.0.0.1', userAgent: 'curl/8.5.0', current: true },
              { id: 'Vx2c8Lr0pQ7aNf3kT5yHbw', createdAt: '2026-11-21T09:30:00.000Z', expiresAt: '2026-11-21T10:30:00.000Z', ip: '192.0.2.7', userAgent: null, current: false }
            ]
          }
        }),
        ...failures(401, 403, 429, 500)
      }
    }
  }, async function (request) {
    return { success: true as const, message: 'Sesiones activas', data: { sessions: await fastify.sessions.list(request.auth) } }
  })

  fastify.delete('/sessions/:id', {
    config: limit,
    preValidation: fastify.authenticate,
    schema: {
      tags: ['sessions'],
      operationId: 'revokeSession',
      summary: 'Revoke one of the caller\'s sessions',
      description: 'Revokes a session of the caller by id, the current one included (which ends it like a logout). An unknown id and another user\'s session are the same 404.',
      security: [{ bearerAuth: [] }],
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
      response: {
        200: respond(Done, 'The session is revoked for good.', { success: true, message: 'Sesión revocada exitosamente' }),
        ...failures(400, 401, 403, 404, 413, 415, 429, 500)
      }
    }
  }, async function (request) {
    const outcome = await fastify.sessions.revokeById(request.auth, request.params.id, requestMeta(request), request.log)
    if (outcome === 'not_found') throw new NotFoundError()
    if (outcome === 'gone') throw new TokenInvalidError()
    return { success: true as const, message: 'Sesión revocada exitosamente' }
  })
}

export default sessions
