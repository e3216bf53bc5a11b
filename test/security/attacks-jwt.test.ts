/**
 * The token half of the attack catalogue (RFC 8725, OWASP JWT cheat sheet,
 * ASVS 5.0 V9, jwt_tool's playbook). Every forged token is built from the
 * victim's own claims, so accepting any of them would end the victim's
 * session: each case checks the exact 401 envelope, that no library text
 * leaks, and that the victim's /me is still 200.
 */
import { createServer } from 'node:net'
import { once } from 'node:events'
import t from 'tap'
import { build, login, logout, me, SECRET, UNAUTHORIZED, EXPIRED, LOGGED_OUT } from '../helper.js'
import { assertNoLeak, b64, claimsOf, hmac, json64, junkSignature, OUR_HEADER, sign, signRaw } from '../jwt.js'

const HS256 = { alg: 'HS256', typ: 'JWT' }
const now = () => Math.floor(Date.now() / 1000)

t.test('forged and malformed tokens', async (t) => {
  const app = await build(t, { RATE_LIMIT_MAX: '0', LOGIN_RATE_LIMIT_MAX: '0' })
  const victim = await login(app)
  const claims = claimsOf(victim.token)
  const [vHeader, vPayload, vSig] = victim.token.split('.') as [string, string, string]

  // A listener that must never be contacted: jku / x5u / kid URLs point here.
  let outbound = 0
  const trap = createServer((socket) => { outbound++; socket.destroy() })
  trap.listen(0, '127.0.0.1')
  await once(trap, 'listening')
  t.teardown(() => trap.close())
  const trapUrl = `http://127.0.0.1:${(trap.address() as { port: number }).port}/jwks.json`

  /** The attack: the forged token in both places, 401 envelope, victim alive. */
  async function refused (name: string, token: string, status = 401, envelope: object = UNAUTHORIZED) {
    await t.test(name, async (t) => {
      const res = await logout(app, token)
      t.equal(res.statusCode, status)
      t.same(res.json(), envelope)
      t.same(Object.keys(res.json()).sort(), ['message', 'success'])
      if (status === 401) t.match(res.headers['www-authenticate'], /^Bearer realm="auth-sessions"/)
      assertNoLeak(t, res, token)
      t.equal((await me(app, token)).statusCode, status, '/me refuses it too')
      t.equal((await me(app, victim.token)).statusCode, 200, 'the victim session is untouched')
    })
  }

  // --- alg none, every casing (RFC 8725 §3.1; CVE-2015-9235) ---
  for (const alg of ['none', 'None', 'NONE', 'nOnE', 'nonE']) {
    const header = json64({ alg, typ: 'JWT' })
    await refused(`alg ${alg}, empty signature`, `${header}.${vPayload}.`)
    await refused(`alg ${alg}, signature stripped`, `${header}.${vPayload}`)
    await refused(`alg ${alg}, original signature kept`, `${header}.${vPayload}.${vSig}`)
  }
  await refused('alg missing from the header', sign(claims, { typ: 'JWT' }, SECRET))
  await refused('alg null', `${json64({ alg: null, typ: 'JWT' })}.${vPayload}.`)

  // --- null and stripped signatures on our own header ---
  await refused('null signature (trailing dot)', `${vHeader}.${vPayload}.`)
  await refused('signature stripped (two segments)', `${vHeader}.${vPayload}`)
  await refused('signature of zero bytes', `${vHeader}.${vPayload}.${b64(Buffer.alloc(32))}`)
  await refused('signature "null"', `${vHeader}.${vPayload}.null`)

  // --- blank and guessable keys ---
  await refused('blank-key HMAC', sign({ ...claims, sub: 'attacker' }, HS256, ''))
  await refused('blank-key HMAC with the victim claims', sign(claims, HS256, ''))
  await refused('HMAC keyed with "secret"', sign(claims, HS256, 'secret'))
  await refused('HMAC keyed with a null byte', sign(claims, HS256, Buffer.alloc(1)))

  // --- every other algorithm in the header (RFC 8725 §3.1, §2.1 key confusion) ---
  for (const [alg, hash] of [['HS384', 'sha384'], ['HS512', 'sha512']] as const) {
    await refused(`${alg} signed with the real secret`, sign(claims, { alg, typ: 'JWT' }, SECRET, hash))
  }
  for (const alg of ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'ES256K', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519']) {
    await refused(`${alg} with a junk signature`, `${json64({ alg, typ: 'JWT' })}.${vPayload}.${junkSignature(alg.startsWith('E') ? 64 : 256)}`)
    // RS/HS confusion: the "public key" (here the secret itself) used as an HMAC key.
    await refused(`${alg} header, HMAC-signed with the secret`, sign(claims, { alg, typ: 'JWT' }, SECRET))
  }
  await refused('HS256 in lower case', sign(claims, { alg: 'hs256', typ: 'JWT' }, SECRET))
  await refused('alg as an array', sign(claims, { alg: ['HS256'], typ: 'JWT' }, SECRET))
  await refused('HS256 with the keys reordered, correctly signed', sign(claims, { typ: 'JWT', alg: 'HS256' }, SECRET))
  await refused('HS256 with a space in the header JSON, correctly signed', signRaw('{"alg": "HS256","typ":"JWT"}', JSON.stringify(claims), SECRET))
  await refused('typ changed to JWS, correctly signed', sign(claims, { alg: 'HS256', typ: 'JWS' }, SECRET))

  // --- keys the token brings with it (RFC 8725 §3.10; CVE-2018-0114) ---
  const attackerKey = 'attacker-controlled-key-material-0123456789'
  await refused('embedded jwk (oct) signing the token', sign(claims, { ...HS256, jwk: { kty: 'oct', k: b64(attackerKey) } }, attackerKey))
  await refused('embedded jwk (RSA) with RS256', `${json64({ alg: 'RS256', typ: 'JWT', jwk: { kty: 'RSA', e: 'AQAB', n: junkSignature(256) } })}.${vPayload}.${junkSignature(256)}`)
  await refused('jku to a listener', sign(claims, { ...HS256, jku: trapUrl }, attackerKey))
  await refused('x5u to a listener', sign(claims, { ...HS256, x5u: trapUrl }, attackerKey))
  await refused('x5c embedded chain', sign(claims, { ...HS256, x5c: [b64('not a certificate')] }, attackerKey))
  await refused('jku with RS256', `${json64({ alg: 'RS256', typ: 'JWT', jku: trapUrl })}.${vPayload}.${junkSignature(256)}`)

  // --- kid injection (jwt_tool -I -hc kid) ---
  await refused('kid path traversal to /dev/null, blank key', sign(claims, { ...HS256, kid: '../../../../../../dev/null' }, ''))
  await refused('kid path traversal with a URL', sign(claims, { ...HS256, kid: trapUrl }, ''))
  await refused('kid SQL injection', sign(claims, { ...HS256, kid: "x' UNION SELECT 'key';--" }, 'key'))
  await refused('kid SQL injection, settings table', sign(claims, { ...HS256, kid: "' OR 1=1 UNION SELECT value FROM settings--" }, SECRET))
  await refused('kid shell injection', sign(claims, { ...HS256, kid: 'key|/usr/bin/touch /tmp/pwned; `id` $(id)' }, ''))
  await refused('kid with the real secret', sign(claims, { ...HS256, kid: '1' }, SECRET))

  // --- crit (RFC 7515 §4.1.11: unknown critical extensions must be refused) ---
  await refused('crit naming an unknown extension, correctly signed', sign(claims, { ...HS256, crit: ['exp'], exp: 1 }, SECRET))
  await refused('crit with b64:false, correctly signed', sign(claims, { ...HS256, crit: ['b64'], b64: false }, SECRET))

  // --- claim type confusion, correctly signed (a verifier must check types, RFC 8725 §3.11) ---
  await refused('exp as a string', sign({ ...claims, exp: String(claims.exp) }, HS256, SECRET))
  await refused('exp as a float', sign({ ...claims, exp: claims.exp + 0.5 }, HS256, SECRET))
  await refused('iat as a string', sign({ ...claims, iat: String(claims.iat) }, HS256, SECRET))
  await refused('iat negative', sign({ ...claims, iat: -1 }, HS256, SECRET))
  await refused('jti as an array', sign({ ...claims, jti: [claims.jti] }, HS256, SECRET))
  await refused('jti as an object', sign({ ...claims, jti: { toString: claims.jti } }, HS256, SECRET))
  await refused('jti as a number', sign({ ...claims, jti: 1 }, HS256, SECRET))
  await refused('jti empty', sign({ ...claims, jti: '' }, HS256, SECRET))
  await refused('sub as a number', sign({ ...claims, sub: 1 }, HS256, SECRET))
  await refused('sub as an array', sign({ ...claims, sub: [claims.sub] }, HS256, SECRET))
  await refused('sid as an object', sign({ ...claims, sid: { $ne: null } }, HS256, SECRET))
  await refused('sid too long', sign({ ...claims, sid: 'x'.repeat(300) }, HS256, SECRET))
  await refused('payload is an array', signRaw(JSON.stringify(HS256), JSON.stringify([claims]), SECRET))
  await refused('payload is a string', signRaw(JSON.stringify(HS256), JSON.stringify('claims'), SECRET))
  await refused('payload is null', signRaw(JSON.stringify(HS256), 'null', SECRET))
  await refused('payload is not JSON', signRaw(JSON.stringify(HS256), 'not json', SECRET))

  // --- missing claims, correctly signed ---
  for (const claim of ['sub', 'sid', 'jti', 'iat', 'exp']) {
    const { [claim]: _dropped, ...rest } = claims
    await refused(`missing ${claim}`, sign(rest, HS256, SECRET))
  }
  await refused('empty payload', sign({}, HS256, SECRET))

  // --- time claims ---
  await refused('nbf in the future', sign({ ...claims, nbf: now() + 3600 }, HS256, SECRET))
  await refused('iat in the future', sign({ ...claims, iat: now() + 3600, exp: now() + 7200 }, HS256, SECRET))
  await refused('nbf as a string', sign({ ...claims, nbf: 'yesterday' }, HS256, SECRET))
  await refused('expired and forged: signature before expiry', sign({ ...claims, exp: now() - 10, iat: now() - 20 }, HS256, 'wrong key'))
  await refused('expired and correctly signed', sign({ ...claims, exp: now() - 10, iat: now() - 20 }, HS256, SECRET), 403, EXPIRED)

  // --- tampered claims under the original signature ---
  const tamper = (change: Record<string, unknown>) => `${vHeader}.${json64({ ...claims, ...change })}.${vSig}`
  await refused('tampered sub, original signature', tamper({ sub: 'someone-else' }))
  await refused('tampered exp, original signature', tamper({ exp: claims.exp + 86400 }))
  await refused('tampered jti, original signature', tamper({ jti: 'x'.repeat(22) }))
  await refused('added admin claim, original signature', tamper({ admin: true }))
  await refused('one signature bit flipped', `${vHeader}.${vPayload}.${vSig.slice(0, -2)}${vSig.at(-2) === 'A' ? 'B' : 'A'}${vSig.at(-1)}`)

  // --- the session binding: a validly signed token must still match its session row ---
  const other = await login(app)
  await refused('valid signature, sub of another user', sign({ ...claims, sub: claimsOf(other.token).sub }, HS256, SECRET))
  await refused('valid signature, jti of another session', sign({ ...claims, jti: claimsOf(other.token).jti }, HS256, SECRET))
  await refused('valid signature, unknown sid', sign({ ...claims, sid: 'unknown-session-id-000' }, HS256, SECRET))
  await refused('signed by another deployment\'s secret', sign(claims, HS256, 'another-secret-that-is-at-least-32-characters'))

  // --- non-canonical base64url (RFC 7515 §2, RFC 4648 §3.5) ---
  await refused('padded payload segment', `${vHeader}.${vPayload}${'='.repeat((4 - vPayload.length % 4) % 4 || 2)}.${vSig}`)
  await refused('padded signature', `${vHeader}.${vPayload}.${vSig}=`)
  await refused('padded header', `${vHeader}==.${vPayload}.${vSig}`)
  await refused('standard base64 alphabet (+ and /)', `${vHeader}.${vPayload}.${vSig.slice(0, -3)}+/${vSig.at(-1)}`)
  await refused('stray bits in the signature\'s last character', `${vHeader}.${vPayload}.${vSig.slice(0, -1)}${String.fromCharCode(vSig.charCodeAt(vSig.length - 1) + 1)}`)
  const sibling = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const strayPayload = vPayload.length % 4 === 0 ? null : vPayload.slice(0, -1) + sibling[sibling.indexOf(vPayload.at(-1)!) + 1]
  if (strayPayload !== null) await refused('stray bits in the payload\'s last character', `${vHeader}.${strayPayload}.${vSig}`)
  await refused('payload segment of an impossible length (4k+1)', `${vHeader}.${vPayload.length % 4 === 1 ? vPayload : (vPayload + 'AAAA').slice(0, vPayload.length + ((1 - vPayload.length % 4 + 4) % 4))}.${vSig}`)
  await refused('space inside the token', `${vHeader}.${vPayload.slice(0, 10)} ${vPayload.slice(10)}.${vSig}`)
  await refused('newline-encoded inside the token', `${vHeader}.${vPayload}%0A.${vSig}`)
  await refused('percent-encoded dot', `${vHeader}%2E${vPayload}.${vSig}`)

  // --- segment counts ---
  await refused('two segments', `${vHeader}.${vPayload}`)
  await refused('four segments', `${victim.token}.${vSig}`)
  await refused('five segments (JWE shape)', `${vHeader}.${vPayload}.${vSig}.${vSig}.${vSig}`)
  await refused('one segment', vPayload)
  await refused('empty segments', '..')

  // --- sizes: nothing past our own token's size reaches the JWT library ---
  const kb8 = sign({ ...claims, pad: 'x'.repeat(8 * 1024) }, HS256, SECRET)
  await refused('8 KB token, correctly signed', kb8)
  await t.test('100 KB token: the body limit answers first (413)', async (t) => {
    const big = sign({ ...claims, pad: 'x'.repeat(100 * 1024) }, HS256, SECRET)
    const res = await logout(app, big)
    t.equal(res.statusCode, 413)
    t.same(res.json(), { success: false, message: 'Solicitud demasiado grande' })
    assertNoLeak(t, res, big)
    t.equal((await me(app, big)).statusCode, 401, '/me has no body: 401')
    t.equal((await me(app, victim.token)).statusCode, 200)
  })

  // --- duplicate keys: JSON.parse keeps the last one; the signature covers the bytes ---
  await refused('duplicate alg in the header (none last)', signRaw('{"alg":"HS256","typ":"JWT","alg":"none"}', JSON.stringify(claims), SECRET))
  await refused('duplicate alg in the header (HS256 last), forged', `${b64('{"alg":"none","alg":"HS256","typ":"JWT"}')}.${vPayload}.`)
  const dupSub = JSON.stringify(claims).replace('{', '{"sub":"attacker",')
  await refused('duplicate sub in the payload, original signature', `${vHeader}.${b64(dupSub)}.${vSig}`)
  await refused('duplicate sub in the payload, forged with a blank key', signRaw(JSON.stringify(HS256), dupSub.replace('{"sub":"attacker",', '{').replace(/}$/, ',"sub":"attacker"}'), ''))

  await t.test('no outbound request was ever made (jku, x5u, kid URLs)', async (t) => {
    await new Promise((resolve) => setTimeout(resolve, 100))
    t.equal(outbound, 0)
  })

  await t.test('control: the victim token itself still logs out once', async (t) => {
    t.equal(hmac(`${vHeader}.${vPayload}`, SECRET), vSig, 'the kit signs as the service does')
    t.equal(OUR_HEADER, vHeader, 'the kit knows our header')
    const res = await logout(app, victim.token)
    t.equal(res.statusCode, 200)
    t.same(res.json(), LOGGED_OUT)
    t.equal((await me(app, victim.token)).statusCode, 401)
  })
})
