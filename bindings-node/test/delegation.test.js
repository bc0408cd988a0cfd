'use strict'
// Delegation (docs/DESIGN.md §3.13) through the binding: delegate / delegateAsync and their
// refusals, mintBiscuit's delegationDepth, the chain on every identity (authenticate, the Verifier
// sync and async, a batch, an HTTP decision, Token#identity), only the last holder's key proving,
// and the holder_chain facts a policy sees. The chain walk is core's (tests/vectors/delegation.json
// pins it in every language); these tests pin what goes in and what comes out.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { tc, NOW, issuer, worker, token: undelegable } = require('./fixtures.js')

const isCode = (code) => (err) => err instanceof tc.TrustError && err.code === code
const b = tc.WorkerKey.fromSecretHex('33'.repeat(32))
const c = tc.WorkerKey.fromSecretHex('44'.repeat(32))
const holderA = { holderId: 'worker-1', holderPublicHex: worker.publicHex }
const holderB = { holderId: 'worker-2', holderPublicHex: b.publicHex }
const holderC = { holderId: 'worker-3', holderPublicHex: c.publicHex }

const mint = (delegationDepth) =>
  tc.mintBiscuit(issuer, {
    publicHex: worker.publicHex,
    holderId: 'worker-1',
    facts: { right: ['lease', 'report'] },
    revocationId: 'rev-d',
    expiresAt: NOW + 3600,
    delegationDepth,
  })
// A's token, delegable twice; A hands it to B (who may only lease), B to C
const token = mint(2)
const toB = { toPublicHex: b.publicHex, toHolderId: 'worker-2', checks: 'check if req_operation("lease");', expiresAt: NOW + 600 }
const byB = tc.delegate(token, worker, toB)
const byC = tc.delegate(byB, b, { toPublicHex: c.publicHex, toHolderId: 'worker-3', expiresAt: NOW + 300 })

const request = { method: 'POST', path: '/lease', body: Buffer.from('{}') }
let nonces = 0
const proof = (key, t) => tc.makeProof(key, t, request, String(NOW), `d-${++nonces}`)
const authOptions = { now: NOW, revokedIds: [], maxSkewSeconds: 300 }
const ALLOW = 'allow if right($op), req_operation($op)'

test('mintBiscuit: delegationDepth is written into the authority block, 0 (the default) writes nothing', () => {
  assert.match(tc.parseToken(issuer.publicHex, token).blockSource(0), /delegation_depth\(2\);/)
  for (const depth of [undefined, 0]) assert.doesNotMatch(tc.parseToken(issuer.publicHex, mint(depth)).blockSource(0), /delegation_depth/)
  for (const bad of [9, -1, 1.5, Number.NaN]) assert.throws(() => mint(bad), isCode('MALFORMED_INPUT'), String(bad))
  assert.throws(() => mint('2'), TypeError)
})

test('delegate: a block more, naming the next holder; the identity names the last holder and the chain in order', async () => {
  const parsed = tc.parseToken(issuer.publicHex, byB)
  assert.equal(parsed.blockCount, 2)
  assert.deepEqual(parsed.identity(), { holderId: 'worker-2', holderPublicHex: b.publicHex, revocationId: 'rev-d', chain: [holderA, holderB] })
  assert.deepEqual(tc.parseToken(issuer.publicHex, byC).identity().chain, [holderA, holderB, holderC])
  // a token never delegated: its one holder
  assert.deepEqual(tc.parseToken(issuer.publicHex, token).identity(), { ...holderA, revocationId: 'rev-d', chain: [holderA] })
  // the Promise form, and no checks at all (left out, or empty) is a delegation too
  const later = await tc.delegateAsync(token, worker, { toPublicHex: b.publicHex, toHolderId: 'worker-2', expiresAt: NOW + 600 })
  assert.deepEqual(tc.parseToken(issuer.publicHex, later).identity().chain, [holderA, holderB])
  assert.deepEqual(tc.parseToken(issuer.publicHex, tc.delegate(token, worker, { ...toB, checks: '' })).identity().chain, [holderA, holderB])
  // each block's revocation id, the link's included
  assert.equal(tc.parseToken(issuer.publicHex, byC).revocationIds.length, 3)
})

