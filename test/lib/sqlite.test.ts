import t, { type Test } from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrate, openDatabase, BUSY_TIMEOUT_MS } from '../../lib/sqlite.js'

function tempDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'auth-sqlite-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const pragmas = (db: ReturnType<typeof openDatabase>) => ({
  journal: db.pragma('journal_mode', { simple: true }),
  synchronous: db.pragma('synchronous', { simple: true }),
  foreignKeys: db.pragma('foreign_keys', { simple: true }),
  busyTimeout: db.pragma('busy_timeout', { simple: true }),
  version: db.pragma('user_version', { simple: true })
})

t.test('pragmas are set on every open, also after a reopen; migrations run once', async (t) => {
  const path = join(tempDir(t), 'a', 'b', 'auth.db')
  const expected = { journal: 'wal', synchronous: 2, foreignKeys: 1, busyTimeout: BUSY_TIMEOUT_MS, version: 1 }
  const first = openDatabase(path)
  t.strictSame(pragmas(first), expected, 'parent folders created, pragmas set')
  first.prepare("INSERT INTO settings (key, value) VALUES ('k', 'v')").run()
  first.close()
  const second = openDatabase(path)
  t.strictSame(pragmas(second), expected, 'after a reopen')
  t.equal(migrate(second), 0, 'migrations are idempotent')
  t.strictSame(second.prepare('SELECT value FROM settings').get(), { value: 'v' }, 'data kept')
  const tables = second.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((r: any) => r.name)
  t.strictSame(tables, ['audit_events', 'revoked_tokens', 'sessions', 'settings', 'users'])
  second.close()
})

t.test(':memory: works (no WAL there)', async (t) => {
  const db = openDatabase(':memory:')
  t.equal(db.pragma('journal_mode', { simple: true }), 'memory')
  t.equal(db.pragma('foreign_keys', { simple: true }), 1)
  db.close()
})

t.test('a file that is not a database fails the open, and the handle is closed', async (t) => {
  const path = join(tempDir(t), 'garbage.db')
  writeFileSync(path, 'this is not an SQLite database, just text'.repeat(100))
  t.throws(() => openDatabase(path), { code: 'SQLITE_NOTADB' })
})
