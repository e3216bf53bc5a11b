import Type from 'typebox'

export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254, examples: ['ada@example.com'] })
// Counted in Unicode code points (Ajv's default), as the contract says.
export const Password = Type.String({ minLength: 8, maxLength: 128, examples: ['correct horse battery'] })

export const Credentials = Type.Object({ email: Email, password: Password }, { additionalProperties: false })

export const Jwt = Type.String({ minLength: 1, examples: ['eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.c2ln'] })

export const LogoutBody = Type.Object({
  token: Jwt,
  scope: Type.Optional(Type.Union([Type.Literal('local'), Type.Literal('others'), Type.Literal('global')]))
}, { additionalProperties: false })

export const Timestamp = Type.String({ format: 'date-time', examples: ['2026-11-21T10:00:00.000Z'] })

export const UserView = Type.Object({
  id: Type.String(),
  email: Type.String(),
  createdAt: Timestamp
}, { additionalProperties: false })

export const LoginData = Type.Object({
  token: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ examples: [3600] }),
  expiresAt: Timestamp,
  sessionId: Type.String()
}, { additionalProperties: false })

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])

export const SessionView = Type.Object({
  id: Type.String(),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String())
}, { additionalProperties: false })

export const SessionListItem = Type.Object({
  ...SessionView.properties,
  current: Type.Boolean()
}, { additionalProperties: false })

export const EventView = Type.Object({
  type: Type.Union([
    Type.Literal('register'), Type.Literal('login'), Type.Literal('login_failed'),
    Type.Literal('logout'), Type.Literal('session_revoked')
  ]),
  at: Timestamp,
  sessionId: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String())
}, { additionalProperties: false })
