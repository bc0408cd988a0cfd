#!/usr/bin/env node
// The trustcore command through npm, the pattern esbuild and Biome use: this launcher runs the binary of the
// platform package npm installed from optionalDependencies (its os/cpu/libc match this machine), with this
// process's arguments and stdio, passes SIGTERM and SIGHUP on (the signer daemon stops with its launcher),
// and exits as the binary did.
'use strict'
const { spawn } = require('node:child_process')
const path = require('node:path')

function platformKey() {
  if (process.platform !== 'linux') return `${process.platform}-${process.arch}`
  const glibc = process.report && process.report.getReport().header.glibcVersionRuntime
  return `linux-${process.arch}-${glibc ? 'gnu' : 'musl'}`
}

const key = platformKey()
const pkg = `@trustcore/cli-${key}`
let binary
try {
  binary = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'bin', 'trustcore')
} catch {
  console.error(
    `trustcore-cli: no ${pkg} installed. Binaries exist for linux-x64-gnu (glibc 2.17 or later); ` +
      'if that is this machine, install again without --no-optional / --omit=optional.'
  )
  process.exit(1)
}

const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit' })
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal))
// Ctrl-C reaches the binary from the terminal itself: the launcher waits for it to exit
process.on('SIGINT', () => {})
child.on('error', (error) => {
  console.error(`trustcore-cli: cannot run ${binary}: ${error.message}`)
  process.exit(1)
})
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal)
    process.kill(process.pid, signal)
  } else process.exit(code)
})
