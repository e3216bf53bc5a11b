/**
 * A baseline and the server, both running, loaded in turn (bench/run.ts):
 * a warm-up of each, then `rounds` rounds of `duration / rounds` seconds,
 * baseline then server. Each round's ratio compares two measurements
 * seconds apart, so a change in the machine's background load between them
 * is small; the ratio reported is the median round's. A baseline that
 * revokes too (the durable logout baseline) runs on its own copy of the
 * file and gets fresh tokens as the server does.
 */
import { cpuMs, load, type Target } from './procs.js'
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
  /**
   * A baseline whose logout really revokes on the same database (the
   * PostgreSQL one) needs fresh tokens of its own: its own slices, used like
   * the server's.
   */
  baselineSlices?: { logout: Slice, logoutWarm: Slice }
  /** CPU ms used so far by something both targets load, the same for both (PostgreSQL's backends): reported per request as `cpuUs.shared*`. */
  sharedCpuMs?: () => number
  log: (line: string) => void
}

/** CPU time of the target's process (all its threads) per request, in µs, over the timed rounds. */
export interface CpuPerRequest { baseline: number, server: number, sharedBaseline?: number, sharedServer?: number }

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

export interface Paired { baseline: LoadResult, server: LoadResult, ratios: number[], cpuUs: CpuPerRequest, reference?: { load: LoadResult, ratios: number[] } }

export async function paired (opts: RoundOptions, baseline: Target, srv: Target, mode: 'logout' | 'me', tokensFile: string, extra: PairOptions = {}): Promise<Paired> {
  const { connections } = opts
  const seconds = opts.duration / opts.rounds
  const fresh = mode === 'logout' ? opts.slices.logout : (extra.slice ?? opts.slices.me)
  const warm = mode === 'logout' ? opts.slices.logoutWarm : (extra.slice ?? opts.slices.me)
  const own = mode === 'logout' ? opts.baselineSlices : undefined
  const consumes = mode === 'logout' && (extra.baselineConsumes === true || own !== undefined)
  const bWarm = own?.logoutWarm ?? warm
  const bFresh = own?.logout ?? fresh
  // The warm-up's shuffle is not any round's.
  const seed = (round: number) => extra.shuffle === true ? { seed: 1000 + round } : {}
  if (extra.reference !== undefined) await load({ url: extra.reference.url, mode, tokensFile, from: warm[0], to: warm[1], connections, duration: opts.warmup, reuse: true, ...seed(-1) })
  const wb = await load({ url: baseline.url, mode, tokensFile, from: bWarm[0], to: bWarm[1], connections, duration: opts.warmup, reuse: !consumes, ...seed(-1) })
  await load({ url: srv.url, mode, tokensFile, from: warm[0], to: warm[1], connections, duration: opts.warmup, ...seed(-1) })
  if (consumes && wb.exhausted) throw new Error(`${baseline.name} ${mode}: ran out of warm-up tokens`)
  const ref: LoadResult[] = []
  const b: LoadResult[] = []
  const s: LoadResult[] = []
  const cpu = { baseline: 0, server: 0, sharedBaseline: 0, sharedServer: 0 }
  const shared = opts.sharedCpuMs ?? (() => 0)
  let next: number = fresh[0]
  let nextB: number = bFresh[0]
  for (let i = 0; i < opts.rounds; i++) {
    if (extra.reference !== undefined) ref.push(await load({ url: extra.reference.url, mode, tokensFile, from: fresh[0], to: fresh[1], connections, duration: seconds, reuse: true, ...seed(i) }))
    const baselineAcked = consumes && extra.baselineAcked !== undefined ? { acked: `${extra.baselineAcked}.${i}` } : {}
    let c0 = cpuMs(baseline.proc.pid!)
    let s0 = shared()
    const rb = await load({ url: baseline.url, mode, tokensFile, from: consumes ? nextB : bFresh[0], to: bFresh[1], connections, duration: seconds, reuse: !consumes, ...seed(i), ...baselineAcked })
    cpu.baseline += cpuMs(baseline.proc.pid!) - c0
    cpu.sharedBaseline += shared() - s0
    if (rb.exhausted) throw new Error(`${baseline.name} ${mode}: ran out of fresh tokens; seed more (--sessions)`)
    if (consumes) nextB += rb.used
    b.push(rb)
    // Logout: each round goes on with the tokens the last one did not use.
    const from = mode === 'logout' ? next : fresh[0]
    c0 = cpuMs(srv.proc.pid!)
    s0 = shared()
    const r = await load({ url: srv.url, mode, tokensFile, from, to: fresh[1], connections, duration: seconds, ...seed(i), ...(extra.acked === undefined ? {} : { acked: `${extra.acked}.${i}` }) })
    cpu.server += cpuMs(srv.proc.pid!) - c0
    cpu.sharedServer += shared() - s0
    if (r.exhausted) throw new Error(`${srv.name} ${mode}: ran out of fresh tokens; seed more (--sessions)`)
    if (mode === 'logout') next += r.used
    s.push(r)
  }
  const perRequest = (ms: number, rs: LoadResult[]) => Math.round(ms * 1000 / rs.reduce((n, r) => n + r.requests, 0))
  const result: Paired = {
    baseline: merged(b, opts.duration),
    server: merged(s, opts.duration),
    ratios: s.map((r, i) => r.rps / b[i]!.rps),
    cpuUs: {
      baseline: perRequest(cpu.baseline, b),
      server: perRequest(cpu.server, s),
      ...(opts.sharedCpuMs === undefined ? {} : { sharedBaseline: perRequest(cpu.sharedBaseline, b), sharedServer: perRequest(cpu.sharedServer, s) })
    }
  }
  if (extra.reference !== undefined) result.reference = { load: merged(ref, opts.duration), ratios: s.map((r, i) => r.rps / ref[i]!.rps) }
  const refLine = result.reference === undefined ? '' : `${extra.reference!.name} ${mode}: ${result.reference.load.rps} req/s (ratio by round ${result.reference.ratios.map((x) => x.toFixed(2)).join(' ')}); `
  opts.log(`  ${refLine}${baseline.name} ${mode}: ${result.baseline.rps} req/s, non-2xx ${result.baseline.non2xx}; ${srv.name} ${mode}: ${result.server.rps} req/s, p50 ${result.server.p50} ms, p99 ${result.server.p99} ms, ` +
    `non-2xx ${result.server.non2xx}, errors ${result.server.errors}; ratio by round ${result.ratios.map((x) => x.toFixed(2)).join(' ')}; ` +
    `CPU µs/request ${result.cpuUs.baseline} vs ${result.cpuUs.server}` +
    (opts.sharedCpuMs === undefined ? '' : ` (+ PostgreSQL ${result.cpuUs.sharedBaseline} vs ${result.cpuUs.sharedServer})`))
  return result
}
