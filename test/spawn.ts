/**
 * The one process spawner of the tests: the real server (`server.ts`) as a
 * child process, for what only a process shows: bad configuration,
 * SIGKILL, SIGTERM, restarts on the same file, real sockets. Port 0
 * always; the URL is read from the "Server listening at" log line. And a
 * few HTTP calls for talking to it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { PASSWORD, SECRET } from './helper.js'
import { claimsOf } from './jwt.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/**
 * The test process's own node flags (tap's, with test/loader.mjs), so that
 * the child compiles our code as the parent does, its coverage lines up
 * with the parent's, and server.ts is measured too. A child compiled
 * differently would report ranges of other code, and merged with the
 * parent's they mark covered lines as uncovered.
 */
export const LOADER = (process.execArgv.length > 0 ? process.execArgv : ['--import=./test/loader.mjs'])
  // package.json names the loader relative to the repository: absolute, for a child started elsewhere.
  .map((arg) => arg.replace(/^--import=(\.\/.*)$/, (_, path: string) => `--import=${new URL(path, pathToFileURL(ROOT)).href}`))

/** For a child that runs no code of ours: it reports no coverage at all. */
export const NO_COVERAGE = { _TAPJS_PROCESSINFO_COV_EXCLUDE_: '/./' }

export interface Server {
  child: ChildProcess
  url: string
  port: number
  stdout: () => string
  stderr: () => string
  /** Every complete stdout line so far (pino JSON). */
  lines: () => string[]
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  exited: Promise<number | string>
}

/**
 * The environment a spawned server gets: nothing of ours inherited, only
 * PATH and tap's own settings (where its coverage goes, what it covers).
 */
export function serverEnv (env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const loader = Object.entries(process.env).filter(([k]) => /^(TS_NODE_|TAP|_TAPJS_|NODE_OPTIONS$)/.test(k))
  const out: NodeJS.ProcessEnv = {
    ...Object.fromEntries(loader),
    PATH: process.env.PATH,
    PORT: '0',
    LOG_LEVEL: 'info',
    JWT_SECRET: SECRET,
    RATE_LIMIT_MAX: '0',
    LOGIN_RATE_LIMIT_MAX: '0'
  }
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k]
    else out[k] = v
  }
  return out
}

/** Spawns the server; `nodeArgs` go before the script (a preload, a flag). */
export function run (env: Record<string, string | undefined>, nodeArgs: string[] = []): Server {
  const child = spawn(process.execPath, [...LOADER, ...nodeArgs, 'server.ts'], { cwd: ROOT, env: serverEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d })
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal!))
  })
  return { child, url: '', port: 0, stdout: () => out, stderr: () => err, lines: () => out.split('\n').slice(0, -1), exited }
}

/** Starts the server and waits (at most `timeoutMs`) for its "Server listening at" line. */
export async function start (env: Record<string, string | undefined>, opts: { timeoutMs?: number, nodeArgs?: string[] } = {}): Promise<Server> {
  const timeoutMs = opts.timeoutMs ?? 30_000
  const server = run(env, opts.nodeArgs)
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      server.child.kill('SIGKILL')
      reject(new Error(`server did not start in ${timeoutMs} ms: ${server.stderr()}`))
    }, timeoutMs)
    const onData = () => {
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(server.stdout())
      if (m !== null) {
        clearTimeout(timer)
        server.child.stdout!.off('data', onData)
        resolve(m[1]!)
      }
    }
    server.child.stdout!.on('data', onData)
    server.exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`server exited (${code}) before listening: ${server.stderr()}${server.stdout()}`))
    }, reject)
  })
  return { ...server, url, port: Number(new URL(url).port) }
}

/** Sends `signal` and waits for the exit; SIGKILL after `timeoutMs`. */
export async function stop (server: Server, signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 15_000): Promise<number | string> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill(signal)
  const timer = setTimeout(() => server.child.kill('SIGKILL'), timeoutMs)
  const result = await server.exited
  clearTimeout(timer)
  return result
}

export interface Json { status: number, body: any, headers: Headers }

/** One HTTP call with a JSON body, bounded by `timeoutMs`; the body parsed when it is JSON. */
export async function call (base: string, method: string, path: string, opts: { token?: string, body?: unknown, timeoutMs?: number } = {}): Promise<Json> {
  const headers: Record<string, string> = {}
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(base + path, {
    method,
    headers,
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000)
  })
  const text = await res.text()
  let body: unknown = text
  try { body = JSON.parse(text) } catch {}
  return { status: res.status, body, headers: res.headers }
}

export async function registerUser (base: string, email: string): Promise<void> {
  const r = await call(base, 'POST', '/api/v1/auth/register', { body: { email, password: PASSWORD } })
  if (r.status !== 201) throw new Error(`register ${r.status} ${JSON.stringify(r.body)}`)
}

export interface Session { token: string, sessionId: string, jti: string, refreshToken: string }

export async function loginUser (base: string, email: string): Promise<Session> {
  const r = await call(base, 'POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } })
  if (r.status !== 200) throw new Error(`login ${r.status} ${JSON.stringify(r.body)}`)
  const token: string = r.body.data.token
  return { token, sessionId: r.body.data.sessionId, jti: claimsOf(token).jti, refreshToken: r.body.data.refreshToken }
}
