/**
 * `npm run bench -- --store postgres [--duration S --rounds R --connections C --sessions N --no-write]`
 *
 * The PostgreSQL run (issue 13), on a database of its own that it creates
 * on the server of BENCH_DATABASE_URL (default: the local one) and drops at
 * the end, failed or not:
 *
 * 1. seed N sessions through the service's own code (scripts/seed.ts with
 *    DATABASE_URL);
 * 2. the server (dist/server.js, DATABASE_URL) and the PostgreSQL baseline
 *    (bench/baseline-pg.js: Fastify + @fastify/jwt + a `pg` Pool of the
 *    server's size, on the same database), alternating in rounds (paired):
 *    logout against one DELETE + INSERT statement, /me against one
 *    primary-key read, each logout on a token never used before, /me
 *    rotating over more tokens than either verified-token cache holds;
 *    the correctness checks of the SQLite run around the timing;
 * 3. a second instance: one server process alone, then two on the same
 *    database with the same connections split between two load generators,
 *    alternating in rounds; a logout acknowledged by one is refused by the
 *    other;
 * 4. every acknowledged logout (server's) checked in the database: no
 *    session row, its revocation record present.
 *
 * Writes bench/results/postgres-latest.json and the PostgreSQL results
 * section of BENCHMARKS.md.
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import pg from 'pg'
import { checkAckedPostgres, checkConsumed, checkFreshLogout } from './checks.js'
import { cpuMs, load, peakRssMiB, ROOT, run, SECRET, SERVER_NODE_FLAGS, startTarget, stopTarget, type Target } from './procs.js'
import { merged, paired, type Paired, type RoundOptions } from './rounds.js'
import type { LoadResult } from './load.js'
import { renderPostgres, writeResults } from './report.js'

export interface PostgresSettings {
  duration: number
  warmup: number
  rounds: number
  connections: number
  sessions: number
  write: boolean
  tmp: string
  results: string
  machine: Record<string, unknown>
  log: (line: string) => void
}

type Slice = readonly [number, number]

/** Consecutive token slices of the seeded file, sized for the run. */
export function postgresSlices (sessions: number) {
  let at = 0
  const take = (n: number): Slice => [at, (at += n)]
  const probes = take(10)
  // More tokens than the server's verified-token cache (10 000) and fast-jwt's (1 000): every /me verifies a signature.
  const mePool = take(20_000)
  // A warm-up of 3 s at up to 10 000 logouts/s each (a quiet machine: batched logouts are fast).
  const warm = take(30_000)
  const baselineWarm = take(30_000)
  const scaleWarm = take(30_000)
  const rest = sessions - at
  if (rest < 40_000) throw new Error(`--sessions ${sessions} is too few for the PostgreSQL run: at least ${at + 40_000}`)
  const quarter = Math.floor(rest / 4)
  return { probes, mePool, warm, baselineWarm, scaleWarm, timed: take(quarter), baselineTimed: take(quarter), one: take(quarter), two: take(quarter) }
}

const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres'

function withDatabase (url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

async function admin<R extends pg.QueryResultRow> (sql: string, url = BENCH_DATABASE_URL): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(sql)).rows
  } finally {
    await client.end()
  }
}

/** The server's settings that decide what a commit costs, as the run saw them. */
async function durability (url: string): Promise<Record<string, string>> {
  const names = ['server_version', 'fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes', 'commit_delay', 'shared_buffers', 'max_connections']
  const rows = await admin<{ name: string, setting: string, unit: string | null }>(
    `SELECT name, setting, unit FROM pg_settings WHERE name IN (${names.map((n) => `'${n}'`).join(', ')})`, url)
  return Object.fromEntries(rows.map((r) => [r.name, r.unit === '8kB' ? `${Number(r.setting) * 8 / 1024} MiB` : r.setting]))
}

/**
 * CPU ms used so far by the PostgreSQL backends serving `database` (their
 * process title names it): the database's share of a request. Linux, and a
 * server on this machine; 0 when none is found.
 */
export function databaseCpuMs (database: string): number {
  let ms = 0
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(` ${database} `)) ms += cpuMs(Number(pid))
    } catch {}
  }
  return ms
}

interface ScaleOut { one: LoadResult, two: LoadResult, ratios: number[], cpuUs: { one: number, two: number } }

/**
 * One instance alone, then two on the same database with the connections
 * split between two load generators (one each), `rounds` times; the ratio
 * is the median round's total req/s of two over one.
 */
