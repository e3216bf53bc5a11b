/**
 * In-process view of the graceful shutdown (plugins/app/shutdown.ts): a
 * connection busy when close() begins is answered with `Connection: close`;
 * a request pipelined behind it reaches the app while closing and is
 * refused (the 503 envelope, dropped with the connection), never Fastify's
 * non-envelope 503 body.
 */
import { connect } from 'node:net'
import { once } from 'node:events'
import t from 'tap'
import Fastify from 'fastify'
import app from '../../app.js'
import { serverOptions } from '../../lib/server-options.js'
import { login, testConfig, LOGGED_OUT } from '../helper.js'

t.test('closing: busy connection answered and released, a pipelined request refused', async (t) => {
  const config = testConfig({ RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0' })
  const fastify = Fastify(serverOptions(config))
  await fastify.register(app, { config })
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  const port = (fastify.server.address() as { port: number }).port
  const s = await login(fastify)

  const body = JSON.stringify({ token: s.token })
  const socket = connect(port, '127.0.0.1')
  t.teardown(() => socket.destroy())
  await once(socket, 'connect')
  let received = ''
  socket.on('data', (c: Buffer) => { received += c.toString() })
  const socketClosed = once(socket, 'close')
  socket.write(['POST /api/v1/auth/logout HTTP/1.1', 'Host: localhost', 'Connection: keep-alive',
    'Content-Type: application/json', `Authorization: Bearer ${s.token}`, `Content-Length: ${body.length}`, '', body.slice(0, 5)].join('\r\n'))
  await new Promise((resolve) => setTimeout(resolve, 50))

  const closed = fastify.close()
  await new Promise((resolve) => setTimeout(resolve, 50))
  // The rest of the body, and a second request pipelined behind it on the same connection.
  socket.write(body.slice(5) + ['GET /api/v1/auth/me HTTP/1.1', 'Host: localhost', `Authorization: Bearer ${s.token}`, '', ''].join('\r\n'))
  await closed
  await socketClosed
  t.match(received, /^HTTP\/1\.1 200 /)
  t.match(received, /connection: close/i)
  t.ok(received.endsWith(JSON.stringify(LOGGED_OUT)), 'exactly one answer, the logout')
  t.notMatch(received, /Service Unavailable/, 'never Fastify\'s own 503 body')
})
