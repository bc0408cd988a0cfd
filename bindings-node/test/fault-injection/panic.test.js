'use strict'
// The panic boundary (docs/DESIGN.md §5), against the fault-injection build `make test-panic-node` puts in
// $TRUSTCORE_NODE_FAULT_DIR: there core panics inside canonical_request on a request whose method is
// TRUSTCORE-INJECTED-PANIC. Every entry point that reaches it, sync on the JS thread and Promise form
// on a libuv pool thread, must give a TrustError INTERNAL (thrown, or the Promise rejected), never
// abort the process, and the same keys and Verifier must keep working afterwards.
// (This file runs in a process of its own: an abort fails it.)

const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')

const dir = process.env.TRUSTCORE_NODE_FAULT_DIR
if (!dir) throw new Error('TRUSTCORE_NODE_FAULT_DIR is not set: run `make test-panic-node`')
const tc = require(path.join(path.resolve(dir), 'trustcore.js'))

const PANIC_METHOD = 'TRUSTCORE-INJECTED-PANIC'
const NOW = 1_700_000_000
const TS = String(NOW)
const issuer = tc.IssuerKey.fromSecretHex('11'.repeat(32))
const worker = tc.WorkerKey.fromSecretHex('22'.repeat(32))
const token = tc.mintBiscuit(issuer, {
  publicHex: worker.publicHex,
  holderId: 'gpu-1',
  facts: { lane: ['transcribe'] },
  revocationId: 'rev-1',
  expiresAt: NOW + 3600,
})
const normal = { method: 'POST', path: '/lease', body: Buffer.from('{}') }
const panicking = { method: PANIC_METHOD, path: '/lease', body: Buffer.from('{}') }
const options = { now: NOW, revokedIds: [], maxSkewSeconds: 300 }
const clock = { now: NOW }
const POLICY = { requestFacts: { req_operation: 'lease' }, allow: 'allow if req_operation("lease"), lane("transcribe")', now: NOW }
const legacySigning = { method: 'POST', url: 'https://api.example.com/lease', body: Buffer.from('{}'), profile: 'legacy', created: NOW, nonce: 'n-1' }
let nonces = 0
const fresh = (request = normal) => tc.makeProof(worker, token, request, TS, `n-${++nonces}`)

/** The call throws a TrustError whose code is INTERNAL. */
function throwsInternal(call) {
  assert.throws(call, (err) => {
    assert.ok(err instanceof tc.TrustError, `not a TrustError: ${err && err.stack}`)
    assert.equal(err.code, 'INTERNAL')
    return true
  })
}

/** The call returns a Promise that rejects with a TrustError whose code is INTERNAL. */
async function rejectsInternal(call) {
  const promise = call()
  assert.ok(promise instanceof Promise)
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof tc.TrustError, `not a TrustError: ${err && err.stack}`)
    assert.equal(err.code, 'INTERNAL')
    return true
  })
}

test('this is a fault-injection build: the marked method panics, any other works', () => {
  throwsInternal(() => tc.canonicalRequest(panicking, TS, 'n'))
  assert.ok(Buffer.isBuffer(tc.canonicalRequest(normal, TS, 'n')))
})

test('sync entry points: INTERNAL, then the same objects keep working', () => {
  const verifier = new tc.Verifier(issuer.publicHex)
  // a proof made for a normal request, presented with the marked one: every check before the
  // canonical request passes, so the panic is what answers
  const proof = fresh()
  throwsInternal(() => tc.canonicalRequest(panicking, TS, 'n-1'))
  throwsInternal(() => tc.makeProof(worker, token, panicking, TS, 'n-1'))
  // signRequest in the legacy profile signs the canonical request (Verifier#decide cannot reach it:
  // a route's method is upper-case letters only, and the marked method is not)
  throwsInternal(() => tc.signRequest(worker, token, { ...legacySigning, method: PANIC_METHOD }))
  throwsInternal(() => tc.authenticate(issuer.publicHex, proof, panicking, options))
  throwsInternal(() => verifier.authenticate(proof, panicking, clock))
  throwsInternal(() => verifier.authenticateBatch([{ proof, request: panicking }], clock))
  // one marked request among normal ones: the whole call is INTERNAL, none of it half done
  throwsInternal(() =>
    verifier.authenticateBatch(
      [
        { proof: fresh(), request: normal },
        { proof, request: panicking },
      ],
      clock,
    ),
  )
  // the same worker key, issuer key and Verifier afterwards
  assert.equal(tc.canonicalRequest(normal, TS, 'n-1').length > 0, true)
  assert.equal(tc.signRequest(worker, token, legacySigning)['X-EP-Signature'], tc.makeProof(worker, token, normal, TS, 'n-1').signature)
  const again = tc.makeProof(worker, token, normal, TS, 'after-sync')
  assert.equal(tc.authenticate(issuer.publicHex, again, normal, options).identity.holderId, 'gpu-1')
  const verified = verifier.authenticate(again, normal, clock)
  assert.equal(verified.identity.holderId, 'gpu-1')
  verifier.checkPolicy(verified.token, POLICY)
  // its replay store still answers: the same nonce again is refused
  assert.throws(() => verifier.authenticate(again, normal, clock), (err) => err.code === 'REPLAYED')
  const outcomes = verifier.authenticateBatch([{ proof: fresh(), request: normal }, { proof: fresh(), request: normal }], clock)
  assert.deepEqual(
    outcomes.map((o) => o.ok),
    [true, true],
  )
  // the proof made before the panics was never consumed: it still passes once
  assert.equal(verifier.authenticate(proof, normal, clock).identity.holderId, 'gpu-1')
  tc.mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'gpu-2', revocationId: 'rev-2', expiresAt: NOW + 60 })
})

