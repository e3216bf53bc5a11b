import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { Credentials, UserView } from '../../../../schemas/auth.js'
import { Success, failures } from '../../../../schemas/envelope.js'
import { perIp } from '../../../../lib/limits.js'
import { requestMeta } from '../../../../lib/request-meta.js'

const register: FastifyPluginAsyncTypebox = async function (fastify) {
  fastify.post('/register', {
    config: perIp(fastify.config, fastify.config.LOGIN_RATE_LIMIT_MAX),
    schema: {
      tags: ['auth'],
      operationId: 'register',
      summary: 'Create an account',
      description: 'Creates a user with an e-mail address (compared case-insensitively) and a password of 8 to 128 characters.',
      security: [],
      body: Credentials,
      response: {
        201: Success('Usuario registrado exitosamente', Type.Object({ user: UserView }, { additionalProperties: false })),
        ...failures(400, 409, 413, 415, 429, 500)
      }
    }
  }, async function (request, reply) {
    const user = await fastify.users.register(request.body.email, request.body.password, requestMeta(request), request.log)
    return reply.code(201).send({ success: true, message: 'Usuario registrado exitosamente', data: { user } })
  })
}

export default register
