// The TypeScript loader of the tests (package.json "tap" "node-arg", and so
// of every server test/spawn.ts starts): tsx, which compiles with esbuild
// and caches what it compiled, instead of tap's default ts-node, which
// loads the TypeScript compiler into every test process and every server.
import { register } from 'node:module'

await import('tsx')
// Registered after tsx, so it sees what tsx compiled (test/loader-hooks.mjs).
register('./loader-hooks.mjs', import.meta.url)
