/**
 * The signing key, on a bare Fastify with only what the plugin depends on:
 * the config and the store.
 */
import t from 'tap'
import { join } from 'node:path'
import store from '../../../plugins/app/store.js'
import secret from '../../../plugins/app/secret.js'
import { SECRET, tempDir, withPlugins } from '../../helper.js'

t.test('JWT_SECRET unset: generated once, kept in the store, reused on the next start', async (t) => {
  const env = { DATABASE_PATH: join(tempDir(t), 'auth.db'), JWT_SECRET: '' }
  const first = await withPlugins(t, env, store, secret)
  const key = first.jwtSecret
  t.equal(Buffer.from(key, 'base64url').length, 32)
  t.not(key, SECRET)
  t.strictSame(await first.store.setting('jwt_secret', 'other'), { value: key, created: false }, 'kept in the store')
  await first.close()
  const second = await withPlugins(t, env, store, secret)
  t.equal(second.jwtSecret, key, 'the same key on the next start: its tokens stay valid')
})

t.test('JWT_SECRET set: used as is, nothing stored', async (t) => {
  const app = await withPlugins(t, {}, store, secret)
  t.equal(app.jwtSecret, SECRET)
  t.strictSame(await app.store.setting('jwt_secret', 'probe'), { value: 'probe', created: true }, 'no key was stored before')
})
