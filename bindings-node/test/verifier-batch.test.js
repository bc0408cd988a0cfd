'use strict'
// Verifier#authenticateBatch and its Promise form: each request of a batch gets the outcome it gets
// alone (checked against a second verifier used one by one), except that a (holder, nonce) repeated
// within the batch is REPLAYED after its first use whatever became of that one; refusals are
// entries (TrustErrors), never thrown; 64 valid requests pass and then are all replays; an empty
// batch is []; the Promise form runs on the libuv pool while the event loop keeps turning; a wrong
// JS type anywhere throws a TypeError before any request is checked. The batch bounds: cost.test.js.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { tc, NOW, issuer, worker, token, request, signed } = require('./fixtures.js')

const at = (now) => ({ now })
/** cacheStats() with `bytes` (core's estimate, more than 0 for any token held) checked against `entries`, then left out. */
const counters = (verifier) => {
  const { bytes, ...rest } = verifier.cacheStats()
  assert.equal(bytes > 0, rest.entries > 0, `${bytes} bytes for ${rest.entries} entries`)
  return rest
}
const codeOf = (call) => {
  try {
    call()
    return 'OK'
  } catch (err) {
    if (err instanceof tc.TrustError) return err.code
    throw err
  }
}
/** "OK" or the code of each entry, checking each entry's shape on the way. */
const codesOf = (outcomes) =>
  outcomes.map((outcome) => {
    if (outcome.ok === true) {
      assert.deepEqual(Object.keys(outcome), ['ok', 'token', 'identity'])
      assert.ok(outcome.token instanceof tc.Token)
      return 'OK'
    }
    assert.equal(outcome.ok, false)
    assert.deepEqual(Object.keys(outcome), ['ok', 'error'])
    assert.ok(outcome.error instanceof tc.TrustError, `not a TrustError: ${outcome.error}`)
    assert.ok(tc.ERROR_CODES.includes(outcome.error.code))
    assert.ok(outcome.error.message.length > 0)
    return outcome.error.code
  })

const thief = tc.WorkerKey.fromSecretHex('33'.repeat(32))
const revokedToken = tc.mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'worker-2', revocationId: 'rev-2', expiresAt: NOW + 60 })
const options = { revokedIds: ['rev-2'] }

/** 24 requests: valid ones, and one of each kind of refusal, at fixed places. */
function mixedBatch(tag) {
  const entries = Array.from({ length: 24 }, (_, i) => {
    const req = { method: 'POST', path: `/lease/${i}`, body: Buffer.from(`{"n":${i}}`) }
    return { proof: signed(`${tag}-${i}`, req), request: req }
  })
  const { request: r3 } = entries[3]
  entries[3].proof = tc.makeProof(thief, token, r3, String(NOW), `${tag}-3`) // forged: another key
  entries[5].request = { ...entries[5].request, path: '/elsewhere' } // forged: signed for another path
  entries[7].proof = tc.makeProof(worker, token, entries[7].request, String(NOW - 1000), `${tag}-7`) // stale
  entries[11].proof = signed(`${tag}-10`, entries[11].request) // request 10's nonce again
  entries[12].proof = signed(`${tag}-3`, entries[12].request) // the forged request 3's nonce: not burnt
  entries[13].proof = { ...entries[13].proof, token: 'not a token' } // unparsable token
  entries[17].proof = { ...entries[17].proof, signature: 'zz' } // malformed signature
  entries[19].proof = { ...entries[19].proof, signature: 'ab'.repeat(64) } // well-formed, wrong
  entries[21].proof = tc.makeProof(worker, revokedToken, entries[21].request, String(NOW), `${tag}-21`) // revoked
  entries[23].proof = entries[0].proof // an exact replay of the first request
  entries[23].request = entries[0].request
  return entries
}

const EXPECTED = {
  3: 'POP_FAILED',
  5: 'POP_FAILED',
  7: 'STALE_REQUEST',
  11: 'REPLAYED',
  13: 'TOKEN_INVALID',
  17: 'MALFORMED_INPUT',
  19: 'POP_FAILED',
  21: 'REVOKED',
  23: 'REPLAYED',
}