async function scaleOut (s: PostgresSettings, a: Target, b: Target, mode: 'logout' | 'me', tokensFile: string,
  slices: { one: Slice, two: Slice, warm: Slice, me: Slice }, acked: string[]): Promise<ScaleOut> {
  const seconds = s.duration / s.rounds
  const half = Math.floor(s.connections / 2)
  const warm = mode === 'logout' ? slices.warm : slices.me
  const mid = Math.floor((warm[0] + warm[1]) / 2)
  await Promise.all([
    load({ url: a.url, mode, tokensFile, from: warm[0], to: mode === 'logout' ? mid : warm[1], connections: half, duration: s.warmup }),
    load({ url: b.url, mode, tokensFile, from: mode === 'logout' ? mid : warm[0], to: warm[1], connections: half, duration: s.warmup })
  ])
  // Logout: the one-instance rounds take tokens from `one`, each generator of the two-instance rounds from its half of `two`.
  const twoMid = Math.floor((slices.two[0] + slices.two[1]) / 2)
  let nextOne = slices.one[0]
  const nextTwo = [slices.two[0], twoMid]
  const ends = [twoMid, slices.two[1]]
  const ones: LoadResult[] = []
  const twos: LoadResult[] = []
  const ratios: number[] = []
  const cpu = { one: 0, two: 0 }
  const fresh = (r: LoadResult, what: string) => {
    if (r.exhausted) throw new Error(`${what} ${mode}: ran out of fresh tokens; seed more (--sessions)`)
    return r
  }
  for (let i = 0; i < s.rounds; i++) {
    const logout = mode === 'logout'
    const ackedFile = (k: string) => logout ? { acked: `${s.tmp}scale-${k}-acked.txt.${i}` } : {}
    let c0 = cpuMs(a.proc.pid!)
    const one = fresh(await load({
      url: a.url, mode, tokensFile, from: logout ? nextOne : slices.me[0], to: logout ? slices.one[1] : slices.me[1], connections: s.connections, duration: seconds, ...ackedFile('one')
    }), 'one instance')
    cpu.one += cpuMs(a.proc.pid!) - c0
    if (logout) {
      nextOne += one.used
      acked.push(`${s.tmp}scale-one-acked.txt.${i}`)
    }
    c0 = cpuMs(a.proc.pid!) + cpuMs(b.proc.pid!)
    const pair = await Promise.all([a, b].map((t, k) => load({
      url: t.url, mode, tokensFile, from: logout ? nextTwo[k]! : slices.me[0], to: logout ? ends[k]! : slices.me[1], connections: half, duration: seconds, ...ackedFile(`two${k}`)
    })))
    cpu.two += cpuMs(a.proc.pid!) + cpuMs(b.proc.pid!) - c0
    pair.forEach((r, k) => {
      fresh(r, `instance ${k + 1} of two`)
      if (logout) {
        nextTwo[k]! += r.used
        acked.push(`${s.tmp}scale-two${k}-acked.txt.${i}`)
      }
    })
    const two = merged(pair, seconds)
    ones.push(one)
    twos.push(two)
    ratios.push(two.rps / one.rps)
  }
  const perRequest = (ms: number, rs: LoadResult[]) => Math.round(ms * 1000 / rs.reduce((n, r) => n + r.requests, 0))
  const out = {
    one: merged(ones, s.duration),
    // The two-instance rounds' latencies: the median round's of its generators' medians.
    two: merged(twos, s.duration),
    ratios,
    cpuUs: { one: perRequest(cpu.one, ones), two: perRequest(cpu.two, twos) }
  }
  s.log(`  ${mode}: one instance ${out.one.rps} req/s, two instances ${out.two.rps} req/s (p99 ${out.one.p99} vs ${out.two.p99} ms); ` +
    `ratio by round ${ratios.map((x) => x.toFixed(2)).join(' ')}; server CPU µs/request ${out.cpuUs.one} vs ${out.cpuUs.two}`)
  return out
}

