import t from 'tap'
import { createServer } from 'node:net'
import { run } from './spawn.js'

t.test('a bad environment stops server.ts with one line naming the variable', async (t) => {
  const server = run({ PORT: 'abc' })
  t.equal(await server.exited, 1)
  t.equal(server.stderr(), 'Invalid configuration: PORT must be an integer from 0 to 65535 (got "abc")\n')
  t.equal(server.stdout(), '')
})

t.test('a bad JWT_SECRET is named but never echoed', async (t) => {
  const server = run({ JWT_SECRET: 'short-secret-value' })
  t.equal(await server.exited, 1)
  t.equal(server.stderr().split('\n').length, 2, 'one line')
  t.match(server.stderr(), /^Invalid configuration: JWT_SECRET must be at least 32 characters\n$/)
  t.notMatch(server.stderr(), 'short-secret-value')
})

t.test('a port already in use: one line, exit 1', async (t) => {
  const busy = createServer()
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => busy.close())
  const port = (busy.address() as { port: number }).port
  const server = run({ PORT: String(port), DATABASE_PATH: ':memory:' })
  t.equal(await server.exited, 1)
  t.match(server.stderr(), /^Could not start: listen EADDRINUSE: address already in use 127\.0\.0\.1:\d+\n$/)
})
