/**
 * Correctness, checked against the running server before and after timing,
 * and against the database file after the server has stopped (gracefully or
 * by SIGKILL): a fast server that forgets a revocation fails the benchmark.
 */
import { readFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import pg from 'pg'

const LOGGED_OUT = '{"success":true,"message":"Sesión cerrada exitosamente"}'
const UNAUTHORIZED = '{"success":false,"message":"Token no proporcionado o inválido"}'

function fail (what: string): never {
  throw new Error(`correctness check failed: ${what}`)
}

export function logout (url: string, token: string): Promise<Response> {
  return fetch(url + '/api/v1/auth/logout', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ token })
  })
}

export function me (url: string, token: string): Promise<Response> {
  return fetch(url + '/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } })
}

async function expect401 (what: string, res: Response): Promise<void> {
  const body = await res.text()
  if (res.status !== 401 || body !== UNAUTHORIZED) fail(`${what}: ${res.status} ${body}`)
}

/** A fresh token: /me 200, logout 200 with the exact envelope and headers, then 401 on logout and on /me. */
export async function checkFreshLogout (url: string, token: string): Promise<void> {
  const before = await me(url, token)
  if (before.status !== 200) fail(`fresh token /me: ${before.status} ${await before.text()}`)
  await before.text()
  const res = await logout(url, token)
  const body = await res.text()
  if (res.status !== 200 || body !== LOGGED_OUT) fail(`fresh logout: ${res.status} ${body}`)
  if (res.headers.get('cache-control') !== 'no-store') fail('logout Cache-Control')
  if (res.headers.get('clear-site-data') !== '"cookies", "storage"') fail('logout Clear-Site-Data')
  await expect401('second logout', await logout(url, token))
  await expect401('/me after logout', await me(url, token))
}

/** The durable baseline: a fresh token's logout is 200 with the server's envelope, the second 401 with its envelope. */
export async function checkBaselineLogout (url: string, token: string): Promise<void> {
  const res = await logout(url, token)
  const body = await res.text()
  if (res.status !== 200 || body !== LOGGED_OUT) fail(`baseline fresh logout: ${res.status} ${body}`)
  await expect401('baseline second logout', await logout(url, token))
}

/** A token consumed by the load is refused on both routes. */
export async function checkConsumed (url: string, token: string): Promise<void> {
  await expect401('consumed token logout', await logout(url, token))
  await expect401('consumed token /me', await me(url, token))
}

const claims = (token: string): { sub: string, sid: string, jti: string } =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'))

/**
 * Every token whose logout was acknowledged (200) has no session row and has
 * its revocation record, in the file as the next process will open it.
 * Returns how many were checked.
 */
export function checkAcked (dbPath: string, ackedFile: string): number {
  const acked = readFileSync(ackedFile, 'utf8').split('\n').filter((l) => l !== '')
  const db = new Database(dbPath)
  try {
    const live = db.prepare('SELECT 1 FROM sessions WHERE user_id = ? AND id = ?').pluck()
    const revoked = new Map<string, string>()
    for (const r of db.prepare('SELECT jti, session_id AS sid FROM revoked_tokens').iterate() as Iterable<{ jti: string, sid: string }>) revoked.set(r.jti, r.sid)
    for (const token of acked) {
      const { sub, sid, jti } = claims(token)
      if (live.get(sub, sid) !== undefined) fail(`acknowledged logout of session ${sid} was lost: its row is back`)
      if (revoked.get(jti) !== sid) fail(`acknowledged logout of session ${sid} has no revocation record`)
    }
  } finally {
    db.close()
  }
  return acked.length
}

/**
 * The same check on PostgreSQL (`npm run bench -- --store postgres`):
 * every acknowledged logout has no session row and its revocation record,
 * read by a connection of its own after the servers have stopped.
 */
export async function checkAckedPostgres (url: string, ackedFiles: string[]): Promise<number> {
  const acked = ackedFiles.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l !== ''))
  const c = acked.map(claims)
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows: live } = await client.query<{ id: string }>(
      'SELECT s.id FROM sessions s JOIN unnest($1::text[], $2::text[]) AS a (u, i) ON s.user_id = a.u AND s.id = a.i LIMIT 1',
      [c.map((x) => x.sub), c.map((x) => x.sid)])
    if (live.length > 0) fail(`acknowledged logout of session ${live[0]!.id} was lost: its row is still there`)
    const { rows } = await client.query<{ jti: string, sid: string }>(
      'SELECT r.jti, r.session_id AS sid FROM revoked_tokens r WHERE r.jti = ANY ($1::text[])', [c.map((x) => x.jti)])
    const revoked = new Map(rows.map((r) => [r.jti, r.sid]))
    for (const { sid, jti } of c) if (revoked.get(jti) !== sid) fail(`acknowledged logout of session ${sid} has no revocation record`)
  } finally {
    await client.end()
  }
  return acked.length
}