test('delegate refuses: no link left, not the holder, a longer life, anything but checks, a bad key or token', async () => {
  const once = tc.delegate(mint(1), worker, toB)
  const refusals = [
    ['the depth is used up', once, b, toB, 'DELEGATION_INVALID'],
    ['the depth is used up (two links)', byC, c, { ...toB, toPublicHex: worker.publicHex }, 'DELEGATION_INVALID'],
    ['a token its issuer made not delegable', undelegable, worker, toB, 'DELEGATION_INVALID'],
    ["not the token's holder", token, b, toB, 'MALFORMED_INPUT'],
    ["no longer A's token once delegated", byB, worker, toB, 'MALFORMED_INPUT'],
    ['outlives the token', token, worker, { ...toB, expiresAt: NOW + 3601 }, 'MALFORMED_INPUT'],
    ['outlives the link before', byB, b, { ...toB, toPublicHex: c.publicHex, expiresAt: NOW + 601 }, 'MALFORMED_INPUT'],
    ['an expiry that is no time', token, worker, { ...toB, expiresAt: Number.NaN }, 'MALFORMED_INPUT'],
    ['a fact among the checks', token, worker, { ...toB, checks: 'right("admin");' }, 'MALFORMED_INPUT'],
    ['a rule among the checks', token, worker, { ...toB, checks: 'right($r) <- req_operation($r);' }, 'MALFORMED_INPUT'],
    ['checks that do not parse', token, worker, { ...toB, checks: 'check if' }, 'MALFORMED_INPUT'],
    ['a key that is not one', token, worker, { ...toB, toPublicHex: 'zz' }, 'MALFORMED_INPUT'],
    ['not a token', 'not a token', worker, toB, 'TOKEN_INVALID'],
  ]
  for (const [why, from, key, options, code] of refusals) {
    assert.throws(() => tc.delegate(from, key, options), isCode(code), why)
    await assert.rejects(tc.delegateAsync(from, key, options), isCode(code), why)
  }
  // wrong JS types are TypeErrors, from the Promise form a rejection
  for (const args of [
    [token, issuer, toB],
    [token, worker.publicHex, toB],
    [Buffer.from(token), worker, toB],
    [token, worker],
    [token, worker, { ...toB, expiresAt: String(NOW) }],
    [token, worker, { ...toB, checks: 1 }],
    [token, worker, { toHolderId: 'worker-2', expiresAt: NOW }],
  ]) {
    assert.throws(() => tc.delegate(...args), TypeError)
    await assert.rejects(tc.delegateAsync(...args), TypeError)
  }
})

test('the chain on every identity: authenticate, the Verifier, a batch, an HTTP decision; only the last holder proves', async () => {
  const chain = [holderA, holderB]
  const expected = { holderId: 'worker-2', holderPublicHex: b.publicHex, revocationId: 'rev-d', chain }
  assert.deepEqual(tc.authenticate(issuer.publicHex, proof(b, byB), request, authOptions).identity, expected)
  assert.deepEqual((await tc.authenticateAsync(issuer.publicHex, proof(b, byB), request, authOptions)).identity, expected)
  // A's key on B's token, B's key on A's: the proof must come from the last holder
  assert.throws(() => tc.authenticate(issuer.publicHex, proof(worker, byB), request, authOptions), isCode('POP_FAILED'))
  assert.throws(() => tc.authenticate(issuer.publicHex, proof(b, token), request, authOptions), isCode('POP_FAILED'))

  const verifier = new tc.Verifier(issuer.publicHex)
  const at = { now: NOW }
  assert.deepEqual(verifier.authenticate(proof(b, byB), request, at).identity, expected)
  assert.deepEqual((await verifier.authenticateAsync(proof(c, byC), request, at)).identity.chain, [holderA, holderB, holderC])
  // fresh nonces for each batch: B's token, A's own, A's key on B's token
  const batch = () => [proof(b, byB), proof(worker, token), proof(worker, byB)].map((p) => ({ proof: p, request }))
  for (const outcomes of [verifier.authenticateBatch(batch(), at), await verifier.authenticateBatchAsync(batch(), at)]) {
    assert.deepEqual(outcomes[0].identity, expected)
    assert.deepEqual(outcomes[1].identity.chain, [holderA])
    assert.ok(outcomes[2].ok === false && isCode('POP_FAILED')(outcomes[2].error))
  }

  const policy = tc.HttpPolicy.fromJson(JSON.stringify({ routes: [{ method: 'POST', path: '/lease', allow: 'allow if right("lease")' }] }))
  const signed = (key, t) => {
    const headers = tc.signRequest(key, t, { method: 'POST', url: 'https://api.example.com/lease', body: request.body, created: NOW, nonce: `h-${++nonces}` })
    return { method: 'POST', target: '/lease', headers: [['Host', 'api.example.com'], ...Object.entries(headers)], body: request.body }
  }
  const http = new tc.Verifier(issuer.publicHex, { authorities: ['api.example.com'] })
  const decision = http.decide(signed(b, byB), { policy, facts: { req_operation: 'lease' }, now: NOW })
  assert.ok(decision.allowed, decision.message)
  assert.deepEqual(decision.identity, expected)
  assert.deepEqual((await http.decideAsync(signed(c, byC), { policy, facts: { req_operation: 'lease' }, now: NOW })).identity.chain, [holderA, holderB, holderC])
  const stolen = http.decide(signed(worker, byB), { policy, now: NOW })
  assert.deepEqual([stolen.allowed, stolen.code, stolen.identity], [false, 'POP_FAILED', null])
})

