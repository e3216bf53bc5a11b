/**
 * The results section of BENCHMARKS.md, from bench/results/latest.json and,
 * when there is one, the run before it (targets must hold in both).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import type { BenchResult } from './run.js'
import type { PostgresResult } from './postgres.js'
import type { LoadResult } from './load.js'
import { meSizesTable, meSizeTargets } from './sizes.js'
import { median, type CpuPerRequest } from './rounds.js'

const r2 = (x: number) => Math.round(x * 100) / 100

/**
 * Server over baseline: the median of the alternating rounds' ratios; runs
 * before those had one ratio of totals. Logout: over the durable baseline
 * since issue 16, over bare Fastify before (runs without `durable`).
 */
function ratioOf (r: BenchResult, mode: 'logout' | 'me'): number {
  const rounds = (r as { ratios?: { logout: number[], me: number[] } }).ratios?.[mode]
  if (rounds !== undefined) return median(rounds)
  return mode === 'logout' ? r.small.logout.rps / r.bare.load.rps : r.small.me.rps / r.verify.load.rps
}

function row (name: string, l: LoadResult, rss: number | string, ratio: string): string {
  return `| ${name} | ${l.rps} | ${l.p50} | ${l.p99} | ${l.non2xx + l.errors + l.timeouts} | ${rss} | ${ratio} |`
}

interface Target { name: string, value: string, ok: boolean }

export function targets (r: BenchResult): Target[] {
  const out: Target[] = []
  const add = (name: string, value: number | string, ok: boolean) => out.push({ name, value: String(value), ok })
  const logoutRatio = ratioOf(r, 'logout')
  const meRatio = ratioOf(r, 'me')
  if (r.durable !== undefined) add('logout ≥ 0.90× durable baseline', r2(logoutRatio), logoutRatio >= 0.9)
  else add('logout ≥ 0.50× bare Fastify', r2(logoutRatio), logoutRatio >= 0.5)
  add(`logout p99 ≤ 10 ms at ${r.settings.connections} connections`, `${r.small.logout.p99} ms`, r.small.logout.p99 <= 10)
  add('acknowledged logouts lost to SIGKILL', `0 of ${r.crash.acked}`, r.crash.lost === 0 && r.crash.acked > 0)
  // A pool of 1 000 tokens: see the sizes below for all of a file's sessions.
  add('/me ≥ 0.90× verify-only', r2(meRatio), meRatio >= 0.9)
  out.push(...meSizeTargets(r.meSizes))
  const rss = r.small.rssMiB / r.bare.rssMiB
  add('peak RSS ≤ 1.5× bare Fastify', `${r2(rss)} (${r.small.rssMiB} / ${r.bare.rssMiB} MiB)`, rss <= 1.5)
  if (r.scale !== null) {
    const s = r.scale
    // Runs before the side-by-side scale run compared req/s taken minutes apart.
    const scaleRatios = (s as { ratios?: { logout: number[], me: number[] } }).ratios
    const sLogout = scaleRatios === undefined ? s.logout.rps / r.bare.load.rps : median(scaleRatios.logout)
    const sMe = scaleRatios === undefined ? s.me.rps / r.verify.load.rps : median(scaleRatios.me)
    const lo = sLogout / logoutRatio
    const me = sMe / meRatio
    add('1M: logout ratio within 10% of small tables', `${r2(lo)} (ratio ${r2(sLogout)} vs ${r2(logoutRatio)})`, lo >= 0.9)
    add('1M: /me ratio within 10% of small tables', `${r2(me)} (ratio ${r2(sMe)} vs ${r2(meRatio)})`, me >= 0.9)
    add('1M: logout p99 ≤ 10 ms', `${s.logout.p99} ms`, s.logout.p99 <= 10)
    add('1M: start-up ≤ 1 s', `${s.startupMs} ms`, s.startupMs <= 1000)
    add('1M: purge stall ≤ 50 ms', `${s.purge.maxStallMs} ms (${s.purge.rows} rows in ${s.purge.ms} ms)`, s.purge.maxStallMs <= 50)
    const bareRss = (s as { bareRssMiB?: number }).bareRssMiB ?? r.bare.rssMiB
    const srss = s.rssMiB / bareRss
    add('1M: peak RSS ≤ 1.5× bare Fastify', `${r2(srss)} (${s.rssMiB} / ${bareRss} MiB)`, srss <= 1.5)
  }
  return out
}

