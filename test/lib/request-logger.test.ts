/**
 * Above `info`, a request's logger is made on its first written line: a
 * request that logs nothing costs no pino child, and an error line still
 * carries the request id.
 */
import t from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { requestLogger } from '../../lib/request-logger.js'
import { serverOptions } from '../../lib/server-options.js'
import { build, login, testConfig, sqlite } from '../helper.js'

function capture () {
  const lines: Array<Record<string, any>> = []
  const stream = new Writable({
    write (chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l))
      done()
    }
  })
  return { lines, stream }
}

t.test('at LOG_LEVEL=warn a 500 is logged with its request id, a 200 writes nothing', async (t) => {
  const { lines, stream } = capture()
  const logger = { ...(serverOptions(testConfig({ LOG_LEVEL: 'warn' })).logger as object), stream }
  const app = await build(t, { LOG_LEVEL: 'warn' }, { logger })
  const a = await login(app)
  t.same(lines, [], 'register, login and /me wrote no line')
  sqlite(app).pragma('query_only = ON')
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { authorization: `Bearer ${a.token}` }, payload: { token: a.token } })
  sqlite(app).pragma('query_only = OFF')
  t.equal(res.statusCode, 500)
  t.equal(lines.length, 1)
  t.equal(lines[0]!.msg, 'request failed')
  t.equal(lines[0]!.level, 50)
  t.match(lines[0]!.reqId, /^req-/)
  t.notMatch(JSON.stringify(lines), a.token)
})

t.test('the stand-in writes through a real child, only at enabled levels', async (t) => {
  const { lines, stream } = capture()
  const parent = Fastify({ logger: { level: 'warn', stream } }).log
  const log = requestLogger(parent, { reqId: 'r1' }, {})
  t.equal(log.level, 'warn')
  log.trace('no')
  log.debug('no')
  log.info('no')
  log.silent('no')
  t.same(lines, [])
  log.warn('w')
  log.error({ err: new Error('e') }, 'e')
  log.fatal('f')
  t.same(lines.map((l) => [l.reqId, l.msg]), [['r1', 'w'], ['r1', 'e'], ['r1', 'f']])
  log.level = 'trace'
  t.equal(log.level, 'trace')
  log.info('i')
  log.debug('d')
  log.trace('t')
  log.child({ more: 1 }).info('c')
  t.same(lines.slice(3).map((l) => [l.reqId, l.msg]), [['r1', 'i'], ['r1', 'd'], ['r1', 't'], ['r1', 'c']])
  t.equal(lines.at(-1)!.more, 1)
  t.equal(parent.level, 'warn', 'the parent keeps its level')
})

t.test('a real child at once when info is enabled, a route sets its own level, or the level is custom', async (t) => {
  const { lines, stream } = capture()
  const parent = Fastify({ logger: { level: 'warn', stream } }).log
  requestLogger(parent, { reqId: 'r2' }, { level: 'info' }).info('route level')
  const info = Fastify({ logger: { level: 'info', stream } }).log
  requestLogger(info, { reqId: 'r3' }, {}).info('info level')
  const custom = Fastify({ logger: { level: 'notice', customLevels: { notice: 35 }, stream } }).log
  requestLogger(custom, { reqId: 'r4' }, {}).warn('custom level')
  t.same(lines.map((l) => [l.reqId, l.msg]), [['r2', 'route level'], ['r3', 'info level'], ['r4', 'custom level']])
})
