/**
 * The request bodies and the models inside the envelopes. Each model has an
 * `$id`: it is a named component of the OpenAPI document, and the type name
 * of generated clients. Models nest by `ref()`, never inline, so that no
 * component is emitted twice or as `def-N`.
 */
import Type from 'typebox'
import { ref } from './ref.js'

export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254, examples: ['ada@example.com'] })
// Counted in Unicode code points (Ajv's default), as the contract says.
export const Password = Type.String({ minLength: 8, maxLength: 128, examples: ['correct horse battery'] })

export const Credentials = Type.Object({ email: Email, password: Password }, {
  $id: 'Credentials',
  description: 'An e-mail address (compared case-insensitively) and a password of 8 to 128 characters.',
  additionalProperties: false
})

const JWT_EXAMPLE = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.c2ln'
export const Jwt = Type.String({ minLength: 1, examples: [JWT_EXAMPLE] })

// `scope` has no `default` keyword: openapi-typescript would then type it as required.
export const LogoutBody = Type.Object({
  token: Type.String({ minLength: 1, description: 'The Bearer token of the request, repeated.', examples: [JWT_EXAMPLE] }),
  scope: Type.Optional(Type.Union([Type.Literal('local'), Type.Literal('others'), Type.Literal('global')], {
    description: '`local` (when absent) this session, `others` every other session of the user, `global` all of them.'
  }))
}, { $id: 'LogoutRequest', additionalProperties: false })

export const Timestamp = Type.String({ format: 'date-time', examples: ['2026-11-21T10:00:00.000Z'] })

const Id = (description: string, example: string) => Type.String({ description, examples: [example] })
const UserId = Id('The user\'s id (a UUID).', '0b8f0c7e-4f0e-4d2a-9a57-4f8f5f3c2a10')
const SessionId = Id('The session\'s id.', 'q0Yb3r9X2mJ4kLw8Zt1sVA')

export const UserView = Type.Object({
  id: UserId,
  email: Type.String({ examples: ['ada@example.com'] }),
  createdAt: Timestamp
}, { $id: 'User', additionalProperties: false })

const REFRESH_EXAMPLE = 'Jz9rT3b1q0Yb3r9X2mJ4kLw8Zt1sVAx2c8Lr0pQ7aNf'

export const LoginData = Type.Object({
  token: Type.String({ description: 'The JWT to send as `Authorization: Bearer <token>`.' }),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Seconds until the access token expires (never after the session\'s deadline).', examples: [3600] }),
  expiresAt: Timestamp,
  sessionId: SessionId,
  refreshToken: Type.String({ description: 'Send it once to `POST /refresh` for a new pair; keep it secret.', examples: [REFRESH_EXAMPLE] }),
  refreshExpiresAt: { ...Timestamp, description: 'The session\'s deadline as it stands: the refresh token works until then.' }
}, { $id: 'AccessToken', additionalProperties: false })

export const RefreshBody = Type.Object({
  refreshToken: Type.String({ description: 'The refresh token of the last login or refresh.', examples: [REFRESH_EXAMPLE] })
}, { $id: 'RefreshRequest', additionalProperties: false })

export const PasswordBody = Type.Object({
  currentPassword: Type.String({ minLength: 1, maxLength: 128, examples: ['correct horse battery'] }),
  newPassword: Password
}, { $id: 'PasswordChangeRequest', additionalProperties: false })

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])

const sessionFields = {
  id: SessionId,
  createdAt: Timestamp,
  expiresAt: Timestamp,
  ip: Nullable(Type.String({ description: 'The client address that opened the session.' })),
  userAgent: Nullable(Type.String({ description: 'The User-Agent that opened the session.' }))
}

export const SessionView = Type.Object(sessionFields, { $id: 'Session', additionalProperties: false })

export const SessionListItem = Type.Object({
  ...sessionFields,
  current: Type.Boolean({ description: 'True for the session of the Bearer token.' })
}, { $id: 'SessionListItem', additionalProperties: false })

export const EventView = Type.Object({
  type: Type.Union([
    Type.Literal('register'), Type.Literal('login'), Type.Literal('login_failed'),
    Type.Literal('logout'), Type.Literal('session_revoked'), Type.Literal('password_changed'),
    Type.Literal('token_refreshed'), Type.Literal('refresh_token_reused')
  ]),
  at: Timestamp,
  sessionId: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String())
}, { $id: 'SecurityEvent', additionalProperties: false })

export const MeData = Type.Object({
  user: Type.Object({ id: UserId, email: Type.String({ examples: ['ada@example.com'] }) }, { additionalProperties: false }),
  session: ref(SessionView)
}, { $id: 'Me', additionalProperties: false })

/** Every model, for `fastify.addSchema`. */
export const authSchemas = [Credentials, LogoutBody, RefreshBody, PasswordBody, UserView, LoginData, SessionView, SessionListItem, EventView, MeData]
