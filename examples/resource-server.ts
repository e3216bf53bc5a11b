import Fastify from 'fastify'
import jwt from '@fastify/jwt'
import { Redis } from 'ioredis'

/** Another API that verifies auth-sessions' tokens itself, and honours their revocation. */
export function resourceServer (opts: { secret: string, redisUrl: string, prefix?: string }) {
  const prefix = opts.prefix ?? 'auth-sessions:'
  // Fail fast: while Redis is away, EXISTS throws and the request is refused (fail closed).
  const redis = new Redis(opts.redisUrl, { enableOfflineQueue: false, commandTimeout: 50 })
  const app = Fastify()
  app.register(jwt, { secret: opts.secret, verify: { algorithms: ['HS256'] } })
  app.addHook('onRequest', async (request, reply) => {
    const { jti } = await request.jwtVerify<{ jti: string }>() // 401 when forged or expired
    if (await redis.exists(`${prefix}revoked:${jti}`) === 1) {
      return reply.code(401).send({ error: 'token revoked' })
    }
  })
  app.addHook('onClose', async () => { redis.disconnect() })
  app.get('/orders', async (request) => ({ user: (request.user as { sub: string }).sub, orders: [] }))
  return app
}
