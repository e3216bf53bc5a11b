/**
 * The one error boundary: every failure leaves as the failure envelope with
 * the contract's message. Library errors (Fastify's FST_ERR_*, fast-jwt's,
 * SQLite's) are logged, never shown.
 * Fastify's refusals before routing (lib/framework-errors.ts) and a request
 * without `Host` get the same envelope, `Cache-Control: no-store`, a log
 * line, and count against RATE_LIMIT_MAX per IP.
 * @see ../../docs/CONTRACT.md (The envelope)
 */
import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { BEARER_CODES, MESSAGES, NotFoundError } from '../../lib/errors.js'
import { onFrameworkError } from '../../lib/framework-errors.js'
import { closeAfterDrain } from '../../lib/oversized.js'

type Status = keyof typeof MESSAGES

/** The envelope's status for any error: known statuses pass, other client errors are 400, the rest 500. */
export function statusOf (err: Partial<FastifyError>): Status {
  if (err.validation !== undefined) return 400
  const status = err.statusCode ?? 500
  if (status in MESSAGES) return status as Status
  return status >= 400 && status < 500 ? 400 : 500
}

export const WWW_AUTHENTICATE = 'Bearer realm="auth-sessions"'
/** A database restart or failover takes seconds. */
export const RETRY_AFTER_SECONDS = 5

export default fp(async function errors (fastify) {
  fastify.setErrorHandler(function errorHandler (err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    const status = statusOf(err)
    // Our own coded errors carry the contract's text; for the rest, the status decides.
    const message = err.code?.startsWith('AUTH_') ? err.message : MESSAGES[status]
    // A 503 while shutting down is the plan working, not a failure.
    if (status >= 500 && err.code !== 'SHUTTING_DOWN') {
      request.log.error({ err }, 'request failed')
    } else {
      // Which field and which rule, never the value: the client may have sent a secret there.
      const validation = err.validation?.map((v) => ({ path: `${err.validationContext!}${v.instancePath}`, keyword: v.keyword }))
      request.log.info({ code: err.code, status, ...(validation === undefined ? {} : { validation }) }, 'request rejected')
    }
    if (err.code !== undefined && BEARER_CODES.has(err.code)) {
      // RFC 6750 §3: no error code when the request carried no token at all;
      // invalid_request when the token may be fine but the body does not repeat it.
      reply.header('www-authenticate', err.code === 'AUTH_TOKEN_MISSING'
        ? WWW_AUTHENTICATE
        : `${WWW_AUTHENTICATE}, error="${err.code === 'AUTH_BODY_TOKEN' ? 'invalid_request' : 'invalid_token'}"`)
    }
    // RFC 9110 §10.2.3: when to try again, for a store that is down (SPEC §7).
    if (status === 503) reply.header('retry-after', RETRY_AFTER_SECONDS)
    // The client may still be uploading: let it read this answer (lib/oversized.ts).
    if (status === 413) closeAfterDrain(request.raw, reply.raw)
    return reply.code(status).send({ success: false, message })
  })

  const { RATE_LIMIT_MAX, RATE_LIMIT_WINDOW_MS } = fastify.config
  // One counter per IP for everything refused before a route runs.
  const strays = RATE_LIMIT_MAX > 0 ? fastify.createRateLimit({ max: RATE_LIMIT_MAX, timeWindow: RATE_LIMIT_WINDOW_MS }) : undefined
  async function refuse (code: string, status: 400 | 414, request: FastifyRequest, reply: FastifyReply) {
    let answer: 400 | 414 | 429 = status
    if (strays !== undefined) {
      const limit = await strays(request)
      if (!limit.isAllowed && limit.isExceeded) {
        answer = 429
        reply.header('retry-after', String(limit.ttlInSeconds))
      }
    }
    request.log.info({ code, status: answer }, 'request rejected')
    // A 414 keeps its status with the 400's message (there is no 414 message).
    return reply.code(answer).header('cache-control', 'no-store')
      .send({ success: false, message: MESSAGES[answer === 414 ? 400 : answer] })
  }
  onFrameworkError(fastify.server, function (err, request, reply) {
    // The local rate-limit store never fails; the catch is for a store that could.
    refuse(err.code, err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400, request, reply).catch(
      /* c8 ignore next */ (e: Error) => reply.send(e))
  })
  // RFC 9112 §3.2: an HTTP/1.1 request without Host is 400 (Node's own is an empty body).
  fastify.addHook('onRequest', function (request, reply, done) {
    if (request.headers.host !== undefined || request.raw.httpVersion !== '1.1') return done()
    refuse('HOST_MISSING', 400, request, reply).catch(/* c8 ignore next */ done)
  })

  fastify.setNotFoundHandler({
    preHandler: fastify.config.RATE_LIMIT_MAX > 0
      ? fastify.rateLimit({ max: fastify.config.RATE_LIMIT_MAX })
      : undefined
  }, function notFound () {
    throw new NotFoundError()
  })
}, { name: 'errors', dependencies: ['config', 'rate-limit'] })
