/**
 * `node --import tsx bench/render.ts`: rewrites the results sections of
 * BENCHMARKS.md from bench/results/latest.json (and previous.json), and the
 * PostgreSQL one from postgres-latest.json (and postgres-previous.json)
 * when there is one, without measuring again.
 */
import { existsSync, readFileSync } from 'node:fs'
import { ROOT } from './procs.js'
import { renderPostgres, renderResults, writeResults } from './report.js'

const path = (name: string) => ROOT + 'bench/results/' + name
const read = (name: string) => JSON.parse(readFileSync(path(name), 'utf8'))
const maybe = (name: string) => existsSync(path(name)) ? read(name) : null
if (existsSync(path('latest.json'))) writeResults(ROOT + 'BENCHMARKS.md', renderResults(read('latest.json'), maybe('previous.json')))
if (existsSync(path('postgres-latest.json'))) writeResults(ROOT + 'BENCHMARKS.md', renderPostgres(read('postgres-latest.json'), maybe('postgres-previous.json')), 'pg-results')
