/**
 * Builds the real app on a fresh database for each test and closes it in
 * teardown. Tests talk to it with `app.inject`; a few spawn the real server.
 */
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyServerOptions, type LightMyRequestResponse } from 'fastify'
import fp from 'fastify-plugin'
import type { Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import app, { type AppOptions } from '../app.js'
import config from '../plugins/app/config.js'
import { loadConfig, type Config } from '../fastify.config.js'
import { serverOptions } from '../lib/server-options.js'
import type { SqliteStore } from '../lib/store/sqlite/index.js'
import type { PostgresStore } from '../lib/store/postgres/index.js'
import type { SessionRef } from '../lib/domain.js'

import { claimsOf, SECRET } from './jwt.js'
import { clock } from '../lib/time.js'

export { SECRET }

export function testConfig (env: Record<string, string> = {}): Config {
  return loadConfig({ DATABASE_PATH: ':memory:', LOG_LEVEL: 'silent', JWT_SECRET: SECRET, ...env })
}

/**
 * argon2id at its cheapest (8 KiB, one pass) for the tests that are not
 * about hashing: a login then costs ~1 ms instead of ~40. The hashing tests
 * build with `{ hashCost: HASH_OPTIONS }`.
 */
export const FAST_HASH = { memoryCost: 8, timeCost: 1 }

/**
 * The app, wrapped with fastify-plugin so that the tests reach its
 * decorators (store, sessions, ...); `options` can replace server options
 * (a logger writing to a stream, for the log tests).
 */
export async function build (t: Test, env: Record<string, string> = {}, options: FastifyServerOptions = {}, appOptions: AppOptions = {}): Promise<FastifyInstance> {
  const config = testConfig({ ...await storeEnv.get(), ...env })
  const fastify = Fastify({ ...serverOptions(config), ...options })
  await fastify.register(fp(app), { config, hashCost: FAST_HASH, ...appOptions })
  await fastify.ready()
  t.teardown(() => fastify.close())
  return fastify
}

/**
 * The variables that choose the store of `build()`: none (SQLite in
 * memory), or a DATABASE_URL of a fresh schema once a file has called
 * test/pg.ts's `onPostgres()`, which is how the route tests also run on
 * PostgreSQL (test/postgres/).
 */
export const storeEnv = { get: async (): Promise<Record<string, string>> => ({}) }

/** Whether this file's apps run on PostgreSQL (a test that breaks the SQLite handle skips then). */
export const onPostgres = async () => 'DATABASE_URL' in await storeEnv.get()

/**
 * Rows of `sql` on the app's database, whichever it is: `?` placeholders
 * and `AS name` aliases written once, for both (PostgreSQL gets `$n` and
 * quoted aliases, so that camelCase survives).
 */
export async function query<R = Record<string, unknown>> (app: FastifyInstance, sql: string, ...args: unknown[]): Promise<R[]> {
  const store = app.store as Partial<SqliteStore & PostgresStore>
  if (store.db !== undefined) {
    const statement = store.db.prepare(sql)
    return (statement.reader ? statement.all(...args) : (statement.run(...args), [])) as R[]
  }
  let n = 0
  const text = sql.replace(/\?/g, () => `$${++n}`).replace(/ AS ([a-zA-Z]\w*)/g, ' AS "$1"')
  return (await store.pool!.query(text, args)).rows as R[]
}

/** `SELECT count(*) AS n ...` as a number, on either store. */
export async function count (app: FastifyInstance, sql: string, ...args: unknown[]): Promise<number> {
  return Number((await query<{ n: number }>(app, sql, ...args))[0]!.n)
}

/** The SQLite connection behind `app.store`, for tests that look at or break the rows themselves. */
export function sqlite (app: FastifyInstance): SqliteStore['db'] {
  return (app.store as SqliteStore).db
}

/**
 * A bare Fastify with only the config and the plugins given, in order:
 * a plugin tested with nothing but what it depends on.
 */
export async function withPlugins (t: Test, env: Record<string, string>, ...plugins: FastifyPluginAsync[]): Promise<FastifyInstance> {
  const fastify = Fastify({ logger: false })
  await fastify.register(config, { config: testConfig(env) })
  for (const plugin of plugins) await fastify.register(plugin)
  await fastify.ready()
  t.teardown(() => fastify.close())
  return fastify
}

export interface Login {
  token: string
  sessionId: string
  userId: string
  email: string
  /** The session as the store's writes name it. */
  ref: SessionRef
  refreshToken: string
}

let counter = 0
export const PASSWORD = 'correct horse battery'

/** Registers a fresh user (or reuses `email`) and logs in once. */
export async function login (fastify: FastifyInstance, email?: string, headers: Record<string, string> = {}, password = PASSWORD): Promise<Login> {
  if (email === undefined) {
    email = `user${++counter}@example.com`
    const r = await fastify.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password: PASSWORD } })
    if (r.statusCode !== 201) throw new Error(`register: ${r.statusCode} ${r.body}`)
  }
  const res = await fastify.inject({ method: 'POST', url: '/api/v1/auth/login', headers, payload: { email, password } })
  if (res.statusCode !== 200) throw new Error(`login: ${res.statusCode} ${res.body}`)
  const data = res.json().data
  const me = await fastify.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${data.token}` } })
  const userId: string = me.json().data.user.id
  return { token: data.token, sessionId: data.sessionId, userId, email, ref: { id: data.sessionId, userId, jti: claimsOf(data.token).jti }, refreshToken: data.refreshToken }
}

export function logout (fastify: FastifyInstance, token: string, body: unknown = { token }, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return fastify.inject({
    method: 'POST',
    url: '/api/v1/auth/logout',
    headers: { authorization: `Bearer ${token}`, ...headers },
    payload: body as Record<string, unknown>
  })
}

export function refresh (fastify: FastifyInstance, refreshToken: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return fastify.inject({ method: 'POST', url: '/api/v1/auth/refresh', headers, payload: { refreshToken } })
}

export function me (fastify: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return fastify.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } })
}

export const UNAUTHORIZED = { success: false, message: 'Token no proporcionado o inválido' }
export const EXPIRED = { success: false, message: 'El token ha expirado' }
export const INTERNAL = { success: false, message: 'Error interno del servidor' }
export const LOGGED_OUT = { success: true, message: 'Sesión cerrada exitosamente' }

/** A new empty folder, removed with everything in it when `t` ends. */
export function tempDir (t: Test, prefix = 'auth-sessions-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * Polls `done` every `everyMs` until it holds; after `timeoutMs`, fails
 * with `what` rather than leaving the test to tap's timeout.
 */
export async function waitFor (what: string, done: () => boolean, timeoutMs = 10_000, everyMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

let offset = 0

/** Moves the service's clock (lib/time.ts) `ms` ahead, for the rest of the test; back to the real time after it. */
export function advance (t: Test, ms: number): void {
  if (offset === 0) t.teardown(() => { offset = 0 })
  offset += ms
  clock.now = () => Date.now() + offset
}
