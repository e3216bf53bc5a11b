/**
 * The service's clock. Everything that decides with time (session deadlines,
 * the grace of a refresh, the purge) reads it here, so that a test can move
 * it (`clock.now`) instead of sleeping. JWT `exp` checks are fast-jwt's, on
 * the real clock.
 */
export const clock = { now: (): number => Date.now() }

/** Epoch milliseconds. */
export const nowMs = (): number => clock.now()

/** Seconds since the epoch, as JWT `iat`/`exp` count them. */
export const nowSeconds = (): number => Math.floor(clock.now() / 1000)

/** An ISO 8601 UTC string from epoch milliseconds. */
export const iso = (ms: number): string => new Date(ms).toISOString()
