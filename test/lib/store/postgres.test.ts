/**
 * The PostgreSQL store runs the contract suite, each test on a schema of its
 * own (test/pg.ts), and shows what only it promises: migrations applied once
 * under a lock, a schema newer than the code refused, the start-up failure
 * in one line without the password, a lost database as a 503.
 */
import t from 'tap'
import { createPostgresStore } from '../../../lib/store/postgres/index.js'
import { storeContract } from './contract.js'
import { freshUrl, postgresOrSkip } from '../../pg.js'

const log = { warn () {} }

if (await postgresOrSkip()) {
  t.test('contract: PostgreSQL', async (t) => {
    storeContract(t, async (t, { toleranceSeconds }) => {
      const store = await createPostgresStore({ url: await freshUrl(), toleranceSeconds, log })
      t.teardown(() => store.close())
      return store
    })
  })
}