test('a mixed batch gives each request the code it gets alone (but a nonce repeated within it), sync and async', async () => {
  for (const form of ['sync', 'async']) {
    const entries = mixedBatch(form)
    const alone = new tc.Verifier(issuer.publicHex, options)
    const expected = entries.map(({ proof, request: req }) => codeOf(() => alone.authenticate(proof, req, at(NOW))))
    assert.deepEqual(expected, entries.map((_, i) => EXPECTED[i] ?? 'OK'), 'one by one')

    const batched = new tc.Verifier(issuer.publicHex, options)
    const outcomes = form === 'sync' ? batched.authenticateBatch(entries, at(NOW)) : await batched.authenticateBatchAsync(entries, at(NOW))
    assert.ok(Array.isArray(outcomes))
    // request 12 reuses the nonce of the forged request 3: alone it is accepted (a forged request
    // burns no nonce), within one batch the repeat is refused before any signature work
    assert.deepEqual(codesOf(outcomes), expected.map((code, i) => (i === 12 ? 'REPLAYED' : code)), form)
    // within a batch each distinct token text is looked up once: the fixture token, the revoked one
    // and the unparsable one are three misses (nothing was cached before the batch); only the
    // fixture token, proven, is cached
    assert.deepEqual(counters(batched), { hits: 0, misses: 3, entries: 1 })
    // the same identity and the same token as authenticate gives
    const first = outcomes[0]
    assert.deepEqual({ ...first.identity }, {
      holderId: 'worker-1',
      holderPublicHex: worker.publicHex,
      revocationId: 'rev-1',
      chain: [{ holderId: 'worker-1', holderPublicHex: worker.publicHex }],
    })
    assert.deepEqual(first.token.revocationIds, tc.parseToken(issuer.publicHex, token).revocationIds)
    assert.equal(batched.checkPolicy(first.token, { requestFacts: { req_operation: 'lease' }, allow: 'allow if right($op), req_operation($op)', now: NOW }), undefined)
    // what it accepted is spent; what it refused is not (a forged request burns no nonce)
    assert.equal(codeOf(() => batched.authenticate(entries[1].proof, entries[1].request, at(NOW))), 'REPLAYED')
    const retry = entries[3].request
    assert.equal(codeOf(() => batched.authenticate(signed(`${form}-19`, entries[19].request), entries[19].request, at(NOW))), 'OK')
    assert.equal(codeOf(() => batched.authenticate(signed(`${form}-3`, retry), retry, at(NOW))), 'OK') // neither 3 nor 12 spent it
  }
})

test('64 valid requests are all accepted, then all REPLAYED; an empty batch is []', async () => {
  for (const form of ['sync', 'async']) {
    const verifier = new tc.Verifier(issuer.publicHex)
    const entries = Array.from({ length: 64 }, (_, i) => ({ proof: signed(`${form}-64-${i}`), request }))
    const run = (batch, options) => (form === 'sync' ? verifier.authenticateBatch(batch, options) : verifier.authenticateBatchAsync(batch, options))
    const first = await run(entries, at(NOW))
    assert.equal(first.length, 64)
    assert.deepEqual([...new Set(codesOf(first))], ['OK'], form)
    assert.ok(first.every((o) => o.identity.holderId === 'worker-1'))
    const again = await run(entries, at(NOW))
    assert.deepEqual([...new Set(codesOf(again))], ['REPLAYED'], form)
    assert.deepEqual(await run([], at(NOW)), [])
    assert.deepEqual(await run([]), [])
    // `now` left out is the system clock: these proofs of 2023 are stale; a proof made now with a
    // token that has not expired is accepted (the fixture token expired in 2023: TOKEN_INVALID)
    const stale = await run([{ proof: signed(`${form}-clock`), request }])
    assert.deepEqual(codesOf(stale), ['STALE_REQUEST'])
    const now = Math.floor(Date.now() / 1000)
    const live = tc.mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'worker-1', revocationId: 'rev-1', expiresAt: now + 3600 })
    const current = await run([{ proof: tc.makeProof(worker, live, request, String(now), `${form}-now`), request }], null)
    assert.deepEqual(codesOf(current), ['OK'])
    const expired = await run([{ proof: tc.makeProof(worker, token, request, String(now), `${form}-expired`), request }], null)
    assert.deepEqual(codesOf(expired), ['TOKEN_INVALID'])
  }
})

test('one request alone in a batch is checked strictly, and bodies of every kind are read', async () => {
  const verifier = new tc.Verifier(issuer.publicHex)
  const kinds = [Buffer.from('{"n":1}'), new Uint8Array([123, 125]), 'text body', undefined]
  const entries = kinds.map((body, i) => {
    const req = { method: 'PUT', path: `/kind/${i}`, ...(body === undefined ? {} : { body }) }
    return { proof: signed(`kind-${i}`, req), request: req }
  })
  assert.deepEqual(codesOf(verifier.authenticateBatch(entries, at(NOW))), ['OK', 'OK', 'OK', 'OK'])
  const forged = { proof: signed('lonely'), request: { ...request, body: 'other' } }
  assert.deepEqual(codesOf(verifier.authenticateBatch([forged], at(NOW))), ['POP_FAILED'])
  assert.deepEqual(codesOf(await verifier.authenticateBatchAsync([forged], at(NOW))), ['POP_FAILED'])
})

