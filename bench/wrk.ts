/**
 * `npm run bench:wrk [-- --rounds R --duration S --connections C --me-sizes 1000,20000,200000,1000000]`
 *
 * A cross-check of `npm run bench` with wrk (C, epoll; `apt-get install wrk`)
 * as the load generator instead of autocannon: the same targets on seeded
 * files, each baseline alternating with the server in short rounds. Logout,
 * a never-used token per request, against the durable baseline
 * (bench/baseline-durable.js on its own copy of the file, the same token
 * lines as the server), then against bare Fastify for reference; /me against
 * the verify-only baseline at each of `--me-sizes` live sessions (a file
 * seeded with that many, fresh processes), the token rotating over all of
 * them in a shuffled order, each round its own, the same for both targets.
 * autocannon is a Node.js process that tops out near 30 000 req/s on one
 * core of this machine, so in `npm run bench` the bare baseline is bound by
 * its client, not by Fastify; wrk costs a fraction of that per request, and
 * each target here is bound by its own CPU. Also prints each target's CPU
 * time per request (all its threads, from /proc) and wrk's.
 *
 * Prints only; not part of `npm run bench` (wrk is not an npm package, and
 * cannot report which token each 200 answered, which the durability checks
 * need). Fails if any logout or /me of a baseline or the server is not a 2xx.
 * @see ../BENCHMARKS.md
 */
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { rmDb, startDurable } from './durable.js'
import { cpuMs, ROOT, run, SECRET, SERVER_NODE_FLAGS, startTarget, stopTarget, type Target } from './procs.js'
import { median } from './rounds.js'
import { DEFAULT_ME_SIZES, fmt, parseSizes } from './sizes.js'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '2' },
    connections: { type: 'string', default: '64' },
    sessions: { type: 'string', default: '200000' },
    'me-sizes': { type: 'string', default: DEFAULT_ME_SIZES }
  }
})
const ROUNDS = Number(args.rounds)
const SECONDS = Number(args.duration)
const CONNECTIONS = Number(args.connections)
const ME_SIZES = parseSizes(args['me-sizes']!, false)
const TMP = ROOT + 'bench/results/wrk-tmp/'
/** The bare baseline's logouts rotate over 1 000 tokens from line 10; fresh logout tokens follow. */
const POOL = { from: 10, count: 1000 }

interface WrkResult { requests: number, us: number, p50: number, p99: number, non2xx: number, errors: number }
interface Measured extends WrkResult { rps: number, cpuUs: number, wrkCpuUs: number }
/** What a target gets: fresh tokens from `next` on (logout, moved on by each run), or a pool, shuffled with a seed per run. */
type Feed = { tokens: string, mode: 'logout', next: number } | { tokens: string, mode: 'logout' | 'me', from: number, pool: number, shuffle: boolean }

function wrk (t: Target, feed: Feed, seed: number, seconds = SECONDS): Promise<Measured> {
  const before = cpuMs(t.proc.pid!)
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', TOKENS: feed.tokens, MODE: feed.mode }
  if ('next' in feed) Object.assign(env, { FROM: String(feed.next), POOL: '0' })
  else Object.assign(env, { FROM: String(feed.from), POOL: String(feed.pool) }, feed.shuffle ? { SEED: String(seed) } : {})
  return new Promise((resolve, reject) => {
    const child = execFile('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-s', ROOT + 'bench/wrk/requests.lua', t.url], { env },
      (err, stdout) => {
        if (err !== null) return reject(err)
        const r = JSON.parse(stdout.trim().split('\n').pop()!) as WrkResult
        const cpu = cpuMs(t.proc.pid!) - before
        // Logout: the next run goes on where this one stopped, with room for the requests in flight.
        if ('next' in feed) feed.next += r.requests + CONNECTIONS
        resolve({ ...r, rps: Math.round(r.requests / (r.us / 1e6)), cpuUs: Math.round(cpu * 1000 / r.requests), wrkCpuUs: Math.round(wrkCpu * 1000 / r.requests) })
      })
    let wrkCpu = 0
    // wrk's own CPU, read just before it exits: sampled every 100 ms (a pool's file read included).
    const timer = setInterval(() => { try { wrkCpu = cpuMs(child.pid!) } catch {} }, 100)
    child.once('exit', () => clearInterval(timer))
  })
}

