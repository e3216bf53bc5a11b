import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Credentials } from '../../../../schemas/auth.js'
import { failures, respond } from '../../../../schemas/envelope.js'
import { RegisterResponse } from '../../../../schemas/responses.js'
import { ref } from '../../../../schemas/ref.js'
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
      body: ref(Credentials),
      response: {
        201: respond(RegisterResponse, 'The user is created; log in to get a token.', {
          success: true,
          message: 'Usuario registrado exitosamente',
          data: { user: { id: '0b8f0c7e-4f0e-4d2a-9a57-4f8f5f3c2a10', email: 'ada@example.com', createdAt: '2026-11-21T10:00:00.000Z' } }
        }),
        ...failures(400, 409, 413, 415, 429, 500)
      }
    }
  }, async function (request, reply) {
    const user = await fastify.users.register(request.body.email, request.body.password, requestMeta(request), request.log)
    return reply.code(201).send({ success: true, message: 'Usuario registrado exitosamente', data: { user } })
  })
}

export default register
