/**
 * fastify-cli's entry for `npm run dev` (scripts/dev.ts starts it): the
 * server options from the typed config, and the root plugin given that
 * config. A bad environment is one line and exit 1, as with `npm start`.
 * @see https://github.com/fastify/fastify-cli#options
 */
import type { FastifyInstance } from 'fastify'
import app from './app.js'
import { ConfigError, loadConfig, type Config } from './fastify.config.js'
import { checkDatabasePath } from './lib/database-path.js'
import { serverOptions } from './lib/server-options.js'

let config: Config
try {
  config = loadConfig()
  checkDatabasePath(config.DATABASE_PATH)
} catch (err) {
  /* c8 ignore next: both throw only ConfigError; anything else is a bug to surface as is */
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(err.message + '\n')
  process.exit(1)
}

/** Server options for fastify-cli, which builds the instance itself (`-o`). */
export const options = serverOptions(config)

// fastify-cli wants the two arguments of a plugin.
export default async function devApp (fastify: FastifyInstance, _opts: object) {
  await app(fastify, { config })
}
