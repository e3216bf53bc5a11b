/**
 * A PostgreSQL server of the test's own: initdb into a temporary folder,
 * `postgres` on a free port of 127.0.0.1 (its socket in that folder, fsync
 * on), for the tests that stop, restart or kill the database under load.
 * The machine's PostgreSQL is shared by other test files and engineers and
 * is never touched.
 *
 * The binaries are PostgreSQL's own (TEST_PG_BINDIR, else the newest
 * /usr/lib/postgresql/<version>/bin). initdb refuses to run as root: as
 * root, the server runs as the `postgres` user (setpriv, which execs: the
 * child's pid is the postmaster's, for the SIGKILL). Without the binaries,
 * or as root without a `postgres` user, `ownPostgresOrSkip` plans the file
 * as skipped with one line, unless AUTH_SESSIONS_REQUIRE names postgres
 * (.ci/run): then it fails.
 */
import t from 'tap'
import type { Test } from 'tap'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, type AddressInfo } from 'node:net'
import { REQUIRED, reachable } from './pg-env.js'

/** The folder of initdb and postgres, or undefined when there is none. */
export function postgresBinDir (env: NodeJS.ProcessEnv = process.env, root = '/usr/lib/postgresql'): string | undefined {
  if (env.TEST_PG_BINDIR !== undefined) return existsSync(join(env.TEST_PG_BINDIR, 'initdb')) ? env.TEST_PG_BINDIR : undefined
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : []
  return versions.map((v) => join(root, v, 'bin')).find((d) => existsSync(join(d, 'initdb')))
}

/** The user the server runs as: ourselves, or `postgres` when we are root; undefined when root has no `postgres` user. */
function runAs (): { uid: number, gid: number, prefix: string[] } | undefined {
  const uid = process.getuid!()
  if (uid !== 0) return { uid, gid: process.getgid!(), prefix: [] }
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())
    return { uid: id('-u'), gid: id('-g'), prefix: ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--'] }
  } catch {
    return undefined
  }
}

export interface OwnPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string
  /** The postmaster's pid (changes with every start). */
  pid: () => number
  /** Starts the server and waits (bounded) until it answers. */
  start: () => Promise<void>
  /** A fast shutdown (SIGINT: sessions terminated, a checkpoint), waiting (bounded) for the postmaster to exit. */
  stop: () => Promise<void>
  /** SIGKILL to the postmaster (no checkpoint: recovery from the WAL at the next start), then its children gone. */
  kill: () => Promise<void>
}

/** A port nothing listens on now. */
function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves once `pid` is gone (kill -0 fails), or rejects after `ms` with `what`. */
async function gone (pid: number, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    try {
      process.kill(pid, 0)
    } catch {
      return
    }
    if (Date.now() > until) throw new Error(`${what}: process ${pid} still running after ${ms} ms`)
    await sleep(50)
  }
}