test("a delegate's checks narrow, its link's expiry ends it, and no key but the holder's can add a link", () => {
  const { token: verified } = tc.authenticate(issuer.publicHex, proof(b, byB), request, authOptions)
  tc.checkPolicy(verified, { requestFacts: { req_operation: 'lease' }, allow: ALLOW, now: NOW })
  // A may report; B's link allows lease only
  assert.throws(() => tc.checkPolicy(verified, { requestFacts: { req_operation: 'report' }, allow: ALLOW, now: NOW }), isCode('DENIED'))
  // the link's own expiry ends it, before the token's
  assert.throws(() => tc.checkPolicy(verified, { requestFacts: { req_operation: 'lease' }, allow: ALLOW, now: NOW + 601 }), isCode('DENIED'))
  // B's key cannot sign a link onto a token B does not hold: delegate refuses it (MALFORMED_INPUT)
  // before anything is signed, and a verifier refuses the one a thief builds by hand (the vectors)
  assert.throws(() => tc.delegate(token, b, { ...toB, toPublicHex: c.publicHex }), isCode('MALFORMED_INPUT'))
})

test('holder_chain facts: a policy can refuse what a given holder delegated; an undelegated token has none', async () => {
  const verified = (key, t) => tc.authenticate(issuer.publicHex, proof(key, t), request, authOptions).token
  const notViaB = 'allow if right($op), req_operation($op), holder_chain(1, $id, $k), $id != "worker-2"'
  const facts = { requestFacts: { req_operation: 'lease' }, now: NOW }
  // B's token: position 1 is B, refused; C's: position 1 is still B, refused
  assert.throws(() => tc.checkPolicy(verified(b, byB), { ...facts, allow: notViaB }), isCode('DENIED'))
  assert.throws(() => tc.checkPolicy(verified(c, byC), { ...facts, allow: notViaB }), isCode('DENIED'))
  // every holder, in order, with its key
  const whole = `allow if holder_chain(0, "worker-1", "${worker.publicHex}"), holder_chain(1, "worker-2", "${b.publicHex}"), holder_chain(2, "worker-3", "${c.publicHex}")`
  tc.checkPolicy(verified(c, byC), { ...facts, allow: whole })
  await tc.checkPolicyAsync(verified(c, byC), { ...facts, allow: whole })
  const verifier = new tc.Verifier(issuer.publicHex)
  const { token: cached } = verifier.authenticate(proof(c, byC), request, { now: NOW })
  verifier.checkPolicy(cached, { ...facts, allow: whole })
  await assert.rejects(verifier.checkPolicyAsync(cached, { ...facts, allow: notViaB }), isCode('DENIED'))
  // a token never delegated adds no holder_chain fact
  assert.throws(() => tc.checkPolicy(verified(worker, token), { ...facts, allow: 'allow if holder_chain(0, $id, $k)' }), isCode('DENIED'))
  // and an application cannot pass one as a request fact
  assert.throws(() => tc.checkPolicy(verified(worker, token), { requestFacts: { holder_chain: 'x' }, allow: ALLOW, now: NOW }), isCode('MALFORMED_INPUT'))
})

test('revoking the delegator revokes every token delegated from it; revoking a link, what came from it on', () => {
  const [authority, linkB] = tc.parseToken(issuer.publicHex, byC).revocationIds
  const refuses = (revokedIds, key, t) => {
    assert.throws(() => tc.authenticate(issuer.publicHex, proof(key, t), request, { ...authOptions, revokedIds }), isCode('REVOKED'))
  }
  for (const revoked of [['rev-d'], [authority]]) {
    refuses(revoked, worker, token)
    refuses(revoked, b, byB)
    refuses(revoked, c, byC)
  }
  // B's link: B's and C's tokens refused, A's own still accepted
  assert.equal(tc.authenticate(issuer.publicHex, proof(worker, token), request, { ...authOptions, revokedIds: [linkB] }).identity.holderId, 'worker-1')
  refuses([linkB], b, byB)
  refuses([linkB], c, byC)
})
