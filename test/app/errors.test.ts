/**
 * The one error boundary: every failure is the envelope with the contract's
 * message, including the 404 handler and what Node's HTTP parser rejects.
 */
import t from 'tap'
import { connect, createServer, Socket, type AddressInfo } from 'node:net'
import Fastify from 'fastify'
import app from '../../app.js'
import { build, login, SECRET } from '../helper.js'
import { claimsOf, resign } from '../jwt.js'
import { statusOf, WWW_AUTHENTICATE } from '../../plugins/app/errors.js'
import { clientErrorHandler } from '../../lib/server-options.js'

const NOT_FOUND = { success: false, message: 'Recurso no encontrado' }

t.test('unknown routes and methods: the 404 envelope', async (t) => {
  const app = await build(t)
  for (const [method, url] of [['GET', '/nope'], ['GET', '/api/v1/auth/nope'], ['PUT', '/api/v1/auth/logout'], ['GET', '/api/v1/auth/logout']] as const) {
    const res = await app.inject({ method, url })
    t.equal(res.statusCode, 404, `${method} ${url}`)
    t.strictSame(res.json(), NOT_FOUND)
  }
})

t.test('the 404 handler is rate-limited (RATE_LIMIT_MAX), with Retry-After; 0 turns it off', async (t) => {
  const limited = await build(t, { RATE_LIMIT_MAX: '2' })
  const statuses = []
  let last
  for (let i = 0; i < 3; i++) {
    last = await limited.inject({ method: 'GET', url: `/probe-${i}` })
    statuses.push(last.statusCode)
  }
  t.strictSame(statuses, [404, 404, 429])
  t.strictSame(last!.json(), { success: false, message: 'Demasiadas solicitudes, intente más tarde' })
  t.match(last!.headers['retry-after'], /^\d+$/)
  const open = await build(t, { RATE_LIMIT_MAX: '0' })
  const seen = new Set()
  for (let i = 0; i < 105; i++) seen.add((await open.inject({ method: 'GET', url: `/probe-${i}` })).statusCode)
  t.strictSame([...seen], [404])
})

t.test('authenticated routes share RATE_LIMIT_MAX per route and IP', async (t) => {
  const app = await build(t, { RATE_LIMIT_MAX: '1' })
  for (const [method, url] of [['GET', '/api/v1/auth/me'], ['GET', '/api/v1/auth/sessions'], ['DELETE', '/api/v1/auth/sessions/x'], ['GET', '/api/v1/auth/events']] as const) {
    t.equal((await app.inject({ method, url })).statusCode, 401)
    const res = await app.inject({ method, url })
    t.equal(res.statusCode, 429, `${method} ${url}`)
    t.ok(res.headers['retry-after'])
  }
})

t.test('statusOf: known statuses pass, other client errors are 400, the rest 500', async (t) => {
  t.equal(statusOf({ validation: [] }), 400)
  t.equal(statusOf({ statusCode: 413 }), 413)
  t.equal(statusOf({ statusCode: 418 }), 400)
  t.equal(statusOf({ statusCode: 502 }), 500)
  t.equal(statusOf({}), 500)
  t.equal(WWW_AUTHENTICATE, 'Bearer realm="auth-sessions"')
})

t.test('a deeply nested JSON body is 400 or parsed, never a 500 or a crash', async (t) => {
  const app = await build(t)
  const payload = '['.repeat(5000) + ']'.repeat(5000)
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json' }, payload })
  t.equal(res.statusCode, 400)
  t.strictSame(res.json(), { success: false, message: 'Solicitud inválida' })
})

t.test('Node parser errors over real HTTP: 431 and 400 as the envelope', async (t) => {
  const app = await build(t)
  const url = new URL(await app.listen({ port: 0, host: '127.0.0.1' }))
  const raw = (request: string) => new Promise<string>((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname)
    let data = ''
    socket.setEncoding('utf8')
    socket.on('data', (d) => { data += d })
    socket.on('end', () => resolve(data))
    socket.on('error', reject)
    socket.end(request)
  })
  const big = await raw(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
  t.match(big, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/)
  t.match(big, /\r\n\r\n\{"success":false,"message":"Encabezados de solicitud demasiado grandes"\}$/)
  const bad = await raw('NOT A REQUEST\r\n\r\n')
  t.match(bad, /^HTTP\/1\.1 400 Bad Request\r\n/)
  t.match(bad, /Content-Type: application\/json; charset=utf-8/)
  t.match(bad, /\r\n\r\n\{"success":false,"message":"Solicitud inválida"\}$/)
})

