'use strict'
// Many authenticateAsync calls in flight at once, valid and forged mixed, all settle correctly
// while a timer keeps firing: the signature checks run on the libuv pool, not on the event loop.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { tc, NOW, issuer, worker, token, ALLOW, authOptions } = require('./fixtures.js')

const CALLS = 400
// generous run limits: on a loaded machine the default 10 ms wall-clock budget can trip (fail closed,
// LIMIT_EXCEEDED), and this test is about settling, not about limits
const limits = { maxTimeMs: 10_000 }

test(`${CALLS} concurrent authenticateAsync calls settle correctly while a timer fires`, async () => {
  const requests = Array.from({ length: CALLS }, (_, i) => {
    const request = { method: 'POST', path: `/lease/${i}`, body: Buffer.from(`{"n":${i}}`) }
    const proof = tc.makeProof(worker, token, request, String(NOW), `nonce-${i}`)
    // every fifth one is forged: signed for another path
    return i % 5 === 4 ? { request: { ...request, path: '/elsewhere' }, proof, forged: true } : { request, proof, forged: false }
  })

  let ticks = 0
  const timer = setInterval(() => ticks++, 1)
  const ticksWhenSettled = []
  const settled = await Promise.allSettled(
    requests.map(async ({ request, proof }) => {
      try {
        const { token: verified, identity } = await tc.authenticateAsync(issuer.publicHex, proof, request, { ...authOptions, limits })
        await tc.checkPolicyAsync(verified, { requestFacts: { req_operation: 'lease' }, allow: ALLOW, now: NOW, limits })
        return identity
      } finally {
        ticksWhenSettled.push(ticks)
      }
    }),
  )
  clearInterval(timer)

  settled.forEach((outcome, i) => {
    if (requests[i].forged) {
      assert.equal(outcome.status, 'rejected', `call ${i}`)
      assert.ok(outcome.reason instanceof tc.TrustError)
      assert.equal(outcome.reason.code, 'POP_FAILED')
    } else {
      assert.equal(outcome.status, 'fulfilled', `call ${i}: ${outcome.reason}`)
      assert.equal(outcome.value.holderId, 'worker-1')
    }
  })
  // the event loop ran timer callbacks while calls were still in flight
  assert.ok(Math.max(...ticksWhenSettled) > 0, 'the timer never fired while the calls ran')
})

test('an async call keeps its own copy of the body', async () => {
  const body = Buffer.from('{"n":1}')
  const request = { method: 'POST', path: '/copy', body }
  const proof = tc.makeProof(worker, token, request, String(NOW), 'copy')
  const pending = tc.authenticateAsync(issuer.publicHex, proof, request, { ...authOptions, limits })
  body.fill(0) // the caller reuses its buffer before the pool thread runs
  assert.equal((await pending).identity.holderId, 'worker-1')
})
