/**
 * Graceful close over keep-alive connections: a request in flight when
 * close() starts is answered, and its connection does not then hold the
 * server open (close-with-grace would kill the process after 10 s).
 */
import t from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import root from '../../app.js'
import { build, testConfig, PASSWORD, waitFor } from '../helper.js'
import { serverOptions } from '../../lib/server-options.js'
import { HASH_OPTIONS } from '../../plugins/app/users.js'

t.test('close() finishes in-flight requests and does not wait on their keep-alive connections', async (t) => {
  const seen = { requests: 0 }
  const stream = new Writable({ write (chunk, _e, cb) { if (String(chunk).includes('incoming request')) seen.requests++; cb() } })
  const env = { LOG_LEVEL: 'info' }
  // argon2 at its real cost keeps this request busy: it is in flight when close() starts.
  const app = await build(t, env, { logger: { ...(serverOptions(testConfig(env)).logger as object), stream } }, { hashCost: HASH_OPTIONS })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  // argon2 keeps this request busy for a while: it is in flight when close() starts.
  const inflight = fetch(`${url}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'late@example.com', password: PASSWORD })
  })
  await waitFor('the request to arrive', () => seen.requests > 0, 10_000, 1)
  const started = Date.now()
  const closed = app.close()
  const res = await inflight
  t.equal(res.status, 201, 'the in-flight request was answered')
  t.equal(res.headers.get('connection'), 'close', 'and its connection told to close')
  await res.json()
  const timeout = new Promise((resolve) => setTimeout(resolve, 3000, 'timeout'))
  t.equal(await Promise.race([closed.then(() => 'closed'), timeout]), 'closed', 'close() did not wait for the idle connection')
  t.ok(Date.now() - started < 3000)
})

t.test('a request that arrives while the server is closing gets the 503 envelope, logged at info', async (t) => {
  const config = testConfig({ LOG_LEVEL: 'info' })
  const lines: Array<{ level: number, msg: string, code?: string }> = []
  const stream = new Writable({ write (chunk, _e, cb) { lines.push(...String(chunk).split('\n').filter(Boolean).map((l) => JSON.parse(l))); cb() } })
  const app = Fastify({ ...serverOptions(config), logger: { ...(serverOptions(config).logger as object), stream } })
  await app.register(fp(root), { config })
  // Holds close() in its preClose phase, as a running purge can.
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  app.addHook('preClose', () => gate)
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => { release(); return app.close() })
  const closed = app.close()
  for (const [path, body] of [
    ['/api/v1/auth/me', { success: false, message: 'Servicio no disponible' }],
    ['/api/v1/auth/nope', { success: false, message: 'Servicio no disponible' }],
    ['/health', { status: 'unavailable' }]
  ] as const) {
    const res = await fetch(url + path)
    t.equal(res.status, 503, path)
    t.strictSame(await res.json(), body)
    t.equal(res.headers.get('connection'), 'close')
    if (path !== '/health') t.equal(res.headers.get('retry-after'), '5', 'the envelope says when to retry')
  }
  release()
  await closed
  const refused = lines.filter((l) => l.code === 'SHUTTING_DOWN')
  t.equal(refused.length, 2, 'the two /api/v1 refusals are logged')
  t.ok(refused.every((l) => l.level === 30 && l.msg === 'request rejected'), 'at info, without a stack')
  t.notOk(lines.some((l) => l.level >= 50), 'no error line')
})