test('Promise forms (libuv pool): the Promise rejects with INTERNAL, then the same objects keep working', async () => {
  const verifier = new tc.Verifier(issuer.publicHex)
  const proof = fresh()
  await rejectsInternal(() => tc.makeProofAsync(worker, token, panicking, TS, 'n-1'))
  await rejectsInternal(() => tc.signRequestAsync(worker, token, { ...legacySigning, method: PANIC_METHOD }))
  await rejectsInternal(() => tc.authenticateAsync(issuer.publicHex, proof, panicking, options))
  await rejectsInternal(() => verifier.authenticateAsync(proof, panicking, clock))
  await rejectsInternal(() => verifier.authenticateBatchAsync([{ proof, request: panicking }], clock))
  await rejectsInternal(() =>
    verifier.authenticateBatchAsync(
      [
        { proof: fresh(), request: normal },
        { proof, request: panicking },
      ],
      clock,
    ),
  )
  const again = await tc.makeProofAsync(worker, token, normal, TS, 'after-async')
  assert.equal((await tc.authenticateAsync(issuer.publicHex, again, normal, options)).identity.holderId, 'gpu-1')
  const verified = await verifier.authenticateAsync(again, normal, clock)
  await verifier.checkPolicyAsync(verified.token, POLICY)
  await assert.rejects(verifier.authenticateAsync(again, normal, clock), (err) => err.code === 'REPLAYED')
  const outcomes = await verifier.authenticateBatchAsync([{ proof: fresh(), request: normal }], clock)
  assert.equal(outcomes[0].ok, true)
  assert.equal((await verifier.authenticateAsync(proof, normal, clock)).identity.holderId, 'gpu-1')
})

test('a delegated token: the same boundary, then the delegate proves and its identity names the chain', async () => {
  const delegable = tc.mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'gpu-1', revocationId: 'rev-3', expiresAt: NOW + 3600, delegationDepth: 1 })
  const next = tc.WorkerKey.fromSecretHex('33'.repeat(32))
  const delegated = await tc.delegateAsync(delegable, worker, { toPublicHex: next.publicHex, toHolderId: 'gpu-2', expiresAt: NOW + 600 })
  const verifier = new tc.Verifier(issuer.publicHex)
  const proof = tc.makeProof(next, delegated, normal, TS, 'delegated-1')
  throwsInternal(() => verifier.authenticate(proof, panicking, clock))
  await rejectsInternal(() => tc.authenticateAsync(issuer.publicHex, proof, panicking, options))
  const { identity } = verifier.authenticate(proof, normal, clock)
  assert.deepEqual(identity.chain, [
    { holderId: 'gpu-1', holderPublicHex: worker.publicHex },
    { holderId: 'gpu-2', holderPublicHex: next.publicHex },
  ])
})

test('many panics at once on every pool thread, mixed with normal requests: each gets its own outcome', async () => {
  const verifier = new tc.Verifier(issuer.publicHex)
  const calls = []
  for (let i = 0; i < 32; i++) {
    const good = fresh()
    calls.push(verifier.authenticateAsync(good, normal, clock).then((a) => a.identity.holderId))
    calls.push(verifier.authenticateAsync(fresh(), panicking, clock).then(() => 'resolved', (err) => err.code))
    calls.push(tc.makeProofAsync(worker, token, panicking, TS, `p-${i}`).then(() => 'resolved', (err) => err.code))
    calls.push(tc.authenticateAsync(issuer.publicHex, good, normal, options).then((a) => a.identity.holderId))
  }
  const results = await Promise.all(calls)
  for (let i = 0; i < results.length; i += 4) {
    assert.deepEqual(results.slice(i, i + 4), ['gpu-1', 'INTERNAL', 'INTERNAL', 'gpu-1'])
  }
  const stats = verifier.cacheStats()
  assert.ok(stats.hits + stats.misses > 0)
  assert.equal(verifier.authenticate(fresh(), normal, clock).identity.holderId, 'gpu-1')
})

// A Verifier on Redis runs its Promise forms on the addon's own threads (src/offload.rs), not the
// libuv pool: the same boundary there, against a real redis-server (as the Verifier tests use).
test("Promise forms on Redis (the addon's own threads): INTERNAL, then the same verifier keeps working", async (t) => {
  const { RedisServer } = require('../redis-server.js')
  const redis = await RedisServer.start()
  t.after(() => redis.close())
  const verifier = new tc.Verifier(issuer.publicHex, { redis: { url: redis.url, keyPrefix: `panic-${process.pid}:` } })
  const proof = fresh()
  // more panics than the pool has threads: none of them may take a thread down with it
  for (let i = 0; i < 8; i++) await rejectsInternal(() => verifier.authenticateAsync(fresh(), panicking, clock))
  await rejectsInternal(() => verifier.authenticateAsync(proof, panicking, clock))
  await rejectsInternal(() => verifier.authenticateBatchAsync([{ proof, request: panicking }], clock))
  const verified = await verifier.authenticateAsync(proof, normal, clock)
  assert.equal(verified.identity.holderId, 'gpu-1')
  await assert.rejects(verifier.authenticateAsync(proof, normal, clock), (err) => err.code === 'REPLAYED')
  const outcomes = await verifier.authenticateBatchAsync([{ proof: fresh(), request: normal }], clock)
  assert.equal(outcomes[0].ok, true)
  await verifier.revokeTokenAsync(verified.token)
  await assert.rejects(verifier.authenticateAsync(fresh(), normal, clock), (err) => err.code === 'REVOKED')
})
