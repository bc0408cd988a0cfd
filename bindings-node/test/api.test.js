'use strict'
// The API end to end, sync and async: keys, mint, proofs and their transports, authenticate,
// checkPolicy, tokens, jobs, frames, and errors as TrustError with the docs/DESIGN.md §5 code.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')
const { tc, NOW, issuer, worker, token, request, ALLOW, signed, authOptions } = require('./fixtures.js')

const isCode = (code) => (err) => err instanceof tc.TrustError && err instanceof Error && err.code === code

test('keys: hex round trip, signatures, and no secret in any printout', () => {
  const secret = '11'.repeat(32)
  assert.equal(issuer.secretHex(), secret)
  assert.equal(tc.IssuerKey.fromSecretHex(secret).publicHex, issuer.publicHex)
  assert.ok(tc.isHexKey(issuer.publicHex))
  assert.equal(issuer.sign('m').length, 64)
  assert.ok(issuer.sign(Buffer.from('m')).equals(issuer.sign(new Uint8Array([109]))))
  for (const shown of [String(issuer), util.inspect(issuer), JSON.stringify(issuer), `${worker}`]) {
    assert.ok(!shown.includes(secret) && !shown.includes('22'.repeat(32)), shown)
  }
  assert.notEqual(tc.WorkerKey.generate().publicHex, tc.WorkerKey.generate().publicHex)
  assert.throws(() => tc.WorkerKey.fromSecretHex('abc'), isCode('MALFORMED_INPUT'))
  assert.throws(() => new tc.IssuerKey(), TypeError)
  assert.ok(tc.constantTimeEqual('abc', Buffer.from('abc')))
  assert.ok(!tc.constantTimeEqual('abc', 'abd'))
})

test('canonical request: five lines, body as Buffer, Uint8Array or string alike', () => {
  const lines = tc.canonicalRequest({ method: 'POST', path: '/p', body: '{}' }, '1', 'n').toString().split('\n')
  assert.deepEqual(lines, ['POST', '/p', '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', '1', 'n'])
  const forms = [Buffer.from('{}'), new Uint8Array([123, 125]), '{}']
  const canon = forms.map((body) => tc.canonicalRequest({ method: 'POST', path: '/p', body }, '1', 'n').toString('hex'))
  assert.equal(new Set(canon).size, 1)
  assert.equal(tc.canonicalRequest({ method: 'GET', path: '/' }, '1', 'n').toString().split('\n')[2].length, 64)
  assert.throws(() => tc.canonicalRequest({ method: 'GET', path: '/\n' }, '1', 'n'), isCode('MALFORMED_INPUT'))
})

test('proof transports: Node headers, fetch Headers, pairs, query objects and URLSearchParams', () => {
  const proof = signed()
  const headers = tc.proofHeaders(proof)
  assert.deepEqual(Object.keys(headers), ['Authorization', 'X-EP-Signature', 'X-EP-Timestamp', 'X-EP-Nonce'])
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
  assert.deepEqual(tc.proofFromHeaders(lower), proof)
  assert.deepEqual(tc.proofFromHeaders(new Headers(headers)), proof)
  assert.deepEqual(tc.proofFromHeaders(Object.entries(headers)), proof)
  assert.deepEqual(tc.proofFromHeaders(new Map(Object.entries(headers))), proof)
  const query = tc.proofQuery(proof)
  assert.deepEqual(tc.proofFromQuery(query), proof)
  assert.deepEqual(tc.proofFromQuery(new URLSearchParams(query)), proof)
  // a header given twice (as Node gives an array) is refused by core, not silently merged
  assert.throws(() => tc.proofFromHeaders({ ...lower, 'x-ep-nonce': ['a', 'b'] }), isCode('MALFORMED_INPUT'))
  const twice = new URLSearchParams(query)
  twice.append('sig', proof.signature)
  assert.throws(() => tc.proofFromQuery(twice), isCode('MALFORMED_INPUT'))
  assert.throws(() => tc.proofFromHeaders({}), isCode('MALFORMED_INPUT'))
})

test('authenticate then checkPolicy, sync', () => {
  const { token: verified, identity } = tc.authenticate(issuer.publicHex, signed(), request, authOptions)
  assert.ok(verified instanceof tc.Token)
  assert.deepEqual({ ...identity }, {
    holderId: 'worker-1',
    holderPublicHex: worker.publicHex,
    revocationId: 'rev-1',
    chain: [{ holderId: 'worker-1', holderPublicHex: worker.publicHex }],
  })
  assert.equal(tc.checkPolicy(verified, { requestFacts: { req_operation: 'lease' }, allow: ALLOW, now: NOW }), undefined)
  assert.throws(
    () => tc.checkPolicy(verified, { requestFacts: { req_operation: 'delete' }, allow: ALLOW, now: NOW }),
    isCode('DENIED'),
  )
  const other = { ...request, body: Buffer.from('{"n":2}') }
  assert.throws(() => tc.authenticate(issuer.publicHex, signed(), other, authOptions), isCode('POP_FAILED'))
  assert.throws(() => tc.authenticate(issuer.publicHex, signed(), request, { ...authOptions, now: NOW + 301 }), isCode('STALE_REQUEST'))
  assert.throws(() => tc.authenticate(issuer.publicHex, signed(), request, { ...authOptions, revokedIds: new Set(['rev-1']) }), isCode('REVOKED'))
  assert.throws(() => tc.authenticate(worker.publicHex, signed(), request, authOptions), isCode('TOKEN_INVALID'))
})

