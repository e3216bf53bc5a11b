// Copies what tsc does not: the SQL migrations, next to the compiled code;
// then stamps the build, for `npm start` (scripts/build-if-needed.js).
import { cpSync, writeFileSync } from 'node:fs'

cpSync('migrations', 'dist/migrations', { recursive: true })
writeFileSync('dist/.build-stamp', new Date().toISOString() + '\n')
