/**
 * The two response shapes of every /api/v1 route, as named components, and
 * the helpers that put them in a route's `response` map: a `$ref` plus the
 * response's description, headers and example, which @fastify/swagger moves
 * onto the response (the example onto its media type).
 * @see ../docs/CONTRACT.md (The envelope)
 */
import Type, { type Static, type TSchema } from 'typebox'
import { MESSAGES } from '../lib/errors.js'
import { ref } from './ref.js'

export const Failure = Type.Object({
  success: Type.Literal(false),
  message: Type.String({ description: 'Spanish, fixed per status.', examples: [MESSAGES[401]] })
}, { $id: 'Failure', description: 'Every failure, whatever its status.', additionalProperties: false })

/** A success with no data. */
export const Done = Type.Object({
  success: Type.Literal(true),
  message: Type.String({ examples: ['Sesión cerrada exitosamente'] })
}, { $id: 'Done', description: 'A success that carries no data.', additionalProperties: false })

/** A success with `data`, named `$id` (each route's own component). */
export const Success = <T extends TSchema>($id: string, message: string, data: T) => Type.Object({
  success: Type.Literal(true),
  message: Type.String({ examples: [message] }),
  data
}, { $id, additionalProperties: false })

/** Response headers, as the document lists them. */
type Headers = Record<string, { type: 'string' | 'integer', description: string }>

/**
 * A `response` map entry: `schema` by `$ref`, with what this status means,
 * its headers and an example. Fastify's serializer only follows the `$ref`;
 * `openapiResponse` turns the rest into the document's response object.
 */
export function respond<T extends TSchema> (schema: T, description: string, example: Static<T>, headers?: Headers) {
  return ref(schema, { description, examples: [example], ...(headers && { headers }) })
}

/**
 * A `respond()` entry as an OpenAPI response: @fastify/swagger drops the
 * siblings of a `$ref`, so the example goes on the media type by hand.
 */
export function openapiResponse (entry: { $ref: string, description: string, examples: [unknown], headers?: Headers }) {
  const { $ref, description, examples: [example], headers } = entry
  return { description, ...(headers && { headers }), content: { 'application/json': { schema: { $ref }, example } } }
}

const WWW_AUTHENTICATE: Headers = {
  'WWW-Authenticate': {
    type: 'string',
    description: 'RFC 6750 §3: `Bearer realm="auth-sessions"`, with `error="invalid_token"` when a token was sent.'
  }
}

const RETRY_AFTER: Headers = {
  'Retry-After': { type: 'integer', description: 'Seconds to wait before retrying.' }
}

type Status = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 503

/** What each failure status means, for the document. */
const MEANING: Record<Status, [string, Headers?]> = {
  400: ['The JSON, the body or a parameter is invalid.'],
  401: ['The Bearer token is missing, malformed, forged, revoked, or its session is gone.', WWW_AUTHENTICATE],
  403: ['The token has expired (the seed\'s contract, where RFC 6750 would answer 401).', WWW_AUTHENTICATE],
  404: ['No such live session belongs to the caller.'],
  409: ['The e-mail address is already registered.'],
  413: ['The body is larger than the configured limit.'],
  415: ['The body is not `application/json`.'],
  429: ['Too many requests from this address (or for this e-mail on login).', RETRY_AFTER],
  500: ['The store failed; nothing was half done.'],
  503: ['The server is shutting down, or its database (PostgreSQL) cannot be reached: retry on another instance, or once it is back. Nothing was done.', RETRY_AFTER]
}

/** One failure response, with the contract's message for `status` unless told otherwise. */
export function failure (status: Status, message: string = MESSAGES[status], meaning = MEANING[status]) {
  const [description, headers] = meaning
  return respond(Failure, description, { success: false, message }, headers)
}

/**
 * Failure responses by status, for the routes' `response` maps; 503 on
 * every route, which answers it to a request arriving while the server
 * shuts down (plugins/app/shutdown.ts).
 */
export const failures = <S extends Status>(...statuses: S[]) =>
  Object.fromEntries([...statuses, 503 as const].map((s) => [s, failure(s)])) as Record<S | 503, ReturnType<typeof failure>>
