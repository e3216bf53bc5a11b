/**
 * Authentication as preValidation hooks, so that the contract's order holds:
 * content type, size and JSON syntax are judged first, then the Bearer
 * header, then the token, its expiry and its session, then the body schema.
 * Revocation is enforced here, for every protected route: a token is
 * accepted only while its session row exists, names it and belongs to `sub`.
 * @see ../shared/SPEC.md §4
 */
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { TokenInvalidError } from '../../lib/errors.js'
import type { SessionRow } from './sessions.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Bearer header, token and session: the hook of every protected route. */
    authenticate: (request: FastifyRequest) => Promise<void>
    /** Only the Bearer header: sets `request.bearer`. */
    requireBearer: (request: FastifyRequest) => Promise<void>
    /** Token and session of `request.bearer`: sets `request.auth`. */
    requireSession: (request: FastifyRequest) => Promise<void>
  }
  interface FastifyRequest {
    bearer: string
    auth: SessionRow
  }
}

export default fp(async function auth (fastify) {
  const { tokens, sessions } = fastify

  async function requireBearer (request: FastifyRequest) {
    request.bearer = tokens.bearer(bearerHeader(request))
  }

  async function requireSession (request: FastifyRequest) {
    const claims = tokens.verify(request.bearer)
    const session = sessions.find(claims.sid)
    if (session === undefined || session.jti !== claims.jti || session.userId !== claims.sub) {
      throw new TokenInvalidError()
    }
    request.auth = session
  }

  fastify.decorateRequest('bearer', '')
  fastify.decorateRequest('auth', null as unknown as SessionRow)
  fastify.decorate('requireBearer', requireBearer)
  fastify.decorate('requireSession', requireSession)
  fastify.decorate('authenticate', async function authenticate (request: FastifyRequest) {
    await requireBearer(request)
    await requireSession(request)
  })
}, { name: 'auth', dependencies: ['tokens', 'sessions'] })

/**
 * The Authorization header, refusing a request that carries more than one
 * (Node keeps only the first, which would hide the ambiguity).
 */
function bearerHeader (request: FastifyRequest): string | undefined {
  const value = request.headers.authorization
  if (value === undefined) return undefined
  const raw = request.raw.rawHeaders
  let seen = 0
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization' && ++seen > 1) throw new TokenInvalidError()
  }
  return value
}
