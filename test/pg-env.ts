/**
 * Where the PostgreSQL of the tests is, and whether it must be there: what
 * test/pg.ts and test/pg-check.ts share, without tap (the check runs before
 * it).
 */
import pg from 'pg'

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres'
/** .ci/run sets AUTH_SESSIONS_REQUIRE=postgres,redis: there, a missing server fails the run instead of skipping. */
export const REQUIRED = (process.env.AUTH_SESSIONS_REQUIRE ?? '').split(',').map((s) => s.trim()).includes('postgres')
export const SKIPPED = `PostgreSQL suites skipped: nothing answers at TEST_DATABASE_URL=${TEST_DATABASE_URL} (start PostgreSQL, or set TEST_DATABASE_URL to a postgres:// URL whose role may create databases)`

/** The server's URL with another database (or query) in it. */
export function withDatabase (url: string, database: string, search = ''): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  u.search = search
  return u.toString()
}

/** Resolves with whether the server answers, within a second or two. */
export async function reachable (url = TEST_DATABASE_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}
