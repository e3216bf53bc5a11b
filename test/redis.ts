/**
 * Redis for the tests: the shared server at TEST_REDIS_URL (default the
 * local one), each test with its own key prefix whose keys it deletes;
 * and, for the tests that stop, restart or flush Redis, a redis-server of
 * the test's own on a free port (never FLUSHALL or SHUTDOWN on the shared
 * one: other suites use it). Where there is no Redis, a Redis suite skips,
 * and one line for the whole run says how to enable them; where
 * AUTH_SESSIONS_REQUIRE names redis (.ci/run), it fails instead.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, openSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { randomId } from '../lib/ids.js'

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const required = (process.env.AUTH_SESSIONS_REQUIRE ?? '').split(',').map((s) => s.trim()).includes('redis')

/** A client with no key prefix, that gives up at once: for looking at what the service wrote. */
export function rawClient (url: string): Redis {
  return new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null })
}

async function answers (url: string): Promise<boolean> {
  const client = rawClient(url)
  client.on('error', () => {})
  try {
    await client.connect()
    return await client.ping() === 'PONG'
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

let available: Promise<boolean> | undefined

/**
 * Whether this file's Redis suites run. Without Redis: fails the file
 * when it is required, otherwise skips it, the first skipping file of the
 * run (one tap process) printing the one line.
 */
export async function redisAvailable (t: Test): Promise<boolean> {
  available ??= answers(TEST_REDIS_URL)
  if (await available) return true
  /* c8 ignore start -- only on a machine without Redis, where these suites skip */
  if (required) throw new Error(`Redis is required (AUTH_SESSIONS_REQUIRE) but does not answer at ${TEST_REDIS_URL}`)
  try {
    closeSync(openSync(join(tmpdir(), `auth-sessions-redis-skipped-${process.ppid}`), 'wx'))
    console.error(`Redis suites skipped: no Redis at ${TEST_REDIS_URL} (start redis-server, or set TEST_REDIS_URL)`)
  } catch {}
  t.plan(0, 'no Redis')
  return false
  /* c8 ignore stop */
}

export interface RedisKit {
  url: string
  /** The test's own REDIS_KEY_PREFIX. */
  prefix: string
  /** A client without prefix on `url`, that reconnects. */
  client: Redis
  env: { REDIS_URL: string, REDIS_KEY_PREFIX: string }
  /** Every key of the test's prefix (without it). */
  keys: () => Promise<string[]>
}

/** A unique prefix on `url` and a client to look with; the prefix's keys are deleted at teardown. */
export async function redisKit (t: Test, url = TEST_REDIS_URL): Promise<RedisKit> {
  const prefix = `test:${randomId()}:`
  // Reconnects on its own: some tests stop and restart the server under it.
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 50 })
  client.on('error', () => {})
  await client.connect()
  const keys = async () => (await scan(client, prefix)).map((k) => k.slice(prefix.length))
  t.teardown(async () => {
    const all = await scan(client, prefix).catch(() => [])
    if (all.length > 0) await client.del(...all).catch(() => {})
    client.disconnect()
  })
  return { url, prefix, client, env: { REDIS_URL: url, REDIS_KEY_PREFIX: prefix }, keys }
}

async function scan (client: Redis, prefix: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    found.push(...batch)
    cursor = next
  } while (cursor !== '0')
  return found
}

async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

export interface OwnRedis {
  url: string
  /** Starts it, empty, and waits until it answers. */
  start: () => Promise<void>
  /** SHUTDOWN NOSAVE, and waits for the process to end. */
  stop: () => Promise<void>
}

/** A redis-server of this test's own, on a free port, without persistence; stopped at teardown. */
export async function ownRedis (t: Test): Promise<OwnRedis> {
  const port = await freePort()
  const url = `redis://127.0.0.1:${port}`
  let child: ChildProcess | null = null
  const own: OwnRedis = {
    url,
    async start () {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--enable-debug-command', 'local'], { stdio: 'ignore' })
      const deadline = Date.now() + 10_000
      while (!await answers(url)) {
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 10 s`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    },
    async stop () {
      const running = child
      child = null
      if (running === null || running.exitCode !== null) return
      const exited = once(running, 'exit')
      const client = rawClient(url)
      client.on('error', () => {})
      // SHUTDOWN ends the connection instead of answering.
      await client.connect().then(() => client.shutdown('NOSAVE')).catch(() => {})
      client.disconnect()
      const timer = setTimeout(() => running.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
  }
  t.teardown(() => own.stop())
  await own.start()
  return own
}

/** A pino stream that keeps every line, parsed: to count what was logged. */
export function logLines (): { stream: Writable, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line))
      done()
    }
  })
  return { stream, lines }
}
