'use strict'
// What a request may cost: the budget a token must fit (every `limits` option, each taken and each
// effective on its own), the token cache's admission and byte bound, and the bounds of a batch
// (refused whole: thrown by authenticateBatch, a rejection of authenticateBatchAsync, before any body
// is copied). Also what authenticate no longer does: run Datalog, or accept an expired token. Codes
// are compared, never messages; nothing is timed.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { tc, NOW, issuer, worker, token, request, signed, authOptions } = require('./fixtures.js')

const MB = 1 << 20
const at = (now) => ({ now })
const parsed = tc.parseToken(issuer.publicHex, token)

/** "OK" or the TrustError's code of a call, sync or async; anything else propagates. */
async function codeOf(call) {
  try {
    await call()
    return 'OK'
  } catch (err) {
    if (err instanceof tc.TrustError) return err.code
    throw err
  }
}
const isLimit = (err) => err instanceof tc.TrustError && err.code === 'LIMIT_EXCEEDED'
/** cacheStats() with `bytes` (core's estimate, more than 0 for any token held) checked against `entries`, then left out. */
const counters = (verifier) => {
  const { bytes, ...rest } = verifier.cacheStats()
  assert.equal(bytes > 0, rest.entries > 0, `${bytes} bytes for ${rest.entries} entries`)
  return rest
}
/** "OK" or the code of each entry of a batch. */
const codesOf = (outcomes) => outcomes.map((o) => (o.ok ? 'OK' : o.error.code))
const policy = (limits) => ({ requestFacts: { req_op: 'lease' }, allow: 'allow if right($op), req_op($op)', now: NOW, limits })

// The fixture token is one block of five facts and one check (its expiry), and the policy has two
// predicates: each option below that is refused on its own, and at the values above it passes.
const TOO_TIGHT = { maxBlocks: 0, maxBlockFacts: 1, maxBlockRules: 0, maxBodyAtoms: 1, maxBodyOps: 0, maxJoinSize: 1 }
const ROOMY = { maxBlocks: 1, maxBlockFacts: 5, maxBlockRules: 1, maxBodyAtoms: 2, maxBodyOps: 3, maxJoinSize: 100 }

test('every budget option is taken and effective on its own: checkPolicy, authorize, the Verifier', async () => {
  assert.deepEqual(Object.keys(TOO_TIGHT), Object.keys(ROOMY))
  for (const [name, tight] of Object.entries(TOO_TIGHT)) {
    const limits = { [name]: tight }
    assert.equal(await codeOf(() => tc.checkPolicy(parsed, policy(limits))), 'LIMIT_EXCEEDED', name)
    assert.equal(await codeOf(() => tc.checkPolicyAsync(parsed, policy(limits))), 'LIMIT_EXCEEDED', name)
    assert.equal(await codeOf(() => tc.checkPolicy(parsed, policy({ [name]: ROOMY[name] }))), 'OK', name)
    // the verifier's limits are the ones its checkPolicy and authorize use
    const verifier = new tc.Verifier(issuer.publicHex, { limits })
    assert.equal(await codeOf(() => verifier.checkPolicy(parsed, policy())), 'LIMIT_EXCEEDED', name)
    assert.equal(await codeOf(() => verifier.checkPolicyAsync(parsed, policy())), 'LIMIT_EXCEEDED', name)
    // Token#authorize too, with a two-predicate policy, so the atoms bound is met as well
    const code = 'allow if right("lease"), right("report")'
    assert.equal(await codeOf(() => parsed.authorize(code, { now: NOW, limits })), 'LIMIT_EXCEEDED', name)
    assert.equal(await codeOf(() => parsed.authorizeAsync(code, { now: NOW, limits })), 'LIMIT_EXCEEDED', name)
    assert.equal(await codeOf(() => verifier.authorize(parsed, code, { now: NOW })), 'LIMIT_EXCEEDED', name)
    assert.equal(await codeOf(() => parsed.authorize(code, { now: NOW, limits: { [name]: ROOMY[name] } })), 'OK', name)
  }
  // all of them at once, at the values the token and policy need, pass; the defaults pass
  assert.equal(await codeOf(() => tc.checkPolicy(parsed, policy(ROOMY))), 'OK')
  assert.equal(await codeOf(() => tc.checkPolicy(parsed, policy())), 'OK')
})

