'use strict'
// Preload (`node --require`) for `make test-node-fault`: the package's entry points resolve to the
// fault-injection build in $TRUSTCORE_NODE_FAULT_DIR (its index.js and addon, with copies of
// trustcore.js and trustcore.mjs) instead of this folder's, so the whole suite runs against that
// debug build: `require('trustcore')`, `require('../index.js')` and `import('trustcore')` alike.

const Module = require('node:module')
const path = require('node:path')
const { pathToFileURL } = require('node:url')

const dir = process.env.TRUSTCORE_NODE_FAULT_DIR
if (!dir) throw new Error('TRUSTCORE_NODE_FAULT_DIR is not set: run `make test-node-fault`')
const FAULT = path.resolve(dir)
const PKG = path.resolve(__dirname, '..', '..')
const REDIRECT = new Map(['index.js', 'trustcore.js'].map((f) => [path.join(PKG, f), path.join(FAULT, f)]))

const resolve = Module._resolveFilename
Module._resolveFilename = function (...args) {
  const found = resolve.apply(this, args)
  return REDIRECT.get(found) ?? found
}

const esmEntry = pathToFileURL(path.join(FAULT, 'trustcore.mjs')).href
Module.register(
  `data:text/javascript,${encodeURIComponent(
    `export async function resolve(specifier, context, next) {
      if (specifier === 'trustcore') return { url: ${JSON.stringify(esmEntry)}, shortCircuit: true }
      return next(specifier, context)
    }`,
  )}`,
)
