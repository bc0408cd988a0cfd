'use strict'
// The Verifier with its in-memory stores: replay window and TTL eviction (through `now`), a full
// store that refuses rather than forgets, each holder's share of it, one nonce raced by many
// authenticateAsync calls, the token cache's counters, revocation (ids, whole tokens, one spelling
// per id), key rotation, and the verifier's limits on checkPolicy and authorize. The Redis stores:
// verifier-redis.test.js.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { tc, NOW, issuer, worker, token, request, ALLOW, signed } = require('./fixtures.js')

const at = (now) => ({ now })
/** cacheStats() with `bytes` (core's estimate, more than 0 for any token held) checked against `entries`, then left out. */
const counters = (verifier) => {
  const { bytes, ...rest } = verifier.cacheStats()
  assert.equal(bytes > 0, rest.entries > 0, `${bytes} bytes for ${rest.entries} entries`)
  return rest
}
const codeOf = async (call) => {
  try {
    await call()
    return 'OK'
  } catch (err) {
    if (err instanceof tc.TrustError) return err.code
    throw err
  }
}
/** A proof signed at `timestamp` (seconds), so it is fresh at that time. */
const signedAt = (nonce, timestamp, tokenB64 = token) => tc.makeProof(worker, tokenB64, request, String(timestamp), nonce)
// a second holder, with a token of its own
const otherWorker = tc.WorkerKey.fromSecretHex('33'.repeat(32))
const otherToken = tc.mintBiscuit(issuer, { publicHex: otherWorker.publicHex, holderId: 'worker-2', revocationId: 'rev-other', expiresAt: NOW + 3600 })
const otherAt = (nonce, timestamp) => tc.makeProof(otherWorker, otherToken, request, String(timestamp), nonce)

test('a nonce is accepted once; the Promise form says the same', async () => {
  const verifier = new tc.Verifier(issuer.publicHex)
  const { token: verified, identity } = verifier.authenticate(signed('once'), request, at(NOW))
  assert.ok(verified instanceof tc.Token)
  assert.deepEqual({ ...identity }, {
    holderId: 'worker-1',
    holderPublicHex: worker.publicHex,
    revocationId: 'rev-1',
    chain: [{ holderId: 'worker-1', holderPublicHex: worker.publicHex }],
  })
  assert.equal(await codeOf(() => verifier.authenticate(signed('once'), request, at(NOW))), 'REPLAYED')
  assert.equal(await codeOf(() => verifier.authenticateAsync(signed('once'), request, at(NOW))), 'REPLAYED')
  const async = await verifier.authenticateAsync(signed('twice'), request, at(NOW))
  assert.equal(async.identity.holderId, 'worker-1')
  assert.equal(await codeOf(() => verifier.authenticateAsync(signed('twice'), request, at(NOW))), 'REPLAYED')
  // a forged request (signed for another path) does not burn the nonce
  assert.equal(await codeOf(() => verifier.authenticate(signed('forged'), { ...request, path: '/x' }, at(NOW))), 'POP_FAILED')
  assert.equal(await codeOf(() => verifier.authenticate(signed('forged'), request, at(NOW))), 'OK')
  // `now` left out is the system clock: a proof signed now is fresh, one of 2023 is stale (with a
  // token that has not expired: authenticate checks the token's expiry too)
  const now = Math.floor(Date.now() / 1000)
  const live = tc.mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'worker-1', revocationId: 'rev-1', expiresAt: now + 3600 })
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('clock', now, live), request)), 'OK')
  assert.equal(await codeOf(() => verifier.authenticateAsync(signedAt('clock-2', now, live), request, {})), 'OK')
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('stale', NOW, live), request)), 'STALE_REQUEST')
  // the fixture token expired in 2023: refused by the system clock, fresh proof or not
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('expired', now), request)), 'TOKEN_INVALID')
})

test('replay entries live twice the skew plus a second, then are evicted (TTL through `now`)', async () => {
  const verifier = new tc.Verifier(issuer.publicHex, { maxSkewSeconds: 10 })
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('ttl', NOW), request, at(NOW))), 'OK')
  // the same proof, still fresh at NOW + 10: a replay
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('ttl', NOW), request, at(NOW + 10))), 'REPLAYED')
  // the nonce again, in a request signed 19 s later, inside the window: still a replay
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('ttl', NOW + 19), request, at(NOW + 19))), 'REPLAYED')
  // the window is 2 × 10 + 1 s (a timestamp's resolution): its last instant is still inside
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('ttl', NOW + 21), request, at(NOW + 21))), 'REPLAYED')
  // past the window the entry has expired: fresh again
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('ttl', NOW + 22), request, at(NOW + 22))), 'OK')
})

