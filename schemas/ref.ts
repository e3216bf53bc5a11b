/**
 * Shared schemas travel by `$ref`: Fastify's Ajv and serializer resolve it
 * against `fastify.addSchema` (plugins/app/schemas.ts), and @fastify/swagger
 * turns it into `#/components/schemas/<$id>`, the names generated clients use.
 * @see https://github.com/fastify/fastify-swagger#managing-your-refs
 */
import Type, { type Static, type TSchema, type TUnsafe } from 'typebox'

/**
 * A `$ref` to a schema with an `$id`, typed as that schema: TypeBox does not
 * infer through `$ref`, so the type provider is handed the real type here.
 * `annotations` (examples, a description) sit next to the `$ref`.
 */
export function ref<T extends TSchema> (schema: T, annotations: Record<string, unknown> = {}): TUnsafe<Static<T>> {
  const id = (schema as { $id?: unknown }).$id
  if (typeof id !== 'string') throw new TypeError('ref() needs a schema with an $id')
  return Type.Unsafe<Static<T>>({ $ref: id, ...annotations })
}
