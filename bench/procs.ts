/**
 * Child processes of the benchmark: the server and the baselines (each its
 * own process), the load generator, the seed command. Linux only: peak RSS
 * is the kernel's high-water mark (VmHWM in /proc/<pid>/status).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { LoadOptions, LoadResult } from './load.js'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** The signing key of every benchmark server and seed: a tokens file seeded by one tool works with the others. */
export const SECRET = 'benchmark-secret-benchmark-secret-benchmark'

export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

export interface Target {
  name: string
  proc: ChildProcess
  url: string
  /** From spawn to the first 200 on /health. */
  startupMs: number
  exited: Promise<number | null>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Node's flags for the server, the same as `npm start` passes (package.json):
 * a 2 MiB young generation instead of V8's default (up to 16 MiB per
 * semi-space, grown during start-up and never given back), ~20 MiB off the
 * peak RSS; and an old generation collected once it has grown to 1.5× its
 * live size, where V8 lets it reach 4× (BENCHMARKS.md, Memory). The
 * baselines run with Node's defaults.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=2', '--heap-growing-percent=50']

/** Spawns `node [flags] <script>` with `env`, stdout and stderr to `log`, and waits until /health answers 200. */
export async function startTarget (name: string, script: string, env: Record<string, string>, log: string, flags: string[] = []): Promise<Target> {
  const port = await freePort()
  const fd = openSync(log, 'a')
  const started = performance.now()
  const proc = spawn(process.execPath, [...flags, script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', fd, fd]
  })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}; see ${log}`)
    try {
      const res = await fetch(url + '/health')
      if (res.status === 200) break
    } catch {}
    if (performance.now() - started > 30_000) throw new Error(`${name} did not start; see ${log}`)
    await sleep(5)
  }
  live.add(proc)
  exited.then(() => live.delete(proc), () => {})
  return { name, proc, url, startupMs: Math.round(performance.now() - started), exited }
}

/** Targets still running: killed if the benchmark itself fails. */
const live = new Set<ChildProcess>()
process.once('exit', () => { for (const p of live) p.kill('SIGKILL') })

/** Peak resident set size of a live process, in MiB. */
export function peakRssMiB (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1])
  return Math.round(kb / 1024)
}

/** CPU milliseconds a live process has used, all its threads (utime + stime, in 10 ms ticks). */
export function cpuMs (pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(f[11]) + Number(f[12])) * 10
}

export async function stopTarget (t: Target, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (t.proc.exitCode === null) t.proc.kill(signal)
  await t.exited
}

/** Runs a command to completion; resolves with its stdout, rejects on a non-zero exit. */
export function run (args: string[], env: Record<string, string> = {}, onStderr?: (text: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    proc.stdout.on('data', (d: Buffer) => { out += d })
    proc.stderr.on('data', (d: Buffer) => {
      err += d
      onStderr?.(err)
    })
    proc.once('exit', (code) => code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited ${code}: ${err}`)))
  })
}

/** Runs the load generator; `onStart` is called once its requests begin. */
export async function load (opts: LoadOptions, onStart?: () => void): Promise<LoadResult> {
  let started = false
  const out = await run(['--import', 'tsx', 'bench/load.ts', JSON.stringify(opts)], {}, (err) => {
    if (!started && err.includes('started\n')) {
      started = true
      onStart?.()
    }
  })
  return JSON.parse(out.trim().split('\n').pop()!) as LoadResult
}
