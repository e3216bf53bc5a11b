/**
 * Graceful shutdown with keep-alive clients. Once closing has begun, every
 * response says `Connection: close`, so a connection that was busy when the
 * signal came is released as soon as its answer is sent. Without it, Node
 * closes only the connections idle at that instant; a busy one lingers until
 * keepAliveTimeout (72 s in Fastify), close-with-grace gives up after 10 s
 * and exits 1, and the database is never closed.
 * Requests that still arrive while closing get the 503 envelope (Fastify's
 * own return503OnClosing answers with a body that is not the envelope).
 * @see https://nodejs.org/api/http.html#serverclosecallback
 */
import fp from 'fastify-plugin'
import createError from '@fastify/error'
import { MESSAGES } from '../../lib/errors.js'

export const ClosingError = createError('SERVER_CLOSING', MESSAGES[503], 503)

export default fp(async function drain (fastify) {
  let closing = false
  fastify.addHook('preClose', async () => { closing = true })
  fastify.addHook('onRequest', async () => {
    if (closing) throw new ClosingError()
  })
  fastify.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
  })
}, { name: 'drain' })
