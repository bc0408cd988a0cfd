'use strict'
// One spelling for every identifier and separate fact namespaces, as the binding hands them to core
// (tests/vectors/identifiers.json pins core's rules; this file pins each JS shape): deny-lists given
// as an array or a Set, to the stateless authenticate and to a Verifier, take a block id in upper
// case as the same id and refuse an id that could never match (MALFORMED_INPUT), and an entry of
// another type is a TypeError in every form; Verifier#revoke and #revokeToken; request facts only in
// the `req_` namespace, which mint refuses for token facts; mint's canonical revocation ids. Codes
// are compared, never messages.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { tc, NOW, issuer, worker, token, request, signed, authOptions } = require('./fixtures.js')

const blockId = tc.parseToken(issuer.publicHex, token).revocationIds[0]
let nonces = 0
const fresh = () => signed(`identifiers-${++nonces}`)
const at = (now) => ({ now })

/** "OK", a TrustError's code, or "TypeError", of a call sync or async; anything else propagates. */
async function outcomeOf(call) {
  try {
    await call()
    return 'OK'
  } catch (err) {
    if (err instanceof tc.TrustError) return err.code
    if (err instanceof TypeError) return 'TypeError'
    throw err
  }
}

// the deny-lists of one meaning, each given as an array and as a Set
const LISTS = [
  ['a block id in upper case', [blockId.toUpperCase()], 'REVOKED'],
  ['the block id as the token has it', [blockId], 'REVOKED'],
  ['the app id', ['rev-1'], 'REVOKED'],
  ['other ids', ['rev-2', 'ab'.repeat(64)], 'OK'],
  ['nothing', [], 'OK'],
  ['an id with a leading space', [' rev-1'], 'MALFORMED_INPUT'],
  ['an id with a trailing newline', ['rev-1\n'], 'MALFORMED_INPUT'],
  ['a block id behind 0x', [`0x${blockId}`], 'MALFORMED_INPUT'],
  ['an empty id', [''], 'MALFORMED_INPUT'],
  ['a good id, then one that could never match', ['rev-2', ' rev-1'], 'MALFORMED_INPUT'],
  ['a number entry', ['rev-2', 7], 'TypeError'],
  ['a Buffer entry', [Buffer.from('rev-1')], 'TypeError'],
  ['a null entry', [null], 'TypeError'],
  ['an undefined entry', [undefined], 'TypeError'],
]
const shapes = (ids) => [
  ['array', ids],
  ['Set', new Set(ids)],
]

test('stateless deny-lists: one spelling per id, an array or a Set alike, sync and async', async () => {
  for (const [name, ids, expected] of LISTS) {
    for (const [shape, revokedIds] of shapes(ids)) {
      const options = { ...authOptions, revokedIds }
      assert.equal(await outcomeOf(() => tc.authenticate(issuer.publicHex, fresh(), request, options)), expected, `${name} (${shape})`)
      const pending = tc.authenticateAsync(issuer.publicHex, fresh(), request, options)
      assert.ok(pending instanceof Promise)
      assert.equal(await outcomeOf(() => pending), expected, `${name} (${shape}, async)`)
    }
  }
  // neither an array nor a Set: a TypeError, a Map's values are not taken for ids
  for (const revokedIds of ['rev-1', 7, null, new Map([['x', 'rev-1']]), { values: () => ['rev-1'][Symbol.iterator]() }]) {
    assert.equal(await outcomeOf(() => tc.authenticate(issuer.publicHex, fresh(), request, { ...authOptions, revokedIds })), 'TypeError')
    assert.equal(await outcomeOf(() => tc.authenticateAsync(issuer.publicHex, fresh(), request, { ...authOptions, revokedIds })), 'TypeError')
  }
  // a sparse array is read entry by entry: its first hole is a TypeError, nothing reserved for the rest
  const sparse = new Array(2 ** 32 - 1)
  assert.equal(await outcomeOf(() => tc.authenticate(issuer.publicHex, fresh(), request, { ...authOptions, revokedIds: sparse })), 'TypeError')
})

