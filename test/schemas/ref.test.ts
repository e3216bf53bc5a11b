import t from 'tap'
import Type from 'typebox'
import { ref } from '../../schemas/ref.js'

t.test('ref() points at a schema by its $id, with annotations beside it', async (t) => {
  const Named = Type.Object({ a: Type.String() }, { $id: 'Named' })
  t.same(ref(Named), { $ref: 'Named' })
  t.same(ref(Named, { description: 'why' }), { $ref: 'Named', description: 'why' })
})

t.test('ref() refuses a schema without an $id: it could not be resolved', async (t) => {
  t.throws(() => ref(Type.String()), { name: 'TypeError', message: 'ref() needs a schema with an $id' })
})
