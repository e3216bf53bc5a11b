/**
 * `npm start` builds only when needed: no build stamp, or an input newer
 * than it; and the script run as npm start runs it skips a fresh build.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
// @ts-expect-error: a plain JavaScript script, without declarations
import { needsBuild, STAMP } from '../../scripts/build-if-needed.js'
import { tempDir } from '../helper.js'

const SCRIPT = fileURLToPath(new URL('../../scripts/build-if-needed.js', import.meta.url))

t.test('builds when the stamp is missing or older than an input, not otherwise', async (t) => {
  const root = tempDir(t, 'auth-build-')
  for (const dir of ['dist', 'lib/deep', 'migrations', 'node_modules', 'test']) mkdirSync(join(root, dir), { recursive: true })
  const at = (path: string, seconds: number) => { writeFileSync(join(root, path), 'x'); utimesSync(join(root, path), seconds, seconds) }
  at('app.ts', 1000)
  at('lib/deep/x.ts', 1000)
  at('migrations/001.sql', 1000)
  at('tsconfig.json', 1000)
  at('README.md', 5000)
  at('node_modules/late.ts', 5000)
  at('test/late.ts', 5000)
  t.equal(needsBuild(root), true, 'no stamp yet')
  at(STAMP, 2000)
  t.equal(needsBuild(root), false, 'fresh: docs, tests and dependencies do not count')
  for (const input of ['lib/deep/x.ts', 'migrations/001.sql', 'tsconfig.json', 'app.ts']) {
    at(input, 3000)
    t.equal(needsBuild(root), true, input)
    at(input, 1000)
  }
  // Run as npm start runs it: a fresh build is left alone, at once.
  const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT], { cwd: root })
  t.equal(stdout, '')
  // Stale: it runs `npm run build` (here a stand-in) and stamps the result; a failed build stops npm start.
  writeFileSync(join(root, 'package.json'), JSON.stringify({ scripts: { build: 'node -e "process.exit(Number(process.env.FAIL ?? 0)); " && node -e "require(\'fs\').writeFileSync(\'dist/.build-stamp\', \'\')"' } }))
  const built = await promisify(execFile)(process.execPath, [SCRIPT], { cwd: root })
  t.equal(built.stdout, 'sources changed since the last build: building\n')
  t.equal(needsBuild(root), false, 'stamped')
  at('app.ts', Date.now() / 1000 + 60)
  const failed = await promisify(execFile)(process.execPath, [SCRIPT], { cwd: root, env: { ...process.env, FAIL: '3' } }).catch((e: { code: number }) => e)
  t.equal((failed as { code: number }).code, 1)
  t.equal(needsBuild(root), true, 'not stamped after a failed build')
})
