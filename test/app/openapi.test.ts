/**
 * SPEC §6: the OpenAPI document is complete, exact, named, lint-clean, does
 * not depend on configuration, and openapi.json is never stale. And the
 * response schemas it shows are what the serializer enforces.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { LOADER } from '../spawn.js'
import { openapiDocument } from '../../lib/openapi.js'
import { build, login, PASSWORD } from '../helper.js'

const run = promisify(execFile)
const root = join(import.meta.dirname, '..', '..')
const committed = await readFile(join(root, 'openapi.json'), 'utf8')
const doc = JSON.parse(committed)
const STALE = 'openapi.json is stale: run `npm run openapi` and commit it'

type Json = Record<string, any>
const operations: Array<[string, string, Json]> = Object.entries(doc.paths as Json)
  .flatMap(([path, item]) => Object.entries(item as Json).map(([method, op]): [string, string, Json] => [method, path, op]))

t.test('the committed openapi.json is the served /docs/json', async (t) => {
  const fastify = await build(t)
  const res = await fastify.inject('/docs/json')
  t.equal(res.statusCode, 200)
  t.equal(JSON.stringify(res.json(), null, 2) + '\n', committed, STALE)
})

t.test('npm run openapi writes the same document, whatever the environment says', async (t) => {
  t.equal(await openapiDocument(), committed, STALE)
  const dir = await mkdtemp(join(tmpdir(), 'auth-sessions-openapi-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'openapi.json')
  // Run where it is run: with no argument, it writes openapi.json in its working folder.
  const { stdout } = await run(process.execPath, [...LOADER, join(root, 'scripts/openapi.ts')], {
    cwd: dir,
    // The project's tsconfig, found from the temp folder too: compiled alike, the coverage lines up.
    env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json'), REGISTRATION_ENABLED: 'false', JWT_ISSUER: 'elsewhere', PORT: '4321', HOST: '0.0.0.0' }
  })
  t.equal(await readFile(file, 'utf8'), committed, 'configuration leaked into the document')
  t.equal(stdout, `wrote openapi.json: ${operations.length} operations, ${Buffer.byteLength(committed)} bytes, in ${dir}\n`, 'it says what it wrote')
  // A server without registration serves the routes it has; the contract keeps /register.
  const closed = await build(t, { REGISTRATION_ENABLED: 'false' })
  t.notOk('/api/v1/auth/register' in (await closed.inject('/docs/json')).json().paths)
  t.ok('/api/v1/auth/register' in doc.paths)
})

t.test('the document lints clean with redocly\'s recommended rules', async (t) => {
  // redocly.yaml extends `recommended`; .redocly.lint-ignore.yaml holds two reasoned exceptions.
  const { stdout } = await run(process.execPath, [join(root, 'node_modules/@redocly/cli/bin/cli.js'), 'lint', 'openapi.json', '--format=json'], {
    cwd: root,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }
  }).catch((err: { stdout: string }) => err)
  const report = JSON.parse(stdout)
  t.same(report.totals, { errors: 0, warnings: 0, ignored: 2 }, JSON.stringify(report.problems, null, 2))
})

t.test('shared schemas are named components, never def-N', async (t) => {
  t.same(Object.keys(doc.components.schemas).sort(), [
    'AccessToken', 'Credentials', 'Done', 'EventsResponse', 'Failure', 'HealthOk', 'HealthUnavailable',
    'LoginResponse', 'LogoutRequest', 'Me', 'MeResponse', 'PasswordChangeRequest', 'RefreshRequest', 'RefreshResponse',
    'RegisterResponse', 'SecurityEvent', 'Session',
    'SessionListItem', 'SessionsResponse', 'User'
  ])
  t.notMatch(committed, /def-\d/)
  for (const [name, schema] of Object.entries(doc.components.schemas as Json)) {
    t.equal(schema.type, 'object', name)
    t.ok(schema.properties, `${name} has properties`)
    t.ok(Array.isArray(schema.required) && schema.required.length > 0, `${name} has required`)
    t.equal(schema.additionalProperties, false, `${name} is closed`)
    if ('success' in schema.properties) t.type(schema.properties.success.const, 'boolean', `${name}.success is a literal`)
  }
  // openapi-typescript marks a field with a `default` as required
  t.notMatch(JSON.stringify(doc.components), /"default"/)
})

t.test('servers: a relative / first (Try it out reaches the origin of /docs), then an origin without a path', async (t) => {
  t.equal(doc.servers.length, 2)
  t.equal(doc.servers[0].url, '/')
  const server = doc.servers[1]
  const url = new URL(server.url.replace(/\{(\w+)\}/g, (_: string, name: string) => server.variables[name].default))
  t.equal(url.href, 'http://127.0.0.1:3000/')
  t.equal(url.pathname, '/')
})

t.test('every operation is named, tagged, described, secured, and documents each status with an example', async (t) => {
  const PUBLIC = new Set(['health', 'register', 'login', 'refresh'])
  t.same(operations.map(([method, path, op]) => `${op.operationId} ${method} ${path}`), [
    'health get /health',
    'register post /api/v1/auth/register',
    'login post /api/v1/auth/login',
    'refresh post /api/v1/auth/refresh',
    'logout post /api/v1/auth/logout',
    'changePassword post /api/v1/auth/password',
    'me get /api/v1/auth/me',
    'listSessions get /api/v1/auth/sessions',
    'revokeSession delete /api/v1/auth/sessions/{id}',
    'listEvents get /api/v1/auth/events'
  ], 'every route is documented, the Swagger UI routes are not')
  const tags = new Set(doc.tags.map((tag: Json) => tag.name))
  for (const [, path, op] of operations) {
    const id = op.operationId
    t.equal(op.tags.length, 1, `${id}: one tag`)
    t.ok(tags.has(op.tags[0]), `${id}: a declared tag`)
    t.ok(op.summary, `${id}: summary`)
    t.ok(op.description, `${id}: description`)
    t.same(op.security, PUBLIC.has(id) ? [] : [{ bearerAuth: [] }], `${id}: security`)
    t.notOk('default' in op.responses, `${id}: no default response`)
    const api = path.startsWith('/api/')
    for (const [status, response] of Object.entries(op.responses as Json)) {
      const media = response.content['application/json']
      t.match(media.schema, { $ref: /^#\/components\/schemas\/\w+$/ }, `${id} ${status}: a named schema`)
      t.ok(media.example, `${id} ${status}: an example`)
      const failure = media.schema.$ref === '#/components/schemas/Failure'
      t.equal(failure, api && !status.startsWith('2'), `${id} ${status}: failures, and only they, are the failure envelope`)
    }
  }
  const statuses = (id: string) => Object.keys(operations.find(([, , op]) => op.operationId === id)![2].responses)
  t.same(statuses('logout'), ['200', '400', '401', '403', '413', '415', '429', '500', '503'])
  t.same(statuses('health'), ['200', '503'])
  t.same(statuses('login'), ['200', '400', '401', '413', '415', '429', '500', '503'])
  t.same(statuses('register'), ['201', '400', '409', '413', '415', '429', '500', '503'])
  // DELETE bodies are parsed too: a body can make it 413 or 415.
  t.same(statuses('revokeSession'), ['200', '400', '401', '403', '404', '413', '415', '429', '500', '503'])
  t.same(statuses('me'), ['200', '401', '403', '429', '500', '503'])
})

t.test('Swagger UI and its assets are served, outside the API\'s no-store and envelope', async (t) => {
  const fastify = await build(t)
  const page = await fastify.inject('/docs/')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  for (const asset of ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'swagger-initializer.js']) {
    const res = await fastify.inject(`/docs/static/${asset}`)
    t.equal(res.statusCode, 200, asset)
    t.not(res.headers['cache-control'], 'no-store', asset)
  }
  t.match((await fastify.inject('/docs/static/swagger-initializer.js')).body, /\.\/json|\/docs\/json/)
})

t.test('the serializer enforces the response schemas: a handler cannot leak an undeclared key', async (t) => {
  const fastify = await build(t)
  const { token } = await login(fastify)

  // Services that hand the routes more than their schemas declare.
  const { sessions, audit } = fastify
  const list = sessions.list.bind(sessions)
  sessions.list = async (current) => (await list(current)).map((s) => Object.assign(s, { jti: 'secret-jti', userId: 'u' }))
  const recent = audit.recent.bind(audit)
  audit.recent = async (userId) => (await recent(userId)).map((e) => Object.assign(e, { passwordHash: 'x' }))
  const open = sessions.open.bind(sessions)
  sessions.open = async (...args) => Object.assign(await open(...args), { refreshHash: 'leak', jti: 'secret-jti' })

  const auth = { authorization: `Bearer ${token}` }
  const listed = (await fastify.inject({ url: '/api/v1/auth/sessions', headers: auth })).json()
  t.same(Object.keys(listed.data.sessions[0]).sort(), ['createdAt', 'current', 'expiresAt', 'id', 'ip', 'userAgent'])
  const events = (await fastify.inject({ url: '/api/v1/auth/events', headers: auth })).json()
  t.same(Object.keys(events.data.events[0]).sort(), ['at', 'ip', 'sessionId', 'type', 'userAgent'])
  const email = (await fastify.inject({ url: '/api/v1/auth/me', headers: auth })).json().data.user.email
  const logged = (await fastify.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: PASSWORD } })).json()
  t.same(Object.keys(logged.data).sort(), ['expiresAt', 'expiresIn', 'refreshExpiresAt', 'refreshToken', 'sessionId', 'token', 'tokenType'])
  t.notMatch(JSON.stringify([listed, events, logged]), /secret-jti|leak|passwordHash|userId/)
})
