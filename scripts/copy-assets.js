// Copies what tsc does not: the SQL migrations, next to the compiled code.
import { cpSync } from 'node:fs'

cpSync('migrations', 'dist/migrations', { recursive: true })
