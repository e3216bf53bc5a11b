/**
 * A 400 from the body's schema logs which field and which rule failed
 * (path and keyword), never the value sent.
 */
import { Writable } from 'node:stream'
import t from 'tap'
import Fastify from 'fastify'
import root from '../../app.js'
import { serverOptions } from '../../lib/server-options.js'
import { testConfig } from '../helper.js'

t.test('a 400 logs the validation path and keyword, not the value', async (t) => {
  const lines: Array<Record<string, any>> = []
  const stream = new Writable({ write (chunk, _e, cb) { lines.push(...String(chunk).split('\n').filter(Boolean).map((l) => JSON.parse(l))); cb() } })
  const config = testConfig({ LOG_LEVEL: 'info', LOGIN_RATE_LIMIT_MAX: '0' })
  const app = Fastify({ ...serverOptions(config), logger: { ...(serverOptions(config).logger as object), stream } })
  await app.register(root, { config })
  t.teardown(() => app.close())
  const secret = 'sh0rt-s3cret'
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'v@example.com', password: secret.slice(0, 5) } })
  t.equal(res.statusCode, 400)
  t.strictSame(res.json(), { success: false, message: 'Solicitud inválida' })
  const rejected = lines.find((l) => l.msg === 'request rejected')
  t.match(rejected, { code: 'FST_ERR_VALIDATION', status: 400, validation: [{ path: 'body/password', keyword: 'minLength' }] })
  t.notOk(lines.some((l) => JSON.stringify(l).includes(secret.slice(0, 5))), 'the value is never logged')
})
