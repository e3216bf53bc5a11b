import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { migrate, openDatabase, BUSY_TIMEOUT_MS } from '../../../../lib/store/sqlite/open.js'
import { tempDir } from '../../../helper.js'

const pragmas = (db: ReturnType<typeof openDatabase>) => ({
  journal: db.pragma('journal_mode', { simple: true }),
  synchronous: db.pragma('synchronous', { simple: true }),
  foreignKeys: db.pragma('foreign_keys', { simple: true }),
  busyTimeout: db.pragma('busy_timeout', { simple: true }),
  version: db.pragma('user_version', { simple: true })
})

t.test('pragmas are set on every open, also after a reopen; migrations run once', async (t) => {
  const path = join(tempDir(t), 'a', 'b', 'auth.db')
  const expected = { journal: 'wal', synchronous: 2, foreignKeys: 1, busyTimeout: BUSY_TIMEOUT_MS, version: 3 }
  const first = openDatabase(path)
  t.strictSame(pragmas(first), expected, 'parent folders created, pragmas set')
  first.prepare("INSERT INTO settings (key, value) VALUES ('k', 'v')").run()
  first.close()
  const second = openDatabase(path)
  t.strictSame(pragmas(second), expected, 'after a reopen')
  t.equal(migrate(second), 0, 'migrations are idempotent')
  t.strictSame(second.prepare('SELECT value FROM settings').get(), { value: 'v' }, 'data kept')
  const tables = second.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((r: any) => r.name)
  t.strictSame(tables, ['audit_events', 'refresh_tokens', 'revoked_tokens', 'sessions', 'settings', 'users'])
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

t.test('a version 1 file is migrated: its sessions and revocations kept, under the new keys, with their token claims', async (t) => {
  const path = join(tempDir(t), 'v1.db')
  const v1 = new Database(path)
  v1.exec(readFileSync(new URL('../../../../migrations/sqlite/001_init.sql', import.meta.url), 'utf8'))
  v1.pragma('user_version = 1')
  v1.exec(`INSERT INTO users VALUES ('u1', 'a@example.com', 'h', 1), ('u2', 'b@example.com', 'h', 1);
    INSERT INTO sessions VALUES ('s2', 'u1', 'j2', 2000, 200, '::1', 'ua'), ('s1', 'u2', 'j1', 1000, 100, NULL, NULL);
    INSERT INTO revoked_tokens VALUES (300, 'j9', 'u1', 's9', 20, 'logout_local'), (100, 'j8', 'u2', 's8', 10, 'logout_global')`)
  v1.close()
  const db = openDatabase(path)
  t.teardown(() => db.close())
  t.equal(db.pragma('user_version', { simple: true }), 3)
  t.strictSame(db.prepare('SELECT * FROM sessions').all(), [
    { user_id: 'u1', id: 's2', jti: 'j2', created_at: 2000, expires_at: 200, ip: '::1', user_agent: 'ua', token_iat: 2, token_exp: 200, refresh_gen: 0, refreshed_at: 2000 },
    { user_id: 'u2', id: 's1', jti: 'j1', created_at: 1000, expires_at: 100, ip: null, user_agent: null, token_iat: 1, token_exp: 100, refresh_gen: 0, refreshed_at: 1000 }
  ], 'in (user, id) order; the token\'s claims are those of the session')
  t.strictSame(db.prepare('SELECT * FROM revoked_tokens').all(), [
    { id: 1, jti: 'j8', user_id: 'u2', session_id: 's8', expires_at: 100, revoked_at: 10, reason: 'logout_global' },
    { id: 2, jti: 'j9', user_id: 'u1', session_id: 's9', expires_at: 300, revoked_at: 20, reason: 'logout_local' }
  ], 'in the order they were revoked')
  const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('sessions', 'revoked_tokens') AND sql IS NOT NULL").pluck().all()
  t.strictSame(indexes, [], 'no index beside the keys')
  t.strictSame(db.prepare('SELECT count(*) FROM refresh_tokens').pluck().get(), 0, 'sessions of before have no refresh token')
  t.strictSame(db.pragma('foreign_key_check'), [])
  t.strictSame(db.pragma('integrity_check', { simple: true }), 'ok')
})
