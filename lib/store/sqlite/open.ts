/**
 * Opens a SQLite database: pragmas set explicitly on every open (WAL's
 * synchronous level is per connection and silently falls back after a
 * reopen), then the ordered migrations in migrations/sqlite.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'

export type DB = Database.Database

const MIGRATIONS = fileURLToPath(new URL('../../../migrations/sqlite/', import.meta.url))

/** Milliseconds a statement waits for another connection's lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 1000
export const PAGE_SIZE = 1024
export const CACHE_KIB = 8192

export function openDatabase (path: string): DB {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  try {
    // Small pages for a new file (no effect on an existing one): a logout
    // dirties a few random B-tree leaves, and each is written to the WAL and
    // synced whole; at 1 KiB instead of 4 KiB a group commit writes and syncs
    // a quarter of the bytes. Must precede WAL mode.
    db.pragma(`page_size = ${PAGE_SIZE}`)
    if (path !== ':memory:') db.pragma('journal_mode = WAL')
    // FULL: an acknowledged revocation survives power loss, not only a crash.
    // The server's connection lowers it to NORMAL and syncs the WAL itself,
    // off the event loop, before acknowledging (./write-queue.ts): the same
    // guarantee. Scripts and other connections keep FULL.
    // Group commit (./write-queue.ts) pays its fsync once per batch.
    db.pragma('synchronous = FULL')
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    db.pragma('foreign_keys = ON')
    db.pragma('temp_store = MEMORY')
    // Enough for the interior pages of the session and revocation trees at
    // a million rows each; leaves come from the OS page cache.
    db.pragma(`cache_size = -${CACHE_KIB}`)
    migrate(db)
  } catch (err) {
    db.close()
    throw err
  }
  return db
}

/** Applies every migration newer than `PRAGMA user_version`, each in its own transaction. */
export function migrate (db: DB): number {
  const current = db.pragma('user_version', { simple: true }) as number
  const files = readdirSync(MIGRATIONS).filter((f) => /^\d+_.*\.sql$/.test(f)).sort()
  let applied = 0
  for (const file of files) {
    const version = Number.parseInt(file, 10)
    if (version <= current) continue
    const sql = readFileSync(MIGRATIONS + file, 'utf8')
    db.transaction(() => {
      db.exec(sql)
      db.pragma(`user_version = ${version}`)
    }).immediate()
    applied++
  }
  return applied
}
