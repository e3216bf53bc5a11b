/**
 * `node --import tsx bench/render.ts`: rewrites the results section of
 * BENCHMARKS.md from bench/results/latest.json (and previous.json), without
 * measuring again.
 */
import { existsSync, readFileSync } from 'node:fs'
import { ROOT } from './procs.js'
import { renderResults, writeResults } from './report.js'

const read = (name: string) => JSON.parse(readFileSync(ROOT + 'bench/results/' + name, 'utf8'))
const previous = existsSync(ROOT + 'bench/results/previous.json') ? read('previous.json') : null
writeResults(ROOT + 'BENCHMARKS.md', renderResults(read('latest.json'), previous))
