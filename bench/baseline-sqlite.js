// Baseline 4: Fastify + @fastify/jwt (baseline-jwt.js's verify options) +
// better-sqlite3, one GET route that verifies the Bearer token, then reads
// its session row by primary key with a prepared statement (the same row
// and user e-mail as the server, no cache of any kind) and answers the same
// data as GET /api/v1/auth/me. What a straightforward, correct /me costs on
// SQLite: the reference for the server's /me at sizes no cache can hold.
// PORT, JWT_SECRET and DATABASE_PATH (a seeded file, read only) from the environment.
import { jwtFastify, UNAUTHORIZED, verified } from './baseline-kit.js'
import Database from 'better-sqlite3'

const db = new Database(process.env.DATABASE_PATH, { readonly: true })
// The server's own page cache size (lib/store/sqlite/open.ts).
db.pragma('cache_size = -8192')
const byKey = db.prepare(`SELECT s.jti, s.created_at AS createdAt, s.expires_at AS expiresAt, s.ip, s.user_agent AS userAgent, u.email
  FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.user_id = ? AND s.id = ?`)

const fastify = await jwtFastify()
fastify.get('/api/v1/auth/me', async (request, reply) => {
  const claims = await verified(request, reply)
  if (claims === null) return reply
  const s = byKey.get(claims.sub, claims.sid)
  if (s === undefined || s.jti !== claims.jti) return reply.code(401).send(UNAUTHORIZED)
  return {
    success: true,
    message: 'Sesión activa',
    data: {
      user: { id: claims.sub, email: s.email },
      session: { id: claims.sid, createdAt: new Date(s.createdAt).toISOString(), expiresAt: new Date(s.expiresAt * 1000).toISOString(), ip: s.ip, userAgent: s.userAgent }
    }
  }
})
await fastify.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.stdout.write('listening\n')
