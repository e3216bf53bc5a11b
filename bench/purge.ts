/**
 * The purge at scale, in its own process: the real app on the seeded
 * database (DATABASE_PATH), one full `fastify.purge()` — the code the
 * interval runs — while perf_hooks.monitorEventLoopDelay records how long
 * the event loop was blocked. Measured here rather than inside the server,
 * so that the histogram costs nothing on the server's hot path.
 * Prints one JSON line.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import Fastify from 'fastify'
import app from '../app.js'
import { loadConfig } from '../fastify.config.js'

const fastify = Fastify({ logger: false })
await app(fastify, { config: loadConfig() })
await fastify.ready()
const rowsBefore = fastify.db.prepare('SELECT (SELECT count(*) FROM sessions) + (SELECT count(*) FROM revoked_tokens)').pluck().get() as number

const histogram = monitorEventLoopDelay({ resolution: 1 })
histogram.enable()
const started = performance.now()
const rows = await fastify.purge()
const ms = Math.round(performance.now() - started)
histogram.disable()
await fastify.close()

const stall = (ns: number) => Math.round(ns / 1e5) / 10
process.stdout.write(JSON.stringify({
  rowsBefore, rows, ms, maxStallMs: stall(histogram.max), p99StallMs: stall(histogram.percentile(99))
}) + '\n')
