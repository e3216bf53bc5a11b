/**
 * @fastify/cors from CORS_ORIGINS: unset, no CORS headers at all (a browser
 * on another origin cannot call the API); `*`, any origin; otherwise the
 * listed origins, matched exactly. Never credentials: the API takes its
 * token in the Authorization header, not a cookie, and `*` with
 * credentials would let any site act as the user.
 * @see https://github.com/fastify/fastify-cors
 */
import fp from 'fastify-plugin'
import cors from '@fastify/cors'

/** The `origin` option from CORS_ORIGINS: `*` or the list of exact origins. */
export function corsOrigin (value: string): string | string[] {
  return value === '*' ? '*' : value.split(',').map((o) => o.trim())
}

export default fp(async function corsPlugin (fastify) {
  const origins = fastify.config.CORS_ORIGINS
  if (origins === undefined) return
  await fastify.register(cors, {
    origin: corsOrigin(origins),
    credentials: false,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    // What a client reads from a refusal: when to retry, why a token failed.
    exposedHeaders: ['Retry-After', 'WWW-Authenticate'],
    maxAge: 600
  })
}, { name: 'cors', dependencies: ['config'] })
