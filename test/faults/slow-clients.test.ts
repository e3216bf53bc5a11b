/**
 * Slow clients (slowloris): a connection that trickles its headers is cut
 * after HEADERS_TIMEOUT_MS, one that trickles its body after
 * REQUEST_TIMEOUT_MS, both with the 408 envelope where Node lets the server
 * answer, while other clients keep being served. Small timeouts here; the
 * defaults are 10 s and 30 s.
 */
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import t from 'tap'
import { build, login, me } from '../helper.js'
import { listen } from '../security/raw-http.js'
import { checkingInterval } from '../../lib/server-options.js'

const HEADERS_MS = 600
const REQUEST_MS = 1500

interface Trickle { socket: Socket, received: () => string, closedAt: Promise<number> }

/** Opens a connection that sends `first`, then one byte of `drip` every `everyMs`, until cut. */
async function trickle (port: number, first: string, drip: string, everyMs = 100): Promise<Trickle> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  let received = ''
  socket.on('data', (c: Buffer) => { received += c.toString() })
  socket.on('error', () => {})
  socket.write(first)
  let i = 0
  const timer = setInterval(() => {
    if (!socket.destroyed && socket.writable) socket.write(drip[i++ % drip.length]!)
  }, everyMs)
  const closedAt = once(socket, 'close').then(() => { clearInterval(timer); return Date.now() })
  return { socket, received: () => received, closedAt }
}

t.test('slowloris connections are cut while others are served', async (t) => {
  const app = await build(t, {
    HEADERS_TIMEOUT_MS: String(HEADERS_MS),
    REQUEST_TIMEOUT_MS: String(REQUEST_MS),
    RATE_LIMIT_MAX: '0',
    LOGIN_RATE_LIMIT_MAX: '0'
  })
  const port = await listen(app)
  const victim = await login(app)

  const started = Date.now()
  const headerLoris = await Promise.all(Array.from({ length: 5 }, () =>
    trickle(port, 'GET /api/v1/auth/me HTTP/1.1\r\nHost: localhost\r\n', 'X-Slow: aaaaaaaaaaaaaaaa\r\n')))
  const body = JSON.stringify({ token: victim.token, pad: 'x'.repeat(200) })
  const bodyLoris = await Promise.all(Array.from({ length: 3 }, () => trickle(port,
    ['POST /api/v1/auth/logout HTTP/1.1', 'Host: localhost', 'Content-Type: application/json',
      `Authorization: Bearer ${victim.token}`, `Content-Length: ${body.length}`, '', ''].join('\r\n'), body)))
  t.teardown(() => { for (const l of [...headerLoris, ...bodyLoris]) l.socket.destroy() })

  // Meanwhile, an honest client is served at once, again and again.
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/auth/me`, {
      headers: { authorization: `Bearer ${victim.token}` }, signal: AbortSignal.timeout(2000)
    })
    t.equal(res.status, 200, 'an honest client is served while slow ones hang on')
    await res.arrayBuffer()
    await new Promise((resolve) => setTimeout(resolve, 100))
  }

  const headerCuts = await Promise.all(headerLoris.map((l) => l.closedAt))
  for (const [i, at] of headerCuts.entries()) {
    const after = at - started
    t.ok(after < HEADERS_MS + 1500, `header trickle cut after ${after} ms`)
    const reply = headerLoris[i]!.received()
    t.match(reply, /^HTTP\/1\.1 408 /, 'answered 408')
    t.match(reply, /\{"success":false,"message":"Tiempo de espera agotado"\}$/, 'with the envelope')
  }
  const bodyCuts = await Promise.all(bodyLoris.map((l) => l.closedAt))
  for (const [i, at] of bodyCuts.entries()) {
    const after = at - started
    t.ok(after < REQUEST_MS + 1500, `body trickle cut after ${after} ms`)
    t.notMatch(bodyLoris[i]!.received(), /^HTTP\/1\.1 200/, 'the trickled logout was never processed')
  }
  t.equal((await me(app, victim.token)).statusCode, 200, 'the session the slow logouts named is alive')
})

t.test('the timeout check runs often enough for the configured timeouts', async (t) => {
  t.equal(checkingInterval({ HEADERS_TIMEOUT_MS: 10_000, REQUEST_TIMEOUT_MS: 30_000 }), 2500, 'defaults: every 2.5 s')
  t.equal(checkingInterval({ HEADERS_TIMEOUT_MS: 0, REQUEST_TIMEOUT_MS: 0 }), 30_000, 'no timeouts: Node\'s default')
  t.equal(checkingInterval({ HEADERS_TIMEOUT_MS: 0, REQUEST_TIMEOUT_MS: 200 }), 100, 'never below 100 ms')
  t.equal(checkingInterval({ HEADERS_TIMEOUT_MS: 3_600_000, REQUEST_TIMEOUT_MS: 0 }), 30_000, 'never above 30 s')
})
