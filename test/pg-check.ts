/**
 * Run by tap before the test files (package.json "tap.before"): the one
 * line saying that the PostgreSQL suites are skipped, and how to run them;
 * or, when AUTH_SESSIONS_REQUIRE names postgres (.ci/run), the end of the
 * run.
 */
import { REQUIRED, SKIPPED, reachable } from './pg-env.js'

if (!await reachable()) {
  if (REQUIRED) {
    process.stderr.write(`AUTH_SESSIONS_REQUIRE names postgres: ${SKIPPED.replace('PostgreSQL suites skipped: ', '')}\n`)
    process.exit(1)
  }
  process.stdout.write(`# ${SKIPPED}\n`)
}
