// `npm test`: the type-check and tap side by side, with one allowance. The
// type-check (`tsc --noEmit`, single-threaded, ~15 s of CPU) runs while the
// tests start, on a machine whose cores the tests do not keep busy; its
// output comes after tap's, and either failing fails the run. Where PostgreSQL
// or Redis does not answer (and AUTH_SESSIONS_REQUIRE, set by .ci/run, does
// not name it), their suites skip, so the code only they run cannot be
// covered: tap then may finish below 100 % coverage, and one line says so.
// Everywhere else, CI included, 100 % is required as always.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'

const required = (process.env.AUTH_SESSIONS_REQUIRE ?? '').split(',').map((s) => s.trim())
const services = [
  ['PostgreSQL', 'postgres', process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres', 5432],
  ['Redis', 'redis', process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', 6379]
]

/** Whether something accepts a TCP connection at the URL's host and port, within a second. */
function answers (url, port) {
  const u = new URL(url)
  return new Promise((resolve) => {
    const socket = connect(Number(u.port || port), u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1')
    const done = (ok) => { socket.destroy(); resolve(ok) }
    socket.setTimeout(1000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

const missing = []
for (const [name, key, url, port] of services) {
  if (!required.includes(key) && !await answers(url, port)) missing.push(name)
}
const args = process.argv.slice(2)
if (missing.length > 0) {
  args.push('--allow-incomplete-coverage')
  console.log(`# ${missing.join(' and ')} not reachable: ${missing.length > 1 ? 'their' : 'its'} suites are skipped, so coverage may end below 100 % here (CI runs every suite and requires 100 %)`)
}
/** Resolves with the exit code of `node <script> ...args` (1 when it dies of a signal). */
function run (script, scriptArgs, stdio) {
  const child = spawn(process.execPath, [new URL(script, import.meta.url).pathname, ...scriptArgs], { stdio })
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)))
  return { child, exited }
}

// package.json leaves out tap's TypeScript plugin (ts-node): tests load through
// tsx (test/loader.mjs). tap rebuilds its plugin set when it differs, but the
// run that rebuilds still starts its test processes with the old set's
// loader as well, and what ts-node compiled does not line up with tsx's
// coverage: on a fresh install the first run ended at 99.3 % branch coverage.
// So the plugin set is rebuilt first, once, before any test runs.
const built = new URL('../node_modules/@tapjs/test/test-built/dist/esm/index.js', import.meta.url)
if (existsSync(built) && readFileSync(built, 'utf8').includes('@tapjs/typescript')) {
  const code = await run('../node_modules/tap/dist/esm/run.mjs', ['build'], 'inherit').exited
  if (code !== 0) process.exit(code)
}

// tsc's incremental state lives in .tap (git-ignored): a re-run checks only what changed.
const tsc = run('../node_modules/typescript/bin/tsc', ['-p', 'tsconfig.json', '--noEmit', '--incremental', '--tsBuildInfoFile', '.tap/tsconfig.tsbuildinfo'], ['ignore', 'pipe', 'pipe'])
let typeErrors = ''
tsc.child.stdout.setEncoding('utf8').on('data', (d) => { typeErrors += d })
tsc.child.stderr.setEncoding('utf8').on('data', (d) => { typeErrors += d })
const tap = run('../node_modules/tap/dist/esm/run.mjs', args, 'inherit')
const [tapCode, tscCode] = await Promise.all([tap.exited, tsc.exited])
// A failed type-check also in tap's closing-line form, which .ci/run's summary counts.
if (tscCode !== 0) console.log(`${typeErrors}# tsc --noEmit failed (exit ${tscCode})\n# { total: 1, pass: 0, fail: 1 }`)
process.exit(tapCode !== 0 ? tapCode : tscCode)
