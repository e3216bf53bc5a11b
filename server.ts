/**
 * `npm start`: validates the environment, serves the app, and shuts down
 * gracefully on SIGTERM/SIGINT: in-flight requests finish, queued writes
 * commit, the database closes.
 */
import Fastify from 'fastify'
import closeWithGrace from 'close-with-grace'
import { ConfigError, loadConfig, type Config } from './fastify.config.js'
import { serverOptions } from './lib/server-options.js'

let config: Config
try {
  config = loadConfig()
} catch (err) {
  /* c8 ignore next: loadConfig throws only ConfigError; anything else is a bug to surface as is */
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(err.message + '\n')
  process.exit(1)
}

// Imported only now: app.ts reads the environment when it loads (its
// `options` export for fastify-cli), which would turn a bad value into an
// uncaught stack trace instead of the one line above.
const { default: app } = await import('./app.js')
const server = Fastify(serverOptions(config))
try {
  await server.register(app, { config })
} catch (err) {
  // A store that cannot be opened (DATABASE_URL unreachable, a schema newer
  // than the code, a SQLite file that cannot be created): one line, like a
  // bad variable, not a stack trace. The stores name what failed and never
  // a password (lib/store/postgres/index.ts).
  process.stderr.write(`Could not start: ${(err as Error).message.replace(/\s+/g, ' ')}\n`)
  process.exit(1)
}

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err !== undefined) server.log.error({ err }, 'shutting down after an error')
  else server.log.info({ signal }, 'shutting down')
  await server.close()
})

try {
  await server.listen({ port: config.PORT, host: config.HOST })
} catch (err) {
  server.log.error({ err }, 'could not start')
  process.exit(1)
}
