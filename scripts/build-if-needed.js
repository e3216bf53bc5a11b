// `npm start` builds only when needed (`tsc` takes 5-16 s): when dist has no
// build stamp, or a source, migration or build setting is newer than it.
// Plain JavaScript: it runs before anything is compiled.
import { readdirSync, statSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export const STAMP = join('dist', '.build-stamp')
const FOLDERS = ['plugins', 'routes', 'schemas', 'lib', 'scripts', 'migrations']
const SOURCE = /\.(ts|sql|js)$/

/** The newest modification time (ms) among the build's inputs under `root`. */
export function newestSource (root) {
  let newest = 0
  const visit = (path) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name)
      if (entry.isDirectory()) visit(full)
      else if (SOURCE.test(entry.name)) newest = Math.max(newest, statSync(full).mtimeMs)
    }
  }
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const full = join(root, entry.name)
    if (entry.isDirectory() && FOLDERS.includes(entry.name)) visit(full)
    else if (entry.isFile() && (/\.ts$/.test(entry.name) || /^(tsconfig.*\.json|package(-lock)?\.json)$/.test(entry.name))) {
      newest = Math.max(newest, statSync(full).mtimeMs)
    }
  }
  return newest
}

/** Whether `root`'s dist is missing or older than its sources. */
export function needsBuild (root) {
  const stamp = statSync(join(root, STAMP), { throwIfNoEntry: false })
  return stamp === undefined || newestSource(root) > stamp.mtimeMs
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = process.cwd()
  if (needsBuild(root)) {
    process.stdout.write('sources changed since the last build: building\n')
    const { status } = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' })
    // `npm run build` stamps dist itself (scripts/copy-assets.js), last.
    if (status !== 0) process.exit(1)
  }
}
