/**
 * /me at several sizes (issue 16): for each number of live sessions, a file
 * seeded with exactly that many, then the verify-only baseline
 * (bench/baseline-jwt.js) and the server side by side in paired rounds, the
 * Bearer token rotating over ALL the size's tokens in a shuffled order (each
 * round its own shuffle, the same sequence for both targets), fresh
 * processes per size. Every /me must be a 200. Also the rendering of these
 * results for BENCHMARKS.md (bench/report.ts).
 */
import { closeSync, openSync, readSync } from 'node:fs'
import { me } from './checks.js'
import { rmDb } from './durable.js'
import type { LoadResult } from './load.js'
import { peakRssMiB, SECRET, SERVER_NODE_FLAGS, startTarget, stopTarget } from './procs.js'
import { median, paired, type RoundOptions } from './rounds.js'

export const DEFAULT_ME_SIZES = '1000,20000,200000,1000000'

/** `--me-sizes`: ascending, without duplicates; `--no-scale` drops the sizes of a million and more. */
export function parseSizes (raw: string, noScale: boolean): number[] {
  const sizes = raw.split(',').filter((x) => x.trim() !== '').map((x) => {
    const n = Number(x)
    if (!Number.isInteger(n) || n < 1) throw new Error(`--me-sizes: ${x} is not a number of sessions`)
    return n
  })
  return [...new Set(sizes)].filter((n) => !noScale || n < 1_000_000).sort((a, b) => a - b)
}

export interface MeSize {
  sessions: number
  /** Milliseconds to seed the file; null when it was the scale run's (also with its revocations). */
  seedMs: number | null
  verify: LoadResult
  server: LoadResult
  ratios: number[]
  verifyRssMiB: number
  serverRssMiB: number
  /** bench/baseline-sqlite.js, measured in every round for reference: what a plain SQLite /me costs. */
  sqlite?: { load: LoadResult, ratios: number[] }
}

export interface SizeContext {
  tmp: string
  rounds: RoundOptions
  serverEnv: (db: string) => Record<string, string>
  seed: (db: string, tokens: string, sessions: number, revoked: number) => Promise<{ ms: number }>
  log: (line: string) => void
}

/** /me at `sessions` live sessions, on a file seeded here or, given `seeded`, on that file (left as found, but for the server's reads). */
export async function meAtSize (ctx: SizeContext, sessions: number, seeded?: { db: string, tokens: string }): Promise<MeSize> {
  const db = seeded?.db ?? `${ctx.tmp}me-${sessions}.db`
  const tokens = seeded?.tokens ?? `${ctx.tmp}me-${sessions}-tokens.txt`
  let seedMs: number | null = null
  if (seeded === undefined) {
    ctx.log(`/me at ${fmt(sessions)} live sessions: seeding`)
    seedMs = (await ctx.seed(db, tokens, sessions, 0)).ms
    ctx.log(`  ${seedMs} ms`)
  } else {
    ctx.log(`/me at ${fmt(sessions)} live sessions (the scale run's file, before its logouts)`)
  }
  const first = firstLine(tokens)
  const verifyT = await startTarget('jwt-verify', 'bench/baseline-jwt.js', { JWT_SECRET: SECRET }, `${ctx.tmp}jwt-verify-${sessions}.log`)
  const sqliteT = await startTarget('sqlite-me', 'bench/baseline-sqlite.js', { JWT_SECRET: SECRET, DATABASE_PATH: db }, `${ctx.tmp}sqlite-me-${sessions}.log`)
  const t = await startTarget(`server-${sessions}`, 'dist/server.js', ctx.serverEnv(db), `${ctx.tmp}server-me-${sessions}.log`, SERVER_NODE_FLAGS)
  try {
    for (const target of [verifyT, sqliteT, t]) {
      const res = await me(target.url, first)
      if (res.status !== 200) throw new Error(`correctness check failed: ${target.name} /me ${res.status} ${await res.text()}`)
      await res.text()
    }
    const r = await paired(ctx.rounds, verifyT, t, 'me', tokens, { slice: [0, sessions], shuffle: true, reference: sqliteT })
    for (const [name, l] of [[verifyT.name, r.baseline], [t.name, r.server], [sqliteT.name, r.reference!.load]] as const) {
      const bad = l.non2xx + l.errors + l.timeouts
      if (bad > 0) throw new Error(`correctness check failed: ${name} /me at ${sessions} sessions: ${bad} non-2xx, errors or timeouts`)
    }
    const rss = { verify: peakRssMiB(verifyT.proc.pid!), server: peakRssMiB(t.proc.pid!) }
    ctx.log(`  /me at ${fmt(sessions)}: median ratio ${median(r.ratios).toFixed(2)}, peak RSS server ${rss.server} MiB, verify-only ${rss.verify} MiB`)
    return { sessions, seedMs, verify: r.baseline, server: r.server, ratios: r.ratios, verifyRssMiB: rss.verify, serverRssMiB: rss.server, sqlite: r.reference! }
  } finally {
    await Promise.all([stopTarget(verifyT), stopTarget(sqliteT), stopTarget(t)])
    if (seeded === undefined) rmDb(db)
  }
}

/** The first line of a file that may be hundreds of MiB. */
function firstLine (file: string): string {
  const fd = openSync(file, 'r')
  try {
    const buf = Buffer.alloc(4096)
    return buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, 0)).split('\n', 1)[0]!
  } finally {
    closeSync(fd)
  }
}

/** 1 000 000, as BENCHMARKS.md writes numbers. */
export function fmt (n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ')
}

const r2 = (x: number) => Math.round(x * 100) / 100

export interface SizeTarget { name: string, value: string, ok: boolean }

export function meSizeTargets (sizes: MeSize[] | undefined): SizeTarget[] {
  return (sizes ?? []).map((s) => {
    const ratio = median(s.ratios)
    return { name: `/me ≥ 0.90× verify-only at ${fmt(s.sessions)} sessions`, value: String(r2(ratio)), ok: ratio >= 0.9 }
  })
}

export function meSizesTable (sizes: MeSize[] | undefined): string[] {
  if (sizes === undefined || sizes.length === 0) return []
  return [
    '',
    '/me with the Bearer token rotating over every live session of a file seeded with that many (a shuffled order per round, the same for both targets), ' +
    'fresh processes per size, paired rounds; ratio: the median round\'s (each round\'s in parentheses).',
    '',
    'Reference, measured in the same rounds: bench/baseline-sqlite.js, a plain Fastify + @fastify/jwt + better-sqlite3 /me (one primary-key read, no cache).',
    '',
    '| live sessions | verify-only req/s | server req/s | ratio (rounds) | plain SQLite /me req/s (server ×) | server peak RSS |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...sizes.map((s) => `| ${fmt(s.sessions)} | ${s.verify.rps} | ${s.server.rps} (p50 ${s.server.p50} ms, p99 ${s.server.p99} ms) | ` +
      `${r2(median(s.ratios))} (${s.ratios.map((x) => x.toFixed(2)).join(' ')}) | ` +
      `${s.sqlite === undefined ? '—' : `${s.sqlite.load.rps} (${r2(median(s.sqlite.ratios))})`} | ${s.serverRssMiB} MiB (verify-only ${s.verifyRssMiB}) |`)
  ]
}