t.test('clientErrorHandler: 408 on a request timeout; nothing written to a gone socket', async (t) => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve))
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1')
  const serverSide = await accepted
  let data = ''
  client.setEncoding('utf8').on('data', (d) => { data += d })
  const ended = new Promise((resolve) => client.on('close', resolve))
  clientErrorHandler(Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), serverSide)
  await ended
  t.match(data, /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*\{"success":false,"message":"Tiempo de espera agotado"\}$/)

  const reset = new Socket()
  clientErrorHandler(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), reset)
  t.equal(reset.destroyed, false, 'ECONNRESET: left alone')
  const unwritable = new Socket()
  clientErrorHandler(Object.assign(new Error('bad'), { code: 'HPE_INVALID_METHOD' }), unwritable)
  t.equal(unwritable.destroyed, true, 'not writable: destroyed without a write')
  clientErrorHandler(Object.assign(new Error('bad'), { code: 'HPE_INVALID_METHOD' }), unwritable)
  t.pass('an already destroyed socket is left alone')
})

t.test('the app reads the environment itself when given no config (fastify-cli)', async (t) => {
  const saved = { ...process.env }
  t.teardown(() => { process.env = saved })
  Object.assign(process.env, { DATABASE_PATH: ':memory:', JWT_SECRET: SECRET, LOG_LEVEL: 'silent', TOKEN_TTL_SECONDS: '120' })
  const fastify = Fastify()
  await fastify.register(app)
  t.teardown(() => fastify.close())
  const res = await fastify.inject({ method: 'GET', url: '/health' })
  t.equal(res.statusCode, 200)
})

t.test('Swagger UI and the OpenAPI document are served', async (t) => {
  const app = await build(t)
  const doc = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(doc.statusCode, 200)
  t.ok(doc.json().paths['/api/v1/auth/logout'])
})

t.test('every POST route: 415 for non-JSON, 413 over BODY_LIMIT_BYTES, 400 for bad or empty JSON', async (t) => {
  const app = await build(t, { BODY_LIMIT_BYTES: '256', LOGIN_RATE_LIMIT_MAX: '0' })
  for (const url of ['/api/v1/auth/register', '/api/v1/auth/login', '/api/v1/auth/logout']) {
    const cases: Array<[number, string, string]> = [
      [415, 'text/plain', '{"email":"a@example.com"}'],
      [415, 'application/x-www-form-urlencoded', 'email=a%40example.com'],
      [415, 'multipart/form-data; boundary=x', '--x--'],
      [413, 'application/json', JSON.stringify({ email: 'a'.repeat(300) })],
      [400, 'application/json', '{"email":'],
      [400, 'application/json', '']
    ]
    for (const [status, type, payload] of cases) {
      const res = await app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload })
      t.equal(res.statusCode, status, `${url} ${type} ${payload.slice(0, 8)}`)
      t.equal(res.json().success, false)
      t.strictSame(Object.keys(res.json()), ['success', 'message'])
    }
  }
})

t.test('every protected route: 401/403 carry WWW-Authenticate with error="invalid_token"', async (t) => {
  const app = await build(t, { RATE_LIMIT_MAX: '0' })
  const a = await login(app)
  const expired = resign(a.token, { iat: claimsOf(a.token).iat - 7200, exp: claimsOf(a.token).iat - 3600 })
  for (const [method, url] of [['GET', '/api/v1/auth/me'], ['GET', '/api/v1/auth/sessions'], ['DELETE', `/api/v1/auth/sessions/${a.sessionId}`], ['GET', '/api/v1/auth/events']] as const) {
    for (const [token, status] of [[expired, 403], ['x.y.z', 401]] as const) {
      const res = await app.inject({ method, url, headers: { authorization: `Bearer ${token}` } })
      t.equal(res.statusCode, status, `${method} ${url}`)
      t.equal(res.headers['www-authenticate'], 'Bearer realm="auth-sessions", error="invalid_token"')
    }
  }
})
