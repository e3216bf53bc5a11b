/**
 * Minimum versions of the two dependencies whose flaws would break the
 * contract: fast-jwt below 6.3.1 and fastify below 5.8.1 had token-forgery
 * and content-type parsing flaws. Read from the installed package.json
 * (what actually runs) and from the lock file (what `npm ci` installs).
 * No network here; npm audit is run by hand and reported (SECURITY.md).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import t from 'tap'

const require = createRequire(import.meta.url)

/** The installed version of `name`, resolved the way the service resolves it. */
function installed (name: string, from?: string): string {
  const path = require.resolve(`${name}/package.json`, from === undefined ? undefined : { paths: [from] })
  return JSON.parse(readFileSync(path, 'utf8')).version
}

/** a >= b for plain x.y.z versions (pre-release tags count as lower). */
function atLeast (a: string, b: string): boolean {
  const parse = (v: string) => {
    const [core, pre] = v.split('-', 2) as [string, string | undefined]
    return { parts: core.split('.').map(Number), pre }
  }
  const x = parse(a)
  const y = parse(b)
  for (let i = 0; i < 3; i++) {
    if (x.parts[i]! !== y.parts[i]!) return x.parts[i]! > y.parts[i]!
  }
  return x.pre === undefined || y.pre !== undefined
}

const MINIMUM = { fastify: '5.8.1', 'fast-jwt': '6.3.1' } as const

t.test('the version comparison', async (t) => {
  t.ok(atLeast('5.8.1', '5.8.1'))
  t.ok(atLeast('5.12.0', '5.8.1'), 'numeric, not lexical')
  t.notOk(atLeast('5.8.0', '5.8.1'))
  t.notOk(atLeast('4.99.9', '5.8.1'))
  t.notOk(atLeast('5.8.1-rc.1', '5.8.1'), 'a pre-release is below its release')
  t.ok(atLeast('6.0.0', '5.8.1'))
})

t.test('installed fastify and fast-jwt are at or above the fixed versions', async (t) => {
  const fastify = installed('fastify')
  t.ok(atLeast(fastify, MINIMUM.fastify), `fastify ${fastify} >= ${MINIMUM.fastify}`)
  // fast-jwt as @fastify/jwt loads it (a nested copy would be the one that runs).
  const jwtDir = require.resolve('@fastify/jwt/package.json').replace(/package\.json$/, '')
  const fastJwt = installed('fast-jwt', jwtDir)
  t.ok(atLeast(fastJwt, MINIMUM['fast-jwt']), `fast-jwt ${fastJwt} >= ${MINIMUM['fast-jwt']}`)
})

t.test('the lock file resolves no copy of them below the fixed versions', async (t) => {
  const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8'))
  for (const [path, entry] of Object.entries(lock.packages as Record<string, { version?: string }>)) {
    for (const [name, min] of Object.entries(MINIMUM)) {
      if (path.endsWith(`node_modules/${name}`)) t.ok(atLeast(entry.version!, min), `${path} ${entry.version} >= ${min}`)
    }
  }
})
