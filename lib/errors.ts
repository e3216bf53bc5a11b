/**
 * Coded errors, created once and translated into the envelope at one
 * boundary (plugins/app/error-handler.ts). Messages are the contract's.
 * @see ../shared/SPEC.md §2
 */
import createError from '@fastify/error'

export const MESSAGES = {
  400: 'Solicitud inválida',
  401: 'Token no proporcionado o inválido',
  403: 'El token ha expirado',
  404: 'Recurso no encontrado',
  408: 'Tiempo de espera agotado',
  409: 'El correo ya está registrado',
  413: 'Solicitud demasiado grande',
  415: 'Tipo de contenido no soportado',
  429: 'Demasiadas solicitudes, intente más tarde',
  431: 'Encabezados de solicitud demasiado grandes',
  500: 'Error interno del servidor',
  503: 'Servicio no disponible'
} as const

/** No usable Bearer credentials were sent at all. */
export const TokenMissingError = createError('AUTH_TOKEN_MISSING', MESSAGES[401], 401)
/** Credentials were sent but are not a valid, live token. */
export const TokenInvalidError = createError('AUTH_TOKEN_INVALID', MESSAGES[401], 401)
/** A correctly signed token whose `exp` has passed (the seed's 403). */
export const TokenExpiredError = createError('AUTH_TOKEN_EXPIRED', MESSAGES[403], 403)
export const InvalidCredentialsError = createError('AUTH_INVALID_CREDENTIALS', 'Credenciales inválidas', 401)
/** A refresh refused, whatever the reason: the 401 message, and no `WWW-Authenticate` (no Bearer token is involved). */
export const RefreshRefusedError = createError('AUTH_REFRESH_REFUSED', MESSAGES[401], 401)
export const EmailTakenError = createError('AUTH_EMAIL_TAKEN', MESSAGES[409], 409)
export const NotFoundError = createError('NOT_FOUND', MESSAGES[404], 404)
export const BadRequestError = createError('BAD_REQUEST', MESSAGES[400], 400)
export const TooManyRequestsError = createError('RATE_LIMITED', MESSAGES[429], 429)
export const ServiceUnavailableError = createError('SERVICE_UNAVAILABLE', MESSAGES[503], 503)

/** Codes whose 401/403 carries `WWW-Authenticate` (RFC 6750 §3). */
export const BEARER_CODES = new Set(['AUTH_TOKEN_MISSING', 'AUTH_TOKEN_INVALID', 'AUTH_TOKEN_EXPIRED'])
