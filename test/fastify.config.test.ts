import t from 'tap'
import { ConfigError, loadConfig, trustProxy } from '../fastify.config.js'

t.test('every variable has its default when unset or empty', async (t) => {
  const defaults = {
    PORT: 3000,
    HOST: '127.0.0.1',
    DATABASE_PATH: './data/auth.db',
    TOKEN_TTL_SECONDS: 3600,
    CLOCK_TOLERANCE_SECONDS: 0,
    RATE_LIMIT_MAX: 100,
    LOGIN_RATE_LIMIT_MAX: 10,
    BODY_LIMIT_BYTES: 65536,
    RATE_LIMIT_WINDOW_MS: 60000,
    REGISTRATION_ENABLED: true,
    PURGE_INTERVAL_SECONDS: 600,
    LOG_LEVEL: 'info',
    TRUST_PROXY: 'false',
    SESSION_IDLE_SECONDS: 604800,
    SESSION_MAX_SECONDS: 2592000,
    REFRESH_REUSE_GRACE_SECONDS: 30,
    AUDIT_RETENTION_DAYS: 365,
    REQUEST_TIMEOUT_MS: 30000,
    HEADERS_TIMEOUT_MS: 10000,
    REDIS_KEY_PREFIX: 'auth-sessions:'
  }
  t.strictSame(loadConfig({}), defaults)
  const empty = Object.fromEntries(Object.keys({ ...defaults, JWT_SECRET: 1, JWT_ISSUER: 1, JWT_AUDIENCE: 1, REDIS_URL: 1 }).map((k) => [k, '']))
  t.strictSame(loadConfig(empty), defaults, 'empty means unset: JWT_SECRET generated, issuer/audience off, no Redis')
})

t.test('session lifetimes: bounded, one line naming the variable', async (t) => {
  t.throws(() => loadConfig({ REFRESH_REUSE_GRACE_SECONDS: '61' }), { message: 'Invalid configuration: REFRESH_REUSE_GRACE_SECONDS must be an integer from 0 to 60 (got "61")' })
  t.throws(() => loadConfig({ SESSION_IDLE_SECONDS: '0' }), ConfigError)
  t.throws(() => loadConfig({ AUDIT_RETENTION_DAYS: '-1' }), ConfigError)
  t.equal(loadConfig({ AUDIT_RETENTION_DAYS: '0' }).AUDIT_RETENTION_DAYS, 0, '0 keeps the audit trail forever')
})

t.test('values are converted from their string form', async (t) => {
  const c = loadConfig({
    PORT: '0',
    HOST: '0.0.0.0',
    DATABASE_PATH: ':memory:',
    JWT_SECRET: 'x'.repeat(32),
    TOKEN_TTL_SECONDS: ' 60 ',
    CLOCK_TOLERANCE_SECONDS: '5',
    JWT_ISSUER: 'https://issuer.example',
    JWT_AUDIENCE: 'clients',
    RATE_LIMIT_MAX: '0',
    LOGIN_RATE_LIMIT_MAX: '0',
    BODY_LIMIT_BYTES: '1024',
    RATE_LIMIT_WINDOW_MS: '1000',
    REGISTRATION_ENABLED: 'false',
    PURGE_INTERVAL_SECONDS: '1',
    LOG_LEVEL: 'silent',
    TRUST_PROXY: '10.0.0.0/8, 127.0.0.1',
    SESSION_IDLE_SECONDS: '60',
    SESSION_MAX_SECONDS: '120',
    REFRESH_REUSE_GRACE_SECONDS: '0',
    AUDIT_RETENTION_DAYS: '7',
    REQUEST_TIMEOUT_MS: '0',
    HEADERS_TIMEOUT_MS: '500',
    DATABASE_URL: 'postgres://auth:pw@db.example:5432/auth',
    REDIS_URL: 'rediss://user:pw@cache.internal:6380/2',
    REDIS_KEY_PREFIX: 'prod:auth:'
  })
  t.strictSame(c, {
    PORT: 0,
    HOST: '0.0.0.0',
    DATABASE_PATH: ':memory:',
    JWT_SECRET: 'x'.repeat(32),
    TOKEN_TTL_SECONDS: 60,
    CLOCK_TOLERANCE_SECONDS: 5,
    JWT_ISSUER: 'https://issuer.example',
    JWT_AUDIENCE: 'clients',
    RATE_LIMIT_MAX: 0,
    LOGIN_RATE_LIMIT_MAX: 0,
    BODY_LIMIT_BYTES: 1024,
    RATE_LIMIT_WINDOW_MS: 1000,
    REGISTRATION_ENABLED: false,
    PURGE_INTERVAL_SECONDS: 1,
    LOG_LEVEL: 'silent',
    TRUST_PROXY: '10.0.0.0/8, 127.0.0.1',
    SESSION_IDLE_SECONDS: 60,
    SESSION_MAX_SECONDS: 120,
    REFRESH_REUSE_GRACE_SECONDS: 0,
    AUDIT_RETENTION_DAYS: 7,
    REQUEST_TIMEOUT_MS: 0,
    HEADERS_TIMEOUT_MS: 500,
    DATABASE_URL: 'postgres://auth:pw@db.example:5432/auth',
    REDIS_URL: 'rediss://user:pw@cache.internal:6380/2',
    REDIS_KEY_PREFIX: 'prod:auth:'
  })
  t.equal(loadConfig({ REGISTRATION_ENABLED: 'true' }).REGISTRATION_ENABLED, true)
  t.equal(loadConfig({ DATABASE_URL: 'postgresql:///auth?host=/run/postgresql' }).DATABASE_URL, 'postgresql:///auth?host=/run/postgresql')
})

