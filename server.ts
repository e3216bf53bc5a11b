/**
 * `npm start`: validates the environment, serves the app, and shuts down
 * gracefully on SIGTERM/SIGINT: in-flight requests finish, queued writes
 * commit, the database closes. Every start-up failure is one line on
 * stderr and exit code 1, never a stack trace.
 */
import Fastify from 'fastify'
import closeWithGrace from 'close-with-grace'
import app from './app.js'
import { serverOptions } from './lib/server-options.js'
import { startupFailure, startupLines, configOrExit } from './lib/startup.js'

const config = configOrExit()

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
