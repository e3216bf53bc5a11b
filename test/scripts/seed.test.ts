import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import Database from 'better-sqlite3'
import { main, parseSeedArgs } from '../../scripts/seed.js'
import { build, logout, me, SECRET, LOGGED_OUT, tempDir } from '../helper.js'

t.test('seeds live sessions whose tokens the server accepts', async (t) => {
  const dir = tempDir(t)
  const db = join(dir, 'auth.db')
  const file = join(dir, 'tokens.txt')
  const lines: string[] = []
  await main(['--sessions', '10001', '--tokens-file', file, '--revoked', '3'],
    { DATABASE_PATH: db, JWT_SECRET: SECRET, LOG_LEVEL: 'silent' }, (l) => lines.push(l))
  const summary = JSON.parse(lines[0]!)
  t.match(summary, { sessions: 10001, revoked: 3, userId: String, email: /^seed-.*@example\.com$/ })

  const tokens = readFileSync(file, 'utf8').split('\n')
  t.equal(tokens.pop(), '', 'one token per line, newline-terminated')
  t.equal(tokens.length, 10001)
  t.equal(new Set(tokens).size, 10001, 'every token is different')

  const store = new Database(db, { readonly: true })
  t.equal(store.prepare('SELECT count(*) FROM sessions').pluck().get(), 10001)
  t.equal(store.prepare('SELECT count(*) FROM revoked_tokens').pluck().get(), 3)
  t.equal(store.prepare("SELECT count(*) FROM audit_events WHERE type = 'login'").pluck().get(), 10004, 'each session has its login audit row')
  t.equal(store.prepare("SELECT count(*) FROM audit_events WHERE type = 'logout'").pluck().get(), 3)
  store.close()

  const app = await build(t, { DATABASE_PATH: db })
  const first = await me(app, tokens[0]!)
  t.equal(first.statusCode, 200)
  t.equal(first.json().data.user.id, summary.userId)
  t.equal((await me(app, tokens[10000]!)).statusCode, 200)
  const out = await logout(app, tokens[5000]!)
  t.same(out.json(), LOGGED_OUT)
  t.equal((await me(app, tokens[5000]!)).statusCode, 401)
})

t.test('zero sessions writes an empty file', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'tokens.txt')
  await main(['--sessions', '0', '--tokens-file', file], { DATABASE_PATH: join(dir, 'a.db'), JWT_SECRET: SECRET }, () => {})
  t.equal(readFileSync(file, 'utf8'), '')
})

t.test('arguments', async (t) => {
  t.same(parseSeedArgs(['--sessions', '5', '--tokens-file', 'f']), { sessions: 5, tokensFile: 'f', revoked: 0 })
  t.throws(() => parseSeedArgs(['--tokens-file', 'f']), /--sessions must be an integer/)
  t.throws(() => parseSeedArgs(['--sessions=-1', '--tokens-file', 'f']), /--sessions must be an integer/)
  t.throws(() => parseSeedArgs(['--sessions', '1', '--tokens-file', 'f', '--revoked', 'x']), /--revoked must be an integer/)
  t.throws(() => parseSeedArgs(['--sessions', '1']), /--tokens-file is required/)
  t.throws(() => parseSeedArgs(['--sessions', '1', '--tokens-file', '']), /--tokens-file is required/)
  await t.rejects(main(['--sessions', '1', '--tokens-file', 'f'], { DATABASE_PATH: ':memory:', JWT_SECRET: 'short' }, () => {}), /JWT_SECRET/)
})