test('maxTokenBytes: a token over it is LIMIT_EXCEEDED in authenticate, stateless and on a Verifier', async () => {
  const below = { maxTokenBytes: token.length - 1 }
  const exact = { maxTokenBytes: token.length }
  const proof = (nonce) => signed(`size-${nonce}`)
  assert.equal(await codeOf(() => tc.authenticate(issuer.publicHex, proof(1), request, { ...authOptions, limits: below })), 'LIMIT_EXCEEDED')
  assert.equal(await codeOf(() => tc.authenticateAsync(issuer.publicHex, proof(2), request, { ...authOptions, limits: below })), 'LIMIT_EXCEEDED')
  assert.equal(await codeOf(() => tc.authenticate(issuer.publicHex, proof(3), request, { ...authOptions, limits: exact })), 'OK')
  const small = new tc.Verifier(issuer.publicHex, { limits: below })
  assert.equal(await codeOf(() => small.authenticate(proof(4), request, at(NOW))), 'LIMIT_EXCEEDED')
  assert.equal(await codeOf(() => small.authenticateAsync(proof(5), request, at(NOW))), 'LIMIT_EXCEEDED')
  assert.deepEqual(codesOf(small.authenticateBatch([{ proof: proof(6), request }], at(NOW))), ['LIMIT_EXCEEDED'])
  // refused before it was parsed: nothing reached the cache
  assert.deepEqual(counters(small), { hits: 0, misses: 0, entries: 0 })
  const enough = new tc.Verifier(issuer.publicHex, { limits: exact })
  assert.equal(await codeOf(() => enough.authenticate(proof(7), request, at(NOW))), 'OK')
  // and the default admits the tokens this project mints, but not a megabyte of text
  assert.equal(await codeOf(() => new tc.Verifier(issuer.publicHex).authenticate({ ...proof(8), token: 'E'.repeat(MB) }, request, at(NOW))), 'LIMIT_EXCEEDED')
})

// A token whose holder appended a block with a small literal regular expression (`matches`), made
// with core's biscuit-auth: the case tc-cost-0009 of tests/vectors/cost.json, copied here because this
// binding cannot append a block.
const APPENDED_REGEX = {
  issuer: 'ae4908ada274ef433d6f62a048683e29aa10360723f1c29022a221c5198c5622',
  token: 'EsMCCtgBCgp3b3JrZXJfa2V5CkA2MWJlNDY5NDY4MDEzNWNhMDFlNTczNmZiYTI5Y2Q4ZmU1MGZlYTNiNDI4YjMyNGUwYmVhNGQ3MGViZmQ4Y2ZhCgl3b3JrZXJfaWQKBWdwdS0xCgVsZWFzZQoKcmV2b2NhdGlvbgoFcmV2LTEKAXQYAyIKCggIgAgSAxiBCCIKCggIgggSAxiDCCIJCgcIBBIDGIQIIgoKCAiFCBIDGIYIMigKJgoCCBsSBwgFEgMIhwgaFwoFCgMIhwgKCAoGIJD-z6oGCgQaAggCEiQIABIgpdFtueMkqA3j8SHrZ__m9XdnOX-cT09RIzmwV6TcnIQaQA22wRmcmFWbKlRGNys_tfarnYfwB7pQ1jxqy_cX25U4VoL4MuSVlTzl0Pmf8RD7AGsFGCaX8atuaxrv0V46yw0asQEKRwoBcwoDYWFhCgF4CgReYSskGAMiCgoICIgIEgMYiQgyJgokCgIIGxIICIgIEgMIiggaFAoFCgMIiggKBQoDGIsICgQaAggIEiQIABIgLe6w1XV5Z_ZMmAoJggq1njvMsiEjPhtSaycfB-BAjvsaQLUd2twzoGGZeED2-A2KQxYeacuACJRBd_m6FSj1Q3GGcCvxlApjxIF6BuoXw8gtNZcjwAz4nuvb9pP9humlOQQiIgogIkz-VQWm-t2jsomdEDqf7bpInWd74BcGQkrEJ8aVPgk=',
  requestFacts: { req_right: 'lease' },
  allow: 'allow if req_right($r), right($r)',
  now: 1700000000,
}

