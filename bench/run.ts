/**
 * `npm run bench [-- --duration S --rounds R --connections C --no-scale --me-sizes N,N,... --soak S]`
 * `npm run bench -- --store postgres [...]`: the PostgreSQL run instead (bench/postgres.ts).
 *
 * Builds, seeds, then measures in one invocation, each target its own
 * process and the load generator another: the durable logout baseline (on
 * its own copy of the file) with bare Fastify for reference, Fastify +
 * @fastify/jwt verify-only, and the real server (dist/server.js) on a seeded
 * database, each baseline alternating with the server in short rounds;
 * /me at each of `--me-sizes` live sessions (bench/sizes.ts);
 * correctness before and after timing; a SIGKILL durability check;
 * a scale run at 1M sessions + 1M revocations with a purge of 1M expired rows;
 * with `--soak S`, last, S seconds of mixed load (bench/soak.ts).
 * Writes bench/results/latest.json and the results section of BENCHMARKS.md.
 * @see ../BENCHMARKS.md
 */
import { execSync } from 'node:child_process'
import { mkdirSync, readFileSync, renameSync, rmSync, existsSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { checkAcked, checkBaselineLogout, checkConsumed, checkFreshLogout } from './checks.js'
import { rmDb, startDurable } from './durable.js'
import { ROOT, load, peakRssMiB, run, SECRET, SERVER_NODE_FLAGS, startTarget, stopTarget, type Target } from './procs.js'
import { renderResults, writeResults } from './report.js'
import { paired } from './rounds.js'
import { DEFAULT_ME_SIZES, meAtSize, parseSizes, type MeSize, type SizeContext } from './sizes.js'
import { runPostgres } from './postgres.js'
import type { LoadResult } from './load.js'

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '64' },
    // Default 300 000 on SQLite, 250 000 on PostgreSQL (logouts are slower there: that lasts the run).
    sessions: { type: 'string' },
    'scale-sessions': { type: 'string', default: '1000000' },
    'no-scale': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    // /me at each number of live sessions (issue 16); --no-scale drops 1M.
    'me-sizes': { type: 'string', default: DEFAULT_ME_SIZES },
    // sqlite (default): the run described in BENCHMARKS.md; postgres: bench/postgres.ts.
    store: { type: 'string', default: 'sqlite' },
    // The soak (issue 6): off by default, it takes as long as it is told (600 s for the record).
    soak: { type: 'string', default: '0' }
  }
})
const DURATION = Number(args.duration)
const WARMUP = Number(args.warmup)
const ROUNDS = Number(args.rounds)
const CONNECTIONS = Number(args.connections)
const SESSIONS = Number(args.sessions ?? (args.store === 'postgres' ? 800_000 : 300_000))
const SCALE_SESSIONS = Number(args['scale-sessions'])
const ME_SIZES = parseSizes(args['me-sizes']!, args['no-scale']!)

const RESULTS = ROOT + 'bench/results/'
const TMP = RESULTS + 'tmp/'
rmSync(TMP, { recursive: true, force: true })
mkdirSync(TMP, { recursive: true })

const log = (line: string) => process.stdout.write(line + '\n')
process.on('unhandledRejection', (err) => {
  process.stderr.write(`bench failed: ${String(err)}\n`)
  process.exit(1)
})
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The server as `npm start` runs it, every limit on but the per-IP rate limit
 * raised (one client IP sends everything), and logging at warn like the
 * baselines' (none): the info-level cost is measured separately.
 */
function serverEnv (db: string, extra: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_PATH: db, JWT_SECRET: SECRET, RATE_LIMIT_MAX: '1000000000', LOG_LEVEL: 'warn', ...extra }
}

async function seed (db: string, tokens: string, sessions: number, revoked: number, extra: Record<string, string> = {}) {
  const out = await run(['dist/scripts/seed.js', '--sessions', String(sessions), '--tokens-file', tokens, '--revoked', String(revoked)],
    { DATABASE_PATH: db, JWT_SECRET: SECRET, LOG_LEVEL: 'warn', ...extra })
  return JSON.parse(out.trim()) as { ms: number }
}

/** Token slices of a seeded file: correctness probes, the /me pool, logout warm-up, logout timing, durability. */
const SLICES = {
  probes: [0, 10],
  mePool: [10, 1010],
  // 3 s of warm-up at up to 13 000 logouts/s (the durable baseline on a quiet machine passed 6 700, the old bound).
  warm: [1010, 41010],
  timed: [41010, 150000],
  infoWarm: [150000, 160000],
  infoTimed: [160000, 250000],
  crash: [250000, 300000]
} as const

