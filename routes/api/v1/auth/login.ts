import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Credentials, LoginData } from '../../../../schemas/auth.js'
import { Success, failures, Failure } from '../../../../schemas/envelope.js'
import { perIp } from '../../../../lib/limits.js'
import { requestMeta } from '../../../../lib/request-meta.js'
import { normalizeEmail } from '../../../../plugins/app/users.js'
import { RateLimitedError } from '../../../../lib/errors.js'

const login: FastifyPluginAsyncTypebox = async function (fastify) {
  const { config } = fastify
  // A second limit per e-mail address, once the body is parsed and valid, so that
  // guesses spread over many IPs still run out. Not `fastify.rateLimit()`: its hook
  // runs once per request, and after the per-IP hook it never counted anything.
  const perEmail = config.LOGIN_RATE_LIMIT_MAX > 0
    ? fastify.createRateLimit({
      max: config.LOGIN_RATE_LIMIT_MAX,
      keyGenerator: (request) => 'login-email:' + normalizeEmail((request.body as { email: string }).email)
    })
    : undefined
  fastify.post('/login', {
    config: perIp(config, config.LOGIN_RATE_LIMIT_MAX),
    preHandler: perEmail === undefined
      ? undefined
      : async function limitPerEmail (request, reply) {
        const limit = await perEmail(request)
        if (!limit.isAllowed && limit.isExceeded) {
          reply.header('retry-after', limit.ttlInSeconds)
          throw new RateLimitedError()
        }
      },
    schema: {
      tags: ['auth'],
      operationId: 'login',
      summary: 'Open a session',
      description: 'Checks the credentials and opens a session; answers its Bearer token. An unknown e-mail and a wrong password give the same 401.',
      security: [],
      body: Credentials,
      response: {
        200: Success('Inicio de sesión exitoso', LoginData),
        401: Failure('Credenciales inválidas'),
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
