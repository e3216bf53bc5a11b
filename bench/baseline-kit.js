// What every Fastify baseline of the bench shares: Fastify + @fastify/jwt
// with the server's verify options (HS256 pinned, every claim we issue
// required, fast-jwt's verified-token cache), a /health route, and the 401
// envelope. One place, so that no baseline verifies differently from another.
// JWT_SECRET from the environment.
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'

export const UNAUTHORIZED = { success: false, message: 'Token no proporcionado o inválido' }

export async function jwtFastify () {
  const fastify = Fastify()
  await fastify.register(fastifyJwt, {
    secret: process.env.JWT_SECRET,
    verify: { algorithms: ['HS256'], requiredClaims: ['sub', 'jti', 'sid', 'iat', 'exp'], cache: true }
  })
  fastify.get('/health', async () => ({ status: 'ok' }))
  return fastify
}

/** The request's verified claims, or null once the 401 envelope is sent (the handler then returns `reply`). */
export async function verified (request, reply) {
  try {
    return await request.jwtVerify()
  } catch {
    reply.code(401).send(UNAUTHORIZED)
    return null
  }
}
