/**
 * The root plugin: configuration and store, the external plugins, our
 * services, the error boundary, then the routes.
 * Run by server.ts (`npm start`), by fastify-cli through dev.ts (`npm run
 * dev`), and by the tests through test/helper.ts. Importing it has no side
 * effect: the environment is read when the plugin runs, if no config is given.
 */
import type { FastifyInstance } from 'fastify'
import { loadConfig, type Config } from './fastify.config.js'
import config from './plugins/app/config.js'
import store from './plugins/app/store.js'
import secret from './plugins/app/secret.js'
import redis from './plugins/app/redis.js'
import revocationList from './plugins/app/revocation-list.js'
import jwt from './plugins/external/jwt.js'
import rateLimit from './plugins/external/rate-limit.js'
import cors from './plugins/external/cors.js'
import swagger from './plugins/external/swagger.js'
import schemas from './plugins/app/schemas.js'
import audit from './plugins/app/audit.js'
import tokens from './plugins/app/tokens.js'
import users, { type HashCost } from './plugins/app/users.js'
import sessions from './plugins/app/sessions.js'
import auth from './plugins/app/auth.js'
import purge from './plugins/app/purge.js'
import errors from './plugins/app/errors.js'
import shutdown from './plugins/app/shutdown.js'
import health from './routes/health.js'
import authRoutes from './routes/api/v1/auth/index.js'
import { checkContinue } from './lib/oversized.js'

export interface AppOptions {
  config?: Config
  /** argon2id's cost, OWASP's unless given (plugins/app/users.ts). */
  hashCost?: HashCost
}

export default async function app (fastify: FastifyInstance, opts: AppOptions) {
  const cfg = opts.config ?? loadConfig()
  await fastify.register(config, { config: cfg })
  // First, so that every response sent during close() carries its hook.
  await fastify.register(shutdown)
  // Slow clients: a request's headers must arrive within this time (slowloris).
  fastify.server.headersTimeout = cfg.HEADERS_TIMEOUT_MS
  // No `100 Continue` for a declared body over the limit: its 413 instead (lib/oversized.ts).
  fastify.server.on('checkContinue', checkContinue(fastify.server, cfg.BODY_LIMIT_BYTES))
  // The store comes first: the signing key may live in it.
  await fastify.register(store)
  await fastify.register(secret)
  // Before the rate limiter, which counts in it when REDIS_URL is set.
  await fastify.register(redis)

  await fastify.register(jwt)
  await fastify.register(rateLimit)
  await fastify.register(cors)
  await fastify.register(swagger)
  await fastify.register(schemas)

  // Only application/json bodies are accepted; text/plain is Fastify's default too.
  fastify.removeContentTypeParser('text/plain')

  await fastify.register(audit)
  await fastify.register(tokens)
  await fastify.register(revocationList)
  await fastify.register(users, { hashCost: opts.hashCost })
  await fastify.register(sessions)
  await fastify.register(auth)
  await fastify.register(purge)
  await fastify.register(errors)

  await fastify.register(health)
  await fastify.register(authRoutes, { prefix: '/api/v1/auth' })
}
