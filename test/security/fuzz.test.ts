/**
 * Property-based tests (fast-check) over logout's headers and body:
 *  - never a 5xx;
 *  - every failure is exactly { success: false, message } and every
 *    success exactly the logout envelope;
 *  - a live session is never revoked by a request that did not carry its
 *    token both in the Authorization header and in the body.
 * FUZZ_RUNS (default 300) sets the number of runs; the seed is printed on
 * failure by fast-check, to replay it.
 */
import t from 'tap'
import fc from 'fast-check'
import { build, login, me, SECRET, type Login } from '../helper.js'
import { claimsOf, sign } from '../jwt.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 300)

/** A token, symbolically: resolved against the live sessions at run time. */
type Sym = { kind: 'victim' } | { kind: 'attacker' } | { kind: 'mutated', at: number, char: string } |
  { kind: 'forged', alg: string, key: string } | { kind: 'text', value: string }

const symToken: fc.Arbitrary<Sym> = fc.oneof(
  fc.constant<Sym>({ kind: 'victim' }),
  fc.constant<Sym>({ kind: 'attacker' }),
  fc.record({ kind: fc.constant('mutated' as const), at: fc.nat(), char: fc.string({ minLength: 1, maxLength: 2 }) }),
  fc.record({ kind: fc.constant('forged' as const), alg: fc.constantFrom('none', 'HS256', 'HS512', 'RS256', 'ES256'), key: fc.constantFrom('', 'secret', SECRET) }),
  fc.record({ kind: fc.constant('text' as const), value: fc.string({ maxLength: 64 }) })
)

const header = fc.oneof(
  fc.record({ scheme: fc.constantFrom('Bearer ', 'bearer ', 'BEARER  ', 'Bearer\t', 'Basic ', '', 'Bearer'), token: symToken, tail: fc.constantFrom('', ' ', ' x', ',') }),
  fc.constant(null),
  fc.string({ maxLength: 80 }).map((value) => ({ raw: value }))
)

const contentType = fc.oneof(
  fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain',
    'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json whatever', 'application/jsonx'),
  fc.string({ maxLength: 40 })
)

const bodyValue = fc.oneof(
  fc.record({ token: fc.oneof(symToken, fc.jsonValue()), scope: fc.option(fc.oneof(fc.constantFrom('local', 'others', 'global', 'GLOBAL'), fc.jsonValue()), { nil: undefined }) }, { requiredKeys: ['token'] }),
  fc.record({ token: symToken, extra: fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })) }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 60 }).map((raw) => ({ $raw: raw }))
)

type Header = { scheme: string, token: Sym, tail: string } | { raw: string } | null

/** Mostly hostile requests, and one in five well formed with small mutations, so successes happen too. */
const request: fc.Arbitrary<[Header, string, unknown]> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(header, contentType, bodyValue) },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom<Sym>({ kind: 'victim' }, { kind: 'attacker' }),
      fc.constantFrom<Sym | 'same'>('same', 'same', 'same', { kind: 'victim' }, { kind: 'attacker' }),
      fc.option(fc.constantFrom('local', 'others', 'global', 'nope'), { nil: undefined }),
      fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain')
    ).map(([h, b, scope, type]): [Header, string, unknown] =>
      [{ scheme: 'Bearer ', token: h, tail: '' }, type, { token: b === 'same' ? h : b, ...(scope === undefined ? {} : { scope }) }])
  }
)

t.test('logout under fuzzing: no 5xx, envelope only, no revocation without the token in both places', async (t) => {
  const app = await build(t, { RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0' })
  let victim: Login = await login(app)
  let attacker: Login = await login(app)
  let revokedLegitimately = 0

  const resolve = (sym: Sym): string => {
    switch (sym.kind) {
      case 'victim': return victim.token
      case 'attacker': return attacker.token
      case 'mutated': {
        const i = sym.at % victim.token.length
        return victim.token.slice(0, i) + sym.char + victim.token.slice(i + 1)
      }
      // The victim's claims under another algorithm or key; HS256 with the real key but an extra claim.
      case 'forged': return sign({ ...claimsOf(victim.token), forged: true }, { alg: sym.alg, typ: 'JWT' }, sym.key)
      case 'text': return sym.value
    }
  }
  const isSym = (v: unknown): v is Sym => typeof v === 'object' && v !== null && 'kind' in v && typeof (v as { kind: unknown }).kind === 'string' && ['victim', 'attacker', 'mutated', 'forged', 'text'].includes((v as { kind: string }).kind)

  await fc.assert(fc.asyncProperty(request, async ([h, type, b]) => {
    const headers: Record<string, string> = { 'content-type': type }
    if (h !== null) headers.authorization = 'raw' in h ? h.raw : `${h.scheme}${resolve(h.token)}${h.tail}`
    let payload: string
    if (typeof b === 'object' && b !== null && '$raw' in b) {
      payload = String((b as { $raw: unknown }).$raw)
    } else if (typeof b === 'object' && b !== null && 'token' in b) {
      const { token, ...rest } = b as { token: unknown }
      payload = JSON.stringify({ ...rest, token: isSym(token) ? resolve(token) : token })
    } else {
      payload = JSON.stringify(b)
    }

    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers, payload })
    if (res.statusCode >= 500) return false
    const body = res.json()
    if (res.statusCode === 200) {
      if (JSON.stringify(Object.keys(body)) !== '["success","message"]' || body.success !== true) return false
    } else if (JSON.stringify(Object.keys(body).sort()) !== '["message","success"]' || body.success !== false || typeof body.message !== 'string') {
      return false
    }

    // Only a request with a session's token in both places may have ended it.
    for (const who of ['victim', 'attacker'] as const) {
      const s = who === 'victim' ? victim : attacker
      if ((await me(app, s.token)).statusCode === 200) continue
      if (!(headers.authorization ?? '').includes(s.token) || !payload.includes(s.token)) return false
      revokedLegitimately++
      if (who === 'victim') victim = await login(app, s.email)
      else attacker = await login(app, s.email)
    }
    return true
  }), { numRuns: RUNS })
  t.pass(`${RUNS} runs, ${revokedLegitimately} legitimate logouts among them`)
})
