/**
 * The environment, as one TypeBox schema, read once into a typed config.
 * Nothing else in the service reads `process.env`.
 * @see ./docs/CONTRACT.md (Configuration)
 */
import Type, { type Static, type TSchema } from 'typebox'
import { Ajv } from 'ajv'

const Int = (min: number, max: number, def: number, what: string) =>
  Type.Integer({ minimum: min, maximum: max, default: def, description: what })
const Bool = (def: boolean) =>
  Type.Boolean({ default: def, description: '"true" or "false"' })
const Str = (def: string, what: string, minLength = 1) =>
  Type.String({ default: def, minLength, description: what })
const OptStr = (what: string, minLength = 1, maxLength?: number) =>
  Type.Optional(Type.String({ minLength, ...(maxLength === undefined ? {} : { maxLength }), description: what }))

export const ConfigSchema = Type.Object({
  PORT: Int(0, 65535, 3000, 'an integer from 0 to 65535'),
  HOST: Str('127.0.0.1', 'a listen address'),
  DATABASE_PATH: Str('./data/auth.db', 'a file path or :memory:'),
  JWT_SECRET: OptStr('at least 32 characters', 32),
  TOKEN_TTL_SECONDS: Int(1, 31_536_000, 3600, 'an integer from 1 to 31536000'),
  CLOCK_TOLERANCE_SECONDS: Int(0, 3600, 0, 'an integer from 0 to 3600'),
  // Bounded: both are written into every token, and the verifier refuses
  // tokens over 2048 characters before any work (plugins/app/tokens.ts).
  JWT_ISSUER: OptStr('a string of 1 to 256 characters', 1, 256),
  JWT_AUDIENCE: OptStr('a string of 1 to 256 characters', 1, 256),
  RATE_LIMIT_MAX: Int(0, 1_000_000_000, 100, 'an integer, 0 or more (0 turns the limit off)'),
  LOGIN_RATE_LIMIT_MAX: Int(0, 1_000_000_000, 10, 'an integer, 0 or more (0 turns the limit off)'),
  BODY_LIMIT_BYTES: Int(1, 1_073_741_824, 65536, 'an integer from 1 to 1073741824'),
  RATE_LIMIT_WINDOW_MS: Int(1, 86_400_000, 60000, 'an integer from 1 to 86400000'),
  REGISTRATION_ENABLED: Bool(true),
  PURGE_INTERVAL_SECONDS: Int(1, 86_400, 600, 'an integer from 1 to 86400'),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'one of fatal, error, warn, info, debug, trace, silent' }
  ),
  TRUST_PROXY: Type.String({
    default: 'false',
    // true/false, a hop count, or a comma-separated list of addresses / CIDRs
    pattern: '^(true|false|[0-9]{1,3}|[0-9A-Fa-f.:/]+(,[ ]*[0-9A-Fa-f.:/]+)*)$',
    description: 'true, false, a hop count or a comma-separated list of addresses'
  }),
  SESSION_IDLE_SECONDS: Int(1, 31_536_000, 604_800, 'an integer from 1 to 31536000'),
  SESSION_MAX_SECONDS: Int(1, 315_360_000, 2_592_000, 'an integer from 1 to 315360000'),
  REFRESH_REUSE_GRACE_SECONDS: Int(0, 60, 30, 'an integer from 0 to 60'),
  AUDIT_RETENTION_DAYS: Int(0, 36_500, 365, 'an integer from 0 to 36500 (0 keeps audit rows forever)'),
  REQUEST_TIMEOUT_MS: Int(0, 3_600_000, 30_000, 'an integer from 0 to 3600000'),
  HEADERS_TIMEOUT_MS: Int(0, 3_600_000, 10_000, 'an integer from 0 to 3600000'),
  // Origins only (scheme, host, port; no path), exact: a browser sends no more.
  CORS_ORIGINS: Type.Optional(Type.String({
    pattern: '^(\\*|https?://[^/,\\s*]+(,[ ]*https?://[^/,\\s*]+)*)$',
    description: '* or a comma-separated list of origins such as https://app.example.com (scheme, host and port, no path)'
  })),
  // Unset: SQLite at DATABASE_PATH. Set: PostgreSQL (docs/CONTRACT.md, README).
  DATABASE_URL: Type.Optional(Type.String({
    pattern: '^postgres(ql)?://[^\\s]+$',
    description: 'a postgres:// or postgresql:// URL'
  })),
  // §7: shared rate limits and the shared revocation list; unset, neither.
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://[^\\s]+$', description: 'a redis:// or rediss:// URL' })),
  REDIS_KEY_PREFIX: Type.String({ default: 'auth-sessions:', maxLength: 256, pattern: '^\\S*$', description: 'a prefix of up to 256 characters without spaces' })
}, { additionalProperties: false })

export type Config = Static<typeof ConfigSchema>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Variables whose value must never be echoed back, not even in an error (a URL may carry a password). */
const SECRET = new Set(['JWT_SECRET', 'DATABASE_URL', 'REDIS_URL'])

/**
 * The JSON Schema validator Fastify validates every request with, already
 * in memory: `typebox/value` would load 9 MiB and ~100 ms more at start-up
 * (BENCHMARKS.md) to check a handful of variables once.
 * Not strict: TypeBox's schemas carry keywords of their own.
 */
const ajv = new Ajv({ strict: false })

/**
 * Reads every variable of the schema from `env`: unset or empty means the
 * default, anything else is converted from its string form and checked.
 * Throws a ConfigError with one line naming the variable and what it expected.
 */
export function loadConfig (env: NodeJS.ProcessEnv = process.env): Config {
  const out: Record<string, unknown> = {}
  for (const [name, schema] of Object.entries(ConfigSchema.properties) as Array<[string, TSchema & { default?: unknown, description?: string }]>) {
    const raw = env[name]
    if (raw === undefined || raw === '') {
      if (schema.default !== undefined) out[name] = schema.default
      continue
    }
    const value = convert(schema, raw.trim())
    if (!ajv.validate(schema, value)) {
      const got = SECRET.has(name) ? '' : ` (got ${JSON.stringify(raw)})`
      throw new ConfigError(`Invalid configuration: ${name} must be ${schema.description}${got}`)
    }
    out[name] = value
  }
  return out as Config
}

function convert (schema: TSchema & { type?: unknown }, raw: string): unknown {
  if (schema.type === 'integer') return /^-?\d+$/.test(raw) ? Number(raw) : raw
  if (schema.type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw
  return raw
}

/** Fastify's `trustProxy` from its string form: a boolean, a hop count, or addresses. */
export function trustProxy (value: string): boolean | string | ((address: string, hop: number) => boolean) {
  if (value === 'true') return true
  if (value === 'false') return false
  if (/^\d+$/.test(value)) {
    const hops = Number(value)
    return (_address, hop) => hop < hops
  }
  return value
}
