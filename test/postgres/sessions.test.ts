// The route tests of routes/api/v1/auth/sessions.ts, on PostgreSQL (test/pg.ts).
import { runOnPostgres } from '../pg.js'

if (await runOnPostgres()) await import('../routes/api/v1/auth/sessions.test.js')
