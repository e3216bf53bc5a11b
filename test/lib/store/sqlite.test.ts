/**
 * The SQLite store runs the contract suite, in memory and on a file, and
 * shows what only it promises: the session lookup calls back at once.
 */
import t from 'tap'
import { join } from 'node:path'
import { createSqliteStore } from '../../../lib/store/sqlite/index.js'
import { storeContract, sessionOf } from './contract.js'
import { tempDir } from '../../helper.js'

const log = { error () {} }
const TIMES = { toleranceSeconds: 0, auditRetentionDays: 0 }

for (const where of [':memory:', 'file'] as const) {
  t.test(`contract: SQLite ${where}`, async (t) => {
    storeContract(t, async (t, times) => {
      const path = where === 'file' ? join(tempDir(t), 'auth.db') : ':memory:'
      const store = await createSqliteStore({ path, ...times, log })
      t.teardown(() => store.close())
      return store
    })
  })
}

t.test('the session lookup calls back before it returns; a failure is its error', async (t) => {
  const store = await createSqliteStore({ path: ':memory:', ...TIMES, log })
  t.teardown(() => store.close())
  let called = false
  store.session('u', 's', (err, row) => {
    called = true
    t.equal(err, null)
    t.equal(row, undefined)
  })
  t.ok(called, 'synchronous')
  t.equal(store.description, 'SQLite :memory:')
  store.db.exec('DROP TABLE sessions')
  await t.rejects(sessionOf(store, 'u', 's'), /no such table/)
})

t.test('a file store names its path', async (t) => {
  const path = join(tempDir(t), 'auth.db')
  const store = await createSqliteStore({ path, ...TIMES, log })
  t.teardown(() => store.close())
  t.equal(store.description, `SQLite ${path}`)
})
