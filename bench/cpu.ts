/**
 * `node --import tsx bench/cpu.ts <logout|me> <server|bare|jwt|pg> DB TOKENS FROM SECONDS [--prof DIR]`
 *
 * One target under one load, and what it cost: the target's CPU time per
 * request (user + system, all its threads, from /proc), its peak RSS, and
 * how busy the whole machine was. For comparing two builds of the server on
 * a shared machine: req/s moves with whatever else runs, CPU per request
 * much less, so alternate the two builds a few times and compare ranges.
 * `--prof DIR` runs the server with `--cpu-prof` into DIR. DB is a SQLite
 * file, or a postgres:// URL (DATABASE_URL; `pg` is bench/baseline-pg.js).
 * Linux only. Not part of `npm run bench`.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { databaseCpuMs } from './postgres.js'
import { cpuMs, startTarget, stopTarget, load, ROOT, SECRET, SERVER_NODE_FLAGS, peakRssMiB } from './procs.js'

const { positionals, values } = parseArgs({ allowPositionals: true, options: { prof: { type: 'string' } } })
const [mode, which, db, tokens, from, seconds] = positionals
if (seconds === undefined || !['logout', 'me'].includes(mode!) || !['server', 'bare', 'jwt', 'pg'].includes(which!)) {
  throw new Error('usage: bench/cpu.ts <logout|me> <server|bare|jwt|pg> DB TOKENS FROM SECONDS [--prof DIR]')
}

function machine (): { idle: number, all: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number)
  return { idle: f[3]! + f[4]!, all: f.reduce((a, b) => a + b, 0) }
}

const pgName = db!.startsWith('postgres') ? new URL(db!).pathname.slice(1) : undefined
const env = { ...(db!.startsWith('postgres') ? { DATABASE_URL: db! } : { DATABASE_PATH: db! }), JWT_SECRET: SECRET, RATE_LIMIT_MAX: '1000000000', LOG_LEVEL: 'warn' }
const script = { server: 'dist/server.js', bare: 'bench/baseline-bare.js', jwt: 'bench/baseline-jwt.js', pg: 'bench/baseline-pg.js' }[which as 'server']
const flags = which === 'server' ? [...SERVER_NODE_FLAGS, ...(values.prof === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values.prof}`])] : []
const t = await startTarget(which!, ROOT + script, { ...env, ...(process.env.BASELINE_AUDIT === undefined ? {} : { BASELINE_AUDIT: process.env.BASELINE_AUDIT }) }, `/tmp/bench-cpu-${which}.log`, flags)
const m0 = machine()
const c0 = cpuMs(t.proc.pid!)
const d0 = pgName === undefined ? 0 : databaseCpuMs(pgName)
const start = Number(from)
const r = await load({ url: t.url, mode: mode as 'logout', tokensFile: tokens!, from: start, to: start + (mode === 'me' ? (db!.startsWith('postgres') ? 20_000 : 1000) : 200_000), connections: 64, duration: Number(seconds), reuse: which !== 'server' && !(which === 'pg' && mode === 'logout') })
const c1 = cpuMs(t.proc.pid!)
const d1 = pgName === undefined ? 0 : databaseCpuMs(pgName)
const m1 = machine()
const peak = peakRssMiB(t.proc.pid!)
await stopTarget(t)
console.log(JSON.stringify({
  which,
  mode,
  rps: r.rps,
  p50: r.p50,
  p99: r.p99,
  non2xx: r.non2xx + r.errors,
  cpuUsPerRequest: Math.round((c1 - c0) * 1000 / r.requests),
  ...(pgName === undefined ? {} : { postgresCpuUsPerRequest: Math.round((d1 - d0) * 1000 / r.requests) }),
  peakRssMiB: peak,
  machineBusyPct: Math.round(100 * (1 - (m1.idle - m0.idle) / (m1.all - m0.all)))
}))
