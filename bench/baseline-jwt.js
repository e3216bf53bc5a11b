// Baseline 2: Fastify + @fastify/jwt with the server's verify options
// (HS256 pinned, verified-token cache), one GET route that only verifies the
// Bearer token and answers an envelope with its subject. No session lookup:
// this is the floor for GET /api/v1/auth/me.
// PORT and JWT_SECRET from the environment.
import { jwtFastify, verified } from './baseline-kit.js'

const fastify = await jwtFastify()
fastify.get('/api/v1/auth/me', async (request, reply) => {
  const claims = await verified(request, reply)
  if (claims === null) return reply
  return { success: true, message: 'Sesión activa', data: { user: { id: claims.sub } } }
})
await fastify.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.stdout.write('listening\n')
