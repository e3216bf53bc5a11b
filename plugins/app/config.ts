/**
 * The typed configuration as a decorator. The app receives it as an option
 * (server.ts, tests) or reads the environment once (fastify-cli).
 */
import fp from 'fastify-plugin'
import type { Config } from '../../fastify.config.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

export default fp<{ config: Config }>(async function config (fastify, opts) {
  fastify.decorate('config', opts.config)
}, { name: 'config' })