test('a full replay store refuses (STORE_UNAVAILABLE) rather than forget a live nonce; room returns as entries expire', async () => {
  // each holder's share is the whole store here (its share of it: the next test)
  const verifier = new tc.Verifier(issuer.publicHex, { maxSkewSeconds: 10, replayCapacity: 2, replayCapacityPerHolder: 2 })
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('a', NOW), request, at(NOW))), 'OK')
  assert.equal(await codeOf(() => verifier.authenticateAsync(signedAt('b', NOW), request, at(NOW))), 'OK')
  // full for everyone: another holder, within its share, is refused too
  assert.equal(await codeOf(() => verifier.authenticate(otherAt('c', NOW), request, at(NOW + 1))), 'STORE_UNAVAILABLE')
  assert.equal(await codeOf(() => verifier.authenticateAsync(otherAt('c', NOW), request, at(NOW + 1))), 'STORE_UNAVAILABLE')
  // the refusal evicted nothing: the live nonces are still replays
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('a', NOW), request, at(NOW + 1))), 'REPLAYED')
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('b', NOW), request, at(NOW + 1))), 'REPLAYED')
  // once the window (2 × 10 + 1 s) has passed, the sweep makes room
  assert.equal(await codeOf(() => verifier.authenticate(otherAt('c', NOW + 22), request, at(NOW + 22))), 'OK')
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('d', NOW + 22), request, at(NOW + 22))), 'OK')
  assert.equal(await codeOf(() => verifier.authenticate(otherAt('e', NOW + 22), request, at(NOW + 22))), 'STORE_UNAVAILABLE')
  // capacity 0: nothing is ever accepted (never "fresh" without a record)
  const none = new tc.Verifier(issuer.publicHex, { replayCapacity: 0 })
  assert.equal(await codeOf(() => none.authenticate(signed('zero'), request, at(NOW))), 'STORE_UNAVAILABLE')
})

test('one holder cannot fill the replay store: past its share (a quarter by default) it alone is LIMIT_EXCEEDED', async () => {
  const verifier = new tc.Verifier(issuer.publicHex, { maxSkewSeconds: 10, replayCapacity: 8 }) // two pairs a holder
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('a', NOW), request, at(NOW))), 'OK')
  assert.equal(await codeOf(() => verifier.authenticateAsync(signedAt('b', NOW), request, at(NOW))), 'OK')
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('c', NOW), request, at(NOW))), 'LIMIT_EXCEEDED')
  assert.equal(await codeOf(() => verifier.authenticateAsync(signedAt('c', NOW), request, at(NOW))), 'LIMIT_EXCEEDED')
  // its own replays are still replays, and the other holders are served
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('a', NOW), request, at(NOW))), 'REPLAYED')
  assert.equal(await codeOf(() => verifier.authenticate(otherAt('a', NOW), request, at(NOW))), 'OK')
  // its share frees as its entries expire; the refused nonce was not burned
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('c', NOW + 22), request, at(NOW + 22))), 'OK')

  // replayCapacityPerHolder sets the share
  const wider = new tc.Verifier(issuer.publicHex, { maxSkewSeconds: 10, replayCapacity: 8, replayCapacityPerHolder: 3 })
  for (const nonce of ['a', 'b', 'c']) assert.equal(await codeOf(() => wider.authenticate(signedAt(nonce, NOW), request, at(NOW))), 'OK', nonce)
  assert.equal(await codeOf(() => wider.authenticate(signedAt('d', NOW), request, at(NOW))), 'LIMIT_EXCEEDED')
  const narrower = new tc.Verifier(issuer.publicHex, { replayCapacityPerHolder: 1 })
  assert.equal(await codeOf(() => narrower.authenticate(signedAt('a', NOW), request, at(NOW))), 'OK')
  assert.equal(await codeOf(() => narrower.authenticate(signedAt('b', NOW), request, at(NOW))), 'LIMIT_EXCEEDED')
})

