/**
 * The /api/v1/auth routes. Every answer here may carry a token or session
 * data, so none is ever cached (RFC 9111 §5.2.2.5; RFC 6749 §5.1).
 */
import type { FastifyPluginAsync } from 'fastify'
import register from './register.js'
import login from './login.js'
import refresh from './refresh.js'
import password from './password.js'
import logout from './logout.js'
import me from './me.js'
import sessions from './sessions.js'
import events from './events.js'

const auth: FastifyPluginAsync = async function (fastify) {
  // Callback style: no promise per answer.
  fastify.addHook('onSend', function (_request, reply, _payload, done) {
    reply.header('cache-control', 'no-store')
    done()
  })
  if (fastify.config.REGISTRATION_ENABLED) await fastify.register(register)
  await fastify.register(login)
  await fastify.register(refresh)
  await fastify.register(logout)
  await fastify.register(password)
  await fastify.register(me)
  await fastify.register(sessions)
  await fastify.register(events)
}

export default auth
