/**
 * With REDIS_URL, a client's requests over all instances count together
 * against one limit (§7): two instances, one Redis.
 */
import t from 'tap'
import { build } from '../helper.js'
import { redisAvailable, redisKit } from '../redis.js'

if (await redisAvailable(t)) {
  t.test('two instances share one rate limit', async (t) => {
    const kit = await redisKit(t)
    const env = { ...kit.env, LOGIN_RATE_LIMIT_MAX: '3', RATE_LIMIT_MAX: '3' }
    const a = await build(t, env)
    const b = await build(t, env)
    const register = (app: typeof a) => app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: {} })
    const codes = []
    for (const app of [a, b, a, b, a]) codes.push((await register(app)).statusCode)
    t.same(codes, [400, 400, 400, 429, 429], 'the 4th request is over the limit, whichever instance gets it')
    const limited = await register(b)
    t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After from the shared window')

    const me = (app: typeof a) => app.inject({ method: 'GET', url: '/api/v1/auth/me' })
    t.same([(await me(a)).statusCode, (await me(b)).statusCode, (await me(b)).statusCode, (await me(a)).statusCode], [401, 401, 401, 429],
      'each route its own count, shared too')
  })
}