t.test('a bad value is a ConfigError naming the variable and what it expected', async (t) => {
  const bad: Array<[string, string, string]> = [
    ['PORT', '65536', 'an integer from 0 to 65535'],
    ['PORT', '80.5', 'an integer from 0 to 65535'],
    ['PORT', 'http', 'an integer from 0 to 65535'],
    ['HOST', ' ', 'a listen address'],
    ['TOKEN_TTL_SECONDS', '0', 'an integer from 1 to 31536000'],
    ['TOKEN_TTL_SECONDS', '-5', 'an integer from 1 to 31536000'],
    ['TOKEN_TTL_SECONDS', '1e3', 'an integer from 1 to 31536000'],
    ['CLOCK_TOLERANCE_SECONDS', '3601', 'an integer from 0 to 3600'],
    ['RATE_LIMIT_MAX', '-1', 'an integer, 0 or more (0 turns the limit off)'],
    ['LOGIN_RATE_LIMIT_MAX', 'ten', 'an integer, 0 or more (0 turns the limit off)'],
    ['BODY_LIMIT_BYTES', '0', 'an integer from 1 to 1073741824'],
    ['RATE_LIMIT_WINDOW_MS', '0', 'an integer from 1 to 86400000'],
    ['REGISTRATION_ENABLED', 'yes', '"true" or "false"'],
    ['PURGE_INTERVAL_SECONDS', '86401', 'an integer from 1 to 86400'],
    ['LOG_LEVEL', 'verbose', 'one of fatal, error, warn, info, debug, trace, silent'],
    ['TRUST_PROXY', 'maybe', 'true, false, a hop count or a comma-separated list of addresses'],
    ['REQUEST_TIMEOUT_MS', '3600001', 'an integer from 0 to 3600000'],
    ['HEADERS_TIMEOUT_MS', 'x', 'an integer from 0 to 3600000'],
    ['JWT_ISSUER', 'i'.repeat(257), 'a string of 1 to 256 characters'],
    ['JWT_AUDIENCE', 'a'.repeat(257), 'a string of 1 to 256 characters'],
    ['REDIS_KEY_PREFIX', 'a b:', 'a prefix of up to 256 characters without spaces'],
    ['REDIS_KEY_PREFIX', 'p'.repeat(257), 'a prefix of up to 256 characters without spaces']
  ]
  for (const [name, value, expected] of bad) {
    t.throws(() => loadConfig({ [name]: value }), new ConfigError(`Invalid configuration: ${name} must be ${expected} (got ${JSON.stringify(value)})`), `${name}=${value}`)
  }
  const err = t.throws(() => loadConfig({ JWT_SECRET: 'too-short-secret' })) as Error
  t.ok(err instanceof ConfigError)
  t.equal(err.name, 'ConfigError')
  t.equal(err.message, 'Invalid configuration: JWT_SECRET must be at least 32 characters', 'the secret is never echoed')
  t.notMatch(err.message, '\n', 'one line')
  for (const url of ['mysql://root:hunter2@db/auth', 'hunter2', 'postgres://root:hunter2@db/a b']) {
    t.throws(() => loadConfig({ DATABASE_URL: url }),
      new ConfigError('Invalid configuration: DATABASE_URL must be a postgres:// or postgresql:// URL'), 'the URL and its password are never echoed')
  }
  for (const url of ['http://cache:6379', 'cache:6379', 'redis://']) {
    const e = t.throws(() => loadConfig({ REDIS_URL: url })) as Error
    t.equal(e.message, 'Invalid configuration: REDIS_URL must be a redis:// or rediss:// URL', `${url}: its password is never echoed`)
  }
})

t.test('TRUST_PROXY maps to Fastify trustProxy', async (t) => {
  t.equal(trustProxy('true'), true)
  t.equal(trustProxy('false'), false)
  t.equal(trustProxy('10.0.0.1,10.0.0.2'), '10.0.0.1,10.0.0.2')
  const hops = trustProxy('2') as (address: string, hop: number) => boolean
  t.equal(hops('1.2.3.4', 0), true)
  t.equal(hops('1.2.3.4', 1), true)
  t.equal(hops('1.2.3.4', 2), false)
})
