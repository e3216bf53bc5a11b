import type { FastifyRequest } from 'fastify'

export interface RequestMeta {
  ip: string
  userAgent: string | null
}

const MAX_USER_AGENT = 512

/** Where a request came from, as recorded with sessions and audit rows. */
export function requestMeta (request: FastifyRequest): RequestMeta {
  const ua = request.headers['user-agent']
  return { ip: request.ip, userAgent: ua === undefined ? null : ua.slice(0, MAX_USER_AGENT) }
}
