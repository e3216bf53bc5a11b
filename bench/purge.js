// The purge at scale, in its own process: the compiled app (dist/, as
// `npm start` runs it) on the seeded database (DATABASE_PATH), one full
// `fastify.purge()` — the code the interval runs — while
// perf_hooks.monitorEventLoopDelay records how long the event loop was
// blocked. Measured here rather than inside the server, so that the
// histogram costs nothing on the server's hot path. Prints one JSON line.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import Fastify from 'fastify'
import app from '../dist/app.js'
import { loadConfig } from '../dist/fastify.config.js'

const fastify = Fastify({ logger: false })
await app(fastify, { config: loadConfig() })
await fastify.ready()
// The SQLite store's own connection (bench runs on SQLite).
const count = fastify.store.db.prepare('SELECT (SELECT count(*) FROM sessions) + (SELECT count(*) FROM revoked_tokens)').pluck()
const rowsBefore = count.get()

const histogram = monitorEventLoopDelay({ resolution: 1 })
histogram.enable()
const started = performance.now()
const rows = await fastify.purge()
const ms = Math.round(performance.now() - started)
histogram.disable()
const rowsAfter = count.get()
await fastify.close()

const stall = (ns) => Math.round(ns / 1e5) / 10
process.stdout.write(JSON.stringify({
  rowsBefore, rows, rowsAfter, ms, maxStallMs: stall(histogram.max), p99StallMs: stall(histogram.percentile(99))
}) + '\n')
