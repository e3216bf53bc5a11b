/**
 * The README's resource server, exactly as printed there: it accepts a
 * live token, and refuses it once auth-sessions has revoked it.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { build, login, logout, SECRET } from '../helper.js'
import { claimsOf, json64 } from '../jwt.js'
import { redisAvailable, redisKit } from '../redis.js'
import { resourceServer } from '../../examples/resource-server.js'

t.test('the README prints examples/resource-server.ts as it is', async (t) => {
  const source = readFileSync(new URL('../../examples/resource-server.ts', import.meta.url), 'utf8')
  t.ok(readFileSync(new URL('../../README.md', import.meta.url), 'utf8').includes('```ts\n' + source + '```\n'))
})

t.test('a revoked token is refused by the other service too, from the 200 of its logout on', async (t) => {
  if (await redisAvailable(t)) {
    const kit = await redisKit(t)
    const auth = await build(t, kit.env)
    const api = resourceServer({ secret: SECRET, redisUrl: kit.url, prefix: kit.prefix })
    t.teardown(() => api.close())
    const orders = (token: string) => api.inject({ method: 'GET', url: '/orders', headers: { authorization: `Bearer ${token}` } })

    const s = await login(auth)
    const ok = await orders(s.token)
    t.equal(ok.statusCode, 200)
    t.strictSame(ok.json(), { user: s.userId, orders: [] })
    const [header, , signature] = s.token.split('.')
    const forged = [header, json64({ ...claimsOf(s.token), sub: 'someone-else' }), signature].join('.')
    t.equal((await orders(forged)).statusCode, 401, 'a tampered token: its signature no longer verifies')

    t.equal((await logout(auth, s.token)).statusCode, 200)
    const revoked = await orders(s.token)
    t.equal(revoked.statusCode, 401)
    t.strictSame(revoked.json(), { error: 'token revoked' })

    // Its default prefix is the service's default: it reads only.
    const plain = resourceServer({ secret: SECRET, redisUrl: kit.url })
    t.teardown(() => plain.close())
    const live = await login(auth)
    t.equal((await plain.inject({ method: 'GET', url: '/orders', headers: { authorization: `Bearer ${live.token}` } })).statusCode, 200)
  }
})
