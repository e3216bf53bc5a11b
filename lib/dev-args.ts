/**
 * fastify-cli's arguments for `npm run dev` (scripts/dev.ts), from the typed config.
 * @see https://github.com/fastify/fastify-cli#start-fastify
 */
import { resolve } from 'node:path'
import type { Config } from '../fastify.config.js'

/** fastify-cli's `--ignore-watch`: space-separated regular expressions. */
export function ignoreWatch (config: Pick<Config, 'DATABASE_PATH'>): string {
  const fixed = ['dist', 'data', '.tap', 'coverage', 'bench/results', 'openapi.json', '\\.db(-wal|-shm|-journal)?$']
  if (config.DATABASE_PATH === ':memory:') return fixed.join(' ')
  // Escaped, and spaces as \x20: the list is split on spaces.
  const file = resolve(config.DATABASE_PATH).replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\x20')
  return [...fixed, `^${file}(-wal|-shm|-journal)?$`].join(' ')
}

export function fastifyArgs (config: Config): string[] {
  return ['start', '-w', '-o', '-P', '-l', config.LOG_LEVEL, '-a', config.HOST, '-p', String(config.PORT),
    `--ignore-watch=${ignoreWatch(config)}`, 'dev.ts']
}
