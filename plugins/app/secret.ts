/**
 * The JWT signing key: JWT_SECRET when set, otherwise a random 256-bit
 * secret generated on first start and kept in the settings table, so that
 * tokens survive a restart. The key itself is never logged.
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
    const db = fastify.db
    const read = db.prepare<[], { value: string }>("SELECT value FROM settings WHERE key = 'jwt_secret'")
    secret = read.get()?.value
    if (secret === undefined) {
      const generated = randomBytes(32).toString('base64url')
      // INSERT OR IGNORE + re-read: two processes starting at once agree on one key.
      db.prepare("INSERT OR IGNORE INTO settings (key, value) VALUES ('jwt_secret', ?)").run(generated)
      secret = read.get()!.value
      fastify.log.warn('JWT_SECRET is not set: generated a random 256-bit secret and stored it in the database')
    } else {
      fastify.log.warn('JWT_SECRET is not set: using the secret generated on first start and stored in the database')
    }
  }
  fastify.decorate('jwtSecret', secret)
}, { name: 'secret', dependencies: ['config', 'db'] })