test('many concurrent authenticateAsync calls of one nonce: exactly one wins', async () => {
  const verifier = new tc.Verifier(issuer.publicHex)
  const proof = signed('contended')
  // mixed with the sync form on the JS thread while the pool threads race
  const calls = Array.from({ length: 200 }, (_, i) =>
    i % 50 === 25 ? codeOf(() => verifier.authenticate(proof, request, at(NOW))) : codeOf(() => verifier.authenticateAsync(proof, request, at(NOW))),
  )
  const outcomes = await Promise.all(calls)
  assert.equal(outcomes.filter((o) => o === 'OK').length, 1, JSON.stringify(outcomes))
  assert.equal(outcomes.filter((o) => o === 'REPLAYED').length, 199)
  // and many distinct nonces at once are all accepted
  const distinct = await Promise.all(Array.from({ length: 200 }, (_, i) => codeOf(() => verifier.authenticateAsync(signed(`many-${i}`), request, at(NOW)))))
  assert.deepEqual([...new Set(distinct)], ['OK'])
})

test('cacheStats: one parse for a holder\'s repeated requests; a token that does not verify is never cached', async () => {
  const verifier = new tc.Verifier(issuer.publicHex)
  assert.deepEqual(counters(verifier), { hits: 0, misses: 0, entries: 0 })
  verifier.authenticate(signed('c1'), request, at(NOW))
  await verifier.authenticateAsync(signed('c2'), request, at(NOW))
  // a cache hit is counted even when a later check refuses the request
  assert.equal(await codeOf(() => verifier.authenticate(signed('c2'), request, at(NOW))), 'REPLAYED')
  assert.deepEqual(counters(verifier), { hits: 2, misses: 1, entries: 1 })
  const other = tc.IssuerKey.generate()
  const bad = new tc.Verifier(other.publicHex)
  assert.equal(await codeOf(() => bad.authenticate(signed('c3'), request, at(NOW))), 'TOKEN_INVALID')
  assert.equal(await codeOf(() => bad.authenticateAsync(signed('c4'), request, at(NOW))), 'TOKEN_INVALID')
  assert.deepEqual(counters(bad), { hits: 0, misses: 2, entries: 0 })
  // capacity 0 turns the cache off: nothing is counted
  const uncached = new tc.Verifier(issuer.publicHex, { tokenCacheCapacity: 0 })
  uncached.authenticate(signed('c5'), request, at(NOW))
  uncached.authenticate(signed('c6'), request, at(NOW))
  assert.deepEqual(counters(uncached), { hits: 0, misses: 0, entries: 0 })
  // capacity 1: two tokens taking turns evict each other
  const second = tc.mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'worker-1', revocationId: 'rev-9', expiresAt: NOW + 60 })
  const small = new tc.Verifier(issuer.publicHex, { tokenCacheCapacity: 1 })
  for (let i = 0; i < 4; i++) small.authenticate(signedAt(`s${i}`, NOW, i % 2 ? second : token), request, at(NOW))
  assert.deepEqual(counters(small), { hits: 0, misses: 4, entries: 1 })
  small.authenticate(signedAt('s4', NOW, second), request, at(NOW))
  assert.deepEqual(counters(small), { hits: 1, misses: 4, entries: 1 })
})

test('revocation: ids revoked from the start (a list or a Set), revoke and revokeAsync, cached tokens included', async () => {
  const second = tc.mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'worker-2', revocationId: 'rev-2', expiresAt: NOW + 60 })
  for (const revokedIds of [['rev-2'], new Set(['rev-2'])]) {
    const verifier = new tc.Verifier(issuer.publicHex, { revokedIds })
    assert.equal(await codeOf(() => verifier.authenticate(signedAt('r0', NOW, second), request, at(NOW))), 'REVOKED')
    assert.equal(await codeOf(() => verifier.authenticate(signed('r1'), request, at(NOW))), 'OK')
    verifier.revoke('rev-1')
    assert.equal(await codeOf(() => verifier.authenticate(signed('r2'), request, at(NOW))), 'REVOKED')
  }
  // a block's own revocation id (hex), through the Promise form
  const verifier = new tc.Verifier(issuer.publicHex)
  const [blockId] = tc.parseToken(issuer.publicHex, second).revocationIds
  assert.equal(await codeOf(() => verifier.authenticateAsync(signedAt('r3', NOW, second), request, at(NOW))), 'OK')
  assert.equal(await verifier.revokeAsync(blockId), undefined)
  assert.equal(await codeOf(() => verifier.authenticateAsync(signedAt('r4', NOW, second), request, at(NOW))), 'REVOKED')
  // revocation is checked before the proof: a revoked token with a forged proof is REVOKED
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('r5', NOW, second), { ...request, path: '/x' }, at(NOW))), 'REVOKED')
})

