/**
 * Graceful shutdown over keep-alive connections. Fastify closes only the
 * connections that are idle when close() starts; one that is busy then is
 * answered and stays open, idle, for the client's keep-alive (up to 72 s),
 * so the server never finishes closing and close-with-grace kills the
 * process after its delay with exit code 1. Once close() has begun, every
 * response says `Connection: close` and Node ends the socket after it, and
 * a request that still arrives (close() waits in its preClose phase while a
 * purge finishes) gets the 503 envelope rather than Fastify's own body.
 * @see https://www.rfc-editor.org/rfc/rfc9112#section-9.6
 */
import fp from 'fastify-plugin'
import { ServiceUnavailableError } from '../../lib/errors.js'

export default fp(async function shutdown (fastify) {
  let closing = false
  fastify.addHook('preClose', async () => { closing = true })
  fastify.addHook('onRequest', async (request, reply) => {
    if (!closing) return
    // /health keeps its own shape: a load balancer reads it to stop routing here.
    if (request.routeOptions.url === '/health') return reply.code(503).send({ status: 'unavailable' })
    throw new ServiceUnavailableError()
  })
  fastify.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
  })
}, { name: 'shutdown' })
