/**
 * The PostgreSQL of the tests: the server at TEST_DATABASE_URL (default:
 * the local one, trust auth), a database of its own per test file, created
 * on first use and dropped when the file ends, so that files run in
 * parallel; a schema of its own per app or store inside it (`freshUrl`).
 *
 * Without a server, the PostgreSQL suites are skipped (test/pg-check.ts
 * says so in one line), unless AUTH_SESSIONS_REQUIRE names `postgres`
 * (.ci/run): then they fail.
 */
import type { Test } from 'tap'
import t from 'tap'
import pg from 'pg'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import { REQUIRED, SKIPPED, TEST_DATABASE_URL, reachable, withDatabase } from './pg-env.js'
import { storeEnv } from './helper.js'

export { REQUIRED, SKIPPED, TEST_DATABASE_URL, reachable, withDatabase } from './pg-env.js'

let available: Promise<boolean> | undefined
let database: Promise<string> | undefined
let counter = 0

/**
 * For a PostgreSQL test file: true when the server answers. When it does
 * not, the file is planned as skipped (or, when AUTH_SESSIONS_REQUIRE names
 * postgres, fails) and false is returned: the file then defines no tests.
 */
export async function postgresOrSkip (): Promise<boolean> {
  available ??= reachable()
  if (await available) return true
  if (REQUIRED) throw new Error(`AUTH_SESSIONS_REQUIRE names postgres, but ${SKIPPED.replace('PostgreSQL suites skipped: ', '')}`)
  t.plan(0, 'PostgreSQL is not available (see the line from test/pg-check.ts)')
  return false
}

/**
 * Makes every `build()` of this file run on PostgreSQL, each app on a
 * schema of its own; false (the file skipped) when there is no server.
 * A route test file runs on PostgreSQL by importing itself after this
 * (test/postgres/).
 */
export async function runOnPostgres (): Promise<boolean> {
  if (!await postgresOrSkip()) return false
  storeEnv.get = async () => ({ DATABASE_URL: await freshUrl() })
  return true
}

/** One query on the server's maintenance connection. */
async function admin (sql: string, url = TEST_DATABASE_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** This file's database, created on first use and dropped (its connections too) when the file ends. */
export function fileDatabase (): Promise<string> {
  database ??= (async () => {
    const name = `auth_sessions_test_${process.pid}_${Date.now().toString(36)}`
    await admin(`CREATE DATABASE ${name}`)
    t.teardown(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
    return withDatabase(TEST_DATABASE_URL, name)
  })()
  return database
}

/**
 * A URL naming a new, empty schema of this file's database: a store or an
 * app opened on it sees only its own tables. Left for the database's drop.
 */
export async function freshUrl (): Promise<string> {
  const url = await fileDatabase()
  const schema = `t${++counter}`
  await admin(`CREATE SCHEMA ${schema}`, url)
  return withDatabase(url, new URL(url).pathname.slice(1), `?options=${encodeURIComponent(`-c search_path=${schema}`)}`)
}

/** A new, empty database of its own (for the tests that spawn servers or break connections); dropped when `t` ends. */
export async function freshDatabase (tt: Test): Promise<string> {
  const name = `auth_sessions_test_${process.pid}_${++counter}_${Date.now().toString(36)}`
  await admin(`CREATE DATABASE ${name}`)
  tt.teardown(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
  return withDatabase(TEST_DATABASE_URL, name)
}

/** Ends every other connection to the database of `url` (a database restart, as the pool sees it). */
export async function terminateConnections (url: string): Promise<number> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await client.connect()
  try {
    const { rows } = await client.query<{ n: string }>(
      'SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [new URL(url).pathname.slice(1)])
    return Number(rows[0]!.n)
  } finally {
    await client.end()
  }
}

export interface Proxy {
  /** `url` through the proxy. */
  url: string
  /** The database gone: every connection cut, new ones refused. */
  down: () => Promise<void>
  /** The database back, on the same port. */
  up: () => Promise<void>
}

/**
 * A TCP relay in front of the server: a database that goes away and comes
 * back, for one test's connections only (a restart of the shared server
 * would break the other files running in parallel).
 */
export async function proxy (tt: Test, url: string): Promise<Proxy> {
  const target = new URL(url)
  const sockets = new Set<Socket>()
  let server: Server | undefined
  let port = 0
  const up = async () => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname)
      for (const s of [client, upstream]) {
        sockets.add(s)
        s.on('error', () => {}).on('close', () => { sockets.delete(s); client.destroy(); upstream.destroy() })
      }
      client.pipe(upstream).pipe(client)
    })
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
  }
  const down = async () => {
    const closed = new Promise((resolve) => server!.close(resolve))
    for (const s of sockets) s.destroy()
    await closed
  }
  await up()
  tt.teardown(() => down())
  const u = new URL(url)
  u.port = String(port)
  return { url: u.toString(), down, up }
}