test('a Verifier\'s initial deny-list: one spelling per id, an array or a Set alike', async () => {
  for (const [name, ids, expected] of LISTS) {
    for (const [shape, revokedIds] of shapes(ids)) {
      // an id refused, or an entry of the wrong type, refuses the verifier: nothing is half-made
      const made = await outcomeOf(() => new tc.Verifier(issuer.publicHex, { revokedIds }))
      if (made !== 'OK') {
        assert.equal(made, expected, `${name} (${shape})`)
        continue
      }
      const verifier = new tc.Verifier(issuer.publicHex, { revokedIds })
      assert.equal(await outcomeOf(() => verifier.authenticate(fresh(), request, at(NOW))), expected, `${name} (${shape})`)
    }
  }
})

test('Verifier#revoke: a block id in upper case is the same id; an id that could never match is refused', async () => {
  const verifier = new tc.Verifier(issuer.publicHex)
  for (const id of [' rev-1', 'rev-1 ', `0X${blockId.toUpperCase()}`, `0x${blockId}`, '', 'rev\t1']) {
    assert.equal(await outcomeOf(() => verifier.revoke(id)), 'MALFORMED_INPUT', JSON.stringify(id))
    assert.equal(await outcomeOf(() => verifier.revokeAsync(id)), 'MALFORMED_INPUT', JSON.stringify(id))
  }
  // none of those was stored: the token still passes
  assert.equal(await outcomeOf(() => verifier.authenticate(fresh(), request, at(NOW))), 'OK')
  assert.equal(await outcomeOf(() => verifier.revoke(blockId.toUpperCase())), 'OK')
  assert.equal(await outcomeOf(() => verifier.authenticate(fresh(), request, at(NOW))), 'REVOKED')
  const viaAsync = new tc.Verifier(issuer.publicHex)
  assert.equal(await outcomeOf(() => viaAsync.revokeAsync(blockId.toUpperCase())), 'OK')
  assert.equal(await outcomeOf(() => viaAsync.authenticateAsync(fresh(), request, at(NOW))), 'REVOKED')
  // a wrong JS type stays a TypeError
  assert.equal(await outcomeOf(() => verifier.revoke(Buffer.from('rev-1'))), 'TypeError')
})

test('Verifier#revokeToken revokes every id of a token (a Token, sync and async); other tokens of the app id too', async () => {
  // a token with the same app id but blocks of its own, and one with another app id
  const sameApp = tc.mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'worker-1', revocationId: 'rev-1', expiresAt: NOW + 60 })
  const otherApp = tc.mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'worker-1', revocationId: 'rev-9', expiresAt: NOW + 60 })
  const proofWith = (tokenB64) => tc.makeProof(worker, tokenB64, request, String(NOW), `identifiers-${++nonces}`)
  for (const form of ['sync', 'async']) {
    const verifier = new tc.Verifier(issuer.publicHex)
    // the token as authenticate returns it (from the verifier's cache)
    const { token: verified } = verifier.authenticate(fresh(), request, at(NOW))
    const revoked = form === 'sync' ? verifier.revokeToken(verified) : verifier.revokeTokenAsync(verified)
    assert.equal(form === 'sync' ? revoked : await revoked, undefined)
    assert.equal(await outcomeOf(() => verifier.authenticate(fresh(), request, at(NOW))), 'REVOKED', form)
    assert.equal(await outcomeOf(() => verifier.authenticate(proofWith(sameApp), request, at(NOW))), 'REVOKED', form)
    assert.equal(await outcomeOf(() => verifier.authenticate(proofWith(otherApp), request, at(NOW))), 'OK', form)
  }
  // a token parsed on its own; revoking it twice is no error
  const verifier = new tc.Verifier(issuer.publicHex)
  const parsed = tc.parseToken(issuer.publicHex, otherApp)
  verifier.revokeToken(parsed)
  await verifier.revokeTokenAsync(parsed)
  assert.equal(await outcomeOf(() => verifier.authenticate(proofWith(otherApp), request, at(NOW))), 'REVOKED')
  assert.equal(await outcomeOf(() => verifier.authenticate(fresh(), request, at(NOW))), 'OK')
  // it takes a Token, as checkPolicy does: the text of one is a TypeError (parseToken makes one)
  for (const notAToken of [token, Buffer.from(token), null, {}]) {
    assert.equal(await outcomeOf(() => verifier.revokeToken(notAToken)), 'TypeError')
    assert.equal(await outcomeOf(() => verifier.revokeTokenAsync(notAToken)), 'TypeError')
  }
})