function runTable (r: BenchResult): string {
  const lines = [
    `Run of ${r.machine.date}, commit ${r.machine.commit}${r.machine.dirty ? ' (uncommitted changes)' : ''}: ` +
    `${r.machine.nproc} × ${r.machine.cpu}, node ${r.machine.node}, load average at start ${r.machine.load}; ` +
    `${r.settings.duration} s per measurement after ${r.settings.warmup} s of warm-up` +
    ((r.settings as { rounds?: number }).rounds === undefined ? '' : `, in ${(r.settings as { rounds?: number }).rounds} rounds alternating with the baseline (ratio: the median round's; latencies: the median round's)`) +
    `, ${r.settings.connections} connections, ${r.totalSeconds} s in all.`,
    '',
    '| target | req/s | p50 ms | p99 ms | non-2xx + errors | peak RSS MiB | ratio |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    row('bare Fastify, POST logout-shaped', r.bare.load, r.bare.rssMiB, '1'),
    ...(r.durable === undefined
      ? [row(`server, POST /logout (${r.settings.sessions / 1000}k sessions)`, r.small.logout, r.small.rssMiB, `${r2(ratioOf(r, 'logout'))} × bare`)]
      : [
          row('durable baseline, POST /logout (own copy of the file)', r.durable.load, r.durable.rssMiB, '1'),
          row(`server, POST /logout (${r.settings.sessions / 1000}k sessions)`, r.small.logout, r.small.rssMiB,
            `${r2(ratioOf(r, 'logout'))} × durable, ${r2(median(r.ratios.logoutBare))} × bare`)
        ]),
    row('Fastify + @fastify/jwt, verify only', r.verify.load, r.verify.rssMiB, '1'),
    row('server, GET /me', r.small.me, '(same process)', `${r2(ratioOf(r, 'me'))} × verify`)
  ]
  if (r.info !== undefined) {
    lines.push(
      row('server at LOG_LEVEL=info, POST /logout', r.info.logout, r.info.rssMiB, r.durable === undefined
        ? `${r2(r.info.logout.rps / r.bare.load.rps)} × bare`
        : `${r2(r.info.logout.rps / r.durable.load.rps)} × durable`),
      row('server at LOG_LEVEL=info, GET /me', r.info.me, '(same process)', `${r2(r.info.me.rps / r.verify.load.rps)} × verify`)
    )
  }
  if (r.scale !== null) {
    lines.push(
      row(`server, POST /logout (${r.settings.scaleSessions / 1e6}M sessions + ${r.settings.scaleSessions / 1e6}M revocations)`, r.scale.logout, r.scale.rssMiB,
        `${r2(r.scale.ratios === undefined ? r.scale.logout.rps / r.bare.load.rps : median(r.scale.ratios.logout))} × ${r.durable === undefined ? 'bare' : 'durable'}`),
      row('server, GET /me (same tables)', r.scale.me, '(same process)', `${r2(r.scale.ratios === undefined ? r.scale.me.rps / r.verify.load.rps : median(r.scale.ratios.me))} × verify`)
    )
  }
  lines.push(...meSizesTable(r.meSizes))
  return lines.join('\n')
}

export function renderResults (latest: BenchResult, previous: BenchResult | null): string {
  const runs = previous === null ? [latest] : [latest, previous]
  const t = runs.map(targets)
  const head = `| target | ${runs.map((r) => `${r.machine.date.slice(0, 16)} (${r.machine.commit})`).join(' | ')} |`
  const lines = ['### Targets', '', head, `| --- |${runs.map(() => ' --- |').join('')}`]
  // By name: a run before a target existed shows —.
  for (const { name } of t[0]!) {
    lines.push(`| ${name} | ${t.map((x) => x.find((y) => y.name === name)).map((y) => y === undefined ? '—' : `${y.ok ? 'met' : '**not met**'}: ${y.value}`).join(' | ')} |`)
  }
  lines.push('')
  for (const r of runs) lines.push(`### ${r === latest ? 'Latest run' : 'Previous run'}`, '', runTable(r), '')
  return lines.join('\n')
}

/**
 * Replaces a results section of BENCHMARKS.md, between its two markers:
 * `<!-- results:begin -->` and `<!-- results:end -->` (SQLite), or
 * `<!-- pg-results:begin -->` and `<!-- pg-results:end -->` (PostgreSQL).
 */
export function writeResults (doc: string, report: string, marker = 'results'): void {
  const BEGIN = `<!-- ${marker}:begin -->`
  const END = `<!-- ${marker}:end -->`
  const text = readFileSync(doc, 'utf8')
  const i = text.indexOf(BEGIN)
  const j = text.indexOf(END, i)
  if (i < 0 || j < i) throw new Error(`${doc} has no results markers`)
  writeFileSync(doc, text.slice(0, i + BEGIN.length) + '\n' + report + '\n' + text.slice(j))
}

