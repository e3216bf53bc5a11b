// The TypeScript loader of the tests (package.json "tap" "node-arg", and so
// of every server test/spawn.ts starts): tsx, which compiles with esbuild
// and caches what it compiled, instead of tap's default ts-node, which
// loads the TypeScript compiler into every test process and every server.
import { register } from 'node:module'

// No compile cache shared between processes: with a cold cache (a fresh
// clone, CI) the first full run ended below 100 % branch coverage in files
// that in-process tests cover, and the next run, on the warm cache, at 100 %;
// each process compiling for itself gives the same report every time.
process.env.TSX_DISABLE_CACHE ??= '1'
await import('tsx')
// Registered after tsx, so it sees what tsx compiled (test/loader-hooks.mjs).
register('./loader-hooks.mjs', import.meta.url)
