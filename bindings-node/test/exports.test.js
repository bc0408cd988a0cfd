'use strict'
// The package surface: CommonJS and ESM give the same objects, every native export is wrapped, the
// error code list matches core and the TypeScript union, and the declarations type-check.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..')
const native = require('../index.js')
const tc = require('trustcore')

test('every native export is re-exported, functions wrapped', () => {
  for (const [name, value] of Object.entries(native)) {
    assert.ok(name in tc, `${name} missing from trustcore.js`)
    if (typeof value === 'function' && !['IssuerKey', 'WorkerKey', 'Token'].includes(name)) {
      assert.notEqual(tc[name], value, `${name} is not wrapped`)
      assert.equal(tc[name].name, name)
    }
  }
})

test('SignerClient is made with new; its methods always answer with a Promise', async () => {
  const client = new tc.SignerClient('unix:/nonexistent-trustcore-dir/signer.sock')
  assert.ok(client instanceof tc.SignerClient && client instanceof native.SignerClient)
  assert.equal(tc.SignerClient.name, 'SignerClient')
  for (const name of ['publicKey', 'mint', 'signJob', 'health']) {
    assert.equal(tc.SignerClient.prototype[name].name, name)
    const pending = client[name]({}, 'w')
    assert.ok(pending instanceof Promise, name)
    await assert.rejects(pending, (err) => err instanceof tc.TrustError || err instanceof TypeError, name)
  }
  await assert.rejects(client.health(), (err) => err instanceof tc.TrustError && err.code === 'SIGNER_UNAVAILABLE')
})

test('Verifier is made with new; its sync methods return, their Async forms answer with a Promise', async () => {
  const { issuer } = require('./fixtures.js')
  const verifier = new tc.Verifier(issuer.publicHex)
  assert.ok(verifier instanceof tc.Verifier && verifier instanceof native.Verifier)
  assert.equal(tc.Verifier.name, 'Verifier')
  assert.deepEqual({ ...verifier.cacheStats() }, { hits: 0, misses: 0, entries: 0, bytes: 0 })
  for (const name of ['authenticate', 'authenticateBatch', 'checkPolicy', 'authorize', 'revoke', 'revokeToken', 'decide']) {
    assert.equal(tc.Verifier.prototype[name].name, name)
    assert.equal(tc.Verifier.prototype[`${name}Async`].name, `${name}Async`)
    assert.throws(() => verifier[name]({}, {}), (err) => err instanceof tc.TrustError || err instanceof TypeError, name)
    const pending = verifier[`${name}Async`]({}, {})
    assert.ok(pending instanceof Promise, `${name}Async`)
    await assert.rejects(pending, (err) => err instanceof tc.TrustError || err instanceof TypeError, `${name}Async`)
  }
  assert.equal(await verifier.revokeAsync('rev-1'), undefined)
  // a batch answers its refusals as entries, each error a TrustError of this module
  const { request, signed } = require('./fixtures.js')
  const [refused] = verifier.authenticateBatch([{ proof: signed('exports'), request }])
  assert.ok(refused.ok === false && refused.error instanceof tc.TrustError && refused.error.code === 'REVOKED') // rev-1, just revoked
  const [refusedAsync] = await verifier.authenticateBatchAsync([{ proof: signed('exports'), request }])
  assert.ok(refusedAsync.ok === false && refusedAsync.error instanceof tc.TrustError)
  const esm = await import('trustcore')
  const [viaEsm] = new esm.Verifier(issuer.publicHex).authenticateBatch([{ proof: signed('exports'), request }])
  assert.ok(viaEsm.error instanceof esm.TrustError)
  assert.throws(() => tc.Verifier(issuer.publicHex), TypeError)
})

test('HttpPolicy is made by its factories only; its instances are the native class', () => {
  const policy = tc.HttpPolicy.fromJson('{"routes": []}')
  assert.ok(policy instanceof tc.HttpPolicy && policy instanceof native.HttpPolicy)
  assert.equal(tc.HttpPolicy.name, 'HttpPolicy')
  assert.equal(tc.HttpPolicy.fromJson.name, 'fromJson')
  assert.throws(() => new tc.HttpPolicy(), TypeError)
  assert.throws(() => tc.HttpPolicy.fromJson('{'), (err) => err instanceof tc.TrustError && err.code === 'MALFORMED_INPUT')
})

test('ESM import gives the very same objects as require', async () => {
  const esm = await import('trustcore')
  for (const name of Object.keys(tc)) assert.equal(esm[name], tc[name], `ESM export ${name}`)
  assert.equal(esm.default, tc)
  assert.equal(esm.TrustError, tc.TrustError)
})

test('the subpaths trustcore/express, trustcore/fastify and trustcore/fetch: one function each, CommonJS and ESM alike', async () => {
  const subpaths = { express: 'trustcore', fastify: 'trustcore', fetch: 'signedFetch' }
  for (const [subpath, name] of Object.entries(subpaths)) {
    const cjs = require(`trustcore/${subpath}`)
    assert.equal(typeof cjs, 'function', subpath)
    assert.equal(cjs[name], cjs, subpath)
    assert.equal(cjs.default, cjs, subpath)
    const esm = await import(`trustcore/${subpath}`)
    assert.equal(esm.default, cjs, subpath)
    assert.equal(esm[name], cjs, subpath)
  }
  // the plugin is not encapsulated (fastify-plugin's convention): its hook guards the whole app
  assert.equal(require('trustcore/fastify')[Symbol.for('skip-override')], true)
  // what package.json ships and exports: every subpath's code and declarations
  const pkg = require('../package.json')
  for (const subpath of Object.keys(subpaths)) {
    assert.deepEqual(pkg.exports[`./${subpath}`], { types: `./${subpath}.d.ts`, default: `./${subpath}.js` })
    for (const file of [`${subpath}.js`, `${subpath}.d.ts`]) assert.ok(pkg.files.includes(file) && fs.existsSync(path.join(ROOT, file)), file)
  }
  assert.ok(pkg.files.includes('http-adapter.js'))
})

test('ERROR_CODES is core table and the TypeScript union, in order', () => {
  const dts = fs.readFileSync(path.join(ROOT, 'trustcore.d.ts'), 'utf8')
  const union = dts.match(/export type ErrorCode =([^;]*?)\n\n/s)[1]
  const names = [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1])
  assert.deepEqual(names, [...tc.ERROR_CODES])
  assert.deepEqual([...tc.ERROR_CODES], native.errorCodes())
})

test('the declarations type-check against a strict TypeScript program', () => {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node']
  execFileSync(process.execPath, [tsc, ...args, path.join(__dirname, 'types-check.mts')], { cwd: ROOT, stdio: 'pipe' })
})

test('the package exports the version of its package.json, in CJS and ESM', async () => {
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  assert.match(version, /^\d+\.\d+\.\d+$/)
  assert.equal(tc.version, version)
  assert.equal((await import('trustcore')).version, version)
})
