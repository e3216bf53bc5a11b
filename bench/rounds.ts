/**
 * A baseline and the server, both running, loaded in turn (bench/run.ts):
 * a warm-up of each, then `rounds` rounds of `duration / rounds` seconds,
 * baseline then server. Each round's ratio compares two measurements
 * seconds apart, so a change in the machine's background load between them
 * is small; the ratio reported is the median round's. A baseline that
 * revokes too (the durable logout baseline) runs on its own copy of the
 * file and gets fresh tokens as the server does.
 */
import { load, type Target } from './procs.js'
import type { LoadResult } from './load.js'

export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/** Rounds of one target as one result: req/s over all of them, the median round's latencies, every failure counted. */
export function merged (rounds: LoadResult[], seconds: number): LoadResult {
  const requests = rounds.reduce((n, r) => n + r.requests, 0)
  return {
    requests,
    rps: Math.round(requests / seconds),
    p50: median(rounds.map((r) => r.p50)),
    p90: median(rounds.map((r) => r.p90)),
    p99: median(rounds.map((r) => r.p99)),
    max: Math.max(...rounds.map((r) => r.max)),
    non2xx: rounds.reduce((n, r) => n + r.non2xx, 0),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    timeouts: rounds.reduce((n, r) => n + r.timeouts, 0),
    used: rounds.reduce((n, r) => n + r.used, 0),
    exhausted: rounds.some((r) => r.exhausted)
  }
}

type Slice = readonly [number, number]

export interface RoundOptions {
  rounds: number
  /** Seconds of timed load per target, split over the rounds. */
  duration: number
  warmup: number
  connections: number
  /** Token lines: fresh ones for the timed logouts, others for the warm-up, the /me pool. */
  slices: { logout: Slice, logoutWarm: Slice, me: Slice }
  log: (line: string) => void
}

export interface PairOptions {
  /** The server's acknowledged logouts are written to `${acked}.${round}`. */
  acked?: string
  /**
   * The baseline revokes too, on its own copy of the file: it gets fresh
   * tokens as the server does (the same lines, never reused), and its
   * acknowledged logouts go to `${baselineAcked}.${round}`.
   */
  baselineConsumes?: boolean
  baselineAcked?: string
  /** Measured in every round too, before the baseline, cycling over the same tokens: its ratio is reported, not a target. */
  reference?: Target
  /** /me: the slice [from, to) rotated in a shuffled order, the round's own seed, the same for both targets. */
  shuffle?: boolean
  /** The /me slice, when not opts.slices.me. */
  slice?: Slice
}

export interface Paired { baseline: LoadResult, server: LoadResult, ratios: number[], reference?: { load: LoadResult, ratios: number[] } }

export async function paired (opts: RoundOptions, baseline: Target, srv: Target, mode: 'logout' | 'me', tokensFile: string, extra: PairOptions = {}): Promise<Paired> {
  const { connections } = opts
  const seconds = opts.duration / opts.rounds
  const fresh = mode === 'logout' ? opts.slices.logout : (extra.slice ?? opts.slices.me)
  const warm = mode === 'logout' ? opts.slices.logoutWarm : (extra.slice ?? opts.slices.me)
  const consumes = mode === 'logout' && extra.baselineConsumes === true
  // The warm-up's shuffle is not any round's.
  const seed = (round: number) => extra.shuffle === true ? { seed: 1000 + round } : {}
  if (extra.reference !== undefined) await load({ url: extra.reference.url, mode, tokensFile, from: warm[0], to: warm[1], connections, duration: opts.warmup, reuse: true, ...seed(-1) })
  const wb = await load({ url: baseline.url, mode, tokensFile, from: warm[0], to: warm[1], connections, duration: opts.warmup, reuse: !consumes, ...seed(-1) })
  await load({ url: srv.url, mode, tokensFile, from: warm[0], to: warm[1], connections, duration: opts.warmup, ...seed(-1) })
  if (consumes && wb.exhausted) throw new Error(`${baseline.name} ${mode}: ran out of warm-up tokens`)
  const ref: LoadResult[] = []
  const b: LoadResult[] = []
  const s: LoadResult[] = []
  let next: number = fresh[0]
  let nextB: number = fresh[0]
  for (let i = 0; i < opts.rounds; i++) {
    if (extra.reference !== undefined) ref.push(await load({ url: extra.reference.url, mode, tokensFile, from: fresh[0], to: fresh[1], connections, duration: seconds, reuse: true, ...seed(i) }))
    const baselineAcked = consumes && extra.baselineAcked !== undefined ? { acked: `${extra.baselineAcked}.${i}` } : {}
    const rb = await load({ url: baseline.url, mode, tokensFile, from: consumes ? nextB : fresh[0], to: fresh[1], connections, duration: seconds, reuse: !consumes, ...seed(i), ...baselineAcked })
    if (rb.exhausted) throw new Error(`${baseline.name} ${mode}: ran out of fresh tokens; seed more (--sessions)`)
    if (consumes) nextB += rb.used
    b.push(rb)
    // Logout: each round goes on with the tokens the last one did not use.
    const from = mode === 'logout' ? next : fresh[0]
    const r = await load({ url: srv.url, mode, tokensFile, from, to: fresh[1], connections, duration: seconds, ...seed(i), ...(extra.acked === undefined ? {} : { acked: `${extra.acked}.${i}` }) })
    if (r.exhausted) throw new Error(`${srv.name} ${mode}: ran out of fresh tokens; seed more (--sessions)`)
    if (mode === 'logout') next += r.used
    s.push(r)
  }
  const result: Paired = { baseline: merged(b, opts.duration), server: merged(s, opts.duration), ratios: s.map((r, i) => r.rps / b[i]!.rps) }
  if (extra.reference !== undefined) result.reference = { load: merged(ref, opts.duration), ratios: s.map((r, i) => r.rps / ref[i]!.rps) }
  const refLine = result.reference === undefined ? '' : `${extra.reference!.name} ${mode}: ${result.reference.load.rps} req/s (ratio by round ${result.reference.ratios.map((x) => x.toFixed(2)).join(' ')}); `
  opts.log(`  ${refLine}${baseline.name} ${mode}: ${result.baseline.rps} req/s, non-2xx ${result.baseline.non2xx}; ${srv.name} ${mode}: ${result.server.rps} req/s, p50 ${result.server.p50} ms, p99 ${result.server.p99} ms, ` +
    `non-2xx ${result.server.non2xx}, errors ${result.server.errors}; ratio by round ${result.ratios.map((x) => x.toFixed(2)).join(' ')}`)
  return result
}
