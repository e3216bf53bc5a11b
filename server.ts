/**
 * `npm start`: validates the environment, serves the app, and shuts down
 * gracefully on SIGTERM/SIGINT: in-flight requests finish, queued writes
 * commit, the database closes. Every start-up failure is one line on
 * stderr and exit code 1, never a stack trace.
 */
import Fastify from 'fastify'
import closeWithGrace from 'close-with-grace'
import app from './app.js'
import { ConfigError, loadConfig, type Config } from './fastify.config.js'
import { checkDatabasePath } from './lib/database-path.js'
import { serverOptions } from './lib/server-options.js'
import { startupFailure, startupLines } from './lib/startup.js'

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

const server = Fastify(serverOptions(config))
let address: string
try {
  await server.register(app, { config })
  address = await server.listen({ port: config.PORT, host: config.HOST })
} catch (err) {
  process.stderr.write(startupFailure(err, config) + '\n')
  process.exit(1)
}
for (const [fields, line] of startupLines(config, address)) server.log.info(fields, line)

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err !== undefined) server.log.error({ err }, 'shutting down after an error')
  else server.log.info({ signal }, 'shutting down')
  await server.close()
  server.log.info('database closed, bye')
})