async function measure (t: Target, mode: 'logout' | 'me', tokensFile: string, slice: readonly [number, number], warmSlice: readonly [number, number], acked?: string, reuse = false): Promise<LoadResult> {
  await load({ url: t.url, mode, tokensFile, from: warmSlice[0], to: warmSlice[1], connections: CONNECTIONS, duration: WARMUP, reuse })
  const r = await load({ url: t.url, mode, tokensFile, from: slice[0], to: slice[1], connections: CONNECTIONS, duration: DURATION, reuse, ...(acked === undefined ? {} : { acked }) })
  log(`  ${t.name} ${mode}: ${r.rps} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`)
  if (r.exhausted) throw new Error(`${t.name} ${mode}: ran out of fresh tokens; seed more (--sessions)`)
  return r
}

const ROUND_OPTIONS = {
  rounds: ROUNDS,
  duration: DURATION,
  warmup: WARMUP,
  connections: CONNECTIONS,
  slices: { logout: SLICES.timed, logoutWarm: SLICES.warm, me: SLICES.mePool },
  log
}

interface ServerRun { logout: LoadResult, me: LoadResult, rssMiB: number, startupMs: number, ackedChecked: number }

/** The real server: correctness, logout under load, /me under load, correctness again, then every acked logout checked in the file. */
async function server (name: string, db: string, tokensFile: string, logLevel = 'warn'): Promise<ServerRun> {
  const tokens = readFileSync(tokensFile, 'utf8').split('\n', SLICES.probes[1])
  const t = await startTarget(name, 'dist/server.js', serverEnv(db, { LOG_LEVEL: logLevel }), logLevel === 'info' ? '/dev/null' : `${TMP}${name}.log`, SERVER_NODE_FLAGS)
  log(`  ${name}: started in ${t.startupMs} ms`)
  const probe = logLevel === 'info' ? 2 : 0
  await checkFreshLogout(t.url, tokens[probe]!)
  const acked = `${TMP}${name}-acked.txt`
  const logout = logLevel === 'info'
    ? await measure(t, 'logout', tokensFile, SLICES.infoTimed, SLICES.infoWarm, acked)
    : await measure(t, 'logout', tokensFile, SLICES.timed, SLICES.warm, acked)
  const me = await measure(t, 'me', tokensFile, SLICES.mePool, SLICES.mePool)
  const consumed = readFileSync(acked, 'utf8').split('\n', 1)[0]!
  await checkConsumed(t.url, consumed)
  await checkFreshLogout(t.url, tokens[probe + 1]!)
  const rssMiB = peakRssMiB(t.proc.pid!)
  await stopTarget(t)
  const ackedChecked = checkAcked(db, acked)
  log(`  ${name}: ${ackedChecked} acknowledged logouts all revoked in the file`)
  return { logout, me, rssMiB, startupMs: t.startupMs, ackedChecked }
}

