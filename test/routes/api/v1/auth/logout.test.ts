import t from 'tap'
import { build, login, logout, me, LOGGED_OUT, UNAUTHORIZED } from '../../../../helper.js'

t.test('logout revokes the token for good', async (t) => {
  const app = await build(t)
  const { token } = await login(app)
  const res = await logout(app, token)
  t.equal(res.statusCode, 200)
  t.same(res.json(), LOGGED_OUT)
  t.equal(res.body, JSON.stringify(LOGGED_OUT))
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers['clear-site-data'], '"cookies", "storage"')
  const again = await logout(app, token)
  t.equal(again.statusCode, 401)
  t.same(again.json(), UNAUTHORIZED)
  t.equal((await me(app, token)).statusCode, 401)
})
