import { rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { openDatabase, PAGE_SIZE, type DB } from '../../../../lib/store/sqlite/open.js'
import { startCheckpointer } from '../../../../lib/store/sqlite/checkpointer.js'
import { build, login, logout, me, tempDir } from '../../../helper.js'

function tempDb (t: Test): string {
  const dir = tempDir(t)
  return join(dir, 'auth.db')
}

function fill (db: DB, rows: number): void {
  const insert = db.prepare("INSERT INTO settings (key, value) VALUES (?, 'x')")
  db.transaction(() => { for (let i = 0; i < rows; i++) insert.run(`k${Math.random()}`) })()
}

const size = (path: string) => statSync(path).size

async function until (t: Test, what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await sleep(10)
  t.ok(ok(), what)
}

t.test('the thread checkpoints while the serving connection never does', async (t) => {
  const path = tempDb(t)
  const db = openDatabase(path)
  t.equal(db.pragma('page_size', { simple: true }), PAGE_SIZE)
  const errors: unknown[] = []
  const ckpt = await startCheckpointer(db, { intervalMs: 10, log: { error: (obj: { err: unknown }) => { errors.push(obj.err) } } })
  t.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0, 'no checkpoint inside a COMMIT')
  const before = size(path)
  fill(db, 5000)
  t.ok(size(path + '-wal') > 0, 'the commit went to the WAL')
  await until(t, 'the pages reached the database file', () => size(path) > before)
  await ckpt.stop()
  await ckpt.stop()
  db.close()
  t.same(errors, [])
})

t.test('once checkpointed, the WAL is reused from its start, so the file stays bounded', async (t) => {
  const path = tempDb(t)
  const db = openDatabase(path)
  const ckpt = await startCheckpointer(db, { intervalMs: 5, restartBytes: 1, log: { error: (obj: { err: unknown }) => t.error(obj.err) } })
  fill(db, 3000)
  const grown = size(path + '-wal')
  await sleep(200)
  fill(db, 100)
  t.equal(size(path + '-wal'), grown, 'the next commit wrote over the checkpointed frames')
  await ckpt.stop()
  db.close()
})

t.test('a thread that cannot open the file fails the start', async (t) => {
  const path = tempDb(t)
  const db = openDatabase(path)
  rmSync(path)
  rmSync(join(path, '..'), { recursive: true })
  await t.rejects(startCheckpointer(db, { log: { error: (obj: { err: unknown }) => t.error(obj.err) } }))
  db.close()
})

t.test('the app on a file: revocations survive a restart with the thread running', async (t) => {
  const path = tempDb(t)
  const first = await build(t, { DATABASE_PATH: path })
  const a = await login(first)
  const b = await login(first)
  t.equal((await logout(first, a.token)).statusCode, 200)
  await first.close()
  const second = await build(t, { DATABASE_PATH: path })
  t.equal((await me(second, a.token)).statusCode, 401)
  t.equal((await me(second, b.token)).statusCode, 200)
})