test('async forms resolve and reject exactly as the sync ones', async () => {
  const { token: verified, identity } = await tc.authenticateAsync(issuer.publicHex, signed(), request, authOptions)
  assert.equal(identity.holderId, 'worker-1')
  await tc.checkPolicyAsync(verified, { requestFacts: { req_operation: 'report' }, allow: ALLOW, now: NOW })
  await assert.rejects(tc.checkPolicyAsync(verified, { requestFacts: { req_operation: 'x' }, allow: ALLOW, now: NOW }), isCode('DENIED'))
  await assert.rejects(tc.authenticateAsync(issuer.publicHex, { ...signed(), signature: '00'.repeat(64) }, request, authOptions), isCode('POP_FAILED'))
  assert.deepEqual(await tc.makeProofAsync(worker, token, request, String(NOW), 'nonce-1'), signed())
  assert.equal((await tc.parseTokenAsync(issuer.publicHex, token)).toBase64(), tc.parseToken(issuer.publicHex, token).toBase64())
  await assert.rejects(tc.parseTokenAsync(issuer.publicHex, 'not a token'), isCode('TOKEN_INVALID'))
  const minted = await tc.mintBiscuitAsync(issuer, { publicHex: worker.publicHex, holderId: 'w', revocationId: 'r', expiresAt: NOW })
  assert.equal(tc.parseToken(issuer.publicHex, minted).blockCount, 1)
  await assert.rejects(tc.mintBiscuitAsync(issuer, { publicHex: 'zz', holderId: 'w', revocationId: 'r', expiresAt: NOW }), isCode('MALFORMED_INPUT'))
  assert.equal(await verified.authorizeAsync('allow if false; allow if true', { now: NOW }), 1)
  await assert.rejects(verified.authorizeAsync('deny if true', { now: NOW }), isCode('DENIED'))
  // a Promise form rejects on anything, a type mistake and a malformed key included
  await assert.rejects(tc.authenticateAsync(issuer.publicHex, null, request, authOptions), TypeError)
  await assert.rejects(tc.authenticateAsync('zz', signed(), request, authOptions), isCode('MALFORMED_INPUT'))
})

test('tokens: inspection, raw bytes, key rotation, the general authorizer', () => {
  const parsed = tc.parseToken(issuer.publicHex, token)
  assert.equal(parsed.blockCount, 1)
  assert.equal(parsed.revocationIds.length, 1)
  assert.equal(parsed.rootKeyId, null)
  assert.match(parsed.blockSource(0), /worker_key\("/)
  assert.throws(() => parsed.blockSource(5), isCode('MALFORMED_INPUT'))
  assert.equal(tc.parseToken(issuer.publicHex, parsed.toBytes()).toBase64(), parsed.toBase64())
  assert.ok(!String(parsed).includes(token.slice(0, 20)))
  const rotated = tc.mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'w', revocationId: 'r', expiresAt: NOW, rootKeyId: 7 })
  assert.equal(tc.parseToken({ 7: issuer.publicHex }, rotated).rootKeyId, 7)
  assert.throws(() => tc.parseToken({ 8: issuer.publicHex }, rotated), isCode('TOKEN_INVALID'))
  assert.throws(() => tc.parseToken({ seven: issuer.publicHex }, rotated), isCode('MALFORMED_INPUT'))
  assert.equal(parsed.authorize('allow if right("report")', { now: NOW }), 0)
  assert.throws(() => parsed.authorize('allow if true', { now: NOW + 7200 }), isCode('DENIED')) // expired
  assert.throws(() => parsed.authorize('allow if true'), isCode('DENIED')) // no time fact: the expiry check fails
  assert.throws(() => parsed.authorize('allow if', {}), isCode('MALFORMED_INPUT'))
  assert.throws(() => parsed.authorize('allow if true', { limits: { maxFacts: -1 } }), isCode('MALFORMED_INPUT'))
})

test('jobs and frames', async () => {
  const job = { id: 7, task: 'render' }
  const sig = tc.signJob(issuer, job, 'worker-1')
  assert.equal(await tc.signJobAsync(issuer, job, 'worker-1'), sig)
  assert.equal(tc.verifyJob(issuer.publicHex, { ...job, sig }, 'worker-1'), undefined)
  await tc.verifyJobAsync(issuer.publicHex, { ...job, sig }, 'worker-1')
  assert.throws(() => tc.verifyJob(issuer.publicHex, { ...job, sig }, 'worker-2'), isCode('JOB_INVALID'))
  await assert.rejects(tc.verifyJobAsync(issuer.publicHex, job, 'worker-1'), isCode('JOB_INVALID'))
  const frame = tc.encodeFrame({ op: 'mint', n: 1 })
  assert.equal(frame.subarray(4).toString(), '{"n":1,"op":"mint"}')
  assert.deepEqual(tc.decodeFrame(frame), { n: 1, op: 'mint' })
  assert.throws(() => tc.decodeFrame(Buffer.concat([frame, Buffer.from([0])])), isCode('FRAME_INVALID'))
  assert.throws(() => tc.decodeFrame(Buffer.from([0xff, 0, 0, 0])), isCode('FRAME_INVALID'))
})

test('TrustError: a real Error subclass with a stable code, for sync and async alike', async () => {
  const err = new tc.TrustError('DENIED', 'no')
  assert.ok(err instanceof Error)
  assert.equal(err.name, 'TrustError')
  assert.equal(err.code, 'DENIED')
  assert.match(err.stack, /^TrustError: no/)
  assert.deepEqual(tc.ERROR_CODES, tc.errorCodes())
  assert.equal(tc.ERROR_CODES.length, 17)
  assert.equal(tc.ERROR_CODES[15], 'WRONG_AUDIENCE')
  assert.equal(tc.ERROR_CODES[16], 'DELEGATION_INVALID')
  assert.ok(Object.isFrozen(tc.ERROR_CODES))
})
