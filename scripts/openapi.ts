/**
 * `npm run openapi`: writes the OpenAPI document to openapi.json in the
 * working folder (npm runs scripts from the repository root). Commit it:
 * test/app/openapi.test.ts fails when it is stale.
 */
import { writeFile } from 'node:fs/promises'
import { openapiDocument } from '../lib/openapi.js'

await writeFile('openapi.json', await openapiDocument())
