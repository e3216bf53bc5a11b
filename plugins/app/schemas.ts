/**
 * The shared schemas (schemas/), added once at the root so that every route's
 * `$ref` resolves for Ajv and the serializer, and @fastify/swagger lists them
 * under `components.schemas` by their `$id`.
 * @see https://fastify.dev/docs/latest/Reference/Validation-and-Serialization/#adding-a-shared-schema
 */
import fp from 'fastify-plugin'
import { sharedSchemas } from '../../schemas/responses.js'

export default fp(async function schemas (fastify) {
  for (const schema of sharedSchemas) fastify.addSchema(schema)
}, { name: 'schemas' })
