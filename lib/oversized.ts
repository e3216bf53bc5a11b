/**
 * Oversized uploads (issue 17): a body over BODY_LIMIT_BYTES is 413, and
 * the client must be able to read that 413.
 *
 * - `Expect: 100-continue` with a `Content-Length` over the limit is
 *   refused without the `100 Continue` that Node sends by itself, which
 *   would invite the very upload the server is about to refuse. The request
 *   goes on to Fastify without it, where the body limit answers first: the
 *   413 envelope, logged and counted like any other.
 * - A client still uploading when its 413 leaves (Node's `fetch` with a
 *   20 MB body, a streamed body) used to see the socket destroyed under it,
 *   with the rest of its body unread: the kernel answers with a reset, and
 *   the client's next write fails (EPIPE, ECONNRESET) before it has read the
 *   413. After a 413 the server now ends its side of the connection
 *   (`Connection: close`) and keeps reading, and discarding, what the client
 *   still sends, until the request ends, for at most DRAIN_MS and about
 *   DRAIN_BYTES; then the socket is destroyed.
 * @see https://nodejs.org/api/http.html#event-checkcontinue
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-10.1.1 (Expect)
 * @see https://www.rfc-editor.org/rfc/rfc9112#section-9.6 (tear-down: lingering close)
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

/**
 * How long, after a 413, the rest of an upload is read before the socket
 * is destroyed: long enough for a client on a slow link to get past its
 * write and read the answer, short enough that a client that never stops
 * sending holds a socket for no longer than a few seconds.
 */
export const DRAIN_MS = 3000
/** How much of the rest of an upload is read (and discarded) after a 413, about. */
export const DRAIN_BYTES = 4 * 1024 * 1024
/**
 * How often a drain is checked against its bounds. Node drops the body of
 * an answered request inside its parser without a 'data' event, so the
 * bytes are counted on the socket: a client can overshoot DRAIN_BYTES by
 * what arrives in this time (about 3 MB on a 1 Gbit/s link).
 */
export const DRAIN_CHECK_MS = 20

/**
 * The `checkContinue` listener for `server`: a declared body over `limit`
 * gets no `100 Continue`; every other request gets it and goes on as usual.
 * Either way the request then reaches Fastify through the 'request' event.
 */
export function checkContinue (server: Server, limit: number) {
  return function (req: IncomingMessage, res: ServerResponse): void {
    // Fastify's body limit answers 413 on this same header, before reading.
    if (!(Number(req.headers['content-length']) > limit)) res.writeContinue()
    server.emit('request', req, res)
  }
}

/**
 * Closes the connection after `res` (`Connection: close`), but only once
 * what the client still sends of its request has been read, bounded by
 * DRAIN_MS and DRAIN_BYTES, so that a client still uploading reads its
 * answer instead of a reset.
 */
export function closeAfterDrain (req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('connection', 'close')
  const socket = req.socket
  // light-my-request's stand-in (app.inject): no connection to drain.
  if (typeof socket.destroySoon !== 'function') return
  // Node's server calls destroySoon() once a `Connection: close` response is
  // written: end our side, destroy when the write is done.
  const destroySoon = socket.destroySoon.bind(socket)
  socket.destroySoon = function drainThenDestroy () {
    if (req.complete) return destroySoon()
    const started = Date.now()
    const before = socket.bytesRead
    const check = setInterval(() => {
      if (Date.now() - started >= DRAIN_MS || socket.bytesRead - before > DRAIN_BYTES) socket.destroy()
    }, DRAIN_CHECK_MS)
    socket.once('close', () => clearInterval(check))
    // The whole body is in: nothing left to reset; the usual ending.
    req.once('end', destroySoon)
    socket.end()
  }
}
