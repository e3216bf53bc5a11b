/**
 * @fastify/swagger and @fastify/swagger-ui: the OpenAPI document at
 * /docs/json and Swagger UI at /docs. Clients are generated from this
 * document, so it names every shared schema by its `$id`. It shows the
 * routes this server has (no /register when REGISTRATION_ENABLED=false);
 * openapi.json, the contract, is exported from a fixed configuration
 * (lib/openapi.ts).
 * @see https://github.com/fastify/fastify-swagger
 */
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { openapiResponse } from '../../schemas/envelope.js'

export default fp(async function docs (fastify) {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'auth-sessions',
        description: 'Session-backed JWTs that really end: login, sessions, and a logout that revokes for good.',
        version: '0.1.0'
      },
      // A relative `/` first: Swagger UI's "Try it out" then calls the origin
      // that served /docs, whatever host name or scheme reached it (a fixed
      // 127.0.0.1 is another origin, refused by CORS). Then an origin without
      // a path for tools that need an absolute URL, its port a variable.
      servers: [{
        url: '/',
        description: 'The server that serves this document'
      }, {
        url: 'http://{host}:{port}',
        description: 'A running auth-sessions (`npm start`)',
        variables: {
          host: { default: '127.0.0.1', description: 'HOST' },
          port: { default: '3000', description: 'PORT' }
        }
      }],
      tags: [
        { name: 'auth', description: 'Register, login, logout and the current session' },
        { name: 'sessions', description: 'The caller\'s sessions and security events' },
        { name: 'health', description: 'Service health' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The `token` answered by login.' }
        }
      }
    },
    // Every response entry is a `respond()`: its example and headers go where
    // OpenAPI wants them. Swagger UI's own routes have no responses (and are hidden).
    transform: ({ schema, url }) => schema.response === undefined
      ? { schema, url }
      : {
          schema: {
            ...schema,
            response: Object.fromEntries(Object.entries(schema.response as Record<string, Parameters<typeof openapiResponse>[0]>)
              .map(([status, entry]) => [status, openapiResponse(entry)]))
          },
          url
        },
    // OpenAPI 3.1 schemas are JSON Schema 2020-12: `const` stays `const`.
    convertConstToEnum: false,
    // Components keep their `$id` as name (the default would be `def-N`);
    // only schemas with an `$id` are named here (test/app/openapi.test.ts).
    refResolver: {
      buildLocalReference: (json) => String(json.$id)
    }
  })
  await fastify.register(swaggerUi, { routePrefix: '/docs' })
}, { name: 'swagger' })
