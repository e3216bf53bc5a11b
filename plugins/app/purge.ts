/**
 * Deletes expired sessions and expired revocation records in the
 * background, a small batch per write-queue turn, so that requests keep
 * being served between batches.
 */
import fp from 'fastify-plugin'
import { setImmediate as nextTurn } from 'node:timers/promises'

declare module 'fastify' {
  interface FastifyInstance {
    /** Runs one full purge now; resolves with the number of rows deleted. */
    purge: () => Promise<number>
  }
}

export const PURGE_BATCH = 500

export default fp(async function purge (fastify) {
  const { writes, sessions } = fastify
  let running: Promise<number> | null = null
  let closing = false

  async function purgeAll (): Promise<number> {
    let total = 0
    for (;;) {
      const n = await writes.run(() => sessions.purgeExpired(PURGE_BATCH))
      total += n
      if (n === 0 || closing) return total
      await nextTurn()
    }
  }

  function runOnce (): Promise<number> {
    running ??= purgeAll().finally(() => { running = null })
    return running
  }

  const timer = setInterval(() => {
    runOnce().catch((err: unknown) => fastify.log.error({ err }, 'purge failed'))
  }, fastify.config.PURGE_INTERVAL_SECONDS * 1000)
  timer.unref()

  fastify.decorate('purge', runOnce)
  fastify.addHook('preClose', async () => {
    closing = true
    clearInterval(timer)
    // Its failure goes to whoever started it (the timer logs it); it must
    // not fail close(), which would skip closing the database.
    await running?.catch(() => {})
  })
}, { name: 'purge', dependencies: ['db', 'sessions'] })