/** The baselines and the server side by side, alternating (see paired), with the server's correctness checks around the timing. */
async function sideBySide (db: string, tokensFile: string, name = 'server') {
  const tokens = readFileSync(tokensFile, 'utf8').split('\n', SLICES.probes[1])
  const bareT = await startTarget('bare', 'bench/baseline-bare.js', { JWT_SECRET: SECRET }, `${TMP}bare.log`)
  const durableDb = `${TMP}${name}-durable.db`
  const durableT = await startDurable(db, durableDb, `${TMP}${name}-durable.log`)
  await checkBaselineLogout(durableT.url, tokens[0]!)
  const verifyT = await startTarget('jwt-verify', 'bench/baseline-jwt.js', { JWT_SECRET: SECRET }, `${TMP}jwt-verify.log`)
  const t = await startTarget(name, 'dist/server.js', serverEnv(db), `${TMP}${name}.log`, SERVER_NODE_FLAGS)
  log(`  ${name}: started in ${t.startupMs} ms`)
  await checkFreshLogout(t.url, tokens[0]!)
  const acked = `${TMP}${name}-acked.txt`
  const durableAcked = `${TMP}${name}-durable-acked.txt`
  // The durable baseline gets the same fresh tokens as the server, on its copy; bare Fastify is measured in each round for reference.
  const logout = await paired(ROUND_OPTIONS, durableT, t, 'logout', tokensFile, { acked, baselineConsumes: true, baselineAcked: durableAcked, reference: bareT })
  const me = await paired(ROUND_OPTIONS, verifyT, t, 'me', tokensFile)
  const ackedFiles = Array.from({ length: ROUNDS }, (_, i) => `${acked}.${i}`)
  await checkConsumed(t.url, readFileSync(ackedFiles[0]!, 'utf8').split('\n', 1)[0]!)
  await checkFreshLogout(t.url, tokens[1]!)
  const rss = { bare: peakRssMiB(bareT.proc.pid!), durable: peakRssMiB(durableT.proc.pid!), verify: peakRssMiB(verifyT.proc.pid!), server: peakRssMiB(t.proc.pid!) }
  await Promise.all([stopTarget(bareT), stopTarget(durableT), stopTarget(verifyT), stopTarget(t)])
  const ackedChecked = ackedFiles.reduce((n, f) => n + checkAcked(db, f), 0)
  log(`  ${name}: ${ackedChecked} acknowledged logouts all revoked in the file`)
  const durableChecked = Array.from({ length: ROUNDS }, (_, i) => `${durableAcked}.${i}`).reduce((n, f) => n + checkAcked(durableDb, f), 0)
  log(`  durable baseline: ${durableChecked} acknowledged logouts all revoked in its copy`)
  rmDb(durableDb)
  return {
    bare: { load: logout.reference!.load, rssMiB: rss.bare },
    durable: { load: logout.baseline, rssMiB: rss.durable, ackedChecked: durableChecked },
    verify: { load: me.baseline, rssMiB: rss.verify },
    small: { logout: logout.server, me: me.server, rssMiB: rss.server, startupMs: t.startupMs, ackedChecked },
    ratios: { logout: logout.ratios, logoutBare: logout.reference!.ratios, me: me.ratios }
  }
}

/** Logout load, SIGKILL halfway, then every acknowledged logout must be in the file and refused after a restart. */
async function crash (db: string, tokensFile: string): Promise<{ acked: number, lost: number }> {
  const t = await startTarget('crash', 'dist/server.js', serverEnv(db), `${TMP}crash.log`, SERVER_NODE_FLAGS)
  const acked = `${TMP}crash-acked.txt`
  let started: () => void = () => {}
  const loadStarted = new Promise<void>((resolve) => { started = resolve })
  const loading = load({ url: t.url, mode: 'logout', tokensFile, from: SLICES.crash[0], to: SLICES.crash[1], connections: CONNECTIONS, duration: 4, acked }, started)
  await loadStarted
  await sleep(2000)
  t.proc.kill('SIGKILL')
  await t.exited
  await loading
  const n = checkAcked(db, acked)
  const again = await startTarget('crash-restart', 'dist/server.js', serverEnv(db), `${TMP}crash-restart.log`, SERVER_NODE_FLAGS)
  const last = readFileSync(acked, 'utf8').trim().split('\n').pop()!
  await checkConsumed(again.url, last)
  await stopTarget(again)
  log(`  SIGKILL under load: ${n} acknowledged logouts, all revoked after restart`)
  return { acked: n, lost: 0 }
}

/** Purge of expired rows in its own process, through the real purge code, timing the event loop. */
async function purge (sessions: number): Promise<{ rows: number, ms: number, maxStallMs: number, p99StallMs: number }> {
  const db = TMP + 'purge.db'
  // Half expired sessions, half expired revocations: TOKEN_TTL_SECONDS=1, then wait.
  await seed(db, TMP + 'purge-tokens.txt', sessions / 2, sessions / 2, { TOKEN_TTL_SECONDS: '1' })
  await sleep(2100)
  const out = await run(['bench/purge.js'], { DATABASE_PATH: db, JWT_SECRET: SECRET, LOG_LEVEL: 'warn' })
  return JSON.parse(out.trim().split('\n').pop()!)
}

function machine () {
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    commit: execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim(),
    dirty: execSync('git status --porcelain -- . ":!BENCHMARKS.md"', { cwd: ROOT }).toString().trim() !== '',
    date: new Date().toISOString()
  }
}

const started = performance.now()
const m = machine()
log(`auth-sessions bench: ${m.nproc} cores, ${m.cpu}, node ${m.node}, load ${m.load}, ${DURATION}s x ${CONNECTIONS} connections`)

