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
import { ShuttingDownError } from '../../lib/errors.js'

export default fp(async function shutdown (fastify) {
  let closing = false
  fastify.addHook('preClose', async () => { closing = true })
  // Callback-style hooks: they run on every request, and an async hook costs
  // a promise and its microtask turns even when it has nothing to do.
  fastify.addHook('onRequest', function (request, reply, done) {
    if (!closing) return done()
    // /health keeps its own shape: a load balancer reads it to stop routing here.
    if (request.routeOptions.url === '/health') return reply.code(503).send({ status: 'unavailable' })
    done(new ShuttingDownError())
  })
  fastify.addHook('onSend', function (_request, reply, _payload, done) {
    if (closing) reply.header('connection', 'close')
    done()
  })
}, { name: 'shutdown' })