test('request facts live in the req_ namespace: any other name is MALFORMED_INPUT, in every checkPolicy', async () => {
  const parsed = tc.parseToken(issuer.publicHex, token)
  const verifier = new tc.Verifier(issuer.publicHex)
  const calls = {
    checkPolicy: (options) => tc.checkPolicy(parsed, { ...options, now: NOW }),
    checkPolicyAsync: (options) => tc.checkPolicyAsync(parsed, { ...options, now: NOW }),
    'Verifier#checkPolicy': (options) => verifier.checkPolicy(parsed, { ...options, now: NOW }),
    'Verifier#checkPolicyAsync': (options) => verifier.checkPolicyAsync(parsed, { ...options, now: NOW }),
  }
  for (const [name, call] of Object.entries(calls)) {
    assert.equal(await outcomeOf(() => call({ requestFacts: { req_operation: 'lease' }, allow: 'allow if right($op), req_operation($op)' })), 'OK', name)
    assert.equal(await outcomeOf(() => call({ requestFacts: { operation: 'lease' }, allow: 'allow if right($op), operation($op)' })), 'MALFORMED_INPUT', name)
    // a request cannot grant itself a right the token must carry
    assert.equal(await outcomeOf(() => call({ requestFacts: { right: 'admin' }, allow: 'allow if right("admin")' })), 'MALFORMED_INPUT', name)
    // one name out of the namespace refuses the whole call
    const mixed = { req_operation: 'lease', operation: 'lease' }
    assert.equal(await outcomeOf(() => call({ requestFacts: mixed, allow: 'allow if req_operation("lease")' })), 'MALFORMED_INPUT', name)
  }
})

test('mint: no token fact in the req_ namespace, revocation ids only in their canonical form', async () => {
  const mint = (options) => ({ publicHex: worker.publicHex, holderId: 'worker-1', revocationId: 'rev-1', expiresAt: NOW + 60, ...options })
  const cases = [
    [{ facts: { req_right: ['lease'] } }, 'MALFORMED_INPUT'],
    [{ facts: { right: ['lease'], req_operation: ['lease'] } }, 'MALFORMED_INPUT'],
    [{ revocationId: 'ABCDEF' }, 'MALFORMED_INPUT'],
    [{ revocationId: 'rev 1' }, 'MALFORMED_INPUT'],
    [{ revocationId: ' rev-1' }, 'MALFORMED_INPUT'],
    [{ revocationId: '0xabcdef' }, 'MALFORMED_INPUT'],
    [{ revocationId: 'abcdef' }, 'OK'],
    [{ revocationId: 'Rev-1', facts: { right: ['lease'] } }, 'OK'], // not hex: kept as written
  ]
  for (const [options, expected] of cases) {
    assert.equal(await outcomeOf(() => tc.mintBiscuit(issuer, mint(options))), expected, JSON.stringify(options))
    assert.equal(await outcomeOf(() => tc.mintBiscuitAsync(issuer, mint(options))), expected, `${JSON.stringify(options)} (async)`)
  }
})
