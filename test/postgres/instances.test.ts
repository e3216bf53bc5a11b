/**
 * SPEC §7 with real processes: three servers on one PostgreSQL database,
 * started together on an empty database (one migration, one generated
 * signing key); a revocation on one refused by the others at once;
 * concurrent logouts of one token over the three; a SIGKILL and every
 * connection terminated under load, with no acknowledged logout lost.
 * And the faults of one instance: unreachable at start, lost while running.
 */
import t from 'tap'
import { call, loginUser, registerUser, start, stop, type Server, type Session } from '../spawn.js'
import { build, login, logout, me } from '../helper.js'
import { freshDatabase, postgresOrSkip, proxy, terminateConnections } from '../pg.js'

const UNAVAILABLE = { success: false, message: 'Servicio no disponible' }

if (await postgresOrSkip()) {
  t.test('three instances on one database', async (t) => {
    const url = await freshDatabase(t)
    // No JWT_SECRET: the key is generated once, in the database, and shared.
    const servers = await Promise.all([0, 1, 2].map(() => start({ DATABASE_URL: url, JWT_SECRET: undefined })))
    t.teardown(() => Promise.all(servers.map((s) => stop(s))))
    const [a, b, c] = servers as [Server, Server, Server]
    const generated = servers.map((s) => s.lines().filter((l) => l.includes('generated a random 256-bit secret')).length)
    t.equal(generated.reduce((x, y) => x + y), 1, 'one instance generated the key, the others use it')

    await registerUser(a.url, 'ada@example.com')

    t.test('a logout on one is refused by the others on their next request', async (t) => {
      const s = await loginUser(a.url, 'ada@example.com')
      for (const server of servers) t.equal((await call(server.url, 'GET', '/api/v1/auth/me', { token: s.token })).status, 200)
      t.equal((await call(b.url, 'POST', '/api/v1/auth/logout', { token: s.token, body: { token: s.token } })).status, 200)
      for (const server of servers) t.equal((await call(server.url, 'GET', '/api/v1/auth/me', { token: s.token })).status, 401)
    })

    t.test('concurrent logouts of one token spread over the three: exactly one 200', async (t) => {
      for (let round = 0; round < 5; round++) {
        const s = await loginUser(c.url, 'ada@example.com')
        const statuses = await Promise.all(Array.from({ length: 9 }, (_, i) =>
          call(servers[i % 3]!.url, 'POST', '/api/v1/auth/logout', { token: s.token, body: { token: s.token } }).then((r) => r.status)))
        t.strictSame(statuses.sort(), [200, 401, 401, 401, 401, 401, 401, 401, 401], `round ${round}`)
      }
    })

    t.test('every connection terminated under load: 503s allowed, no acknowledged logout lost, all recover', async (t) => {
      const sessions = await Promise.all(Array.from({ length: 30 }, () => loginUser(a.url, 'ada@example.com')))
      const acknowledged: Session[] = []
      const statuses = new Set<number>()
      const load = Promise.all(sessions.map(async (s, i) => {
        const r = await call(servers[i % 3]!.url, 'POST', '/api/v1/auth/logout', { token: s.token, body: { token: s.token } })
        statuses.add(r.status)
        if (r.status === 200) acknowledged.push(s)
        else t.match(r.status, /^(500|503)$/, 'a failed logout is a 500 or a 503')
      }))
      await terminateConnections(url)
      await load
      t.ok(acknowledged.length > 0, `${acknowledged.length} acknowledged (${[...statuses].join(', ')})`)
      for (const server of servers) {
        t.equal((await call(server.url, 'GET', '/health')).status, 200, 'recovered without a restart')
      }
      for (const s of acknowledged) t.equal((await call(b.url, 'GET', '/api/v1/auth/me', { token: s.token })).status, 401)
      // The others are all-or-nothing: each either ended (401) or still works and can log out now.
      for (const s of sessions.filter((x) => !acknowledged.includes(x))) {
        const r = await call(a.url, 'POST', '/api/v1/auth/logout', { token: s.token, body: { token: s.token } })
        t.match(r.status, /^(200|401)$/)
      }
    })

    t.test('SIGKILL of one instance under load: no acknowledged logout lost', async (t) => {
      const sessions = await Promise.all(Array.from({ length: 40 }, () => loginUser(b.url, 'ada@example.com')))
      const acknowledged: Session[] = []
      const load = Promise.all(sessions.map(async (s) => {
        const r = await call(c.url, 'POST', '/api/v1/auth/logout', { token: s.token, body: { token: s.token } }).catch(() => undefined)
        if (r?.status === 200) acknowledged.push(s)
      }))
      await new Promise((resolve) => setTimeout(resolve, 30))
      c.child.kill('SIGKILL')
      await load
      t.equal(await c.exited, 'SIGKILL')
      for (const s of acknowledged) t.equal((await call(a.url, 'GET', '/api/v1/auth/me', { token: s.token })).status, 401)
      t.ok(true, `${acknowledged.length} of ${sessions.length} acknowledged before the kill`)
    })
  })

  t.test('unreachable at start: exit 1, one line naming DATABASE_URL without its password', async (t) => {
    await t.rejects(start({ DATABASE_URL: 'postgres://root:hunter2@127.0.0.1:1/auth' }, { timeoutMs: 20_000 }),
      /exited \(1\) before listening: Could not start: DATABASE_URL: PostgreSQL at postgres:\/\/root@127\.0\.0\.1:1\/auth cannot be used: ECONNREFUSED [^\n]*\n$/)
  })

  t.test('the database lost while running: 503 with Retry-After, /health 503, recovery when it is back', async (t) => {
    const px = await proxy(t, await freshDatabase(t))
    const app = await build(t, { DATABASE_URL: px.url })
    const s = await login(app)
    await px.down()
    for (const res of [await me(app, s.token), await logout(app, s.token)]) {
      t.equal(res.statusCode, 503)
      t.strictSame(res.json(), UNAVAILABLE)
      t.equal(res.headers['retry-after'], '5')
    }
    t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 503)
    await px.up()
    t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
    t.equal((await me(app, s.token)).statusCode, 200, 'the session was not half-revoked')
    t.equal((await logout(app, s.token)).statusCode, 200)
    t.equal((await me(app, s.token)).statusCode, 401)
  })
}
