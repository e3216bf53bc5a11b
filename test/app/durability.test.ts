/**
 * The real server as a process on a real file: acknowledged revocations
 * survive SIGKILL, the generated secret survives a restart, SIGTERM drains.
 */
import t, { type Test } from 'tap'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { PASSWORD, tempDir, waitFor } from '../helper.js'
import { start } from '../spawn.js'

function tempDb (t: Test): string {
  const dir = tempDir(t)
  return join(dir, 'nested', 'auth.db')
}

async function json (url: string, path: string, init: { method?: string, token?: string, body?: unknown } = {}) {
  const headers: Record<string, string> = {}
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(url + path, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) })
  return { status: res.status, body: await res.json() }
}

async function loginMany (url: string, n: number): Promise<string[]> {
  const email = `d${Math.random().toString(36).slice(2)}@example.com`
  const reg = await json(url, '/api/v1/auth/register', { method: 'POST', body: { email, password: PASSWORD } })
  if (reg.status !== 201) throw new Error(`register: ${reg.status}`)
  const tokens = []
  for (let i = 0; i < n; i++) {
    const res = await json(url, '/api/v1/auth/login', { method: 'POST', body: { email, password: PASSWORD } })
    tokens.push(res.body.data.token as string)
  }
  return tokens
}

t.test('SIGKILL after acknowledged logouts: revoked stay revoked, live stay live', async (t) => {
  const DATABASE_PATH = tempDb(t)
  const first = await start({ DATABASE_PATH })
  const tokens = await loginMany(first.url, 12)
  const revoked = tokens.filter((_, i) => i % 2 === 0)
  const live = tokens.filter((_, i) => i % 2 === 1)
  // Logouts acknowledged concurrently, so several share one group commit.
  const acks = await Promise.all(revoked.map((token) => json(first.url, '/api/v1/auth/logout', { method: 'POST', token, body: { token } })))
  t.strictSame(acks.map((a) => a.status), revoked.map(() => 200))
  first.child.kill('SIGKILL')
  t.equal(await first.exited, 'SIGKILL')

  const second = await start({ DATABASE_PATH })
  t.teardown(() => { second.child.kill('SIGKILL') })
  for (const token of revoked) t.equal((await json(second.url, '/api/v1/auth/me', { token })).status, 401, 'revoked')
  for (const token of live) t.equal((await json(second.url, '/api/v1/auth/me', { token })).status, 200, 'live')
  second.child.kill('SIGKILL')
  await second.exited
})

t.test('generated secret: kept in settings, tokens of run 1 valid in run 2', async (t) => {
  const DATABASE_PATH = tempDb(t)
  const first = await start({ DATABASE_PATH, JWT_SECRET: undefined })
  t.match(first.stdout(), 'JWT_SECRET is not set: generated a random 256-bit secret')
  const [token] = await loginMany(first.url, 1)
  first.child.kill('SIGKILL')
  await first.exited
  const db = new Database(DATABASE_PATH, { readonly: true })
  const row = db.prepare("SELECT value FROM settings WHERE key = 'jwt_secret'").get() as { value: string }
  db.close()
  t.equal(Buffer.from(row.value, 'base64url').length, 32, '256 bits')
  t.notMatch(first.stdout(), row.value, 'the secret is never logged')

  const second = await start({ DATABASE_PATH, JWT_SECRET: '' })
  t.teardown(() => { second.child.kill('SIGKILL') })
  t.match(second.stdout(), 'using the secret generated on first start')
  t.equal((await json(second.url, '/api/v1/auth/me', { token })).status, 200)
  second.child.kill('SIGKILL')
  await second.exited
})

t.test('SIGTERM: in-flight requests finish, exit 0, acknowledged logouts on disk', async (t) => {
  const DATABASE_PATH = tempDb(t)
  const server = await start({ DATABASE_PATH })
  const tokens = await loginMany(server.url, 6)
  const before = server.stdout().split('\n').filter((l) => l.includes('"msg":"incoming request"')).length
  // In flight when the signal arrives: logins (argon2 takes a while) and logouts.
  const email = `late${Date.now()}@example.com`
  const inflight = [
    json(server.url, '/api/v1/auth/register', { method: 'POST', body: { email, password: PASSWORD } }),
    ...tokens.map((token) => json(server.url, '/api/v1/auth/logout', { method: 'POST', token, body: { token } }))
  ]
  // Signal only once the server has received every one of them.
  const seen = () => server.stdout().split('\n').filter((l) => l.includes('"msg":"incoming request"')).length
  await waitFor('the server to log every in-flight request', () => seen() >= before + inflight.length, 30_000, 2)
  server.child.kill('SIGTERM')
  const answers = await Promise.all(inflight)
  const code = await server.exited
  t.equal(code, 0, `exit code; stderr: ${server.stderr()} stdout tail: ${server.stdout().slice(-1500)}`)
  t.match(server.stdout(), '"signal":"SIGTERM"')
  const db = new Database(DATABASE_PATH, { readonly: true })
  t.strictSame(answers.map((a) => a.status), [201, ...tokens.map(() => 200)], 'every in-flight request was answered')
  for (const token of tokens) {
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti
    t.ok(db.prepare('SELECT 1 FROM revoked_tokens WHERE jti = ?').get(jti), 'acknowledged revocation on disk')
  }
  t.ok(db.prepare('SELECT 1 FROM users WHERE email = ?').get(email), 'acknowledged register on disk')
  db.close()
})
