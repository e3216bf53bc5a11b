/**
 * The durable logout baseline (bench/baseline-durable.js) on its own copy of
 * a seeded file: it revokes, so it cannot share the server's file, and the
 * tokens of one seed are valid on any copy (same signing key, same rows).
 */
import { constants, copyFileSync, rmSync } from 'node:fs'
import Database from 'better-sqlite3'
import { SECRET, startTarget, type Target } from './procs.js'

/** Copies a SQLite file whose connections are all closed: its WAL folded in first, then the file (a clone where the filesystem can). */
export function copyDb (src: string, dst: string): string {
  const db = new Database(src)
  try {
    db.pragma('wal_checkpoint(TRUNCATE)')
  } finally {
    db.close()
  }
  rmDb(dst)
  copyFileSync(src, dst, constants.COPYFILE_FICLONE)
  return dst
}

export function rmDb (path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true })
}

/** Copies `db` to `copy` and starts the durable baseline on the copy. */
export function startDurable (db: string, copy: string, log: string, name = 'durable'): Promise<Target> {
  copyDb(db, copy)
  return startTarget(name, 'bench/baseline-durable.js', { JWT_SECRET: SECRET, DATABASE_PATH: copy }, log)
}
