/**
 * SIGTERM under load: the graceful shutdown of server.ts drains in-flight
 * requests, commits queued writes, closes the database. No acknowledged
 * logout may be lost, and every answer given while closing is still the
 * envelope (a keep-alive client can send one more request after the
 * signal).
 */
import { join } from 'node:path'
import { connect } from 'node:net'
import { once } from 'node:events'
import t from 'tap'
import Database from 'better-sqlite3'
import { call, loginUser, registerUser, start, stop, type Session } from '../spawn.js'
import { tempDir } from '../helper.js'

t.test('SIGTERM under load loses no acknowledged logout', async (t) => {
  const dir = tempDir(t)
  const env = { DATABASE_PATH: join(dir, 'auth.db') }
  let server = await start(env)
  t.teardown(() => stop(server))
  await registerUser(server.url, 'load@example.com')
  const sessions: Session[] = await Promise.all(Array.from({ length: 40 }, () => loginUser(server.url, 'load@example.com')))

  const acked: Session[] = []
  const refusedWhileClosing: number[] = []
  const bodies: unknown[] = []
  const requests = sessions.map((s, i) => new Promise<void>((resolve) => {
    setTimeout(() => {
      call(server.url, 'POST', '/api/v1/auth/logout', { token: s.token, body: { token: s.token }, timeoutMs: 10_000 })
        .then((r) => {
          if (r.status === 200) acked.push(s)
          else { refusedWhileClosing.push(r.status); bodies.push(r.body) }
        }, () => { /* connection refused or closed after the signal: not acknowledged */ })
        .finally(resolve)
    }, i)
  }))
  await new Promise((resolve) => setTimeout(resolve, 15))
  server.child.kill('SIGTERM')
  await Promise.all(requests)
  const exit = await server.exited
  t.equal(exit, 0, 'graceful exit')
  t.ok(server.lines().some((l) => l.includes('shutting down')), 'the shutdown is logged')
  for (const [i, status] of refusedWhileClosing.entries()) {
    t.equal(status, 503, 'a request refused while closing is a 503')
    t.same(bodies[i], { success: false, message: 'Servicio no disponible' }, 'and still the envelope')
  }
  t.comment(`${acked.length} acknowledged, ${refusedWhileClosing.length} refused with 503, ${40 - acked.length - refusedWhileClosing.length} never answered`)

  const db = new Database(env.DATABASE_PATH, { readonly: true })
  const revoked = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM revoked_tokens WHERE jti = ?')
  for (const s of acked) t.ok(revoked.get(s.jti), 'acknowledged logout committed')
  t.equal(db.pragma('integrity_check', { simple: true }), 'ok')
  db.close()

  server = await start(env)
  for (const s of acked) t.equal((await call(server.url, 'GET', '/api/v1/auth/me', { token: s.token })).status, 401)
  await stop(server, 'SIGTERM')
})

t.test('SIGTERM with a keep-alive client mid-request: answered, connection released, clean exit', async (t) => {
  const dir = tempDir(t)
  const env = { DATABASE_PATH: join(dir, 'auth.db') }
  const server = await start(env)
  t.teardown(() => stop(server))
  await registerUser(server.url, 'keepalive@example.com')
  const s = await loginUser(server.url, 'keepalive@example.com')

  // A keep-alive request whose body is still on its way when the signal comes.
  const body = JSON.stringify({ token: s.token })
  const socket = connect(server.port, '127.0.0.1')
  t.teardown(() => socket.destroy())
  await once(socket, 'connect')
  let received = ''
  socket.on('data', (c: Buffer) => { received += c.toString() })
  const closed = once(socket, 'close')
  socket.write(['POST /api/v1/auth/logout HTTP/1.1', 'Host: localhost', 'Connection: keep-alive',
    'Content-Type: application/json', `Authorization: Bearer ${s.token}`, `Content-Length: ${body.length}`, '', body.slice(0, 10)].join('\r\n'))
  await new Promise((resolve) => setTimeout(resolve, 100))
  const signalled = Date.now()
  server.child.kill('SIGTERM')
  await new Promise((resolve) => setTimeout(resolve, 200))
  socket.write(body.slice(10))

  const exit = await server.exited
  const took = Date.now() - signalled
  t.match(received, /^HTTP\/1\.1 200 /, 'the in-flight logout is answered')
  t.match(received, /connection: close/i, 'and told the connection ends')
  t.equal(exit, 0, 'graceful exit, not close-with-grace\'s timeout')
  t.ok(took < 5000, `exited ${took} ms after SIGTERM, although the client keeps its socket open`)
  await closed

  const db = new Database(env.DATABASE_PATH, { readonly: true })
  t.ok(db.prepare('SELECT 1 FROM revoked_tokens WHERE jti = ?').get(s.jti), 'the logout committed')
  db.close()
})
