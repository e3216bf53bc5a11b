// The part of autocannon's API the load generator uses (it ships no types).
declare module 'autocannon' {
  interface Histogram { average: number, p50: number, p90: number, p99: number, max: number, total: number }
  interface Result {
    requests: Histogram
    latency: Histogram
    non2xx: number
    errors: number
    timeouts: number
    duration: number
  }
  function autocannon (opts: Record<string, unknown>): Promise<Result>
  export default autocannon
}
