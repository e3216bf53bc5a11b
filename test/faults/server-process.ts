/**
 * The real server as a child process, for what only a process shows:
 * SIGKILL, SIGTERM, restarts on the same file, real sockets. Port 0 always;
 * the port is read from the "Server listening at" log line. The loader and
 * environment are test/spawn.ts's, so the child's coverage lines up.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { LOADER, serverEnv } from '../spawn.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface ServerProcess {
  child: ChildProcess
  port: number
  url: string
  /** Every stdout line so far (pino JSON). */
  lines: string[]
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

export async function startServer (env: Record<string, string>, timeoutMs = 30_000, nodeArgs: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...LOADER, ...nodeArgs, 'server.ts'], {
    cwd: ROOT,
    env: serverEnv(env),
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const lines: string[] = []
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }))
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString() })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms: ${stderr}`)), timeoutMs)
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line)
      const m = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line)
      if (m !== null) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
    exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`server exited (${code ?? signal}) before listening: ${stderr}`))
    }, reject)
  })
  return { child, port, url: `http://127.0.0.1:${port}`, lines, exited }
}

/** Kills with `signal` and waits for the exit (bounded). */
export async function stop (server: ServerProcess, signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 15_000) {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill(signal)
  const timer = setTimeout(() => server.child.kill('SIGKILL'), timeoutMs)
  const result = await server.exited
  clearTimeout(timer)
  return result
}

export interface Json { status: number, body: any, headers: Headers }

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

export const PASSWORD = 'correct horse battery'

export async function registerUser (base: string, email: string): Promise<void> {
  const r = await call(base, 'POST', '/api/v1/auth/register', { body: { email, password: PASSWORD } })
  if (r.status !== 201) throw new Error(`register ${r.status} ${JSON.stringify(r.body)}`)
}

export interface Session { token: string, sessionId: string, jti: string }

export async function loginUser (base: string, email: string): Promise<Session> {
  const r = await call(base, 'POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } })
  if (r.status !== 200) throw new Error(`login ${r.status} ${JSON.stringify(r.body)}`)
  const token: string = r.body.data.token
  const jti: string = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti
  return { token, sessionId: r.body.data.sessionId, jti }
}
