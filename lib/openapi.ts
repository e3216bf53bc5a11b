/**
 * The OpenAPI document as openapi.json holds it. It is built from a fixed
 * configuration, never from the environment: the document is the contract
 * that clients are generated from, the same whatever REGISTRATION_ENABLED,
 * PORT or JWT_ISSUER say where it is exported.
 * @see ../docs/CONTRACT.md and openapi.json
 */
import Fastify from 'fastify'
import app from '../app.js'
import { loadConfig } from '../fastify.config.js'
import { serverOptions } from './server-options.js'

/** Every default, with an in-memory store and a throwaway signing key. */
export const DOCUMENT_ENV = { DATABASE_PATH: ':memory:', LOG_LEVEL: 'silent', JWT_SECRET: 'openapi-export-only-'.padEnd(32, '-') }

/** The served `/docs/json` of the app under DOCUMENT_ENV, indented, with a final newline. */
export async function openapiDocument (): Promise<string> {
  const config = loadConfig(DOCUMENT_ENV)
  const fastify = Fastify(serverOptions(config))
  await fastify.register(app, { config })
  const res = await fastify.inject('/docs/json')
  await fastify.close()
  return JSON.stringify(res.json(), null, 2) + '\n'
}
