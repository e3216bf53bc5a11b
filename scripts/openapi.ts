/**
 * `npm run openapi [file]`: writes the OpenAPI document to openapi.json at
 * the repository root (or to `file`). Commit it: test/app/openapi.test.ts
 * fails when it is stale.
 */
import { writeFile } from 'node:fs/promises'
import { openapiDocument } from '../lib/openapi.js'

await writeFile(process.argv[2] ?? 'openapi.json', await openapiDocument())
