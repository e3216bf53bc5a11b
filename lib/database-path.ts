/**
 * DATABASE_PATH checked before the store opens it, so that an unusable path
 * stops the process with one line naming the variable, the path and the
 * reason (not a stack trace from SQLite). Missing folders are created one
 * at a time from the first ancestor that exists: Node's recursive mkdir
 * loops forever where a parent cannot hold folders (`/proc/nope/auth.db`).
 * @see ../docs/CONTRACT.md (Configuration)
 */
import { accessSync, closeSync, constants, mkdirSync, openSync, readSync, statSync, type Stats } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { ConfigError } from '../fastify.config.js'

/** The first 16 bytes of every SQLite 3 database. @see https://www.sqlite.org/fileformat.html#the_database_header */
const HEADER = Buffer.from('SQLite format 3\0')

/** Throws a ConfigError unless `path` can be opened as a SQLite database; creates its missing folders. */
export function checkDatabasePath (path: string): void {
  if (path === ':memory:') return
  const fail = (reason: string) => new ConfigError(`Invalid configuration: DATABASE_PATH ${JSON.stringify(path)} cannot be used: ${reason}`)
  const file = resolve(path)
  const missing: string[] = []
  let dir = dirname(file)
  let found = stat(dir, fail)
  // The root always exists, so the walk ends.
  while (found === undefined) {
    missing.unshift(dir)
    dir = dirname(dir)
    found = stat(dir, fail)
  }
  if (!found.isDirectory()) throw fail(`${dir} is not a folder`)
  /* c8 ignore next: root writes anywhere; test/faults/database-path.test.ts runs this case as another user */
  if (!writable(dir)) throw fail(`the folder ${dir} is not writable`)
  for (const folder of missing) {
    try {
      mkdirSync(folder)
    } catch (err) {
      throw fail(`cannot create the folder ${folder} (${(err as NodeJS.ErrnoException).code})`)
    }
  }
  const existing = stat(file, fail)
  if (existing === undefined) return
  if (!existing.isFile()) throw fail('it is not a file')
  /* c8 ignore next: root writes anywhere, as above */
  if (!writable(file)) throw fail('the file is not writable')
  if (existing.size > 0 && !HEADER.equals(head(file))) throw fail('it is not a SQLite database')
}

/** The path's stats, or undefined when it does not exist (or a parent is a file). */
function stat (path: string, fail: (reason: string) => Error): Stats | undefined {
  try {
    return statSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    /* c8 ignore next 2: EACCES on a folder needs a user other than root, and CI runs as root */
    throw fail(`${path} cannot be read (${code})`)
  }
}

function writable (path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK)
    return true
    /* c8 ignore next 3: root may write anywhere; test/faults/database-path.test.ts runs this case as another user */
  } catch {
    return false
  }
}

function head (file: string): Buffer {
  const fd = openSync(file, 'r')
  try {
    const buffer = Buffer.alloc(HEADER.length)
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0))
  } finally {
    closeSync(fd)
  }
}
