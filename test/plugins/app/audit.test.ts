/**
 * Every register, login (both outcomes), logout and revocation: one audit
 * row and one info log line with the same fields; no secret in any log line.
 */
import t, { type Test } from 'tap'
import { Writable } from 'node:stream'
import { build, login, logout, testConfig, PASSWORD, SECRET, sqlite } from '../../helper.js'
import { serverOptions } from '../../../lib/server-options.js'
import { sessionRow } from '../../lib/store/contract.js'

async function withLogs (t: Test, env: Record<string, string> = {}) {
  const lines: any[] = []
  const raw: string[] = []
  const stream = new Writable({
    write (chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        raw.push(line)
        lines.push(JSON.parse(line))
      }
      cb()
    }
  })
  const logger = { ...(serverOptions(testConfig({ ...env, LOG_LEVEL: 'info' })).logger as object), stream }
  const app = await build(t, { ...env, LOG_LEVEL: 'info' }, { logger })
  return { app, lines, raw }
}

const rows = (app: any) => sqlite(app).prepare(`SELECT at, type, outcome, user_id AS userId, session_id AS sessionId, jti, ip,
  user_agent AS userAgent FROM audit_events ORDER BY id`).all().map((r: any) => ({ ...r, at: new Date(r.at).toISOString() }))

t.test('each audit row has its log line with the same fields', async (t) => {
  const { app, lines, raw } = await withLogs(t)
  const a1 = await login(app, undefined, { 'user-agent': 'ua\u0007bell' })
  await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: a1.email, password: 'wrong password!' } })
  await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'ghost@example.com', password: 'wrong password!' } })
  const a2 = await login(app, a1.email)
  const a3 = await login(app, a1.email)
  await app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${a3.sessionId}`, headers: { authorization: `Bearer ${a1.token}` } })
  t.equal((await logout(app, a1.token, { token: a1.token, scope: 'global' })).statusCode, 200)
  const audit = lines.filter((l) => l.audit !== undefined)
  t.equal(audit.length, 9)
  t.strictSame(audit.map((l) => l.audit), rows(app), 'log lines = audit rows, field for field')
  t.strictSame(audit.map((l) => [l.msg, l.level]), [
    ['audit register', 30], ['audit login', 30], ['audit login_failed', 30], ['audit login_failed', 30],
    ['audit login', 30], ['audit login', 30], ['audit session_revoked', 30], ['audit logout', 30],
    ['audit session_revoked', 30]
  ])
  const text = raw.join('\n')
  for (const s of [a1.token, a2.token, a3.token, PASSWORD, 'wrong password!', SECRET, a1.token.split('.')[2]!]) {
    t.notMatch(text, s, 'no token, password or secret in the logs')
  }
  t.notMatch(text, /"authorization"/i)
  t.notMatch(text, '\u0007', 'control characters escaped')
})

t.test('redaction: token, password and authorization wherever they appear', async (t) => {
  const { app, raw } = await withLogs(t)
  app.log.info({ token: 'tok-1', password: 'pw-1', authorization: 'Bearer tok-2', nested: { token: 'tok-3', deeper: { password: 'pw-2' } } }, 'probe')
  const text = raw.join('\n')
  for (const s of ['tok-1', 'pw-1', 'tok-2', 'tok-3', 'pw-2']) t.notMatch(text, s)
  t.match(text, '[redacted]')
  // The query string is never logged: a token offered there stays out.
  await app.inject({ method: 'GET', url: '/api/v1/auth/me?access_token=secret-in-query' })
  t.notMatch(raw.join('\n'), 'secret-in-query')
})

t.test('a batch retried after another job failed logs its events once', async (t) => {
  const { app, lines } = await withLogs(t)
  const a1 = await login(app)
  await login(app, a1.email)
  const current = a1.ref
  // Both jobs land in one group commit; the failing one forces a retry of each alone.
  const done = app.sessions.logout(current, 'global', { ip: '127.0.0.1', userAgent: null }, app.log)
  // A session of a user that does not exist: this job fails on the foreign key.
  const failed = app.store.openSessions([sessionRow('orphan', 'no-such-user', 0, 0)], { ip: '127.0.0.1', userAgent: null }, 0)
  t.equal(await done, 2)
  await t.rejects(failed, { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' })
  const logged = lines.filter((l) => l.audit?.userId === a1.userId && ['logout', 'session_revoked'].includes(l.audit.type))
  t.equal(logged.length, 2, 'one line per revoked session')
  t.equal(rows(app).filter((r: any) => ['logout', 'session_revoked'].includes(r.type)).length, 2)
})
