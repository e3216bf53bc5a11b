/**
 * Deletes expired sessions and expired revocation records in the
 * background: a sweep of each table in key order, a small batch of rows per
 * write-queue turn, so that requests keep being served between batches.
 * The batch size adapts so that each commit blocks the event loop for about
 * PURGE_TARGET_MS: a fixed 500 took 80-640 ms per batch on a cold, shared
 * disk at a million rows (bench/purge.ts).
 */
import fp from 'fastify-plugin'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { PurgeStep, RevocationKey, SessionKey } from '../../lib/write-ops.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Runs one full purge now; resolves with the number of rows deleted. */
    purge: () => Promise<number>
  }
}

export const PURGE_TARGET_MS = 8
export const MIN_BATCH = 16
const MAX_BATCH = 2000

/** The next batch size: halved when a batch blocked too long, doubled when it was quick. */
export function nextBatch (size: number, tookMs: number): number {
  if (tookMs > PURGE_TARGET_MS) return Math.max(MIN_BATCH, size >> 1)
  if (tookMs < PURGE_TARGET_MS / 2) return Math.min(MAX_BATCH, size * 2)
  return size
}

export default fp(async function purge (fastify) {
  const { writes } = fastify
  let running: Promise<number> | null = null
  let closing = false

  /**
   * Sweeps each table once, from its first key to its last, a batch of rows
   * per write-queue turn. A live row costs a look, an expired one a delete.
   */
  async function purgeAll (): Promise<number> {
    let total = 0
    let size = MIN_BATCH
    /** One step of a sweep, the batch size adapted to how long its commit took; null when the sweep is over. */
    async function step<K> (run: (limit: number) => Promise<PurgeStep<K>>): Promise<K | null> {
      const started = performance.now()
      const { deleted, next } = await run(size)
      size = nextBatch(size, performance.now() - started)
      total += deleted
      if (next === null || closing) return null
      await nextTurn()
      return next
    }
    for (let after: SessionKey | null = ['', '']; after !== null;) {
      const from: SessionKey = after
      after = await step((limit) => writes.run('purgeSessions', { limit, after: from }))
    }
    for (let after: RevocationKey | null = [0]; after !== null;) {
      const from: RevocationKey = after
      after = await step((limit) => writes.run('purgeRevocations', { limit, after: from }))
    }
    return total
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
}, { name: 'purge', dependencies: ['db'] })
