/**
 * Applies the ordered migrations in migrations/postgres at start-up, in one
 * transaction under an advisory lock: of several instances starting at once
 * on one database, the first applies them and the others, once it has
 * committed, find nothing left to do. Each applied version is a row of
 * `schema_migrations`; a database already at a version this code does not
 * know stops the instance (SPEC §7).
 * @see https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
 */
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type pg from 'pg'

const MIGRATIONS = fileURLToPath(new URL('../../../migrations/postgres/', import.meta.url))

/** The advisory lock key of the migrations: any constant other users of the database are unlikely to pick. */
export const MIGRATION_LOCK = 0x61757468 // "auth"

export interface Migration { version: number, name: string, sql: string }

export function migrations (dir = MIGRATIONS): Migration[] {
  return readdirSync(dir).filter((f) => /^\d+_.*\.sql$/.test(f)).sort().map((name) => ({
    version: Number.parseInt(name, 10), name, sql: readFileSync(dir + name, 'utf8')
  }))
}

export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError'
}

/**
 * Brings the schema up to date on one connection; resolves with the
 * versions it applied. Rejects when a migration fails or the schema is
 * newer than `known`, its transaction still open: the caller ends the
 * connection, which rolls it back, whatever state the connection is in.
 */
export async function migrate (client: pg.Client, known: Migration[] = migrations()): Promise<number[]> {
  await client.query('BEGIN')
  // A migration may build an index on a large table: no statement timeout here.
  await client.query('SET LOCAL statement_timeout = 0')
  await client.query('SET LOCAL lock_timeout = 0')
  await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
  await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now())`)
  const { rows: [row] } = await client.query<{ current: number }>(
    'SELECT coalesce(max(version), 0) AS current FROM schema_migrations')
  const current = row!.current
  const latest = known.at(-1)?.version ?? 0
  if (current > latest) {
    throw new SchemaTooNewError(`DATABASE_URL: the database schema is at version ${current}, newer than this code's ${latest}: run a newer release`)
  }
  const applied: number[] = []
  for (const m of known) {
    if (m.version <= current) continue
    await client.query(m.sql)
    await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
    applied.push(m.version)
  }
  await client.query('COMMIT')
  return applied
}
