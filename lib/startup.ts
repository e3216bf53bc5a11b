/**
 * What server.ts says when it starts, or cannot: lines a person reads.
 */
import { ConfigError, loadConfig, type Config } from '../fastify.config.js'
import { checkDatabasePath } from './database-path.js'
import { redactUrl } from './redact-url.js'

/**
 * The configuration, or, for a bad variable or an unusable DATABASE_PATH
 * (when SQLite is the store), one line on stderr and exit 1: what
 * `npm start` and `npm run dev` say alike.
 */
export function configOrExit (env?: NodeJS.ProcessEnv): Config {
  try {
    const config = loadConfig(env)
    if (config.DATABASE_URL === undefined) checkDatabasePath(config.DATABASE_PATH)
    return config
  } catch (err) {
    /* c8 ignore next: both throw only ConfigError; anything else is a bug to surface as is */
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(err.message + '\n')
    process.exit(1)
  }
}

/** The start-up log lines after listen: the database in use and where the docs are. */
export function startupLines (config: Pick<Config, 'DATABASE_PATH' | 'DATABASE_URL' | 'JWT_SECRET'>, address: string): Array<[Record<string, string>, string]> {
  const database = config.DATABASE_PATH
  const lines: Array<[Record<string, string>, string]> = []
  if (config.DATABASE_URL !== undefined) {
    const url = redactUrl(config.DATABASE_URL)
    lines.push([{ database: url }, `database: PostgreSQL ${url}`])
  } else if (database === ':memory:') {
    lines.push([{ database }, config.JWT_SECRET === undefined
      ? 'database: :memory: — nothing survives this process, and the generated signing secret dies with it (every token with it)'
      : 'database: :memory: — nothing survives this process'])
  } else {
    lines.push([{ database }, `database: ${database}`])
  }
  lines.push([{ docs: `${address}/docs` }, `Swagger UI at ${address}/docs`])
  return lines
}

/** One line for an error raised while registering or listening; SQLite's name DATABASE_PATH. */
export function startupFailure (err: unknown, config: Pick<Config, 'DATABASE_PATH'>): string {
  const e = err as NodeJS.ErrnoException
  const message = String(e?.message ?? err).split('\n', 1)[0]
  if (typeof e?.code === 'string' && e.code.startsWith('SQLITE_')) {
    return `Could not start: DATABASE_PATH ${JSON.stringify(config.DATABASE_PATH)}: ${message} (${e.code})`
  }
  return `Could not start: ${message}`
}
