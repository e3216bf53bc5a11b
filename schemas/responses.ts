/**
 * Each route's success envelope, a named component like the models it
 * carries, and the list of every shared schema for `fastify.addSchema`.
 */
import Type from 'typebox'
import { authSchemas, EventView, LoginData, MeData, SessionListItem, UserView } from './auth.js'
import { Done, Failure, Success } from './envelope.js'
import { ref } from './ref.js'

export const RegisterResponse = Success('RegisterResponse', 'Usuario registrado exitosamente',
  Type.Object({ user: ref(UserView) }, { additionalProperties: false }))

export const LoginResponse = Success('LoginResponse', 'Inicio de sesión exitoso', ref(LoginData))

export const RefreshResponse = Success('RefreshResponse', 'Token renovado exitosamente', ref(LoginData))

export const MeResponse = Success('MeResponse', 'Sesión activa', ref(MeData))

export const SessionsResponse = Success('SessionsResponse', 'Sesiones activas',
  Type.Object({ sessions: Type.Array(ref(SessionListItem)) }, { additionalProperties: false }))

export const EventsResponse = Success('EventsResponse', 'Eventos de seguridad',
  Type.Object({ events: Type.Array(ref(EventView)) }, { additionalProperties: false }))

/** `GET /health`: outside the envelope, as the contract says. */
/** With REDIS_URL set, whether Redis answers; its outage alone keeps the instance healthy (§7). */
const redis = Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('unavailable')], {
  description: 'Present when Redis is configured: whether it answers a PING.'
}))
export const HealthOk = Type.Object({ status: Type.Literal('ok'), redis }, { $id: 'HealthOk', additionalProperties: false })
export const HealthUnavailable = Type.Object({ status: Type.Literal('unavailable'), redis }, { $id: 'HealthUnavailable', additionalProperties: false })

/** Every shared schema, in the order the document lists them. */
export const sharedSchemas = [
  Failure, Done, RegisterResponse, LoginResponse, RefreshResponse, MeResponse, SessionsResponse, EventsResponse,
  ...authSchemas, HealthOk, HealthUnavailable
]
