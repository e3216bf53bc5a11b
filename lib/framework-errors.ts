/**
 * Fastify's own refusals before any route runs — a path parameter over its
 * length limit (FST_ERR_MAX_PARAM_LENGTH), a bad percent-encoding
 * (FST_ERR_BAD_URL) — and an HTTP/1.1 request without `Host`, which Node
 * would answer itself with an empty 400 (`requireHostHeader`). Fastify
 * hands the first two to the `frameworkErrors` server option, which exists
 * before the app does; the app's error boundary registers its handler here,
 * per HTTP server, so that they are logged, rate-limited and answered as
 * the envelope like every other failure.
 * @see https://fastify.dev/docs/latest/Reference/Server/#frameworkerrors
 * @see https://nodejs.org/api/http.html#httpcreateserveroptions-requestlistener (requireHostHeader)
 */
import type { Server } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { MESSAGES } from './errors.js'

export type FrameworkErrorHandler = (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => void

const handlers = new WeakMap<Server, FrameworkErrorHandler>()

/** The app's handler for the framework errors of `server`. */
export function onFrameworkError (server: Server, handler: FrameworkErrorHandler): void {
  handlers.set(server, handler)
}

/** The `frameworkErrors` server option. */
export function frameworkErrors (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const handler = handlers.get(request.server.server)
  if (handler !== undefined) return handler(err, request, reply)
  // A server without the app (a bare instance): the envelope all the same.
  request.log.info({ code: err.code, status: 400 }, 'request rejected')
  reply.code(400).header('cache-control', 'no-store').send({ success: false, message: MESSAGES[400] })
}
