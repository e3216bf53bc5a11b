/**
 * `npm run seed -- --sessions N --tokens-file FILE [--revoked M]`
 *
 * Loads test data into the database the server would use (DATABASE_PATH,
 * JWT_SECRET and the token settings, read through fastify.config.ts): one
 * new user, N live sessions opened in one commit by the same session code as
 * login (token, session row, audit row), and one valid Bearer token per line
 * in FILE. `--revoked M` also opens M more sessions and logs them out through
 * the real logout code, leaving M revocation records (for the scale run).
 * The benchmark and operators load-testing a deployment use it alike.
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import Fastify, { type FastifyInstance } from 'fastify'
import app from '../app.js'
import { loadConfig, type Config } from '../fastify.config.js'
import { randomId } from '../lib/ids.js'
import type { RequestMeta } from '../lib/request-meta.js'
import type { SessionRef } from '../lib/domain.js'

export interface SeedOptions {
  sessions: number
  tokensFile: string
  revoked: number
}

export interface SeedResult {
  userId: string
  email: string
  sessions: number
  revoked: number
  ms: number
}

const META: RequestMeta = { ip: '127.0.0.1', userAgent: 'auth-sessions seed' }
/** Logouts sent at once: memory bounded. */
const REVOKE_CHUNK = 50_000
const LINES_PER_WRITE = 10_000

const USAGE = 'usage: npm run seed -- --sessions N --tokens-file FILE [--revoked M]'

export function parseSeedArgs (argv: string[]): SeedOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      sessions: { type: 'string' },
      'tokens-file': { type: 'string' },
      revoked: { type: 'string', default: '0' }
    }
  })
  const count = (name: string, raw: string | undefined): number => {
    if (raw === undefined || !/^\d+$/.test(raw)) throw new Error(`--${name} must be an integer, 0 or more\n${USAGE}`)
    return Number(raw)
  }
  if (values['tokens-file'] === undefined || values['tokens-file'] === '') throw new Error(`--tokens-file is required\n${USAGE}`)
  return { sessions: count('sessions', values.sessions), tokensFile: values['tokens-file'], revoked: count('revoked', values.revoked) }
}

async function revokeMany (fastify: FastifyInstance, userId: string, total: number): Promise<void> {
  const { sessions } = fastify
  for (let done = 0; done < total; done += REVOKE_CHUNK) {
    const refs: SessionRef[] = []
    await sessions.openMany(userId, Math.min(REVOKE_CHUNK, total - done), META, (_opened, ref) => { refs.push(ref) })
    // Sent at once: a store that batches (SQLite's group commit) commits each chunk together.
    await Promise.all(refs.map((ref) => sessions.logout(ref, 'local', META, fastify.log)))
  }
}

export async function seed (config: Config, opts: SeedOptions): Promise<SeedResult> {
  const started = performance.now()
  // No logger: a million audit log lines would say nothing; the rows are written.
  const fastify = Fastify({ logger: false })
  // Called, not registered: the services' decorators stay on this instance.
  await app(fastify, { config })
  await fastify.ready()
  const fd = openSync(opts.tokensFile, 'w')
  try {
    const email = `seed-${randomId().toLowerCase()}@example.com`
    const user = await fastify.users.register(email, randomId(), META, fastify.log)
    let lines: string[] = []
    await fastify.sessions.openMany(user.id, opts.sessions, META, (o) => {
      lines.push(o.token)
      if (lines.length === LINES_PER_WRITE) {
        writeSync(fd, lines.join('\n') + '\n')
        lines = []
      }
    })
    if (lines.length > 0) writeSync(fd, lines.join('\n') + '\n')
    await revokeMany(fastify, user.id, opts.revoked)
    return { userId: user.id, email, sessions: opts.sessions, revoked: opts.revoked, ms: Math.round(performance.now() - started) }
  } finally {
    closeSync(fd)
    await fastify.close()
  }
}

/** The command: its arguments and environment in, one summary line out. */
export async function main (argv: string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<void> {
  const result = await seed(loadConfig(env), parseSeedArgs(argv))
  out(JSON.stringify(result))
}

/* c8 ignore start -- the command-line entry point; tests call main() directly */
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), process.env, (line) => process.stdout.write(line + '\n')).catch((err: unknown) => {
    process.stderr.write(`seed: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  })
}
/* c8 ignore stop */
