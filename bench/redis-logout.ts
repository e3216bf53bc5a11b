/**
 * `npm run bench:redis [-- --logouts N --rounds R]`: what the Redis write
 * adds to a logout. One process, the real app on a temporary SQLite file
 * (durable commits), sequential logouts through `inject` (no HTTP, no
 * load generator: only the logout's own latency), alternating rounds
 * without and with REDIS_URL (the local Redis, a prefix of its own,
 * deleted after). Prints the medians and p99s; BENCHMARKS.md keeps them.
 */
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import app from '../app.js'
import { loadConfig } from '../fastify.config.js'
import { serverOptions } from '../lib/server-options.js'
import { SECRET } from './procs.js'

const { values: args } = parseArgs({
  options: {
    logouts: { type: 'string', default: '400' },
    rounds: { type: 'string', default: '3' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' }
  }
})
const LOGOUTS = Number(args.logouts)
const ROUNDS = Number(args.rounds)
const PREFIX = `bench:${process.pid}:`
const dir = mkdtempSync(join(tmpdir(), 'auth-sessions-bench-redis-'))

async function round (redisUrl: string | undefined, n: number): Promise<number[]> {
  const config = loadConfig({
    DATABASE_PATH: join(dir, 'auth.db'),
    JWT_SECRET: SECRET,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_MAX: '0',
    LOGIN_RATE_LIMIT_MAX: '0',
    ...(redisUrl === undefined ? {} : { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: PREFIX })
  })
  const fastify = Fastify(serverOptions(config))
  await fastify.register(fp(app), { config, hashCost: { memoryCost: 8, timeCost: 1 } })
  await fastify.ready()
  const email = `bench-${n}@example.com`
  await fastify.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password: 'correct horse battery' } })
  const tokens: string[] = []
  for (let i = 0; i < LOGOUTS; i++) {
    const res = await fastify.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: 'correct horse battery' } })
    tokens.push(res.json().data.token)
  }
  const ms: number[] = []
  // The publish alone, as the sessions service calls it (on this object).
  const list = fastify.revocationList
  const publish = list.publish.bind(list)
  list.publish = async (records) => {
    const started = performance.now()
    await publish(records)
    if (redisUrl !== undefined) publishMs.push(performance.now() - started)
  }
  for (const token of tokens) {
    const started = performance.now()
    const res = await fastify.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { authorization: `Bearer ${token}` }, payload: { token } })
    ms.push(performance.now() - started)
    if (res.statusCode !== 200) throw new Error(`logout ${res.statusCode}`)
  }
  await fastify.close()
  return ms
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!
const publishMs: number[] = []
const without: number[] = []
const withRedis: number[] = []
for (let r = 0; r < ROUNDS; r++) {
  without.push(...await round(undefined, 2 * r))
  withRedis.push(...await round(args.redis, 2 * r + 1))
}
const client = new Redis(args.redis)
let cursor = '0'
do {
  const [next, keys] = await client.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000)
  if (keys.length > 0) await client.del(...keys)
  cursor = next
} while (cursor !== '0')
client.disconnect()
rmSync(dir, { recursive: true, force: true })

const line = (name: string, xs: number[]) => `${name}: median ${pct(xs, 0.5).toFixed(3)} ms, p99 ${pct(xs, 0.99).toFixed(3)} ms (${xs.length} logouts)`
console.log(line('without Redis', without))
console.log(line('with Redis   ', withRedis))
console.log(line('of which the publish, with Redis', publishMs))
console.log(`the Redis write adds: median ${(pct(withRedis, 0.5) - pct(without, 0.5)).toFixed(3)} ms, p99 ${(pct(withRedis, 0.99) - pct(without, 0.99)).toFixed(3)} ms`)
