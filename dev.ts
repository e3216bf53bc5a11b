/**
 * fastify-cli's entry for `npm run dev` (scripts/dev.ts starts it): the
 * server options from the typed config, and the root plugin given that
 * config. A bad environment is one line and exit 1, as with `npm start`.
 * @see https://github.com/fastify/fastify-cli#options
 */
import type { FastifyInstance } from 'fastify'
import app from './app.js'
import { serverOptions } from './lib/server-options.js'
import { configOrExit } from './lib/startup.js'

const config = configOrExit()

/** Server options for fastify-cli, which builds the instance itself (`-o`). */
export const options = serverOptions(config)

// fastify-cli wants the two arguments of a plugin.
export default async function devApp (fastify: FastifyInstance, _opts: object) {
  await app(fastify, { config })
}
