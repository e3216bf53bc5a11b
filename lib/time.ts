/** Seconds since the epoch, as JWT `iat`/`exp` count them. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** An ISO 8601 UTC string from epoch milliseconds. */
export const iso = (ms: number): string => new Date(ms).toISOString()
