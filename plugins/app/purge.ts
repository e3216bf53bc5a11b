/**
 * Deletes expired sessions and expired revocation records in the
 * background: a sweep of each table, a small batch of rows per store write,
 * so that requests keep being served between batches. The batch size adapts
 * so that each write takes about PURGE_TARGET_MS (BENCHMARKS.md).
 */
import fp from 'fastify-plugin'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { PurgeCursor, PurgeTable } from '../../lib/store/store.js'

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
  const { store } = fastify
  let running: Promise<number> | null = null
  let closing = false

  /**
   * Sweeps each table once, from its start to its end, a batch of rows per
   * store write. A live row costs a look, an expired one a delete.
   */
  async function purgeAll (): Promise<number> {
    let total = 0
    let size = MIN_BATCH
    for (const table of ['sessions', 'revocations', 'refreshTokens', 'audit'] satisfies PurgeTable[]) {
      let after: PurgeCursor | null = null
      do {
        const started = performance.now()
        const step = await store.purge(table, size, after)
        size = nextBatch(size, performance.now() - started)
        total += step.deleted
        after = step.next
        if (closing) return total
        if (after !== null) await nextTurn()
      } while (after !== null)
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
}, { name: 'purge', dependencies: ['store'] })
