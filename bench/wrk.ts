/**
 * `npm run bench:wrk [-- --rounds R --duration S --connections C]`
 *
 * A cross-check of `npm run bench` with wrk (C, epoll; `apt-get install wrk`)
 * as the load generator instead of autocannon: the same three targets on a
 * seeded file, each baseline alternating with the server in short rounds,
 * logout with a never-used token per request, /me rotating over a pool.
 * autocannon is a Node.js process that tops out near 30 000 req/s on one
 * core of this machine, so in `npm run bench` the bare baseline is bound by
 * its client, not by Fastify; wrk costs a fraction of that per request, and
 * each target here is bound by its own CPU. Also prints each target's CPU
 * time per request (all its threads, from /proc) and wrk's.
 *
 * Prints only; not part of `npm run bench` (wrk is not an npm package, and
 * cannot report which token each 200 answered, which the durability checks
 * need). Fails if any logout or /me is not a 2xx.
 * @see ../BENCHMARKS.md
 */
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { cpuMs, ROOT, run, SECRET, SERVER_NODE_FLAGS, startTarget, stopTarget, type Target } from './procs.js'
import { median } from './rounds.js'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '2' },
    connections: { type: 'string', default: '64' },
    sessions: { type: 'string', default: '200000' }
  }
})
const ROUNDS = Number(args.rounds)
const SECONDS = Number(args.duration)
const CONNECTIONS = Number(args.connections)
const TMP = ROOT + 'bench/results/wrk-tmp/'
const TOKENS = TMP + 'tokens.txt'
/** /me rotates over 1 000 tokens from line 10 (the bare baseline's logouts too); fresh logout tokens follow. */
const ME = { from: 10, count: 1000 }
let fresh = ME.from + ME.count

interface WrkResult { requests: number, us: number, p50: number, p99: number, non2xx: number, errors: number }
interface Measured extends WrkResult { rps: number, cpuUs: number, wrkCpuUs: number }

function wrk (t: Target, mode: 'logout' | 'me', from: number, pool: number, seconds = SECONDS): Promise<Measured> {
  const before = cpuMs(t.proc.pid!)
  return new Promise((resolve, reject) => {
    const child = execFile('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-s', ROOT + 'bench/wrk/requests.lua', t.url],
      { env: { PATH: process.env.PATH ?? '', TOKENS, MODE: mode, FROM: String(from), POOL: String(pool) } },
      (err, stdout) => {
        if (err !== null) return reject(err)
        const r = JSON.parse(stdout.trim().split('\n').pop()!) as WrkResult
        const cpu = cpuMs(t.proc.pid!) - before
        resolve({ ...r, rps: Math.round(r.requests / (r.us / 1e6)), cpuUs: Math.round(cpu * 1000 / r.requests), wrkCpuUs: Math.round(wrkCpu * 1000 / r.requests) })
      })
    let wrkCpu = 0
    // wrk's own CPU, read just before it exits: sampled every 100 ms.
    const timer = setInterval(() => { try { wrkCpu = cpuMs(child.pid!) } catch {} }, 100)
    child.once('exit', () => clearInterval(timer))
  })
}

/** Logout: fresh tokens, each round where the last stopped (with room for the requests in flight). */
async function next (t: Target, mode: 'logout' | 'me', seconds = SECONDS): Promise<Measured> {
  if (mode === 'me') return wrk(t, 'me', ME.from, ME.count, seconds)
  const r = await wrk(t, 'logout', fresh, 0, seconds)
  fresh += r.requests + CONNECTIONS
  return r
}

async function pair (baseline: Target, server: Target, mode: 'logout' | 'me') {
  await wrk(baseline, mode, ME.from, ME.count, 2)
  await next(server, mode, 2)
  const b: Measured[] = []
  const s: Measured[] = []
  for (let i = 0; i < ROUNDS; i++) {
    b.push(await wrk(baseline, mode, ME.from, ME.count))
    s.push(await next(server, mode))
  }
  const bad = s.reduce((n, r) => n + r.non2xx + r.errors, 0)
  if (bad > 0) throw new Error(`server ${mode}: ${bad} non-2xx or errors`)
  const m = (xs: Measured[], k: keyof Measured) => median(xs.map((x) => x[k]))
  const ratios = s.map((r, i) => r.rps / b[i]!.rps)
  process.stdout.write(`${mode}: ${baseline.name} ${m(b, 'rps')} req/s (${m(b, 'cpuUs')} µs CPU/request, wrk ${m(b, 'wrkCpuUs')}); ` +
    `server ${m(s, 'rps')} req/s (${m(s, 'cpuUs')} µs CPU/request, wrk ${m(s, 'wrkCpuUs')}), p50 ${m(s, 'p50')} ms, p99 ${m(s, 'p99')} ms; ` +
    `ratio ${median(ratios).toFixed(2)} (rounds ${ratios.map((x) => x.toFixed(2)).join(' ')})\n`)
}

rmSync(TMP, { recursive: true, force: true })
mkdirSync(TMP, { recursive: true })
const env = { JWT_SECRET: SECRET, LOG_LEVEL: 'warn' }
await run(['dist/scripts/seed.js', '--sessions', args.sessions!, '--tokens-file', TOKENS], { ...env, DATABASE_PATH: TMP + 'wrk.db' })
const bare = await startTarget('bare', 'bench/baseline-bare.js', env, TMP + 'bare.log')
const verify = await startTarget('jwt-verify', 'bench/baseline-jwt.js', env, TMP + 'jwt.log')
const server = await startTarget('server', 'dist/server.js', { ...env, DATABASE_PATH: TMP + 'wrk.db', RATE_LIMIT_MAX: '1000000000' }, TMP + 'server.log', SERVER_NODE_FLAGS)
process.stdout.write(`wrk, ${ROUNDS} rounds of ${SECONDS} s per target, ${CONNECTIONS} connections, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`)
try {
  await pair(bare, server, 'logout')
  await pair(verify, server, 'me')
} finally {
  await Promise.all([stopTarget(bare), stopTarget(verify), stopTarget(server)])
  rmSync(TMP, { recursive: true, force: true })
}