test('key rotation: each token verified by the key its root key id names', async () => {
  const old = tc.IssuerKey.generate()
  const mintWith = (key, rootKeyId) =>
    tc.mintBiscuit(key, { publicHex: worker.publicHex, holderId: `w${rootKeyId}`, revocationId: `r${rootKeyId}`, expiresAt: NOW + 60, rootKeyId })
  const verifier = new tc.Verifier({ 1: old.publicHex, 2: issuer.publicHex })
  assert.equal((await verifier.authenticateAsync(signedAt('k1', NOW, mintWith(old, 1)), request, at(NOW))).identity.holderId, 'w1')
  assert.equal(verifier.authenticate(signedAt('k2', NOW, mintWith(issuer, 2)), request, at(NOW)).identity.holderId, 'w2')
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('k3', NOW, mintWith(issuer, 1)), request, at(NOW))), 'TOKEN_INVALID')
  assert.equal(await codeOf(() => verifier.authenticate(signedAt('k4', NOW, mintWith(issuer, 3)), request, at(NOW))), 'TOKEN_INVALID')
  assert.equal(await codeOf(() => verifier.authenticate(signed('k5'), request, at(NOW))), 'TOKEN_INVALID')
})

test('setIssuer rotates the trusted keys of a running verifier and drops cached tokens', async () => {
  const next = tc.IssuerKey.generate()
  const mintWith = (key, rootKeyId) =>
    tc.mintBiscuit(key, { publicHex: worker.publicHex, holderId: `w${rootKeyId}`, revocationId: `r${rootKeyId}`, expiresAt: NOW + 60, rootKeyId })
  const tokens = { 1: mintWith(issuer, 1), 2: mintWith(next, 2) }
  const verifier = new tc.Verifier({ 1: issuer.publicHex })
  const use = (id, nonce) => codeOf(() => verifier.authenticate(signedAt(nonce, NOW, tokens[id]), request, at(NOW)))
  assert.equal(await use(1, 'r1'), 'OK') // cached now
  assert.equal(await use(2, 'r2'), 'TOKEN_INVALID')
  verifier.setIssuer({ 1: issuer.publicHex, 2: next.publicHex })
  assert.equal(await use(1, 'r3'), 'OK')
  assert.equal(await use(2, 'r4'), 'OK')
  verifier.setIssuer({ 2: next.publicHex })
  assert.equal(await use(1, 'r5'), 'TOKEN_INVALID') // cached a moment ago, refused all the same
  assert.equal(await use(2, 'r6'), 'OK')
  assert.equal(await codeOf(() => verifier.setIssuer({ 2: 'not hex' })), 'MALFORMED_INPUT')
  assert.equal(await use(2, 'r7'), 'OK') // a refused setting changed nothing
})

test('checkPolicy and authorize run with the verifier\'s limits, sync and async', async () => {
  const verifier = new tc.Verifier(issuer.publicHex)
  const { token: verified } = verifier.authenticate(signed('p1'), request, at(NOW))
  const policy = (operation, now = NOW) => ({ requestFacts: { req_operation: operation }, allow: ALLOW, now })
  assert.equal(verifier.checkPolicy(verified, policy('lease')), undefined)
  assert.equal(await verifier.checkPolicyAsync(verified, policy('report')), undefined)
  assert.equal(await codeOf(() => verifier.checkPolicy(verified, policy('delete'))), 'DENIED')
  assert.equal(await codeOf(() => verifier.checkPolicyAsync(verified, policy('delete'))), 'DENIED')
  // the token's own expiry (NOW + 3600) still holds for a cached token; `now` left out is the clock
  assert.equal(await codeOf(() => verifier.checkPolicy(verified, policy('lease', NOW + 3601))), 'DENIED')
  assert.equal(await codeOf(() => verifier.checkPolicy(verified, { requestFacts: { req_operation: 'lease' }, allow: ALLOW })), 'DENIED')
  // a token parsed on its own works too
  assert.equal(verifier.checkPolicy(tc.parseToken(issuer.publicHex, token), policy('lease')), undefined)

  assert.equal(verifier.authorize(verified, 'allow if right("nope"); allow if right("lease")', { now: NOW }), 1)
  assert.equal(await verifier.authorizeAsync(verified, 'allow if "a".extern::test("a") == "equal strings"', { now: NOW, externFunctions: ['test'] }), 0)
  assert.equal(await codeOf(() => verifier.authorizeAsync(verified, 'allow if right("nope")', { now: NOW })), 'DENIED')
  // `now` left out is the clock, always added: this token expired in 2023
  assert.equal(await codeOf(() => verifier.authorize(verified, 'allow if true')), 'DENIED')

  // the verifier's limits, not the defaults: a zero time limit is always exceeded, never a pass
  const strict = new tc.Verifier(issuer.publicHex, { limits: { maxTimeMs: 0 } })
  assert.equal(await codeOf(() => strict.checkPolicy(verified, policy('lease'))), 'LIMIT_EXCEEDED')
  assert.equal(await codeOf(() => strict.checkPolicyAsync(verified, policy('lease'))), 'LIMIT_EXCEEDED')
  assert.equal(await codeOf(() => strict.authorize(verified, 'allow if true', { now: NOW })), 'LIMIT_EXCEEDED')
  assert.equal(await codeOf(() => strict.authorizeAsync(verified, 'allow if true', { now: NOW })), 'LIMIT_EXCEEDED')
  // and generous ones apply as given
  const generous = new tc.Verifier(issuer.publicHex, { limits: { maxTimeMs: 1000, maxFacts: 5000, maxIterations: 500 } })
  assert.equal(generous.checkPolicy(verified, policy('lease')), undefined)
})

