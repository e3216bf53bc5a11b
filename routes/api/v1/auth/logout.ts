/**
 * The seed's endpoint. The body repeats the Bearer token, compared before
 * any schema runs: Fastify's validator would coerce `["<jwt>"]` into a
 * string, and its 400 must not come before the 401 checks.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { LogoutBody } from '../../../../schemas/auth.js'
import { Done, failures, respond } from '../../../../schemas/envelope.js'
import { ref } from '../../../../schemas/ref.js'
import { perIp } from '../../../../lib/limits.js'
import { requestMeta } from '../../../../lib/request-meta.js'
import { BodyTokenError, TokenInvalidError } from '../../../../lib/errors.js'

export const LOGGED_OUT = 'Sesión cerrada exitosamente'

/** The body's `token` must be a string identical to the Bearer token: no coercion. */
function bodyRepeatsBearer (request: FastifyRequest) {
  const body: unknown = request.body
  const token = typeof body === 'object' && body !== null ? (body as { token?: unknown }).token : undefined
  if (typeof token !== 'string' || token !== request.bearer) throw new BodyTokenError()
}

const logout: FastifyPluginAsyncTypebox = async function (fastify) {
  fastify.post('/logout', {
    config: perIp(fastify.config, fastify.config.RATE_LIMIT_MAX),
    // The token here, its session in the logout's own transaction (plugins/app/sessions.ts).
    preValidation: fastify.verifyWith(bodyRepeatsBearer),
    attachValidation: true,
    schema: {
      tags: ['auth'],
      operationId: 'logout',
      summary: 'End the session (or others, or all)',
      description: 'Revokes the session of the Bearer token. The body repeats that same token in `token` (in Swagger UI, paste it over the example after "Authorize"): missing or different is 401. `scope`: `local` (default) this session, `others` every other session of the user, `global` all of them. The token is refused from then on, also after a restart.',
      security: [{ bearerAuth: [] }],
      body: ref(LogoutBody),
      response: {
        200: respond(Done, 'The session (or sessions, by `scope`) is revoked for good.', { success: true, message: LOGGED_OUT }, {
          'Cache-Control': { type: 'string', description: '`no-store`, as on every /api/v1/auth answer.' },
          'Clear-Site-Data': { type: 'string', description: '`"cookies", "storage"`: the browser forgets what it kept.' }
        }),
        ...failures(400, 401, 403, 413, 415, 429, 500)
      }
    }
  }, async function (request, reply) {
    const { sid, jti, sub } = request.claims
    if (request.validationError !== undefined) {
      // The contract judges the session before the body's schema: a token
      // whose session is gone is 401 whatever its body says.
      if (await fastify.sessions.find(request.claims) === undefined) throw new TokenInvalidError()
      throw request.validationError
    }
    const revoked = await fastify.sessions.logout({ id: sid, jti, userId: sub }, request.body.scope ?? 'local', requestMeta(request), request.log)
    // A concurrent logout or revocation of this session committed first.
    if (revoked === null) throw new TokenInvalidError()
    reply.header('clear-site-data', '"cookies", "storage"')
    return { success: true as const, message: LOGGED_OUT }
  })
}

export default logout