if (args.store === 'postgres') {
  await runPostgres({ duration: DURATION, warmup: WARMUP, rounds: ROUNDS, connections: CONNECTIONS, sessions: SESSIONS, write: !args['no-write'], tmp: TMP, results: RESULTS, machine: m, log })
  rmSync(TMP, { recursive: true, force: true })
  process.exit(0)
} else if (args.store !== 'sqlite') {
  throw new Error(`--store ${args.store}: sqlite or postgres`)
}

log(`seeding ${SESSIONS} sessions`)
const smallDb = TMP + 'small.db'
const smallTokens = TMP + 'small-tokens.txt'
const smallSeed = await seed(smallDb, smallTokens, SESSIONS, 0)
log(`  ${smallSeed.ms} ms`)

log(`baselines and server, alternating in ${ROUNDS} rounds`)
const { bare, durable, verify, small, ratios } = await sideBySide(smallDb, smallTokens)
log('the server again at LOG_LEVEL=info (access and audit log lines, to /dev/null)')
const info = await server('server-info', smallDb, smallTokens, 'info')
const crashed = await crash(smallDb, smallTokens)
rmDb(smallDb)

const sizeContext: SizeContext = { tmp: TMP, rounds: ROUND_OPTIONS, serverEnv: (db) => serverEnv(db), seed, log }
const meSizes: MeSize[] = []
for (const n of ME_SIZES) if (args['no-scale'] || n !== SCALE_SESSIONS) meSizes.push(await meAtSize(sizeContext, n))

let scale: (ServerRun & { seedMs: number, purge: Awaited<ReturnType<typeof purge>>, ratios: { logout: number[], logoutBare: number[], me: number[] }, bareRssMiB: number, durableRssMiB: number }) | null = null
if (!args['no-scale']) {
  log(`scale: seeding ${SCALE_SESSIONS} sessions + ${SCALE_SESSIONS} revocations`)
  const db = TMP + 'scale.db'
  const tokens = TMP + 'scale-tokens.txt'
  const s = await seed(db, tokens, SCALE_SESSIONS, SCALE_SESSIONS)
  log(`  ${s.ms} ms`)
  // /me at this size on the same file, before the logouts below consume any of its tokens.
  if (ME_SIZES.includes(SCALE_SESSIONS)) meSizes.push(await meAtSize(sizeContext, SCALE_SESSIONS, { db, tokens }))
  // The same side-by-side rounds: the 1M ratios are compared with the small tables' ratios.
  const r = await sideBySide(db, tokens, 'server-1M')
  rmDb(db)
  log(`scale: purge of ${SCALE_SESSIONS} expired rows`)
  const p = await purge(SCALE_SESSIONS)
  log(`  ${p.rows} rows in ${p.ms} ms, longest event-loop stall ${p.maxStallMs} ms`)
  scale = { ...r.small, seedMs: s.ms, purge: p, ratios: r.ratios, bareRssMiB: r.bare.rssMiB, durableRssMiB: r.durable.rssMiB }
}

const result = {
  machine: m,
  settings: { duration: DURATION, warmup: WARMUP, rounds: ROUNDS, connections: CONNECTIONS, sessions: SESSIONS, scaleSessions: SCALE_SESSIONS, meSizes: ME_SIZES },
  bare,
  durable,
  verify,
  small,
  ratios,
  info,
  crash: crashed,
  scale,
  meSizes: meSizes.sort((a, b) => a.sessions - b.sessions),
  totalSeconds: Math.round((performance.now() - started) / 1000)
}
if (existsSync(RESULTS + 'latest.json')) renameSync(RESULTS + 'latest.json', RESULTS + 'previous.json')
writeFileSync(RESULTS + 'latest.json', JSON.stringify(result, null, 2) + '\n')
const report = renderResults(result, existsSync(RESULTS + 'previous.json') ? JSON.parse(readFileSync(RESULTS + 'previous.json', 'utf8')) : null)
log('\n' + report)
if (!args['no-write']) writeResults(ROOT + 'BENCHMARKS.md', report)
rmSync(TMP, { recursive: true, force: true })

if (Number(args.soak) > 0) {
  log(`soak: ${args.soak} s of mixed load (login, me, sessions, logout) against the real server`)
  // Its own summary (5xx, WAL size, RSS over time) goes to stdout and bench/results/soak-*.json; it exits 1 on any 5xx.
  await run(['--import', 'tsx', 'bench/soak.ts'], { SOAK_SECONDS: args.soak }).then((out) => log(out.trim().split('\n').slice(-30).join('\n')))
}
export type BenchResult = typeof result
