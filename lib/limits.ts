import type { Config } from '../fastify.config.js'

/**
 * The route-level `config.rateLimit` for a limit of `max` per IP per window;
 * no limit at all when `max` is 0, as the contract's `0` means.
 */
export function perIp (config: Config, max: number): { rateLimit?: { max: number, timeWindow: number } } {
  return max > 0 ? { rateLimit: { max, timeWindow: config.RATE_LIMIT_WINDOW_MS } } : {}
}
