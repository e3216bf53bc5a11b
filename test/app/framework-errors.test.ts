/**
 * What Fastify and Node refuse before any route runs — a path parameter over
 * its length limit, a bad percent-encoding, an HTTP/1.1 request without
 * Host — is the envelope with `Cache-Control: no-store`, is logged, and
 * counts against RATE_LIMIT_MAX, over real HTTP.
 */
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import root from '../../app.js'
import { serverOptions } from '../../lib/server-options.js'
import { testConfig } from '../helper.js'
import { raw } from '../security/raw-http.js'

const BAD = { success: false, message: 'Solicitud inválida' }
const LIMITED = { success: false, message: 'Demasiadas solicitudes, intente más tarde' }

async function serve (t: Test, env: Record<string, string>) {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _enc, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done() } })
  const config = testConfig({ LOG_LEVEL: 'info', ...env })
  const options = serverOptions(config)
  const app = Fastify({ ...options, logger: { ...(options.logger as object), stream } })
  await app.register(root, { config })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return { url, port: Number(new URL(url).port), lines }
}

const noHost = 'GET /api/v1/auth/me HTTP/1.1\r\nConnection: close\r\n\r\n'

t.test('framework errors and a missing Host: the envelope, no-store, logged', async (t) => {
  const { url, port, lines } = await serve(t, { RATE_LIMIT_MAX: '0' })
  const long = await fetch(`${url}/api/v1/auth/sessions/${'a'.repeat(101)}`, { method: 'DELETE' })
  t.equal(long.status, 414)
  t.equal(long.headers.get('cache-control'), 'no-store')
  t.strictSame(await long.json(), BAD)
  for (const path of ['/api/v1/auth/me%', '/api/v1/auth/sessions/%zz']) {
    const res = await fetch(url + path, { method: path.endsWith('%zz') ? 'DELETE' : 'GET' })
    t.equal(res.status, 400, path)
    t.equal(res.headers.get('cache-control'), 'no-store')
    t.strictSame(await res.json(), BAD)
  }
  const res = await raw(port, noHost)
  t.equal(res.status, 400)
  t.match(res.headers, /cache-control: no-store/i)
  t.strictSame(JSON.parse(res.body), BAD)
  // HTTP/1.0 may omit Host (RFC 9112 §3.2 asks it of 1.1 only).
  t.equal((await raw(port, 'GET /health HTTP/1.0\r\n\r\n')).status, 200)
  const rejected = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request rejected')
  t.strictSame(rejected.map((l) => [l.code, l.status]),
    [['FST_ERR_MAX_PARAM_LENGTH', 414], ['FST_ERR_BAD_URL', 400], ['FST_ERR_BAD_URL', 400], ['HOST_MISSING', 400]])
  t.notOk(lines.some((l) => l.includes('a'.repeat(101)) && l.includes('request rejected')), 'the URL is not in the rejection line')
})

t.test('they count against RATE_LIMIT_MAX per IP: 429 with Retry-After', async (t) => {
  const { url, port } = await serve(t, { RATE_LIMIT_MAX: '3' })
  const statuses = []
  for (let i = 0; i < 3; i++) statuses.push((await fetch(`${url}/api/v1/auth/me%${i}`)).status)
  const last = await fetch(`${url}/api/v1/auth/sessions/${'b'.repeat(101)}`, { method: 'DELETE' })
  t.strictSame([...statuses, last.status], [400, 400, 400, 429])
  t.match(last.headers.get('retry-after'), /^\d+$/)
  t.strictSame(await last.json(), LIMITED)
  const host = await raw(port, noHost)
  t.equal(host.status, 429)
  t.strictSame(JSON.parse(host.body), LIMITED)
})

t.test('a bare server without the app still answers the envelope', async (t) => {
  const app = Fastify(serverOptions(testConfig()))
  app.get('/x/:id', async () => 'never')
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/x/%zz' })
  t.equal(res.statusCode, 400)
  t.equal(res.headers['cache-control'], 'no-store')
  t.strictSame(res.json(), BAD)
})
