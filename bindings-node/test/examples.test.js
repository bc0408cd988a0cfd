'use strict'
// The README's examples, run as written: examples/express.js (Express 4 and, with the same code,
// Express 5) and examples/fastify.js served on loopback with examples/routes.json, called by
// examples/fetch.mjs (a child process, as a user runs it) and by plain fetch; and the README shows
// every example verbatim.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const Module = require('node:module')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { promisify } = require('node:util')
const tc = require('trustcore')

const EXAMPLES = path.join(__dirname, '..', 'examples')
const issuer = tc.IssuerKey.generate()
const worker = tc.WorkerKey.generate()
const mint = (lanes) =>
  tc.mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'worker-1', facts: { right: ['lease'], lane: lanes }, revocationId: 'rev-1', expiresAt: Date.now() / 1000 + 3600 })

/** examples/express.js with `require('express')` answered by `expressModule` (Express 4 or 5). */
function expressExample(expressModule) {
  const file = path.join(EXAMPLES, 'express.js')
  const example = new Module(file, module)
  example.filename = file
  example.paths = Module._nodeModulePaths(EXAMPLES)
  const load = example.require.bind(example)
  example.require = (id) => (id === 'express' ? require(expressModule) : load(id))
  example._compile(fs.readFileSync(file, 'utf8'), file)
  return example.exports
}

/** A server on a free loopback port running `start(authority)`'s app. */
async function serve(start) {
  const server = http.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const authority = `127.0.0.1:${server.address().port}`
  await start(authority, server)
  return {
    base: `http://${authority}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** examples/fetch.mjs, run as a user runs it, against `api`. */
async function client(api, token) {
  const env = { ...process.env, API: api, HOLDER_SECRET_HEX: worker.secretHex(), TOKEN: token }
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(EXAMPLES, 'fetch.mjs')], { env, cwd: path.join(__dirname, '..') })
  return stdout.trim()
}

const servers = {
  express4: (authority, server) => server.on('request', expressExample('express').createApp({ issuerPublicHex: issuer.publicHex, authority })),
  express5: (authority, server) => server.on('request', expressExample('express5').createApp({ issuerPublicHex: issuer.publicHex, authority })),
  fastify: async (authority, server) => {
    const { createApp } = require('../examples/fastify.js')
    // the example's app, routed from this server (its port is known before the Verifier is made)
    const app = await createApp({ issuerPublicHex: issuer.publicHex, authority })
    await app.ready()
    server.on('request', (req, res) => app.routing(req, res))
  },
}

for (const [name, start] of Object.entries(servers)) {
  test(`${name}: the example service, called by the example client`, async (t) => {
    const server = await serve(start)
    t.after(server.close)
    assert.equal(await client(server.base, mint(['gpu'])), "200 { leasedTo: 'worker-1', lane: 'gpu', episode: 'e1' }")
    assert.match(await client(server.base, mint(['cpu'])), /^403 \{\s*error: 'DENIED',/)
    const bare = await fetch(`${server.base}/lease/gpu`, { method: 'POST', body: '{}' })
    assert.deepEqual([bare.status, bare.headers.get('www-authenticate')], [401, 'Biscuit error="MALFORMED_INPUT"'])
    const health = await fetch(`${server.base}/health`)
    assert.deepEqual([health.status, await health.json()], [200, { ok: true }])
  })
}

test('the README shows the examples exactly as tested', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8')
  for (const example of ['routes.json', 'express.js', 'fastify.js', 'fetch.mjs', 'quickstart.mjs']) {
    const code = fs.readFileSync(path.join(EXAMPLES, example), 'utf8')
    assert.ok(readme.includes(code), `README.md does not include examples/${example} verbatim`)
  }
})
