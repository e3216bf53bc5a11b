/**
 * The shared revocation list as `fastify.revocationList`
 * (lib/revocation-list.ts): the sessions service publishes every revoked
 * token to it once the revocation has committed, before answering. Without
 * REDIS_URL, `publish` does nothing.
 */
import fp from 'fastify-plugin'
import { createRevocationList, type RevocationList } from '../../lib/revocation-list.js'

declare module 'fastify' {
  interface FastifyInstance {
    revocationList: RevocationList
  }
}

const none: RevocationList = { publish: async () => {} }

export default fp(async function revocationList (fastify) {
  const { redis, store, config } = fastify
  if (redis === null) {
    fastify.decorate('revocationList', none)
    return
  }
  const list = createRevocationList({ redis, store, toleranceSeconds: config.CLOCK_TOLERANCE_SECONDS, log: fastify.log })
  fastify.decorate('revocationList', list)
  // Before the store closes (onClose): a refill reads from it.
  fastify.addHook('preClose', () => list.close())
  await list.sync()
}, { name: 'revocation-list', dependencies: ['config', 'store', 'redis'] })