async function pair (label: string, baseline: Target, bFeed: Feed, server: Target, sFeed: Feed) {
  await wrk(baseline, bFeed, 999, 2)
  await wrk(server, sFeed, 999, 2)
  const b: Measured[] = []
  const s: Measured[] = []
  for (let i = 0; i < ROUNDS; i++) {
    b.push(await wrk(baseline, bFeed, i + 1))
    s.push(await wrk(server, sFeed, i + 1))
  }
  for (const [name, xs] of [[baseline.name, b], [server.name, s]] as const) {
    const bad = xs.reduce((n, r) => n + r.non2xx + r.errors, 0)
    if (bad > 0) throw new Error(`${name} ${label}: ${bad} non-2xx or errors`)
  }
  const m = (xs: Measured[], k: keyof Measured) => median(xs.map((x) => x[k]))
  const ratios = s.map((r, i) => r.rps / b[i]!.rps)
  process.stdout.write(`${label}: ${baseline.name} ${m(b, 'rps')} req/s (${m(b, 'cpuUs')} µs CPU/request, wrk ${m(b, 'wrkCpuUs')}); ` +
    `server ${m(s, 'rps')} req/s (${m(s, 'cpuUs')} µs CPU/request, wrk ${m(s, 'wrkCpuUs')}), p50 ${m(s, 'p50')} ms, p99 ${m(s, 'p99')} ms; ` +
    `ratio ${median(ratios).toFixed(2)} (rounds ${ratios.map((x) => x.toFixed(2)).join(' ')})\n`)
}

const env = { JWT_SECRET: SECRET, LOG_LEVEL: 'warn' }
const serverEnv = (db: string) => ({ ...env, DATABASE_PATH: db, RATE_LIMIT_MAX: '1000000000' })
const seed = (db: string, tokens: string, sessions: number) =>
  run(['dist/scripts/seed.js', '--sessions', String(sessions), '--tokens-file', tokens], { ...env, DATABASE_PATH: db })

rmSync(TMP, { recursive: true, force: true })
mkdirSync(TMP, { recursive: true })
process.stdout.write(`wrk, ${ROUNDS} rounds of ${SECONDS} s per target, ${CONNECTIONS} connections, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`)
try {
  const tokens = TMP + 'tokens.txt'
  await seed(TMP + 'wrk.db', tokens, Number(args.sessions))
  const bare = await startTarget('bare', 'bench/baseline-bare.js', env, TMP + 'bare.log')
  const durable = await startDurable(TMP + 'wrk.db', TMP + 'durable.db', TMP + 'durable.log')
  const server = await startTarget('server', 'dist/server.js', serverEnv(TMP + 'wrk.db'), TMP + 'server.log', SERVER_NODE_FLAGS)
  try {
    // The same fresh lines for both, each on its own file; the server's feed goes on into the reference pair.
    const fresh = POOL.from + POOL.count
    const serverFeed: Feed = { tokens, mode: 'logout', next: fresh }
    await pair('logout', durable, { tokens, mode: 'logout', next: fresh }, server, serverFeed)
    await pair('logout (reference)', bare, { tokens, mode: 'logout', from: POOL.from, pool: POOL.count, shuffle: false }, server, serverFeed)
  } finally {
    await Promise.all([stopTarget(bare), stopTarget(durable), stopTarget(server)])
    rmDb(TMP + 'wrk.db')
    rmDb(TMP + 'durable.db')
  }
  for (const size of ME_SIZES) {
    const db = `${TMP}me-${size}.db`
    const sizeTokens = `${TMP}me-${size}.txt`
    await seed(db, sizeTokens, size)
    const verify = await startTarget('jwt-verify', 'bench/baseline-jwt.js', env, `${TMP}jwt-${size}.log`)
    const sqlite = await startTarget('sqlite-me', 'bench/baseline-sqlite.js', { ...env, DATABASE_PATH: db }, `${TMP}sqlite-${size}.log`)
    const server = await startTarget('server', 'dist/server.js', serverEnv(db), `${TMP}server-${size}.log`, SERVER_NODE_FLAGS)
    const feed: Feed = { tokens: sizeTokens, mode: 'me', from: 0, pool: size, shuffle: true }
    try {
      await pair(`/me at ${fmt(size)} sessions`, verify, feed, server, feed)
      // What a plain Fastify + better-sqlite3 /me (one primary-key read, no cache) does with the same tokens.
      await pair(`/me at ${fmt(size)} sessions (reference)`, sqlite, feed, server, feed)
    } finally {
      await Promise.all([stopTarget(verify), stopTarget(sqlite), stopTarget(server)])
      rmDb(db)
      rmSync(sizeTokens, { force: true })
    }
  }
} finally {
  rmSync(TMP, { recursive: true, force: true })
}