test('allowAppendedRegex: a regular expression in an appended block passes only when allowed', async () => {
  const { issuer: issuerHex, requestFacts, allow, now } = APPENDED_REGEX
  const appended = tc.parseToken(issuerHex, APPENDED_REGEX.token)
  assert.equal(appended.blockCount, 2)
  const run = (limits) => codeOf(() => tc.checkPolicy(appended, { requestFacts, allow, now, limits }))
  assert.equal(await run({ allowAppendedRegex: true }), 'OK')
  assert.equal(await run({ allowAppendedRegex: false }), 'LIMIT_EXCEEDED')
  assert.equal(await run({}), 'LIMIT_EXCEEDED')
  const code = 'allow if right("lease")'
  assert.equal(await codeOf(() => appended.authorize(code, { now, limits: { allowAppendedRegex: true } })), 'OK')
  assert.equal(await codeOf(() => appended.authorize(code, { now })), 'LIMIT_EXCEEDED')
  const verifier = new tc.Verifier(issuerHex, { limits: { allowAppendedRegex: true } })
  assert.equal(await codeOf(() => verifier.checkPolicy(appended, { requestFacts, allow, now })), 'OK')
  assert.equal(await codeOf(() => new tc.Verifier(issuerHex).checkPolicy(appended, { requestFacts, allow, now })), 'LIMIT_EXCEEDED')
})

test('the new options are whole numbers (a boolean for allowAppendedRegex): MALFORMED_INPUT or TypeError otherwise', () => {
  const limitNames = ['maxTokenBytes', 'maxBlocks', 'maxBlockFacts', 'maxBlockRules', 'maxBodyAtoms', 'maxBodyOps', 'maxJoinSize']
  const verifierNames = ['tokenCacheMaxBytes', 'maxBatchRequests', 'maxBatchBodyBytes']
  const malformed = (e) => e instanceof tc.TrustError && e.code === 'MALFORMED_INPUT'
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 60]) {
    for (const name of limitNames) {
      assert.throws(() => tc.checkPolicy(parsed, policy({ [name]: bad })), malformed, `${name}: ${bad}`)
      assert.throws(() => new tc.Verifier(issuer.publicHex, { limits: { [name]: bad } }), malformed, `${name}: ${bad}`)
    }
    for (const name of verifierNames) assert.throws(() => new tc.Verifier(issuer.publicHex, { [name]: bad }), malformed, `${name}: ${bad}`)
  }
  for (const name of [...limitNames, 'allowAppendedRegex']) {
    assert.throws(() => tc.checkPolicy(parsed, policy({ [name]: name === 'allowAppendedRegex' ? 1 : '10' })), TypeError, name)
  }
  for (const name of verifierNames) assert.throws(() => new tc.Verifier(issuer.publicHex, { [name]: '10' }), TypeError, name)
  // zero is a number like any other: taken, and effective (nothing fits)
  assert.throws(() => tc.checkPolicy(parsed, policy({ maxBlocks: 0 })), isLimit)
})

test('a batch over maxBatchRequests is refused whole: thrown (sync), rejected (async), before any entry is read', async () => {
  const verifier = new tc.Verifier(issuer.publicHex, { maxBatchRequests: 2 })
  const entries = (tag, n) => Array.from({ length: n }, (_, i) => ({ proof: signed(`${tag}-${i}`), request }))
  assert.throws(() => verifier.authenticateBatch(entries('sync', 3), at(NOW)), isLimit)
  const pending = verifier.authenticateBatchAsync(entries('async', 3), at(NOW))
  assert.ok(pending instanceof Promise)
  await assert.rejects(pending, isLimit)
  // refused before its entries were read: a bad entry is not reached, no nonce is spent, no token parsed
  assert.throws(() => verifier.authenticateBatch([...entries('typed', 2), 'not an entry'], at(NOW)), isLimit)
  assert.deepEqual(counters(verifier), { hits: 0, misses: 0, entries: 0 })
  assert.deepEqual(codesOf(verifier.authenticateBatch(entries('sync', 2), at(NOW))), ['OK', 'OK'])
  assert.deepEqual(codesOf(await verifier.authenticateBatchAsync(entries('async', 2), at(NOW))), ['OK', 'OK'])
  // the third request of each refused batch was never checked: its nonce is still fresh
  assert.equal(await codeOf(() => verifier.authenticate(signed('sync-2'), request, at(NOW))), 'OK')
  // the default bound is core's: a batch far over it is refused too
  const many = new Array(100_000).fill({ proof: signed('same'), request })
  assert.throws(() => new tc.Verifier(issuer.publicHex).authenticateBatch(many, at(NOW)), isLimit)
})

