/**
 * The two response shapes of every /api/v1 route.
 * @see ../shared/SPEC.md §2
 */
import Type, { type TSchema } from 'typebox'
import { MESSAGES } from '../lib/errors.js'

export const Failure = (message: string) => Type.Object({
  success: Type.Literal(false),
  message: Type.String({ examples: [message] })
}, { additionalProperties: false })

export const Success = <T extends TSchema>(message: string, data: T) => Type.Object({
  success: Type.Literal(true),
  message: Type.String({ examples: [message] }),
  data
}, { additionalProperties: false })

/** A success with no data. */
export const Done = (message: string) => Type.Object({
  success: Type.Literal(true),
  message: Type.String({ examples: [message] })
}, { additionalProperties: false })

/** Failure responses by status, for the routes' `response` maps. */
export const failures = (...statuses: Array<keyof typeof MESSAGES>) =>
  Object.fromEntries(statuses.map((s) => [s, Failure(MESSAGES[s])]))
