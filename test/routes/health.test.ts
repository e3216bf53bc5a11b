import t from 'tap'
import { build, sqlite } from '../helper.js'

t.test('200 while the database answers, 503 when it does not', async (t) => {
  const app = await build(t)
  const ok = await app.inject({ method: 'GET', url: '/health' })
  t.equal(ok.statusCode, 200)
  t.equal(ok.body, '{"status":"ok"}')
  sqlite(app).close()
  const down = await app.inject({ method: 'GET', url: '/health' })
  t.equal(down.statusCode, 503)
  t.strictSame(down.json(), { status: 'unavailable' })
})
