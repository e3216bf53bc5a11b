/**
 * Races over real HTTP: the group-commit queue must let exactly one of
 * several revocations of one session win, and never half-apply one.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, login, me, query } from '../helper.js'

async function serve (t: Test, env: Record<string, string> = {}): Promise<{ app: FastifyInstance, url: string }> {
  const app = await build(t, { RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0', ...env })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url }
}

const logoutOver = (url: string, token: string, scope = 'local') => fetch(`${url}/api/v1/auth/logout`, {
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify({ token, scope })
})
const revokeOver = (url: string, token: string, id: string) => fetch(`${url}/api/v1/auth/sessions/${id}`, {
  method: 'DELETE',
  headers: { authorization: `Bearer ${token}` }
})

t.test('N concurrent logouts of one token: exactly one 200, the rest 401', async (t) => {
  const { app, url } = await serve(t)
  for (let round = 0; round < 3; round++) {
    const { token, userId } = await login(app)
    const answers = await Promise.all(Array.from({ length: 20 }, () => logoutOver(url, token)))
    const statuses = answers.map((r) => r.status).sort()
    t.strictSame(statuses, [200, ...Array(19).fill(401)])
    const bodies = await Promise.all(answers.map((r) => r.json()))
    t.equal(bodies.filter((b) => b.success).length, 1)
    const revoked = (await query(app, 'SELECT count(*) AS n FROM revoked_tokens WHERE user_id = ?', userId))[0] as { n: number }
    t.equal(revoked.n, 1, 'one revocation record')
    const audited = (await query(app, "SELECT count(*) AS n FROM audit_events WHERE user_id = ? AND type = 'logout'", userId))[0] as { n: number }
    t.equal(audited.n, 1, 'one audit row')
    t.equal((await me(app, token)).statusCode, 401)
  }
})

t.test('logout vs DELETE /sessions/{id} of the same session: exactly one succeeds', async (t) => {
  const { app, url } = await serve(t)
  for (let round = 0; round < 4; round++) {
    const a1 = await login(app)
    const a2 = await login(app, a1.email)
    // a2 revokes a1 while a1 logs itself out.
    const [byLogout, byId] = await Promise.all([logoutOver(url, a1.token), revokeOver(url, a2.token, a1.sessionId)])
    const pair = [byLogout.status, byId.status].sort()
    t.ok(pair[0] === 200 && pair[1] !== 200, `one 200, got ${byLogout.status}/${byId.status}`)
    const records = await query(app, 'SELECT reason FROM revoked_tokens WHERE session_id = ?', a1.sessionId)
    t.equal(records.length, 1, 'one revocation record')
    t.equal((await me(app, a1.token)).statusCode, 401)
    t.equal((await me(app, a2.token)).statusCode, 200)
  }
})

t.test('a session revoking another while being revoked itself: nothing half-done', async (t) => {
  const { app, url } = await serve(t)
  for (let round = 0; round < 4; round++) {
    const a1 = await login(app)
    const a2 = await login(app, a1.email)
    // Each session revokes the other in the same instant.
    const [x, y] = await Promise.all([revokeOver(url, a1.token, a2.sessionId), revokeOver(url, a2.token, a1.sessionId)])
    const statuses = [x.status, y.status].sort()
    t.strictSame(statuses, [200, 401], 'the loser finds its own session gone')
    const alive = [(await me(app, a1.token)).statusCode, (await me(app, a2.token)).statusCode].sort()
    t.strictSame(alive, [200, 401], 'exactly one session survives')
  }
})

t.test('global logout racing a local logout of another session', async (t) => {
  const { app, url } = await serve(t)
  const a1 = await login(app)
  const a2 = await login(app, a1.email)
  const [g, l] = await Promise.all([logoutOver(url, a1.token, 'global'), logoutOver(url, a2.token)])
  t.equal(g.status, 200)
  t.ok([200, 401].includes(l.status))
  const records = (await query(app, 'SELECT count(*) AS n FROM revoked_tokens WHERE user_id = ?', a1.userId))[0] as { n: number }
  t.equal(records.n, 2, 'each session revoked exactly once')
})
