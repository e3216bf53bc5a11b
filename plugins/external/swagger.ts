/**
 * @fastify/swagger and @fastify/swagger-ui: the OpenAPI document at
 * /docs/json and Swagger UI at /docs.
 * @see https://github.com/fastify/fastify-swagger
 */
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'

export default fp(async function docs (fastify) {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'auth-sessions',
        description: 'Session-backed JWTs that really end: login, sessions, and a logout that revokes for good.',
        version: '0.1.0'
      },
      servers: [{ url: 'http://127.0.0.1:3000' }],
      tags: [
        { name: 'auth', description: 'Register, login, logout and the current session' },
        { name: 'sessions', description: 'The caller\'s sessions and security events' },
        { name: 'health', description: 'Service health' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }
        }
      }
    }
  })
  await fastify.register(swaggerUi, { routePrefix: '/docs' })
}, { name: 'swagger' })
