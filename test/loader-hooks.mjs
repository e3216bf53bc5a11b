// tsx's source maps carry `sourcesContent: [null]` unless tsx saw
// NODE_V8_COVERAGE when it started, and tap measures coverage through the
// inspector, without that variable. With a null source the coverage report
// maps every range onto nothing and calls each file 100 % covered (tsx
// issues #433, #558). Without `sourcesContent` it reads the .ts file
// instead, so this hook drops the empty field from the inline source map.
const INLINE = /\n\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/]+=*)\s*$/

// On Node.js 22 and later tsx writes no inline map (Node keeps the maps
// itself), and nothing is fixed here; coverage is measured on Node.js 20
// (.ci/run runs the other versions without it).
const INLINE_MAPS = Number(process.versions.node.split('.')[0]) < 22

export async function load (url, context, nextLoad) {
  const result = await nextLoad(url, context)
  if (!url.startsWith('file:') || result.source == null) return result
  const source = String(result.source)
  const inline = INLINE.exec(source)
  if (inline === null) {
    // Our TypeScript always comes with tsx's inline map: without one (a tsx
    // that writes it differently), the report would be wrong, so say so.
    if (INLINE_MAPS && /\.[cm]?ts$/.test(new URL(url).pathname) && !url.includes('/node_modules/')) {
      throw new Error(`test/loader-hooks.mjs: no inline source map in what tsx made of ${url}`)
    }
    return result
  }
  const map = JSON.parse(Buffer.from(inline[1], 'base64').toString('utf8'))
  if (!Array.isArray(map.sourcesContent) || map.sourcesContent.some((s) => s !== null)) return result
  delete map.sourcesContent
  const encoded = Buffer.from(JSON.stringify(map)).toString('base64')
  return { ...result, source: source.slice(0, inline.index) + `\n//# sourceMappingURL=data:application/json;base64,${encoded}\n` }
}
