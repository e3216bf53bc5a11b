/**
 * Authentication as preValidation hooks, so that the contract's order holds:
 * content type, size and JSON syntax are judged first, then the Bearer
 * header, then the token, its expiry and its session, then the body schema.
 * Revocation is enforced here, for every protected route: a token is
 * accepted only while its session row exists, names it and belongs to `sub`.
 *
 * One callback-style hook per route, not a chain of async ones: it runs on
 * every authenticated request, and each async hook costs a promise and its
 * microtask turns.
 * @see ../../docs/CONTRACT.md (Authentication)
 */
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { TokenInvalidError } from '../../lib/errors.js'
import type { SessionRow } from './sessions.js'
import type { Claims } from './tokens.js'

export type AuthHook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void

declare module 'fastify' {
  interface FastifyInstance {
    /** Bearer header, token and session: the hook of every protected route. Sets `request.bearer` and `request.auth`. */
    authenticate: AuthHook
    /**
     * Bearer header, then `check` (it may throw), then the token, but not its session: sets
     * `request.bearer` and `request.claims`. For a route whose write checks
     * the session itself, in the same statement, and ends it (the logout).
     */
    verifyWith: (check: (request: FastifyRequest) => void) => AuthHook
  }
  interface FastifyRequest {
    bearer: string
    auth: SessionRow
    claims: Claims
  }
}

export default fp(async function auth (fastify) {
  const { tokens, sessions } = fastify

  const authenticate: AuthHook = function authenticate (request, _reply, done) {
    let claims: Claims
    try {
      claims = tokens.verify(request.bearer = tokens.bearer(bearerHeader(request)))
    } catch (err) {
      done(err as Error)
      return
    }
    // A synchronous store calls back at once: no promise per request.
    sessions.ofToken(claims, (err, session) => {
      if (err !== null) return done(err)
      if (session === undefined) return done(new TokenInvalidError())
      request.auth = session
      done()
    })
  }

  function verifyWith (check: (request: FastifyRequest) => void): AuthHook {
    return function verify (request, _reply, done) {
      try {
        const bearer = request.bearer = tokens.bearer(bearerHeader(request))
        check(request)
        // Not remembered: the route revokes it (the logout).
        request.claims = tokens.verify(bearer, false)
      } catch (err) {
        done(err as Error)
        return
      }
      done()
    }
  }

  fastify.decorateRequest('bearer', '')
  fastify.decorateRequest('auth', null as unknown as SessionRow)
  fastify.decorateRequest('claims', null as unknown as Claims)
  fastify.decorate('authenticate', authenticate)
  fastify.decorate('verifyWith', verifyWith)
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
