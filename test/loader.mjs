// The TypeScript loader of the tests (package.json "tap" "node-arg", and so
// of every server test/spawn.ts starts): tsx, which compiles with esbuild,
// instead of tap's default ts-node, which
// loads the TypeScript compiler into every test process and every server.
import { register } from 'node:module'

// No compile cache shared between processes: each compiles what it loads.
// Turned off while chasing a coverage gap on fresh installs, which turned
// out to be tap's plugin rebuild (scripts/test.js); the suite has been
// verified on a fresh install this way. Turning it back on is a speed-up
// still to measure.
process.env.TSX_DISABLE_CACHE ??= '1'
await import('tsx')
// Registered after tsx, so it sees what tsx compiled (test/loader-hooks.mjs).
register('./loader-hooks.mjs', import.meta.url)