test('100 references to one 1 MB body over maxBatchBodyBytes: refused whole, sync and async, Buffer or string', async () => {
  const verifier = new tc.Verifier(issuer.publicHex, { maxBatchBodyBytes: 10 * MB })
  const buffer = Buffer.alloc(MB, 'b')
  const text = 's'.repeat(MB)
  for (const body of [buffer, text, new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length)]) {
    const req = { ...request, body }
    const batch = Array.from({ length: 100 }, (_, i) => ({ proof: signed(`body-${i}`, req), request: req }))
    assert.throws(() => verifier.authenticateBatch(batch, at(NOW)), isLimit)
    await assert.rejects(verifier.authenticateBatchAsync(batch, at(NOW)), isLimit)
  }
  assert.deepEqual(counters(verifier), { hits: 0, misses: 0, entries: 0 })
  // within the bound the same body is read for each request (here 10 of them: exactly 10 MB)
  for (const [form, body] of [['sync', buffer], ['async', text]]) {
    const req = { ...request, body }
    const batch = Array.from({ length: 10 }, (_, i) => ({ proof: signed(`fits-${form}-${i}`, req), request: req }))
    const outcomes = form === 'sync' ? verifier.authenticateBatch(batch, at(NOW)) : await verifier.authenticateBatchAsync(batch, at(NOW))
    assert.deepEqual(codesOf(outcomes), Array(10).fill('OK'), form)
  }
  // a string's bytes are counted as UTF-8: 4 bytes for each of these characters
  const wide = { ...request, body: '\u{1F600}'.repeat(3) }
  const tight = new tc.Verifier(issuer.publicHex, { maxBatchBodyBytes: 11 })
  assert.throws(() => tight.authenticateBatch([{ proof: signed('wide', wide), request: wide }], at(NOW)), isLimit)
  const fits = new tc.Verifier(issuer.publicHex, { maxBatchBodyBytes: 12 })
  assert.deepEqual(codesOf(fits.authenticateBatch([{ proof: signed('wide', wide), request: wide }], at(NOW))), ['OK'])
})

test('a batch refused for its bodies copied none of them: the peak resident memory barely moves', async () => {
  // 100 references to one 10 MB body would be 1 GB if each were copied before the check; the
  // process's peak resident set (a high-water mark, not a timing) shows whether that happened
  const peakMB = () => process.resourceUsage().maxRSS / 1024
  const buffer = Buffer.alloc(10 * MB, 'p')
  const text = 'q'.repeat(10 * MB)
  const verifier = new tc.Verifier(issuer.publicHex, { maxBatchBodyBytes: 64 * MB })
  const before = peakMB()
  for (const body of [buffer, text]) {
    const req = { ...request, body }
    const batch = Array.from({ length: 100 }, (_, i) => ({ proof: signed(`peak-${i}`), request: req }))
    assert.throws(() => verifier.authenticateBatch(batch, at(NOW)), isLimit)
    await assert.rejects(verifier.authenticateBatchAsync(batch, at(NOW)), isLimit)
  }
  const grown = peakMB() - before
  assert.ok(grown < 300, `the peak resident memory grew ${Math.round(grown)} MB`)
})

test('a (token, nonce) repeated within a batch is REPLAYED after its first use, sync and async', async () => {
  for (const form of ['sync', 'async']) {
    const verifier = new tc.Verifier(issuer.publicHex)
    const run = (batch) => (form === 'sync' ? verifier.authenticateBatch(batch, at(NOW)) : verifier.authenticateBatchAsync(batch, at(NOW)))
    const proof = signed(`dup-${form}`)
    assert.deepEqual(codesOf(await run([{ proof, request }, { proof, request }, { proof: signed(`other-${form}`), request }])), ['OK', 'REPLAYED', 'OK'], form)
    // the same nonce signed for two requests: the first forged (another path), the second genuine;
    // within one batch the repeat is refused before any signature work, so neither is accepted
    const forged = { proof: signed(`pair-${form}`), request: { ...request, path: '/elsewhere' } }
    assert.deepEqual(codesOf(await run([forged, { proof: signed(`pair-${form}`), request }])), ['POP_FAILED', 'REPLAYED'], form)
    // neither spent the nonce: alone, the genuine request is accepted
    assert.equal(await codeOf(() => verifier.authenticate(signed(`pair-${form}`), request, at(NOW))), 'OK', form)
  }
})

