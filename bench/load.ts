/**
 * The load generator, run as its own process by bench/run.ts so that it never
 * shares an event loop with the server it measures.
 *
 *   node --import tsx bench/load.ts '<json options>'
 *
 * `logout`: every request takes the next unused token from the slice
 * [from, to) of the tokens file and sends it as Bearer and body, as a client
 * logging out would. `me`: GET with the Bearer token rotating over the slice,
 * in the file's order or, with `seed`, in an order shuffled by that seed
 * (every token once per pass; two runs with the same seed send the same
 * sequence).
 * Prints one JSON line: autocannon's figures, and with `acked`, writes every
 * token whose logout was answered 200 to that file (the durability check).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import autocannon from 'autocannon'

export interface LoadOptions {
  url: string
  mode: 'logout' | 'me'
  tokensFile: string
  from: number
  to: number
  connections: number
  duration: number
  acked?: string
  /** Baselines only: cycle through the slice (they never revoke anything). */
  reuse?: boolean
  /** `me`: rotate over the slice in the order of a shuffle seeded with this (an integer). */
  seed?: number
}

export interface LoadResult {
  requests: number
  rps: number
  p50: number
  p90: number
  p99: number
  max: number
  non2xx: number
  errors: number
  timeouts: number
  used: number
  exhausted: boolean
}

const opts = JSON.parse(process.argv[2]!) as LoadOptions
const tokens = readFileSync(opts.tokensFile, 'utf8').split('\n', opts.to).slice(opts.from, opts.to)
const acked: string[] = []
let next = 0
let exhausted = false

interface Ctx { token?: string }
interface Req { headers?: Record<string, string>, body?: string, method?: string, path?: string }

const logoutRequest = {
  method: 'POST',
  path: '/api/v1/auth/logout',
  setupRequest (req: Req, ctx: Ctx) {
    let token = opts.reuse === true ? tokens[next++ % tokens.length] : tokens[next++]
    if (token === undefined) {
      // Out of fresh tokens: resend the last one, which then counts as a non-2xx.
      exhausted = true
      token = tokens[tokens.length - 1]!
    }
    ctx.token = token
    req.headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    req.body = JSON.stringify({ token })
    return req
  },
  onResponse (status: number, _body: unknown, ctx: Ctx) {
    if (status === 200 && opts.acked !== undefined) acked.push(ctx.token!)
  }
}

/** A Fisher-Yates shuffle of 0..n-1 driven by mulberry32(seed): the same order for the same seed. */
function shuffled (n: number, seed: number): Uint32Array {
  let a = seed >>> 0
  const random = () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const x = order[i]!
    order[i] = order[j]!
    order[j] = x
  }
  return order
}
const order = opts.mode === 'me' && opts.seed !== undefined ? shuffled(tokens.length, opts.seed) : null

const meRequest = {
  method: 'GET',
  path: '/api/v1/auth/me',
  setupRequest (req: Req) {
    const i = next++ % tokens.length
    req.headers = { authorization: `Bearer ${tokens[order === null ? i : order[i]!]}` }
    return req
  }
}

// The orchestrator times its SIGKILL from here, not from the spawn.
process.stderr.write('started\n')
const result = await autocannon({
  url: opts.url,
  connections: opts.connections,
  duration: opts.duration,
  pipelining: 1,
  requests: [opts.mode === 'logout' ? logoutRequest : meRequest]
})

if (opts.acked !== undefined) writeFileSync(opts.acked, acked.join('\n'))
const out: LoadResult = {
  requests: result.requests.total,
  rps: Math.round(result.requests.total / result.duration),
  p50: result.latency.p50,
  p90: result.latency.p90,
  p99: result.latency.p99,
  max: result.latency.max,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  used: Math.min(next, tokens.length),
  exhausted
}
process.stdout.write(JSON.stringify(out) + '\n')
