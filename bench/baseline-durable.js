// Baseline 3: the minimum of a durable logout. Bare Fastify + @fastify/jwt
// (the verify options of baseline-jwt.js) + better-sqlite3 on its own copy of
// a seeded file (DATABASE_PATH): POST /api/v1/auth/logout verifies the Bearer
// token, deletes its session row and inserts its revocation record, the
// statements the server's logout runs (lib/store/sqlite/ops.ts), and answers
// 200 only once that is on disk, with the server's durability
// (lib/store/sqlite/write-queue.ts, reduced to what a logout needs):
// - group commit: the logouts of one event-loop turn (setImmediate) in one
//   BEGIN IMMEDIATE transaction; while a sync runs, the logouts that arrive
//   wait and commit together when it returns;
// - WAL with `synchronous = NORMAL`, and one fdatasync of the `-wal` file on
//   libuv's thread pool (FileHandle.datasync) after each commit, before any
//   of its logouts is answered: FULL's guarantee off the event loop;
// - checkpoints off the event loop, as the server's: `wal_autocheckpoint = 0`
//   and a worker thread with its own connection running
//   `wal_checkpoint(PASSIVE)` every 250 ms.
// 401 when the token does not verify or its session row is gone. No audit
// row, no rate limit, no body checks, no logging, no security headers.
// PORT, JWT_SECRET and DATABASE_PATH from the environment.
import { open } from 'node:fs/promises'
import { Worker } from 'node:worker_threads'
import { createRequire } from 'node:module'
import { jwtFastify, UNAUTHORIZED, verified } from './baseline-kit.js'
import Database from 'better-sqlite3'

const path = process.env.DATABASE_PATH
const db = new Database(path)
db.pragma('journal_mode = WAL')
db.pragma('synchronous = NORMAL')
db.pragma('busy_timeout = 1000')
db.pragma('cache_size = -8192')
db.pragma('wal_autocheckpoint = 0')
// A read creates the `-wal` file (when the seed's last connection removed it) before it is opened below.
db.prepare('SELECT 1 FROM sessions LIMIT 1').get()

const checkpointer = new Worker(`
const { parentPort, workerData } = require('node:worker_threads')
const db = new (require(workerData.driver))(workerData.path)
db.pragma('busy_timeout = 5000')
const timer = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), 250)
parentPort.once('message', () => { clearInterval(timer); db.close(); parentPort.close() })
`, { eval: true, workerData: { driver: createRequire(import.meta.url).resolve('better-sqlite3'), path } })

const remove = db.prepare('DELETE FROM sessions WHERE user_id = ? AND id = ? AND jti = ? RETURNING token_exp AS tokenExp')
const record = db.prepare('INSERT INTO revoked_tokens (jti, user_id, session_id, expires_at, revoked_at, reason) VALUES (?, ?, ?, ?, ?, ?)')
const commit = db.transaction((claims) => claims.map((c) => {
  const row = remove.get(c.sub, c.sid, c.jti)
  if (row === undefined) return false
  record.run(c.jti, c.sub, c.sid, row.tokenExp, Date.now(), 'logout_local')
  return true
}))

const wal = await open(path + '-wal', 'r')
let queued = []
let waiting = []
let scheduled = null
let syncing = false

function flush () {
  scheduled = null
  if (syncing || queued.length === 0) return
  syncing = true
  sync()
}

async function sync () {
  while (queued.length > 0) {
    const claims = queued
    const done = waiting
    queued = []
    waiting = []
    let outcomes
    try {
      outcomes = commit.immediate(claims)
      await wal.datasync()
    } catch (err) {
      for (const w of done) w.reject(err)
      continue
    }
    for (let i = 0; i < done.length; i++) done[i].resolve(outcomes[i])
  }
  syncing = false
}

const pending = () => syncing || queued.length > 0

function logout (claims) {
  return new Promise((resolve, reject) => {
    queued.push(claims)
    waiting.push({ resolve, reject })
    scheduled ??= setImmediate(flush)
  })
}

const fastify = await jwtFastify()
fastify.post('/api/v1/auth/logout', async (request, reply) => {
  const claims = await verified(request, reply)
  if (claims === null) return reply
  if (!await logout(claims)) return reply.code(401).send(UNAUTHORIZED)
  return { success: true, message: 'Sesión cerrada exitosamente' }
})
await fastify.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.once('SIGTERM', async () => {
  await fastify.close()
  // The logouts still queued or syncing are answered before the file closes.
  while (pending()) await new Promise((resolve) => setTimeout(resolve, 5))
  checkpointer.postMessage('stop')
  await new Promise((resolve) => checkpointer.once('exit', resolve))
  await wal.close()
  db.close()
})
process.stdout.write('listening\n')