test('the token cache admits a token once a proof with it verified, within tokenCacheMaxBytes', async () => {
  const verifier = new tc.Verifier(issuer.publicHex)
  const forged = () => ({ ...request, path: '/forged' })
  assert.equal(await codeOf(() => verifier.authenticate(signed('f1'), forged(), at(NOW))), 'POP_FAILED')
  assert.equal(await codeOf(() => verifier.authenticateAsync(signed('f2'), forged(), at(NOW))), 'POP_FAILED')
  // forged requests did not put the token in the cache: each was parsed anew
  assert.deepEqual(counters(verifier), { hits: 0, misses: 2, entries: 0 })
  assert.equal(await codeOf(() => verifier.authenticate(signed('g1'), request, at(NOW))), 'OK')
  assert.equal(await codeOf(() => verifier.authenticate(signed('g2'), request, at(NOW))), 'OK')
  assert.deepEqual(counters(verifier), { hits: 1, misses: 3, entries: 1 })
  // a byte bound smaller than one token: nothing is ever cached, every request parses its token
  const tiny = new tc.Verifier(issuer.publicHex, { tokenCacheMaxBytes: 1 })
  for (const nonce of ['t1', 't2', 't3']) assert.equal(await codeOf(() => tiny.authenticate(signed(nonce), request, at(NOW))), 'OK')
  assert.deepEqual(counters(tiny), { hits: 0, misses: 3, entries: 0 })
  // 0 turns the cache off (nothing counted), as tokenCacheCapacity 0 does
  const off = new tc.Verifier(issuer.publicHex, { tokenCacheMaxBytes: 0 })
  for (const nonce of ['o1', 'o2']) assert.equal(await codeOf(() => off.authenticate(signed(nonce), request, at(NOW))), 'OK')
  assert.deepEqual(counters(off), { hits: 0, misses: 0, entries: 0 })
})

test('authenticate refuses an expired token (TOKEN_INVALID), cached or not, and runs no Datalog', async () => {
  const expiresAt = NOW + 60
  const short = tc.mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'worker-1', revocationId: 'rev-short', expiresAt })
  const proofAt = (nonce, when) => tc.makeProof(worker, short, request, String(when), nonce)
  const later = expiresAt + 1
  assert.equal(await codeOf(() => tc.authenticate(issuer.publicHex, proofAt('e1', expiresAt), request, { ...authOptions, now: expiresAt })), 'OK')
  assert.equal(await codeOf(() => tc.authenticate(issuer.publicHex, proofAt('e2', later), request, { ...authOptions, now: later })), 'TOKEN_INVALID')
  assert.equal(await codeOf(() => tc.authenticateAsync(issuer.publicHex, proofAt('e3', later), request, { ...authOptions, now: later })), 'TOKEN_INVALID')
  const verifier = new tc.Verifier(issuer.publicHex)
  assert.equal(await codeOf(() => verifier.authenticate(proofAt('v1', NOW), request, at(NOW))), 'OK')
  assert.equal(await codeOf(() => verifier.authenticate(proofAt('v2', later), request, at(later))), 'TOKEN_INVALID')
  assert.equal(await codeOf(() => verifier.authenticateAsync(proofAt('v3', later), request, at(later))), 'TOKEN_INVALID')
  assert.deepEqual(codesOf(verifier.authenticateBatch([{ proof: proofAt('v4', later), request }], at(later))), ['TOKEN_INVALID'])
  // no Datalog runs in authenticate: with a zero time limit (every run is over it) it still passes,
  // and checkPolicy, which runs Datalog, is refused
  const strict = new tc.Verifier(issuer.publicHex, { limits: { maxTimeMs: 0 } })
  const { token: verified } = strict.authenticate(signed('no-datalog'), request, at(NOW))
  assert.equal(await codeOf(() => tc.authenticate(issuer.publicHex, signed('no-datalog'), request, { ...authOptions, limits: { maxTimeMs: 0 } })), 'OK')
  assert.equal(await codeOf(() => strict.checkPolicy(verified, policy())), 'LIMIT_EXCEEDED')
})
