/**
 * `npm run dev`: fastify-cli with watch and pretty logs, straight from the
 * TypeScript sources. The environment is checked here first, so that a bad
 * variable is one line and exit 1 instead of a watcher restarting a failing
 * child forever; and the watcher ignores the configured database and its
 * -wal/-shm/-journal files, whatever their name, or each write would
 * restart the server.
 */
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fastifyArgs } from '../lib/dev-args.js'
import { configOrExit } from '../lib/startup.js'

const config = configOrExit()

const cli = createRequire(import.meta.url).resolve('fastify-cli/cli.js')
const child = spawn(process.execPath, [cli, ...fastifyArgs(config)], {
  stdio: 'inherit',
  // fastify-cli loads TypeScript through tsx in the children it forks.
  env: { ...process.env, NODE_OPTIONS: [process.env.NODE_OPTIONS, '--import=tsx'].filter(Boolean).join(' ') }
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal))
// fastify-cli's exit code; 1 when a signal ended it (no code).
/* c8 ignore next */
child.on('exit', (code) => process.exit(code ?? 1))
