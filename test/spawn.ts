/**
 * Runs the real server (`server.ts` through tsx) as a child process, for the
 * tests that need a real process: bad configuration, SIGKILL, SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { SECRET } from './helper.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

export interface Server {
  child: ChildProcess
  url: string
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  exited: Promise<number | string>
}

/** The environment a spawned server gets: nothing inherited but PATH. */
export function serverEnv (env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    // tap's processinfo follows children into their coverage; tsx's source
    // maps differ from tap's and would scramble the line numbers of the
    // report, so the server process reports no coverage of its own.
    _TAPJS_PROCESSINFO_COV_EXCLUDE_: '/./',
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
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], { cwd: ROOT, env: serverEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
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