test('authenticateBatchAsync keeps its own copy of each body', async () => {
  const verifier = new tc.Verifier(issuer.publicHex)
  const bodies = Array.from({ length: 8 }, (_, i) => Buffer.from(`{"copy":${i}}`))
  const entries = bodies.map((body, i) => {
    const req = { method: 'POST', path: '/copy', body }
    return { proof: signed(`copy-${i}`, req), request: req }
  })
  const pending = verifier.authenticateBatchAsync(entries, at(NOW))
  for (const body of bodies) body.fill(0) // the caller reuses its buffers before the pool thread runs
  assert.deepEqual(codesOf(await pending), Array(8).fill('OK'))
})

test('the event loop keeps turning while authenticateBatchAsync runs', async () => {
  const verifier = new tc.Verifier(issuer.publicHex)
  // big batches, several at once: many milliseconds of signature checks, all on the pool
  const batches = Array.from({ length: 4 }, (_, b) => Array.from({ length: 256 }, (_, i) => ({ proof: signed(`loop-${b}-${i}`), request })))
  let turns = 0
  let pending = true
  const spin = () => {
    turns += 1
    if (pending) setImmediate(spin)
  }
  const turnsWhenSettled = []
  const calls = batches.map((batch) =>
    verifier.authenticateBatchAsync(batch, at(NOW)).then((outcomes) => {
      turnsWhenSettled.push(turns)
      return outcomes
    }),
  )
  setImmediate(spin)
  const settled = await Promise.all(calls)
  pending = false
  for (const outcomes of settled) assert.deepEqual([...new Set(codesOf(outcomes))], ['OK'])
  // every batch settled after the loop had turned: the checks ran off the JS thread
  assert.ok(Math.min(...turnsWhenSettled) > 0, `the event loop did not turn while the batches ran (${turnsWhenSettled})`)
})

test('a wrong JS type anywhere throws a TypeError (the Promise form rejects) before any request is checked', async () => {
  const verifier = new tc.Verifier(issuer.publicHex)
  const good = () => ({ proof: signed('typed'), request })
  const bad = [
    [undefined],
    [null],
    ['requests'],
    [{ length: 1, 0: good() }],
    [new Set([good()])],
    [[good(), null]],
    [[good(), 'entry']],
    [[good(), {}]],
    [[good(), { proof: good().proof }]],
    [[good(), { request }]],
    [[good(), { proof: { ...good().proof, nonce: 7 }, request }]],
    [[good(), { proof: good().proof, request: { ...request, body: 5 } }]],
    [[good(), { proof: good().proof, request: { ...request, method: null } }]],
    [[good(), { proof: null, request }]],
    [[good()], { now: 'now' }],
  ]
  for (const [n, args] of bad.entries()) {
    assert.throws(() => verifier.authenticateBatch(...args), TypeError, `case ${n}`)
    const pending = verifier.authenticateBatchAsync(...args)
    assert.ok(pending instanceof Promise)
    await assert.rejects(pending, TypeError, `case ${n} (async)`)
  }
  // a huge sparse array: over the default maxBatchRequests, refused whole before any entry is read;
  // where the bound admits it, refused at its first hole, nothing reserved for the rest
  const sparse = new Array(2 ** 32 - 1)
  const overBound = (err) => err instanceof tc.TrustError && err.code === 'LIMIT_EXCEEDED'
  assert.throws(() => verifier.authenticateBatch(sparse), overBound)
  await assert.rejects(verifier.authenticateBatchAsync(sparse), overBound)
  const unbounded = new tc.Verifier(issuer.publicHex, { maxBatchRequests: 2 ** 32 })
  assert.throws(() => unbounded.authenticateBatch(sparse), TypeError)
  await assert.rejects(unbounded.authenticateBatchAsync(sparse), TypeError)
  // nothing ran: the good request's nonce is still unused
  assert.equal(codeOf(() => verifier.authenticate(good().proof, request, at(NOW))), 'OK')
  assert.deepEqual(counters(verifier), { hits: 0, misses: 1, entries: 1 })
  // the message names the entry, never a value it holds
  assert.throws(
    () => verifier.authenticateBatch([good(), { proof: { ...good().proof, token: 12345678 }, request }]),
    (err) => err instanceof TypeError && /requests\[1\]/.test(err.message) && !err.message.includes('12345678'),
  )
})
