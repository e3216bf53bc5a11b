/**
 * The refresh token's endpoint. No Bearer: the access token may have
 * expired. Every refusal is the same 401, never a 403, which a client reads
 * as "refresh" and would loop on. The body's token is checked before any
 * schema runs, as the logout's is: a missing or non-string token is a 401,
 * not a 400.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { RefreshBody } from '../../../../schemas/auth.js'
import { failure, failures, respond } from '../../../../schemas/envelope.js'
import { RefreshResponse } from '../../../../schemas/responses.js'
import { ref } from '../../../../schemas/ref.js'
import { perIp } from '../../../../lib/limits.js'
import { requestMeta } from '../../../../lib/request-meta.js'
import { RefreshRefusedError, MESSAGES } from '../../../../lib/errors.js'
import { REFRESH_TOKEN } from '../../../../lib/refresh.js'

export const REFRESHED = 'Token renovado exitosamente'

function bodyHasRefreshToken (request: FastifyRequest, _reply: unknown, done: (err?: Error) => void) {
  const body: unknown = request.body
  const token = typeof body === 'object' && body !== null ? (body as { refreshToken?: unknown }).refreshToken : undefined
  done(typeof token === 'string' && REFRESH_TOKEN.test(token) ? undefined : new RefreshRefusedError())
}

const refresh: FastifyPluginAsyncTypebox = async function (fastify) {
  fastify.post('/refresh', {
    config: perIp(fastify.config, fastify.config.LOGIN_RATE_LIMIT_MAX),
    preValidation: bodyHasRefreshToken,
    schema: {
      tags: ['auth'],
      operationId: 'refresh',
      summary: 'Trade a refresh token for a new pair',
      description: 'Answers a new access token and a new refresh token; the old access token stops working. ' +
        'A retry of the refresh token just replaced, within `REFRESH_REUSE_GRACE_SECONDS`, gets the same pair again. ' +
        'An older refresh token of the session ends the session (it leaked). Every refusal is 401: log in again.',
      security: [],
      body: ref(RefreshBody),
      response: {
        200: respond(RefreshResponse, 'A new access token and refresh token for the same session.', {
          success: true,
          message: REFRESHED,
          data: {
            token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.c2ln',
            tokenType: 'Bearer',
            expiresIn: 3600,
            expiresAt: '2026-11-21T12:00:00.000Z',
            sessionId: 'q0Yb3r9X2mJ4kLw8Zt1sVA',
            refreshToken: 'Vx2c8Lr0pQ7aNf3kT5yHbwJz9rT3b1q0Yb3r9X2mJ4k',
            refreshExpiresAt: '2026-11-28T11:00:00.000Z'
          }
        }),
        401: failure(401, MESSAGES[401], ['The refresh token is missing, unknown, forged, reused, or its session has ended: log in again.']),
        ...failures(400, 413, 415, 429, 500)
      }
    }
  }, async function (request) {
    const pair = await fastify.sessions.refresh(request.body.refreshToken, requestMeta(request), request.log)
    if (pair === undefined) throw new RefreshRefusedError()
    return { success: true as const, message: REFRESHED, data: { ...pair, tokenType: 'Bearer' as const } }
  })
}

export default refresh