/** The PostgreSQL results section (`npm run bench -- --store postgres`), from postgres-latest.json and the run before it. */
export function renderPostgres (latest: PostgresResult, previous: PostgresResult | null): string {
  const runs = previous === null ? [latest] : [latest, previous]
  const x = (v: number) => `${r2(v)}×`
  const pgTargets = (r: PostgresResult) => {
    const lo = median(r.logout.ratios)
    const me = median(r.me.ratios)
    return [
      { name: 'logout ≥ 0.8× the PostgreSQL baseline (DELETE + INSERT)', value: x(lo), ok: lo >= 0.8 },
      { name: '/me ≥ 0.8× the PostgreSQL baseline (primary-key read)', value: x(me), ok: me >= 0.8 },
      { name: 'acknowledged logouts found revoked in the database', value: `${r.ackedChecked} of ${r.ackedChecked}`, ok: r.ackedChecked > 0 },
      { name: 'logout: two instances over one (total req/s)', value: x(median(r.scale.logout.ratios)), ok: null },
      { name: '/me: two instances over one (total req/s)', value: x(median(r.scale.me.ratios)), ok: null }
    ]
  }
  const t = runs.map(pgTargets)
  const lines = [
    '### PostgreSQL targets',
    '',
    `| target | ${runs.map((r) => `${String(r.machine.date).slice(0, 16)} (${String(r.machine.commit)})`).join(' | ')} |`,
    `| --- |${runs.map(() => ' --- |').join('')}`
  ]
  for (let i = 0; i < t[0]!.length; i++) {
    lines.push(`| ${t[0]![i]!.name} | ${t.map((v) => {
      const c = v[i]!
      return c.ok === null ? c.value : `${c.ok ? 'met' : '**not met**'}: ${c.value}`
    }).join(' | ')} |`)
  }
  lines.push('')
  for (const r of runs) {
    const m = r.machine as { date: string, commit: string, dirty: boolean, nproc: number, cpu: string, node: string, load: string }
    const pgs = r.postgres
    lines.push(
      `### ${r === latest ? 'Latest PostgreSQL run' : 'Previous PostgreSQL run'}`,
      '',
      `Run of ${m.date}, commit ${m.commit}${m.dirty ? ' (uncommitted changes)' : ''}: ${m.nproc} × ${m.cpu}, node ${m.node}, load average at start ${m.load}; ` +
      `PostgreSQL ${pgs.server_version} on the same machine (fsync ${pgs.fsync}, synchronous_commit ${pgs.synchronous_commit}, wal_sync_method ${pgs.wal_sync_method}, shared_buffers ${pgs.shared_buffers}); ` +
      `${r.settings.sessions / 1000}k seeded sessions (seed ${Math.round(r.seedMs / 1000)} s), /me over ${r.settings.meTokens / 1000}k tokens; ` +
      `${r.settings.duration} s per target after ${r.settings.warmup} s of warm-up, in ${r.settings.rounds} alternating rounds (ratio and latencies: the median round's), ` +
      `${r.settings.connections} connections, ${r.totalSeconds} s in all.`,
      '',
      '| target | req/s | p50 ms | p99 ms | non-2xx + errors | CPU µs/req (process + PostgreSQL) | peak RSS MiB | ratio |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      pgRow('baseline: jwt + DELETE/INSERT statement, POST logout', r.logout.baseline, cpu(r.logout.cpuUs, 'baseline'), r.rssMiB.baseline, '1'),
      pgRow('server, POST /logout', r.logout.server, cpu(r.logout.cpuUs, 'server'), r.rssMiB.server, `${r2(median(r.logout.ratios))} × baseline`),
      pgRow('baseline: jwt + primary-key SELECT, GET me', r.me.baseline, cpu(r.me.cpuUs, 'baseline'), '(same process)', '1'),
      pgRow('server, GET /me', r.me.server, cpu(r.me.cpuUs, 'server'), '(same process)', `${r2(median(r.me.ratios))} × baseline`),
      pgRow('one instance, POST /logout', r.scale.logout.one, r.scale.logout.cpuUs.one, '', '1'),
      pgRow('two instances, POST /logout (connections split)', r.scale.logout.two, r.scale.logout.cpuUs.two, '', `${r2(median(r.scale.logout.ratios))} × one`),
      pgRow('one instance, GET /me', r.scale.me.one, r.scale.me.cpuUs.one, '', '1'),
      pgRow('two instances, GET /me (connections split)', r.scale.me.two, r.scale.me.cpuUs.two, '', `${r2(median(r.scale.me.ratios))} × one`),
      '',
      `Ratios by round: logout ${r.logout.ratios.map(r2).join(', ')}; /me ${r.me.ratios.map(r2).join(', ')}; ` +
      `two instances over one: logout ${r.scale.logout.ratios.map(r2).join(', ')}, /me ${r.scale.me.ratios.map(r2).join(', ')}.`,
      ''
    )
  }
  return lines.join('\n')
}

/** The process's CPU µs per request, and PostgreSQL's backends' when measured: "180 + 95". */
function cpu (c: CpuPerRequest, who: 'baseline' | 'server'): string {
  const shared = who === 'baseline' ? c.sharedBaseline : c.sharedServer
  return shared === undefined ? String(c[who]) : `${c[who]} + ${shared}`
}

function pgRow (name: string, l: LoadResult, cpuUs: number | string, rss: number | string, ratio: string): string {
  return `| ${name} | ${l.rps} | ${l.p50} | ${l.p99} | ${l.non2xx + l.errors + l.timeouts} | ${cpuUs} | ${rss} | ${ratio} |`
}
