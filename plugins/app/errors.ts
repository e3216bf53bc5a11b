/**
 * The one error boundary: every failure leaves as the failure envelope with
 * the contract's message. Library errors (Fastify's FST_ERR_*, fast-jwt's,
 * SQLite's) are logged, never shown.
 * @see ../shared/SPEC.md §2
 */
import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { BEARER_CODES, MESSAGES, NotFoundError } from '../../lib/errors.js'

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
    if (status >= 500) {
      request.log.error({ err }, 'request failed')
    } else {
      request.log.info({ code: err.code, status }, 'request rejected')
    }
    if (err.code !== undefined && BEARER_CODES.has(err.code)) {
      // RFC 6750 §3: no error code when the request carried no token at all.
      reply.header('www-authenticate', err.code === 'AUTH_TOKEN_MISSING'
        ? WWW_AUTHENTICATE
        : `${WWW_AUTHENTICATE}, error="invalid_token"`)
    }
    // RFC 9110 §10.2.3: when to try again, for a store that is down (SPEC §7).
    if (status === 503) reply.header('retry-after', RETRY_AFTER_SECONDS)
    return reply.code(status).send({ success: false, message })
  })

  fastify.setNotFoundHandler({
    preHandler: fastify.config.RATE_LIMIT_MAX > 0
      ? fastify.rateLimit({ max: fastify.config.RATE_LIMIT_MAX })
      : undefined
  }, function notFound () {
    throw new NotFoundError()
  })
}, { name: 'errors', dependencies: ['config', 'rate-limit'] })
