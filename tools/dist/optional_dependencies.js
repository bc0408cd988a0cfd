// Name each platform package in the main package's optionalDependencies, at packing time (as `napi
// prepublish` does: in the repository they would send `npm install` after packages not yet published),
// and refuse a platform package whose version differs from the main package's.
//   node optional_dependencies.js MAIN/package.json PLATFORM/package.json...   (MAIN's file is rewritten)
const fs = require('fs')
const [main, ...platforms] = process.argv.slice(2)
const p = JSON.parse(fs.readFileSync(main, 'utf8'))
p.optionalDependencies = {}
for (const f of platforms) {
  const q = JSON.parse(fs.readFileSync(f, 'utf8'))
  if (q.version !== p.version) throw new Error(`${q.name} is ${q.version}, ${p.name} is ${p.version}`)
  p.optionalDependencies[q.name] = q.version
}
fs.writeFileSync(main, JSON.stringify(p, null, 2) + '\n')