test('settings core refuses are MALFORMED_INPUT; wrong JS types are TypeErrors', async () => {
  const malformed = (options) =>
    assert.throws(() => new tc.Verifier(issuer.publicHex, options), (e) => e instanceof tc.TrustError && e.code === 'MALFORMED_INPUT', JSON.stringify(options))
  malformed({ maxSkewSeconds: -1 })
  malformed({ maxSkewSeconds: NaN })
  malformed({ replayCapacity: 1.5 })
  malformed({ replayCapacityPerHolder: 1.5 })
  malformed({ replayCapacityPerHolder: -1 })
  malformed({ tokenCacheCapacity: -1 })
  malformed({ limits: { maxTimeMs: -1 } })
  malformed({ redis: { url: 'http://example.com' } })
  malformed({ redis: { url: 'redis://127.0.0.1:1/', connectTimeoutMs: 0 } })
  malformed({ redis: { url: 'redis://127.0.0.1:1/', commandTimeoutMs: 1e12 } })
  malformed({ redis: { url: 'redis://127.0.0.1:1/', retryIntervalMs: 0 } })
  malformed({ redis: { url: 'redis://127.0.0.1:1/', retryIntervalMs: -1 } })
  malformed({ redis: { url: 'redis://127.0.0.1:1/', retryIntervalMs: 86_400_001 } })
  malformed({ redis: { url: 'redis://127.0.0.1:1/', retryIntervalMs: NaN } })
  malformed({ redis: { url: 'redis://127.0.0.1:1/', requestTimeoutMs: 0 } })
  malformed({ redis: { url: 'redis://127.0.0.1:1/', maxIdle: -1 } })
  malformed({ redis: { url: 'redis://127.0.0.1:1/', maxIdle: 1.5 } })
  malformed({ redis: { url: 'redis://127.0.0.1:1/', requestTimeoutMs: 86_400_001 } })
  assert.throws(() => new tc.Verifier('zz'), (e) => e.code === 'MALFORMED_INPUT')
  assert.throws(() => new tc.Verifier({ one: issuer.publicHex }), (e) => e.code === 'MALFORMED_INPUT')
  assert.throws(() => new tc.Verifier(7), TypeError)
  assert.throws(() => new tc.Verifier(issuer.publicHex, 'options'), TypeError)
  malformed({ redis: {} }) // neither a URL nor cluster seeds: core's refusal
  assert.throws(() => new tc.Verifier(issuer.publicHex, { replayCapacityPerHolder: '2' }), TypeError)
  assert.throws(() => tc.Verifier(issuer.publicHex), TypeError)
  const verifier = new tc.Verifier(issuer.publicHex)
  assert.throws(() => verifier.authenticate(signed('t'), request, { now: 'now' }), TypeError)
  await assert.rejects(verifier.authenticateAsync(null, request), TypeError)
  assert.throws(() => verifier.checkPolicy('token', { requestFacts: {}, allow: ALLOW }), TypeError)
  await assert.rejects(verifier.revokeAsync(1), TypeError)
  // it prints its settings (core's one description, as Python's repr), never a Redis URL (it may
  // hold a password)
  const redis = new tc.Verifier(issuer.publicHex, { redis: { url: 'redis://user:secret@127.0.0.1:1/' } })
  assert.ok(!String(redis).includes('secret'))
  assert.equal(String(redis), "Verifier(max_skew_seconds=300.0, token_cache_capacity=10000, store='redis', redis_key_prefix='trustcore:')")
  assert.equal(String(verifier), "Verifier(max_skew_seconds=300.0, token_cache_capacity=10000, store='memory', replay_capacity=100000)")
})
