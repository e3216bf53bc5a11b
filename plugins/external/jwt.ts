/**
 * @fastify/jwt, pinned to HS256 with every claim we issue required.
 * The strict checks fast-jwt does not make live in plugins/app/tokens.ts.
 * @see https://github.com/fastify/fastify-jwt
 */
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'

export default fp(async function jwt (fastify) {
  const { config } = fastify
  await fastify.register(fastifyJwt, {
    secret: fastify.jwtSecret,
    sign: { algorithm: 'HS256' },
    verify: {
      algorithms: ['HS256'],
      // fast-jwt checks allowedIss/allowedAud only when the claim is present:
      // a configured issuer or audience must also be required (SPEC §1).
      requiredClaims: ['sub', 'jti', 'sid', 'iat', 'exp',
        ...(config.JWT_ISSUER === undefined ? [] : ['iss']),
        ...(config.JWT_AUDIENCE === undefined ? [] : ['aud'])],
      clockTolerance: config.CLOCK_TOLERANCE_SECONDS * 1000,
      ...(config.JWT_ISSUER === undefined ? {} : { allowedIss: config.JWT_ISSUER }),
      ...(config.JWT_AUDIENCE === undefined ? {} : { allowedAud: config.JWT_AUDIENCE }),
      // No cache here: plugins/app/tokens.ts remembers the tokens that pass
      // all of its checks, keyed by the token itself, not by its SHA-256.
      cache: false
    }
  })
}, { name: 'jwt', dependencies: ['config', 'secret'] })
