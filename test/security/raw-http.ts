/**
 * Real sockets, for what inject cannot show: repeated headers, oversized
 * headers, Node's own parser errors, slow clients.
 */
import { connect, type Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'

export async function listen (app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as { port: number }).port
}

export interface RawResponse {
  status: number
  headers: string
  body: string
}

/** Sends `request` verbatim and reads until the server closes or `ms` pass. */
export function raw (port: number, request: string | Buffer, ms = 5000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => socket.destroy(), ms)
    socket.on('data', (c) => {
      chunks.push(c)
      // One response is enough: stop when its body is complete.
      const text = Buffer.concat(chunks).toString()
      const m = /content-length: (\d+)/i.exec(text)
      const split = text.indexOf('\r\n\r\n')
      if (m !== null && split >= 0 && Buffer.byteLength(text.slice(split + 4)) >= Number(m[1])) socket.end()
    })
    socket.on('error', reject)
    socket.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString()
      const split = text.indexOf('\r\n\r\n')
      const head = split < 0 ? text : text.slice(0, split)
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head, body: split < 0 ? '' : text.slice(split + 4) })
    })
    socket.write(request)
  })
}

/** A POST /api/v1/auth/logout with the given header lines and JSON body. */
export function logoutRequest (headerLines: string[], body: string): string {
  return ['POST /api/v1/auth/logout HTTP/1.1', 'Host: localhost', 'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', ...headerLines, '', body].join('\r\n')
}
