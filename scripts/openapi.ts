/**
 * `npm run openapi`: writes the OpenAPI document to openapi.json in the
 * working folder (npm runs scripts from the repository root). Commit it:
 * test/app/openapi.test.ts fails when it is stale.
 */
import { writeFile } from 'node:fs/promises'
import { openapiDocument } from '../lib/openapi.js'

const document = await openapiDocument()
await writeFile('openapi.json', document)
const { paths } = JSON.parse(document) as { paths: Record<string, Record<string, unknown>> }
const operations = Object.values(paths).reduce((n, ops) => n + Object.keys(ops).length, 0)
process.stdout.write(`wrote openapi.json: ${operations} operations, ${Buffer.byteLength(document)} bytes, in ${process.cwd()}\n`)
