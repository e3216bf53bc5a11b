import t from 'tap'
import { join } from 'node:path'
import { build, login, me, SECRET, sqlite, tempDir } from '../../helper.js'

t.test('JWT_SECRET unset: generated once, kept in settings, reused on the next start', async (t) => {
  const dir = tempDir(t)
  const env = { DATABASE_PATH: join(dir, 'auth.db'), JWT_SECRET: '' }
  const first = await build(t, env)
  const secret = first.jwtSecret
  t.equal(Buffer.from(secret, 'base64url').length, 32)
  t.not(secret, SECRET)
  t.strictSame(sqlite(first).prepare("SELECT value FROM settings WHERE key = 'jwt_secret'").get(), { value: secret })
  const { token } = await login(first)
  await first.close()
  const second = await build(t, env)
  t.equal(second.jwtSecret, secret)
  t.equal((await me(second, token)).statusCode, 200, 'a token of the first run works in the second')
})

t.test('JWT_SECRET set: used as is, nothing stored', async (t) => {
  const app = await build(t)
  t.equal(app.jwtSecret, SECRET)
  t.strictSame(sqlite(app).prepare('SELECT count(*) AS n FROM settings').get(), { n: 0 })
})
