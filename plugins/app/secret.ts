/**
 * The JWT signing key: JWT_SECRET when set, otherwise a random 256-bit
 * secret generated on first start and kept in the store's settings, so
 * that tokens survive a restart and every process on the store shares it.
 * The key itself is never logged.
 */
import { randomBytes } from 'node:crypto'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    jwtSecret: string
  }
}

export default fp(async function secret (fastify) {
  let secret = fastify.config.JWT_SECRET
  if (secret === undefined) {
    const { value, created } = await fastify.store.setting('jwt_secret', randomBytes(32).toString('base64url'))
    secret = value
    fastify.log.warn(created
      ? 'JWT_SECRET is not set: generated a random 256-bit secret and stored it in the database'
      : 'JWT_SECRET is not set: using the secret generated on first start and stored in the database')
  }
  fastify.decorate('jwtSecret', secret)
}, { name: 'secret', dependencies: ['config', 'store'] })
