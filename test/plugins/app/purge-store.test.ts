import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { nextBatch, PURGE_TARGET_MS } from '../../../plugins/app/purge.js'
import { build, login, logout, me, sqlite } from '../../helper.js'

// The purge sweeps each table in key order (lib/store/sqlite/ops.ts): here through the real app, with real tokens.
t.test('expired revocation records and sessions are purged; live ones stay', async (t) => {
  // Two seconds: a token lives at least one whole second after it is issued.
  const fastify = await build(t, { TOKEN_TTL_SECONDS: '2', SESSION_IDLE_SECONDS: '2' })
  const count = (table: string) => sqlite(fastify).prepare(`SELECT count(*) FROM ${table}`).pluck().get()
  const gone = await login(fastify)
  t.equal((await logout(fastify, gone.token)).statusCode, 200)
  await login(fastify)
  t.equal(count('revoked_tokens'), 1)
  t.equal(count('sessions'), 1)
  await sleep(3100)
  const live = await login(fastify)
  t.equal(await fastify.purge(), 2, 'one revocation and one session')
  t.equal(count('revoked_tokens'), 0)
  t.equal(count('sessions'), 1)
  t.equal((await me(fastify, live.token)).statusCode, 200)
  t.equal((await logout(fastify, gone.token)).statusCode, 403, 'still refused: expired now')
})

t.test('the purge batch adapts to how long a batch blocked', async (t) => {
  t.equal(nextBatch(64, PURGE_TARGET_MS * 2), 32, 'too slow: halved')
  t.equal(nextBatch(16, PURGE_TARGET_MS * 2), 16, 'never below 16')
  t.equal(nextBatch(64, 0), 128, 'quick: doubled')
  t.equal(nextBatch(2000, 0), 2000, 'never above 2000')
  t.equal(nextBatch(64, PURGE_TARGET_MS * 0.75), 64, 'about right: kept')
})
