/**
 * Builds the real app on a fresh database for each test and closes it in
 * teardown. Tests talk to it with `app.inject`; a few spawn the real server.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions, type LightMyRequestResponse } from 'fastify'
import fp from 'fastify-plugin'
import type { Test } from 'tap'
import app from '../app.js'
import { loadConfig, type Config } from '../fastify.config.js'
import { serverOptions } from '../lib/server-options.js'

export const SECRET = 'test-secret-that-is-at-least-32-characters-long'

export function testConfig (env: Record<string, string> = {}): Config {
  return loadConfig({ DATABASE_PATH: ':memory:', LOG_LEVEL: 'silent', JWT_SECRET: SECRET, ...env })
}

/**
 * The app, wrapped with fastify-plugin so that the tests reach its
 * decorators (db, sessions, ...); `options` can replace server options
 * (a logger writing to a stream, for the log tests).
 */
export async function build (t: Test, env: Record<string, string> = {}, options: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const config = testConfig(env)
  const fastify = Fastify({ ...serverOptions(config), ...options })
  await fastify.register(fp(app), { config })
  await fastify.ready()
  t.teardown(() => fastify.close())
  return fastify
}

export interface Login {
  token: string
  sessionId: string
  userId: string
  email: string
}

let counter = 0
export const PASSWORD = 'correct horse battery'

/** Registers a fresh user (or reuses `email`) and logs in once. */
export async function login (fastify: FastifyInstance, email?: string, headers: Record<string, string> = {}): Promise<Login> {
  if (email === undefined) {
    email = `user${++counter}@example.com`
    const r = await fastify.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password: PASSWORD } })
    if (r.statusCode !== 201) throw new Error(`register: ${r.statusCode} ${r.body}`)
  }
  const res = await fastify.inject({ method: 'POST', url: '/api/v1/auth/login', headers, payload: { email, password: PASSWORD } })
  if (res.statusCode !== 200) throw new Error(`login: ${res.statusCode} ${res.body}`)
  const data = res.json().data
  const me = await fastify.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${data.token}` } })
  return { token: data.token, sessionId: data.sessionId, userId: me.json().data.user.id, email }
}

export function logout (fastify: FastifyInstance, token: string, body: unknown = { token }, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return fastify.inject({
    method: 'POST',
    url: '/api/v1/auth/logout',
    headers: { authorization: `Bearer ${token}`, ...headers },
    payload: body as Record<string, unknown>
  })
}

export function me (fastify: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return fastify.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } })
}

export const UNAUTHORIZED = { success: false, message: 'Token no proporcionado o inválido' }
export const EXPIRED = { success: false, message: 'El token ha expirado' }
export const INTERNAL = { success: false, message: 'Error interno del servidor' }
export const LOGGED_OUT = { success: true, message: 'Sesión cerrada exitosamente' }
