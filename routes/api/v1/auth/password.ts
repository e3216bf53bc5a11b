/**
 * Password change: the current password checked, the new one stored, every
 * other session of the user ended, this one kept, in one transaction.
 * Rate-limited like login, per IP and per user.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { PasswordBody } from '../../../../schemas/auth.js'
import { Done, failure, failures, respond } from '../../../../schemas/envelope.js'
import { ref } from '../../../../schemas/ref.js'
import { perIp } from '../../../../lib/limits.js'
import { limitBy } from '../../../../lib/key-limit.js'
import { requestMeta } from '../../../../lib/request-meta.js'
import { TokenInvalidError } from '../../../../lib/errors.js'

export const PASSWORD_CHANGED = 'Contraseña actualizada exitosamente'

const password: FastifyPluginAsyncTypebox = async function (fastify) {
  const { config } = fastify
  fastify.post('/password', {
    config: perIp(config, config.LOGIN_RATE_LIMIT_MAX),
    preValidation: fastify.authenticate,
    preHandler: limitBy(fastify, config.LOGIN_RATE_LIMIT_MAX, (request) => 'password-user:' + request.auth.userId),
    schema: {
      tags: ['auth'],
      operationId: 'changePassword',
      summary: 'Change the password; end every other session',
      description: 'Checks the current password, stores the new one (8 to 128 characters) and ends every other session of the user, with their refresh tokens. The session of the Bearer token stays.',
      security: [{ bearerAuth: [] }],
      body: ref(PasswordBody),
      response: {
        200: respond(Done, 'The password is changed; every other session is ended.', { success: true, message: PASSWORD_CHANGED }),
        401: failure(401, 'Credenciales inválidas', ['The current password is wrong (the session stays), or the Bearer token is missing, malformed, forged or revoked (`Token no proporcionado o inválido`, with `WWW-Authenticate`).']),
        ...failures(400, 403, 413, 415, 429, 500)
      }
    }
  }, async function (request) {
    const { currentPassword, newPassword } = request.body
    const outcome = await fastify.users.changePassword(request.auth, currentPassword, newPassword, requestMeta(request), request.log)
    // The caller's own session was revoked between its authentication and the write.
    if (outcome === 'gone') throw new TokenInvalidError()
    return { success: true as const, message: PASSWORD_CHANGED }
  })
}

export default password
