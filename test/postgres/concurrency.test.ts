// The concurrency tests of test/app, on PostgreSQL (test/pg.ts).
import { runOnPostgres } from '../pg.js'

if (await runOnPostgres()) await import('../app/concurrency.test.js')
