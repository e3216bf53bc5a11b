// Baseline 1: bare Fastify, one POST route that parses the same JSON body
// and answers the logout's 200 envelope. Plain JavaScript on plain node (no
// loader), like the server's compiled dist/, so its RSS is comparable.
// PORT from the environment; prints "listening" once it accepts connections.
import Fastify from 'fastify'

const fastify = Fastify()
fastify.post('/api/v1/auth/logout', async () => ({ success: true, message: 'Sesión cerrada exitosamente' }))
fastify.get('/health', async () => ({ status: 'ok' }))
await fastify.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.stdout.write('listening\n')
