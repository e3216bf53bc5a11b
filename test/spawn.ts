/**
 * Runs the real server (`server.ts`) as a child process, for the
 * tests that need a real process: bad configuration, SIGKILL, SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { SECRET } from './helper.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/**
 * The test process's own TypeScript loader (tap's), so that the child's
 * coverage lines up with the parent's and server.ts is measured too. A tsx
 * child would report ranges of differently compiled code, and merged with
 * tap's they mark covered lines as uncovered.
 */
export const LOADER = process.execArgv.length > 0 ? process.execArgv : ['--import', 'tsx']

/** For a child that runs no code of ours: it reports no coverage at all. */
export const NO_COVERAGE = { _TAPJS_PROCESSINFO_COV_EXCLUDE_: '/./' }

export interface Server {
  child: ChildProcess
  url: string
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  exited: Promise<number | string>
}

/**
 * The environment a spawned server gets: nothing of ours inherited, only
 * PATH and the loader's own settings (tap's and ts-node's): without them
 * the child compiles our code differently from the parent and their
 * coverage no longer lines up.
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

export function run (env: Record<string, string | undefined>): Server {
  const child = spawn(process.execPath, [...LOADER, 'server.ts'], { cwd: ROOT, env: serverEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d })
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal!))
  })
  return { child, url: '', stdout: () => out, stderr: () => err, exited }
}

/** Starts the server and waits for its "Server listening at" line. */
export async function start (env: Record<string, string | undefined>): Promise<Server> {
  const server = run(env)
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(server.stdout())
      if (m !== null) {
        server.child.stdout!.off('data', onData)
        resolve(m[1]!)
      }
    }
    server.child.stdout!.on('data', onData)
    server.exited.then((code) => reject(new Error(`server exited (${code}): ${server.stderr()}${server.stdout()}`)), reject)
  })
  return { ...server, url }
}
