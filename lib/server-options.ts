/**
 * Fastify's server options from the typed config: logger with redaction,
 * body limit, proxy trust, timeouts, a non-coercing validator, and the
 * envelope for errors Node's HTTP parser raises before any route runs.
 */
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { Server } from 'node:http'
import type { FastifyHttpOptions, FastifyRequest } from 'fastify'
import { trustProxy, type Config } from '../fastify.config.js'
import { MESSAGES } from './errors.js'
import { requestLogger } from './request-logger.js'
import { frameworkErrors } from './framework-errors.js'

const SECRET_KEYS = ['authorization', 'token', 'password', 'jwtSecret', 'JWT_SECRET']

/** pino paths for the secret keys at the top level and two levels down. */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.cookie',
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`])
]

/** Node's parser failures, as the envelope; the socket is closed after it. */
export function clientErrorHandler (err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const status = err.code === 'HPE_HEADER_OVERFLOW'
    ? 431
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
  const body = JSON.stringify({ success: false, message: MESSAGES[status] })
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy()
}

/**
 * How often Node looks for requests past their headers or request timeout.
 * Node's default, 30 s, lets a slowloris connection live up to 30 s past a
 * 10 s headers timeout; a quarter of the shortest timeout keeps the cut
 * within 25% of it, never more often than every 100 ms.
 * @see https://nodejs.org/api/http.html#httpcreateserveroptions-requestlistener
 */
export function checkingInterval (config: Pick<Config, 'HEADERS_TIMEOUT_MS' | 'REQUEST_TIMEOUT_MS'>): number {
  const timeouts = [config.HEADERS_TIMEOUT_MS, config.REQUEST_TIMEOUT_MS].filter((ms) => ms > 0)
  if (timeouts.length === 0) return 30_000
  return Math.min(30_000, Math.max(100, Math.floor(Math.min(...timeouts) / 4)))
}

export function serverOptions (config: Config): FastifyHttpOptions<Server> {
  return {
    logger: {
      level: config.LOG_LEVEL,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        // The path only: a token offered in the query string never reaches a log.
        req: (req: FastifyRequest) => ({
          method: req.method,
          url: req.url.split('?', 1)[0],
          remoteAddress: req.ip
        })
      }
    },
    childLoggerFactory: requestLogger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: trustProxy(config.TRUST_PROXY),
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    // requireHostHeader: false, so that a request without Host reaches the
    // app's boundary (plugins/app/errors.ts) instead of Node's empty 400.
    http: { connectionsCheckingInterval: checkingInterval(config), requireHostHeader: false },
    // Never coerce: `["<jwt>"]` is not a token, `123` is not a password.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    clientErrorHandler,
    frameworkErrors,
    // Fastify's own 503 while closing is not our envelope; plugins/app/shutdown.ts answers instead.
    return503OnClosing: false
  }
}
