'use strict'
// The Verifier on a real Redis Cluster (3 masters, 3 replicas, started by `testenv redis-cluster`
// on loopback ports): RedisOptions.cluster takes the seed nodes; a nonce is accepted once, one by
// one and in a batch; a revocation reaches every shard; core refuses a URL and seed nodes together.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const tc = require('trustcore')
const { Launched } = require('./testenv.js')

const issuer = tc.IssuerKey.generate()
const worker = tc.WorkerKey.generate()
const nowSeconds = () => Date.now() / 1000
const token = tc.mintBiscuit(issuer, {
  publicHex: worker.publicHex,
  holderId: 'worker-1',
  facts: { right: ['lease'] },
  revocationId: 'rev-1',
  expiresAt: nowSeconds() + 3600,
})
const request = { method: 'POST', path: '/lease', body: '{}' }
const proof = (nonce) => tc.makeProof(worker, token, request, String(Math.floor(nowSeconds())), nonce)
const codeOf = async (call) => {
  try {
    await call()
    return 'OK'
  } catch (err) {
    if (err instanceof tc.TrustError) return err.code
    throw err
  }
}

let cluster
before(async () => {
  cluster = await Launched.start('redis-cluster')
})
after(async () => {
  await cluster?.close()
})

test('a verifier on a Redis Cluster accepts each nonce once and revokes on every shard', async () => {
  const verifier = new tc.Verifier(issuer.publicHex, { redis: { cluster: cluster.ready.urls, keyPrefix: 'node:' } })
  const nonces = Array.from({ length: 48 }, (_, i) => `n-${i}`)
  for (const nonce of nonces) assert.equal(await codeOf(() => verifier.authenticateAsync(proof(nonce), request)), 'OK')
  for (const nonce of nonces) assert.equal(await codeOf(() => verifier.authenticate(proof(nonce), request)), 'REPLAYED')
  const batch = Array.from({ length: 16 }, (_, i) => ({ proof: proof(`b-${i}`), request }))
  assert.deepEqual(verifier.authenticateBatch(batch).map((o) => o.ok), Array(16).fill(true))
  assert.deepEqual((await verifier.authenticateBatchAsync(batch)).map((o) => o.error?.code), Array(16).fill('REPLAYED'))
  verifier.revoke('rev-1')
  for (let i = 0; i < 48; i++) {
    assert.equal(await codeOf(() => verifier.authenticate(proof(`r-${i}`), request)), 'REVOKED')
  }
})

test('core checks the cluster setting', async () => {
  const seeds = cluster.ready.urls
  const make = (redis) => codeOf(() => new tc.Verifier(issuer.publicHex, { redis }))
  assert.equal(await make({ url: 'redis://127.0.0.1:6379/', cluster: seeds }), 'MALFORMED_INPUT')
  assert.equal(await make({ cluster: seeds, keyPrefix: '{x}:' }), 'MALFORMED_INPUT')
  assert.equal(await make({ cluster: ['redis://127.0.0.1:7000/2'] }), 'MALFORMED_INPUT')
  assert.equal(await make({}), 'MALFORMED_INPUT')
})
