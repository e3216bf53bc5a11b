/**
 * What server.ts says when it starts, or cannot: lines a person reads.
 */
import type { Config } from '../fastify.config.js'

/** The start-up log lines after listen: the database in use and where the docs are. */
export function startupLines (config: Pick<Config, 'DATABASE_PATH' | 'DATABASE_URL' | 'JWT_SECRET'>, address: string): Array<[Record<string, string>, string]> {
  const database = config.DATABASE_PATH
  const lines: Array<[Record<string, string>, string]> = []
  if (config.DATABASE_URL !== undefined) {
    // Never the password a URL may carry.
    const url = new URL(config.DATABASE_URL)
    url.password = ''
    lines.push([{ database: url.toString() }, `database: PostgreSQL ${url.toString()}`])
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
