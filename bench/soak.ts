/**
 * Soak: mixed load (login, me, sessions, logout) against the real server
 * process for a while, reporting 5xx answers, the WAL file's size and the
 * server's RSS over time. Not part of `npm test`.
 *
 *   npm run soak                       # 10 minutes
 *   SOAK_SECONDS=60 npm run soak       # shorter
 *   SOAK_CONCURRENCY=32 SOAK_SAMPLE_SECONDS=10 npm run soak
 *
 * Prints one JSON line per sample and a JSON summary at the end; the
 * summary also goes to bench/results/soak-<time>.json. Exits 1 when any
 * 5xx or transport error was seen, or the server did not stop cleanly.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const SECONDS = Number(process.env.SOAK_SECONDS ?? 600)
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 16)
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE_SECONDS ?? 10)
const USERS = 20
const PASSWORD = 'correct horse battery staple'

const dir = mkdtempSync(join(tmpdir(), 'auth-soak-'))
const dbPath = join(dir, 'auth.db')
const { NODE_OPTIONS: _drop, ...env } = process.env
const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
  cwd: ROOT,
  env: {
    ...env,
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_PATH: dbPath,
    JWT_SECRET: 'soak-secret-that-is-at-least-32-characters-long',
    RATE_LIMIT_MAX: '0',
    LOGIN_RATE_LIMIT_MAX: '0',
    LOG_LEVEL: 'info'
  },
  stdio: ['ignore', 'pipe', 'inherit']
})
const exited = once(child, 'exit')
const port = await new Promise<number>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('server did not start')), 30_000)
  // Every line is read (as a log shipper would), the port taken from the first.
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line)
    if (m !== null) { clearTimeout(timer); resolve(Number(m[1])) }
  })
})
const base = `http://127.0.0.1:${port}/api/v1/auth`

type Op = 'login' | 'me' | 'sessions' | 'logout'
const counts: Record<Op, Record<string, number>> = { login: {}, me: {}, sessions: {}, logout: {} }
let fiveXX = 0
let transportErrors = 0
let requests = 0
const latencies: number[] = []

async function call (op: Op, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number, json: any }> {
  const started = performance.now()
  try {
    const res = await fetch(base + path, {
      method,
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000)
    })
    const json = await res.json()
    requests++
    latencies.push(performance.now() - started)
    counts[op][res.status] = (counts[op][res.status] ?? 0) + 1
    if (res.status >= 500) fiveXX++
    return { status: res.status, json }
  } catch (err) {
    transportErrors++
    counts[op].error = (counts[op].error ?? 0) + 1
    return { status: 0, json: null }
  }
}

const emails = Array.from({ length: USERS }, (_, i) => `soak${i}@example.com`)
for (const email of emails) await call('login', 'POST', '/register', undefined, { email, password: PASSWORD })
const live: string[] = []

async function login () {
  const email = emails[Math.floor(Math.random() * emails.length)]!
  const r = await call('login', 'POST', '/login', undefined, { email, password: PASSWORD })
  if (r.status === 200) live.push(r.json.data.token)
}

function pick (): string | undefined {
  return live.length === 0 ? undefined : live[Math.floor(Math.random() * live.length)]
}

async function step () {
  const roll = Math.random()
  // login is argon2-bound; keep it a small share, as in real traffic.
  if (roll < 0.1 || live.length < 5) return login()
  if (roll < 0.6) { const tok = pick(); if (tok !== undefined) await call('me', 'GET', '/me', tok); return }
  if (roll < 0.8) { const tok = pick(); if (tok !== undefined) await call('sessions', 'GET', '/sessions', tok); return }
  const i = Math.floor(Math.random() * live.length)
  const tok = live.splice(i, 1)[0]
  if (tok !== undefined) await call('logout', 'POST', '/logout', tok, { token: tok })
}

function rssKiB (): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
  return m === null ? 0 : Number(m[1])
}
const sizeOf = (path: string): number => { try { return statSync(path).size } catch { return 0 } }

const samples: Array<{ t: number, requests: number, rssMiB: number, walKiB: number, dbKiB: number, liveTokens: number, fiveXX: number, p99ms: number }> = []
const started = Date.now()
const deadline = started + SECONDS * 1000
function sample () {
  const sorted = latencies.splice(0).sort((a, b) => a - b)
  const s = {
    t: Math.round((Date.now() - started) / 1000),
    requests,
    rssMiB: Math.round(rssKiB() / 102.4) / 10,
    walKiB: Math.round(sizeOf(dbPath + '-wal') / 1024),
    dbKiB: Math.round(sizeOf(dbPath) / 1024),
    liveTokens: live.length,
    fiveXX,
    p99ms: Math.round((sorted[Math.floor(sorted.length * 0.99)] ?? 0) * 10) / 10
  }
  samples.push(s)
  process.stdout.write(JSON.stringify(s) + '\n')
}
sample()
const sampler = setInterval(sample, SAMPLE_SECONDS * 1000)

await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
  while (Date.now() < deadline) await step()
}))
clearInterval(sampler)
sample()

child.kill('SIGTERM')
const [code] = await Promise.race([exited, new Promise<[null]>((resolve) => setTimeout(() => resolve([null]), 15_000))])
if (code === null) child.kill('SIGKILL')
rmSync(dir, { recursive: true, force: true })

const rss = samples.map((s) => s.rssMiB)
const wal = samples.map((s) => s.walKiB)
const summary = {
  seconds: SECONDS,
  concurrency: CONCURRENCY,
  requests,
  requestsPerSecond: Math.round(requests / SECONDS),
  counts,
  fiveXX,
  transportErrors,
  rssMiB: { first: rss[1] ?? rss[0], max: Math.max(...rss), last: rss.at(-1) },
  walKiB: { max: Math.max(...wal), last: wal.at(-1) },
  exitCode: code
}
process.stdout.write(JSON.stringify(summary, null, 2) + '\n')
mkdirSync(join(ROOT, 'bench/results'), { recursive: true })
writeFileSync(join(ROOT, `bench/results/soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ summary, samples }, null, 2))
process.exit(fiveXX === 0 && transportErrors === 0 && code === 0 ? 0 : 1)
