import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { limitBy } from '../../../../lib/key-limit.js'
import { Credentials } from '../../../../schemas/auth.js'
import { failure, failures, respond } from '../../../../schemas/envelope.js'
import { LoginResponse } from '../../../../schemas/responses.js'
import { ref } from '../../../../schemas/ref.js'
import { perIp } from '../../../../lib/limits.js'
import { requestMeta } from '../../../../lib/request-meta.js'
import { normalizeEmail } from '../../../../plugins/app/users.js'

/** How many times LOGIN_RATE_LIMIT_MAX one account takes over all addresses together. */
export const EMAIL_WIDE = 10

const login: FastifyPluginAsyncTypebox = async function (fastify) {
  const { config } = fastify
  const max = config.LOGIN_RATE_LIMIT_MAX
  const email = (request: FastifyRequest) => normalizeEmail((request.body as { email: string }).email)
  // Brute force on one account from one address meets LOGIN_RATE_LIMIT_MAX;
  // from many addresses, the account-wide limit, EMAIL_WIDE times higher, so
  // that a stranger's guesses from a few addresses never lock the owner out
  // (SECURITY.md, "Login limits").
  const perEmailAndIp = limitBy(fastify, max, (request) => `login-email-ip:${email(request)}|${request.ip}`)
  const perEmail = limitBy(fastify, max * EMAIL_WIDE, (request) => 'login-email:' + email(request))
  async function limits (request: FastifyRequest, reply: FastifyReply) {
    await perEmailAndIp!(request, reply)
    await perEmail!(request, reply)
  }
  fastify.post('/login', {
    config: perIp(config, config.LOGIN_RATE_LIMIT_MAX),
    // A second limit per e-mail address, once the body is parsed and valid.
    preHandler: max > 0 ? limits : undefined,
    schema: {
      tags: ['auth'],
      operationId: 'login',
      summary: 'Open a session',
      description: 'Checks the credentials and opens a session; answers its Bearer token and its refresh token. An unknown e-mail and a wrong password give the same 401.',
      security: [],
      body: ref(Credentials),
      response: {
        200: respond(LoginResponse, 'A new session and its Bearer token.', {
          success: true,
          message: 'Inicio de sesión exitoso',
          data: {
            token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.c2ln',
            tokenType: 'Bearer',
            expiresIn: 3600,
            expiresAt: '2026-11-21T11:00:00.000Z',
            sessionId: 'q0Yb3r9X2mJ4kLw8Zt1sVA',
            refreshToken: 'Jz9rT3b1q0Yb3r9X2mJ4kLw8Zt1sVAx2c8Lr0pQ7aNf',
            refreshExpiresAt: '2026-11-28T10:00:00.000Z'
          }
        }),
        401: failure(401, 'Credenciales inválidas', ['Unknown e-mail or wrong password: the same answer for both.']),
        ...failures(400, 413, 415, 429, 500)
      }
    }
  }, async function (request) {
    const meta = requestMeta(request)
    const user = await fastify.users.authenticate(request.body.email, request.body.password, meta, request.log)
    const session = await fastify.sessions.open(user.id, meta, request.log)
    return { success: true as const, message: 'Inicio de sesión exitoso', data: { ...session, tokenType: 'Bearer' as const } }
  })
}

export default login