/** The pids whose parent is `pid` (the postmaster's backends and workers). */
function childrenOf (pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/**
 * A new PostgreSQL server for `tt`, started; stopped (SIGKILL if a fast
 * shutdown does not end it) and its folder removed when `tt` ends.
 * Rejects (with what initdb or postgres said) when it cannot start.
 */
export async function ownPostgres (tt: Test, bin = postgresBinDir()): Promise<OwnPostgres> {
  const user = runAs()
  if (bin === undefined || user === undefined) throw new Error('no PostgreSQL binaries, or root without a postgres user')
  const dir = mkdtempSync(join(tmpdir(), 'auth-sessions-pg-'))
  let postmaster: ChildProcess | undefined
  let exited: Promise<unknown> = Promise.resolve()
  let log = ''
  // Should the test process end without its teardown (an uncaught error), an immediate shutdown and the folder gone all the same.
  const onExit = () => {
    if (postmaster !== undefined && postmaster.exitCode === null && postmaster.signalCode === null) postmaster.kill('SIGQUIT')
    rmSync(dir, { recursive: true, force: true })
  }
  process.once('exit', onExit)
  tt.teardown(async () => {
    process.off('exit', onExit)
    const p = postmaster
    if (p !== undefined && p.exitCode === null && p.signalCode === null) {
      p.kill('SIGINT')
      const timer = setTimeout(() => p.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    rmSync(dir, { recursive: true, force: true })
  })
  chownSync(dir, user.uid, user.gid)
  const data = join(dir, 'data')
  try {
    execFileSync(user.prefix[0] ?? join(bin, 'initdb'), [...user.prefix.slice(1), ...(user.prefix.length > 0 ? [join(bin, 'initdb')] : []),
      '-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
    { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, cwd: dir })
  } catch (err) {
    throw new Error(`initdb failed: ${String((err as { stderr?: Buffer }).stderr ?? err)}`)
  }
  const port = await freePort()
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  const args = [join(bin, 'postgres'), '-D', data, '-p', String(port), '-k', dir,
    '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on', '-c', 'synchronous_commit=on',
    '-c', 'max_connections=60', '-c', 'shared_buffers=16MB', '-c', 'logging_collector=off']

  const own: OwnPostgres = {
    url,
    pid: () => postmaster!.pid!,
    async start () {
      const until = Date.now() + 30_000
      for (;;) {
        log = ''
        const [cmd, ...rest] = [...user.prefix, ...args]
        const p = spawn(cmd!, rest, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
        postmaster = p
        exited = new Promise((resolve) => p.once('exit', resolve))
        p.stdout!.setEncoding('utf8').on('data', (d: string) => { log += d })
        p.stderr!.setEncoding('utf8').on('data', (d: string) => { log += d })
        while (!await reachable(url)) {
          if (p.exitCode !== null || p.signalCode !== null) break
          if (Date.now() > until) throw new Error(`postgres did not answer within 30 s: ${log.slice(-2000)}`)
          await sleep(100)
        }
        if (p.exitCode === null && p.signalCode === null) return
        // After a SIGKILL, a backend not yet gone still holds the old shared memory: try again shortly.
        if (!log.includes('pre-existing shared memory block') || Date.now() > until) {
          throw new Error(`postgres exited (${p.exitCode ?? p.signalCode}): ${log.slice(-2000)}`)
        }
        await sleep(200)
      }
    },
    async stop () {
      const p = postmaster!
      p.kill('SIGINT')
      const timer = setTimeout(() => p.kill('SIGKILL'), 30_000)
      await exited
      clearTimeout(timer)
      if (p.signalCode === 'SIGKILL') throw new Error(`postgres did not shut down within 30 s: ${log.slice(-2000)}`)
    },
    async kill () {
      const p = postmaster!
      const children = childrenOf(p.pid!)
      p.kill('SIGKILL')
      await exited
      // Orphaned backends notice the postmaster's death and exit; until then its shared memory is in use and a new one would refuse to start.
      for (const c of children) {
        await gone(c, 10_000, 'a backend of the killed postmaster').catch(() => process.kill(c, 'SIGKILL'))
        await gone(c, 5_000, 'a backend of the killed postmaster')
      }
    }
  }
  await own.start()
  return own
}

/** Why a PostgreSQL server of our own cannot be started here, or undefined when it can. */
export function ownPostgresUnavailable (bin = postgresBinDir()): string | undefined {
  if (bin === undefined) return 'no PostgreSQL binaries (initdb) in TEST_PG_BINDIR or /usr/lib/postgresql/<version>/bin'
  if (runAs() === undefined) return 'running as root, and there is no postgres user to run the server as'
  return undefined
}

/**
 * For a test file that needs its own PostgreSQL server: true when one can
 * be started; else false, after planning the file as skipped with one
 * line (or throwing, when AUTH_SESSIONS_REQUIRE names postgres).
 */
export function ownPostgresOrSkip (tt: Test = t): boolean {
  const why = ownPostgresUnavailable()
  if (why === undefined) return true
  if (REQUIRED) throw new Error(`AUTH_SESSIONS_REQUIRE names postgres, but a test PostgreSQL server cannot be started: ${why}`)
  tt.plan(0, `own PostgreSQL server tests skipped: ${why}`)
  return false
}