export async function runPostgres (s: PostgresSettings) {
  const started = performance.now()
  const slices = postgresSlices(s.sessions)
  const name = `auth_sessions_bench_${process.pid}_${Date.now().toString(36)}`
  await admin(`CREATE DATABASE ${name}`)
  const url = withDatabase(BENCH_DATABASE_URL, name)
  s.log(`PostgreSQL: database ${name} on ${new URL(BENCH_DATABASE_URL).host}`)
  const targets: Target[] = []
  try {
    const settings = await durability(url)
    s.log(`  ${Object.entries(settings).map(([k, v]) => `${k} ${v}`).join(', ')}`)
    const env = { DATABASE_URL: url, JWT_SECRET: SECRET, RATE_LIMIT_MAX: '1000000000', LOG_LEVEL: 'warn' }

    s.log(`seeding ${s.sessions} sessions through the service's code`)
    const tokensFile = s.tmp + 'pg-tokens.txt'
    const seeded = JSON.parse((await run(['dist/scripts/seed.js', '--sessions', String(s.sessions), '--tokens-file', tokensFile], env)).trim()) as { ms: number }
    s.log(`  ${seeded.ms} ms`)
    await admin('VACUUM ANALYZE', url)
    const probes = readFileSync(tokensFile, 'utf8').split('\n', slices.probes[1])

    s.log(`PostgreSQL baseline and server, alternating in ${s.rounds} rounds`)
    const baseT = await startTarget('pg-baseline', 'bench/baseline-pg.js', { DATABASE_URL: url, JWT_SECRET: SECRET }, `${s.tmp}pg-baseline.log`)
    targets.push(baseT)
    const srv = await startTarget('server', 'dist/server.js', env, `${s.tmp}pg-server.log`, SERVER_NODE_FLAGS)
    targets.push(srv)
    s.log(`  server: started in ${srv.startupMs} ms`)
    await checkFreshLogout(srv.url, probes[0]!)
    const opts: RoundOptions = {
      rounds: s.rounds,
      duration: s.duration,
      warmup: s.warmup,
      connections: s.connections,
      slices: { logout: slices.timed, logoutWarm: slices.warm, me: slices.mePool },
      baselineSlices: { logout: slices.baselineTimed, logoutWarm: slices.baselineWarm },
      sharedCpuMs: () => databaseCpuMs(name),
      log: s.log
    }
    const acked = `${s.tmp}pg-server-acked.txt`
    const logout: Paired = await paired(opts, baseT, srv, 'logout', tokensFile, { acked })
    const me: Paired = await paired(opts, baseT, srv, 'me', tokensFile)
    const ackedFiles = Array.from({ length: s.rounds }, (_, i) => `${acked}.${i}`)
    await checkConsumed(srv.url, readFileSync(ackedFiles[0]!, 'utf8').split('\n', 1)[0]!)
    await checkFreshLogout(srv.url, probes[1]!)
    const rss = { baseline: peakRssMiB(baseT.proc.pid!), server: peakRssMiB(srv.proc.pid!) }
    await stopTarget(baseT)

    s.log('a second instance: one server, then two on the same database, the load split between them')
    const second = await startTarget('server-2', 'dist/server.js', env, `${s.tmp}pg-server-2.log`, SERVER_NODE_FLAGS)
    targets.push(second)
    const scaleSlices = { one: slices.one, two: slices.two, warm: slices.scaleWarm, me: slices.mePool }
    const scaleLogout = await scaleOut(s, srv, second, 'logout', tokensFile, scaleSlices, ackedFiles)
    const scaleMe = await scaleOut(s, srv, second, 'me', tokensFile, scaleSlices, ackedFiles)
    // Revocation across instances: a logout acknowledged by the second is refused by the first, and the reverse.
    await checkConsumed(srv.url, readFileSync(`${s.tmp}scale-two1-acked.txt.0`, 'utf8').split('\n', 1)[0]!)
    await checkConsumed(second.url, readFileSync(`${s.tmp}scale-two0-acked.txt.0`, 'utf8').split('\n', 1)[0]!)
    await checkFreshLogout(second.url, probes[2]!)
    await Promise.all([stopTarget(srv), stopTarget(second)])
    const ackedChecked = await checkAckedPostgres(url, ackedFiles)
    s.log(`  ${ackedChecked} acknowledged logouts all revoked in the database`)

    const result = {
      machine: s.machine,
      settings: { duration: s.duration, warmup: s.warmup, rounds: s.rounds, connections: s.connections, sessions: s.sessions, meTokens: slices.mePool[1] - slices.mePool[0] },
      postgres: settings,
      seedMs: seeded.ms,
      logout,
      me,
      rssMiB: rss,
      startupMs: srv.startupMs,
      scale: { logout: scaleLogout, me: scaleMe },
      ackedChecked,
      totalSeconds: Math.round((performance.now() - started) / 1000)
    }
    const latest = s.results + 'postgres-latest.json'
    const prevFile = s.results + 'postgres-previous.json'
    if (existsSync(latest)) renameSync(latest, prevFile)
    writeFileSync(latest, JSON.stringify(result, null, 2) + '\n')
    const report = renderPostgres(result, existsSync(prevFile) ? JSON.parse(readFileSync(prevFile, 'utf8')) : null)
    s.log('\n' + report)
    if (s.write) writeResults(ROOT + 'BENCHMARKS.md', report, 'pg-results')
    return result
  } finally {
    await Promise.all(targets.map((t) => stopTarget(t, 'SIGKILL')))
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    s.log(`PostgreSQL: database ${name} dropped`)
  }
}

export type PostgresResult = Awaited<ReturnType<typeof runPostgres>>
