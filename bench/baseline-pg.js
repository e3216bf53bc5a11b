// Baseline 3, for `npm run bench -- --store postgres`: Fastify +
// @fastify/jwt with the server's verify options and a `pg` Pool of the
// server's size on the same database, doing the minimum of each route's
// work (issue 13):
// - GET /api/v1/auth/me: verify the Bearer token, read its session row by
//   primary key (a named, so prepared, statement), 401 unless it exists and
//   names the token;
// - POST /api/v1/auth/logout: verify the Bearer token, then one statement
//   (one transaction, one round trip, committed with the server's durability
//   settings) that deletes the session row and inserts the revocation
//   record; 200 when it deleted a row, 401 when not.
// Plain JavaScript on plain node, like baseline-jwt.js. PORT, JWT_SECRET and
// DATABASE_URL from the environment.
import { jwtFastify, UNAUTHORIZED, verified } from './baseline-kit.js'
import pg from 'pg'
import { POOL_MAX } from '../dist/lib/store/postgres/pool.js'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: POOL_MAX })

const SESSION = `SELECT id, user_id, jti, created_at, expires_at, ip, user_agent
  FROM sessions WHERE user_id = $1 AND id = $2`
const LOGOUT = `WITH gone AS (
    DELETE FROM sessions WHERE user_id = $1 AND id = $2 AND jti = $3
    RETURNING id, user_id, jti, token_exp
  )
  INSERT INTO revoked_tokens (jti, user_id, session_id, expires_at, revoked_at, reason)
  SELECT jti, user_id, id, token_exp, $4, 'logout_local' FROM gone`
// BASELINE_AUDIT=1 (an experiment, not the benchmark's baseline): the same statement also writes the server's audit row.
const LOGOUT_AUDITED = `WITH gone AS (
    DELETE FROM sessions WHERE user_id = $1 AND id = $2 AND jti = $3
    RETURNING id, user_id, jti, token_exp
  ), revoked AS (
    INSERT INTO revoked_tokens (jti, user_id, session_id, expires_at, revoked_at, reason)
    SELECT jti, user_id, id, token_exp, $4, 'logout_local' FROM gone
  )
  INSERT INTO audit_events (at, type, outcome, user_id, session_id, jti, ip, user_agent)
  SELECT $4, 'logout', 'success', user_id, id, jti, $5, $6 FROM gone`
const AUDITED = process.env.BASELINE_AUDIT === '1'

const fastify = await jwtFastify()

fastify.get('/api/v1/auth/me', async (request, reply) => {
  const claims = await verified(request, reply)
  if (claims === null) return reply
  const { rows: [s] } = await pool.query({ name: 'session', text: SESSION, values: [claims.sub, claims.sid] })
  if (s === undefined || s.jti !== claims.jti) return reply.code(401).send(UNAUTHORIZED)
  return {
    success: true,
    message: 'Sesión activa',
    data: { user: { id: s.user_id }, session: { id: s.id, createdAt: s.created_at, expiresAt: s.expires_at, ip: s.ip, userAgent: s.user_agent } }
  }
})

fastify.post('/api/v1/auth/logout', async (request, reply) => {
  const claims = await verified(request, reply)
  if (claims === null) return reply
  const { rowCount } = AUDITED
    ? await pool.query({ name: 'logout', text: LOGOUT_AUDITED, values: [claims.sub, claims.sid, claims.jti, Date.now(), request.ip, request.headers['user-agent'] ?? null] })
    : await pool.query({ name: 'logout', text: LOGOUT, values: [claims.sub, claims.sid, claims.jti, Date.now()] })
  if (rowCount !== 1) return reply.code(401).send(UNAUTHORIZED)
  return { success: true, message: 'Sesión cerrada exitosamente' }
})

await fastify.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.stdout.write('listening\n')
