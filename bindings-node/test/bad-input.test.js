'use strict'
// Bad input for every export: each argument, and each field of each options object, replaced by
// values of the wrong type, null, undefined, huge strings, invalid UTF-8, lone surrogates and
// detached buffers. Every call must return, or throw (or reject with) a TrustError or a TypeError:
// never crash, never hang, never anything else. SignerClient's calls go to a live signer daemon;
// the Verifier's are swept on its memory stores (conversions come before any store is asked).

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { tc, NOW, issuer, worker, token, request, ALLOW, signed, authOptions } = require('./fixtures.js')
const { startSigner } = require('./signer-daemon.js')

let signer
let client

before(async () => {
  // any expiry and any predicate: the sweep is about types, not policy
  signer = await startSigner({ seedHex: issuer.secretHex(), args: ['--max-ttl', '1e12'] })
  client = new tc.SignerClient(signer.socket, { requestTimeoutMs: 10_000 })
})

after(async () => {
  assert.deepEqual(await signer.stop(), { status: 0, socketGone: true }, signer.log())
  await signer.close()
})

function detachedBytes() {
  const buffer = new ArrayBuffer(16)
  const view = new Uint8Array(buffer)
  structuredClone(buffer, { transfer: [buffer] })
  assert.equal(view.byteLength, 0)
  return view
}

const HUGE = 'A'.repeat(4 << 20)
const HUGER = 'A'.repeat(64 << 20)
const BAD = [
  undefined,
  null,
  0,
  -1,
  1.5,
  NaN,
  -Infinity,
  1e300,
  true,
  '',
  'zz',
  HUGE,
  '\ud800 lone surrogate \udfff',
  Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
  detachedBytes(),
  new Uint16Array(4),
  new ArrayBuffer(4),
  new DataView(new ArrayBuffer(4)),
  {},
  [],
  [[1, 2]],
  [['a']],
  Object.create(null),
  new Map([[1, 2]]),
  new Set([1]),
  new Date(0),
  Symbol('s'),
  10n,
  () => 'f',
  Promise.resolve('p'),
]

const parsed = tc.parseToken(issuer.publicHex, token)
const job = { id: 1, task: 't' }
const sig = tc.signJob(issuer, job, 'w')
const lowerHeaders = Object.fromEntries(Object.entries(tc.proofHeaders(signed())).map(([k, v]) => [k.toLowerCase(), v]))
const mintOptions = () => ({ publicHex: worker.publicHex, holderId: 'w', facts: { right: ['a'] }, revocationId: 'r', expiresAt: NOW, rootKeyId: 1, delegationDepth: 1 })
const signerMint = () => ({ publicHex: worker.publicHex, holderId: 'w', facts: { right: ['a'] }, expiresAt: NOW + 60, revocationId: 'r', delegationDepth: 0 })
// a token the fixture worker may delegate once, and what it delegates
const delegable = tc.mintBiscuit(issuer, { ...mintOptions(), expiresAt: NOW + 60 })
const delegateOptions = () => ({ toPublicHex: issuer.publicHex, toHolderId: 'w2', checks: 'check if true;', expiresAt: NOW + 30 })
const policy = () => ({ requestFacts: { req_operation: 'lease' }, allow: ALLOW, now: NOW, limits: { maxTimeMs: 50, maxFacts: 100, maxIterations: 10 } })
// every limits option, for the sweep of a limits object's own fields
const allLimits = () => ({
  maxTimeMs: 50,
  maxFacts: 1000,
  maxIterations: 100,
  maxTokenBytes: 1 << 20,
  maxBlocks: 8,
  maxBlockFacts: 100,
  maxBlockRules: 10,
  maxBodyAtoms: 8,
  maxBodyOps: 32,
  maxJoinSize: 10_000,
  allowAppendedRegex: true,
})
const verifierOptions = () => ({
  maxSkewSeconds: 300,
  authorities: ['api.example.com'],
  profiles: ['rfc9421', 'legacy'],
  limits: { maxTimeMs: 50 },
  replayCapacity: 1000,
  replayCapacityPerHolder: 500,
  revokedIds: ['x'],
  tokenCacheCapacity: 10,
  tokenCacheMaxBytes: 1 << 20,
  maxBatchRequests: 16,
  maxBatchBodyBytes: 1 << 20,
})
// nobody listens there: a Redis verifier is made without connecting (no initial revocations)
const redisOptions = () => ({ url: 'redis://127.0.0.1:1/', keyPrefix: 'sweep:', connectTimeoutMs: 100, commandTimeoutMs: 100 })
const verifier = new tc.Verifier(issuer.publicHex)
// revokeToken's own verifier: the sweep's verifier keeps accepting the fixture token
const revoking = new tc.Verifier(issuer.publicHex)
// a fresh nonce for every call, so a well-formed one is accepted rather than REPLAYED
let nonces = 0
const fresh = () => signed(`sweep-${++nonces}`)
// a batch answers a refusal with an entry: each must be { ok: true, token, identity } or
// { ok: false, error: TrustError }, anything else fails the sweep (a plain Error is not allowed)
function batchEntries(outcomes) {
  if (!Array.isArray(outcomes)) throw new Error('a batch answered something other than an array')
  for (const o of outcomes) {
    const good = o.ok === true ? o.token instanceof tc.Token && typeof o.identity?.holderId === 'string' : o.ok === false && o.error instanceof tc.TrustError
    if (!good) throw new Error(`a malformed batch entry (${Object.keys(o)})`)
  }
  return outcomes
}
const batchOf = (proof, req) => [{ proof, request: req }]

// HTTP: a route policy (also as a file), a request signed for the sweep's verifier, fresh each time
const httpPolicyText = '{"routes": [{"method": "POST", "path": "/lease", "allow": "allow if right(\\"lease\\")"}], "max_body_bytes": 1024}'
const httpPolicy = tc.HttpPolicy.fromJson(httpPolicyText)
const httpPolicyFile = path.join(os.tmpdir(), `trustcore-sweep-${process.pid}.json`)
fs.writeFileSync(httpPolicyFile, httpPolicyText)
after(() => fs.rmSync(httpPolicyFile, { force: true }))
const signing = () => ({ method: 'POST', url: 'https://api.example.com/lease', headers: [['X-Other', 'x']], body: Buffer.from('{"n":1}'), profile: 'rfc9421', created: NOW, nonce: `sweep-http-${++nonces}` })
const httpVerifier = new tc.Verifier(issuer.publicHex, { authorities: ['api.example.com'] })
const httpMessage = () => {
  const { method, body, ...rest } = signing()
  const headers = [['Host', 'api.example.com'], ...Object.entries(tc.signRequest(worker, token, { method, body, ...rest }))]
  return { method, target: '/lease', headers, body }
}
const decideOptions = () => ({ policy: httpPolicy, facts: { req_tenant: 't' }, now: NOW })

// every export, with arguments that work; the sweep breaks them one at a time
const CALLS = {
  'IssuerKey.generate': [() => tc.IssuerKey.generate(), () => []],
  'IssuerKey.fromSecretHex': [tc.IssuerKey.fromSecretHex, () => ['11'.repeat(32)]],
  'WorkerKey.fromSecretHex': [tc.WorkerKey.fromSecretHex, () => ['22'.repeat(32)]],
  'IssuerKey#sign': [(...a) => issuer.sign(...a), () => ['m']],
  'WorkerKey#sign': [(...a) => worker.sign(...a), () => [Buffer.from('m')]],
  isHexKey: [tc.isHexKey, () => ['ab'.repeat(32)]],
  constantTimeEqual: [tc.constantTimeEqual, () => ['a', 'b']],
  errorCodes: [tc.errorCodes, () => []],
  canonicalRequest: [tc.canonicalRequest, () => [{ ...request }, '1', 'n']],
  makeProof: [tc.makeProof, () => [worker, token, { ...request }, '1', 'n']],
  makeProofAsync: [tc.makeProofAsync, () => [worker, token, { ...request }, '1', 'n']],
  proofFromHeaders: [tc.proofFromHeaders, () => [{ ...lowerHeaders }]],
  proofFromQuery: [tc.proofFromQuery, () => [tc.proofQuery(signed())]],
  proofHeaders: [tc.proofHeaders, () => [signed()]],
  proofQuery: [tc.proofQuery, () => [signed()]],
  mintBiscuit: [tc.mintBiscuit, () => [issuer, mintOptions()]],
  mintBiscuitAsync: [tc.mintBiscuitAsync, () => [issuer, mintOptions()]],
  delegate: [tc.delegate, () => [delegable, worker, delegateOptions()]],
  delegateAsync: [tc.delegateAsync, () => [delegable, worker, delegateOptions()]],
  parseToken: [tc.parseToken, () => [issuer.publicHex, token]],
  parseTokenAsync: [tc.parseTokenAsync, () => [issuer.publicHex, Buffer.from(parsed.toBytes())]],
  authenticate: [tc.authenticate, () => [issuer.publicHex, signed(), { ...request }, { ...authOptions }]],
  authenticateAsync: [tc.authenticateAsync, () => [issuer.publicHex, signed(), { ...request }, { ...authOptions }]],
  checkPolicy: [tc.checkPolicy, () => [parsed, policy()]],
  checkPolicyAsync: [tc.checkPolicyAsync, () => [parsed, policy()]],
  'Token#authorize': [(...a) => parsed.authorize(...a), () => ['allow if true', { now: NOW, externFunctions: ['test'] }]],
  'Token#authorizeAsync': [(...a) => parsed.authorizeAsync(...a), () => ['allow if true', { now: NOW }]],
  'Token#blockSource': [(...a) => parsed.blockSource(...a), () => [0]],
  'Token#identity': [(...a) => parsed.identity(...a), () => []],
  signJob: [tc.signJob, () => [issuer, { ...job }, 'w']],
  signJobAsync: [tc.signJobAsync, () => [issuer, { ...job }, 'w']],
  verifyJob: [tc.verifyJob, () => [issuer.publicHex, { ...job, sig }, 'w']],
  verifyJobAsync: [tc.verifyJobAsync, () => [issuer.publicHex, { ...job, sig }, 'w']],
  encodeFrame: [tc.encodeFrame, () => [{ a: 1 }]],
  decodeFrame: [tc.decodeFrame, () => [tc.encodeFrame({ a: 1 })]],
  Verifier: [(...a) => new tc.Verifier(...a), () => [issuer.publicHex, verifierOptions()]],
  'Verifier (rotation)': [(...a) => new tc.Verifier(...a), () => [{ 1: issuer.publicHex }, { redis: redisOptions() }]],
  // the fields of `redis`, broken one at a time
  'Verifier (redis)': [(issuerArg, redis) => new tc.Verifier(issuerArg, { redis }), () => [issuer.publicHex, redisOptions()]],
  // the fields of `limits`, broken one at a time, where a verifier takes them and where a call does
  'Verifier (limits)': [(issuerArg, limits) => new tc.Verifier(issuerArg, { limits }), () => [issuer.publicHex, allLimits()]],
  'checkPolicy (limits)': [(t, limits) => tc.checkPolicy(t, { ...policy(), limits }), () => [parsed, allLimits()]],
  'Verifier#authenticate': [(...a) => verifier.authenticate(...a), () => [fresh(), { ...request }, { now: NOW }]],
  'Verifier#authenticateAsync': [(...a) => verifier.authenticateAsync(...a), () => [fresh(), { ...request }, { now: NOW }]],
  'Verifier#authenticateBatch': [(...a) => batchEntries(verifier.authenticateBatch(...a)), () => [batchOf(fresh(), { ...request }), { now: NOW }]],
  'Verifier#authenticateBatchAsync': [(...a) => verifier.authenticateBatchAsync(...a).then(batchEntries), () => [batchOf(fresh(), { ...request }), { now: NOW }]],
  // an entry's fields, then the fields of its proof and of its request, broken one at a time
  'Verifier#authenticateBatch (entry)': [
    (entry, clock) => batchEntries(verifier.authenticateBatch([{ proof: fresh(), request }, entry], clock)),
    () => [{ proof: fresh(), request: { ...request } }, { now: NOW }],
  ],
  'Verifier#authenticateBatch (proof, request)': [(proof, req) => batchEntries(verifier.authenticateBatch(batchOf(proof, req), { now: NOW })), () => [fresh(), { ...request }]],
  'Verifier#authenticateBatchAsync (proof, request)': [
    (proof, req) => verifier.authenticateBatchAsync(batchOf(proof, req), { now: NOW }).then(batchEntries),
    () => [fresh(), { ...request }],
  ],
  'Verifier#checkPolicy': [(...a) => verifier.checkPolicy(...a), () => [parsed, { requestFacts: { req_operation: 'lease' }, allow: ALLOW, now: NOW }]],
  'Verifier#checkPolicyAsync': [(...a) => verifier.checkPolicyAsync(...a), () => [parsed, { requestFacts: { req_operation: 'lease' }, allow: ALLOW, now: NOW }]],
  'Verifier#authorize': [(...a) => verifier.authorize(...a), () => [parsed, 'allow if true', { now: NOW, externFunctions: ['test'] }]],
  'Verifier#authorizeAsync': [(...a) => verifier.authorizeAsync(...a), () => [parsed, 'allow if true', { now: NOW }]],
  'Verifier#revoke': [(...a) => verifier.revoke(...a), () => ['rev-sweep']],
  'Verifier#revokeAsync': [(...a) => verifier.revokeAsync(...a), () => ['rev-sweep']],
  'Verifier#revokeToken': [(...a) => revoking.revokeToken(...a), () => [parsed]],
  'Verifier#revokeTokenAsync': [(...a) => revoking.revokeTokenAsync(...a), () => [parsed]],
  'Verifier#cacheStats': [(...a) => verifier.cacheStats(...a), () => []],
  'HttpPolicy.fromJson': [tc.HttpPolicy.fromJson, () => [httpPolicyText]],
  'HttpPolicy.fromFile': [tc.HttpPolicy.fromFile, () => [httpPolicyFile]],
  signRequest: [tc.signRequest, () => [worker, token, signing()]],
  signRequestAsync: [tc.signRequestAsync, () => [worker, token, signing()]],
  signatureBase: [tc.signatureBase, () => [httpMessage(), 'tc']],
  verifyMessageSignature: [tc.verifyMessageSignature, () => [httpMessage(), 'tc', worker.publicHex]],
  contentDigest: [tc.contentDigest, () => [Buffer.from('{}')]],
  jwkThumbprint: [tc.jwkThumbprint, () => [worker.publicHex]],
  'Verifier#decide': [(...a) => httpVerifier.decide(...a), () => [httpMessage(), decideOptions()]],
  'Verifier#decideAsync': [(...a) => httpVerifier.decideAsync(...a), () => [httpMessage(), decideOptions()]],
  SignerClient: [(...a) => new tc.SignerClient(...a), () => [signer.socket, { connectTimeoutMs: 1000, requestTimeoutMs: 10_000 }]],
  'SignerClient#publicKey': [(...a) => client.publicKey(...a), () => []],
  'SignerClient#health': [(...a) => client.health(...a), () => []],
  'SignerClient#mint': [(...a) => client.mint(...a), () => [signerMint()]],
  'SignerClient#signJob': [(...a) => client.signJob(...a), () => [{ ...job }, 'w']],
}

/** The argument lists of the sweep: each position, and each field of an object argument, broken. */
function* variants(good) {
  const base = good()
  for (let i = 0; i <= base.length; i++) {
    for (const bad of BAD) {
      const args = good()
      args[i] = bad
      yield args
    }
    const value = base[i]
    if (value && typeof value === 'object' && !ArrayBuffer.isView(value) && !(value instanceof tc.Token) && Object.getPrototypeOf(value) === Object.prototype) {
      for (const key of Object.keys(value)) {
        for (const bad of BAD) {
          const args = good()
          args[i] = { ...args[i], [key]: bad }
          yield args
        }
      }
    }
  }
}

const allowed = (err) => err instanceof tc.TrustError || err instanceof TypeError

async function outcomeOf(fn, args) {
  try {
    const result = fn(...args)
    if (result instanceof Promise) await result
    return null
  } catch (err) {
    return allowed(err) ? null : err
  }
}

test('every export has good arguments in the sweep', async () => {
  const covered = new Set(Object.keys(CALLS).map((name) => name.split(/[.#]/)[0]))
  for (const name of Object.keys(tc)) {
    // values (version, ERROR_CODES, the binding's target) take no arguments; TrustError and Token
    // are not constructed by users
    if (typeof tc[name] !== 'function' || name === 'TrustError' || name === 'Token') continue
    assert.ok(covered.has(name), `${name} is not in the bad-input sweep`)
  }
  for (const [name, [fn, good]] of Object.entries(CALLS)) {
    await assert.doesNotReject(async () => fn(...good()), name)
  }
})

for (const [name, [fn, good]] of Object.entries(CALLS)) {
  test(`bad input: ${name}`, async () => {
    let calls = 0
    for (const args of variants(good)) {
      calls += 1
      const unexpected = await outcomeOf(fn, args)
      assert.equal(unexpected, null, `${name}: ${unexpected && `${unexpected.name} ${unexpected.code}: ${unexpected.message}`}`)
    }
    assert.ok(calls >= BAD.length)
  })
}

test('methods called on the wrong receiver throw (or reject), never crash', async () => {
  const methods = [
    [tc.Token.prototype, ['authorize', 'authorizeAsync', 'blockSource', 'identity', 'toBase64', 'toBytes', 'toString']],
    [tc.IssuerKey.prototype, ['secretHex', 'sign', 'toString', 'toJSON']],
    [tc.WorkerKey.prototype, ['secretHex', 'sign', 'toString']],
    [tc.HttpPolicy.prototype, ['toString']],
  ]
  for (const [proto, names] of methods) {
    for (const name of names) {
      for (const self of [undefined, null, {}, issuer, worker, parsed]) {
        if (Object.getPrototypeOf(self ?? {}) === proto) continue
        if (name.endsWith('Async')) await assert.rejects(async () => proto[name].call(self, 'x'), allowed, name)
        else assert.throws(() => proto[name].call(self, 'x'), allowed, name)
      }
    }
    for (const getter of ['publicHex', 'blockCount', 'revocationIds', 'rootKeyId', 'maxBodyBytes', 'routeCount']) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, getter)
      if (descriptor) assert.throws(() => descriptor.get.call({}), allowed, getter)
    }
  }
  // SignerClient's methods all answer with a Promise: a wrong receiver is a rejection
  for (const name of ['publicKey', 'mint', 'signJob', 'health']) {
    for (const self of [undefined, null, {}, issuer, parsed]) {
      const pending = tc.SignerClient.prototype[name].call(self, signerMint())
      assert.ok(pending instanceof Promise, name)
      await assert.rejects(pending, allowed, name)
    }
  }
  assert.throws(() => tc.SignerClient.prototype.toString.call({}), allowed)
  assert.throws(() => Object.getOwnPropertyDescriptor(tc.SignerClient.prototype, 'address').get.call({}), allowed)
  // the Verifier's sync methods throw, its Promise forms reject
  const withAsync = ['authenticate', 'authenticateBatch', 'checkPolicy', 'authorize', 'revoke', 'revokeToken', 'decide']
  for (const name of [...withAsync, 'cacheStats', 'toString', ...withAsync.map((m) => `${m}Async`)]) {
    for (const self of [undefined, null, {}, issuer, parsed, client]) {
      const args = name.startsWith('authenticateBatch')
        ? [batchOf(fresh(), request)]
        : name.startsWith('authenticate')
          ? [fresh(), request]
          : name.startsWith('decide')
            ? [httpMessage(), decideOptions()]
            : [parsed, { requestFacts: {}, allow: ALLOW }]
      if (name.endsWith('Async')) {
        const pending = tc.Verifier.prototype[name].call(self, ...args)
        assert.ok(pending instanceof Promise, name)
        await assert.rejects(pending, allowed, name)
      } else {
        assert.throws(() => tc.Verifier.prototype[name].call(self, ...args), allowed, name)
      }
    }
  }
  for (const cls of [tc.IssuerKey, tc.WorkerKey, tc.Token, tc.SignerClient, tc.Verifier, tc.HttpPolicy]) {
    assert.throws(() => new cls(), TypeError)
    // called without new: a TypeError, never a native constructor wrapping `this`
    assert.throws(() => cls('/tmp/x.sock'), TypeError)
    assert.throws(() => cls.call({}, '/tmp/x.sock'), TypeError)
  }
  // a class instance where another class is expected
  assert.throws(() => tc.mintBiscuit(worker, mintOptions()), TypeError)
  assert.throws(() => tc.checkPolicy(issuer, policy()), TypeError)
  assert.throws(() => tc.signRequest(issuer, token, signing()), TypeError)
  assert.throws(() => httpVerifier.decide(httpMessage(), { ...decideOptions(), policy: parsed }), TypeError)
})

test('huge and hostile values that are the right type', async () => {
  const body = Buffer.alloc(64 << 20, 7)
  assert.throws(() => tc.authenticate(issuer.publicHex, signed(), { ...request, body }, authOptions), (e) => e.code === 'POP_FAILED')
  await assert.rejects(tc.authenticateAsync(HUGER, signed(), request, authOptions), (e) => e.code === 'MALFORMED_INPUT')
  assert.throws(() => tc.parseToken(issuer.publicHex, HUGER), (e) => e.code === 'LIMIT_EXCEEDED')
  assert.throws(() => new tc.Verifier(HUGER), (e) => e.code === 'MALFORMED_INPUT')
  // a token over core's default size limit is refused before it is decoded
  await assert.rejects(verifier.authenticateAsync({ ...fresh(), token: HUGER }, request, { now: NOW }), (e) => e.code === 'LIMIT_EXCEEDED')
  assert.throws(() => verifier.authenticate(fresh(), { ...request, body }, { now: NOW }), (e) => e.code === 'POP_FAILED')
  // a batch whose bodies together pass the default bound (64 MiB) is refused whole, before any is copied
  const oversized = [...batchOf(fresh(), { ...request, body }), ...batchOf(fresh(), request)]
  assert.throws(() => verifier.authenticateBatch(oversized, { now: NOW }), (e) => e instanceof tc.TrustError && e.code === 'LIMIT_EXCEEDED')
  await assert.rejects(verifier.authenticateBatchAsync(oversized, { now: NOW }), (e) => e instanceof tc.TrustError && e.code === 'LIMIT_EXCEEDED')
  // within a larger bound, the same refusals are entries, and the other requests are unaffected
  const roomy = new tc.Verifier(issuer.publicHex, { maxBatchBodyBytes: 2 * body.length })
  const hostile = roomy.authenticateBatch([...batchOf(fresh(), { ...request, body }), ...batchOf({ ...fresh(), token: HUGER }, request), ...batchOf(fresh(), request)], { now: NOW })
  assert.deepEqual(hostile.map((o) => o.ok || o.error.code), ['POP_FAILED', 'LIMIT_EXCEEDED', true])
  const hostileAsync = await roomy.authenticateBatchAsync([...batchOf(fresh(), { ...request, body }), ...batchOf(fresh(), request)], { now: NOW })
  assert.deepEqual(hostileAsync.map((o) => o.ok || o.error.code), ['POP_FAILED', true])
  const bigCache = new tc.Verifier(issuer.publicHex, { tokenCacheCapacity: 2 ** 53, replayCapacity: 2 ** 53 })
  assert.equal(bigCache.authenticate(fresh(), request, { now: NOW }).identity.holderId, 'worker-1')
  assert.throws(() => tc.proofFromHeaders({ authorization: `Biscuit ${HUGER}` }), (e) => e.code === 'MALFORMED_INPUT')
  assert.throws(() => parsed.blockSource(1), (e) => e.code === 'MALFORMED_INPUT')
  // long but flat Datalog (deeply nested parentheses overflow biscuit's recursive parser: a core gap):
  // over the default budget of operations per body, and run when the limits allow it
  const flat = `allow if ${'true, '.repeat(100000)}true`
  assert.throws(() => parsed.authorize(flat, { now: NOW, limits: { maxTimeMs: 60000 } }), (e) => e.code === 'LIMIT_EXCEEDED')
  assert.equal(parsed.authorize(flat, { now: NOW, limits: { maxTimeMs: 60000, maxBodyOps: 200000, maxJoinSize: 1e9 } }), 0)
  assert.throws(() => parsed.authorize(`allow if ${'('.repeat(1000)}`, { now: NOW }), (e) => e.code === 'MALFORMED_INPUT')
  let deep = {}
  for (let i = 0; i < 100000; i++) deep = { d: deep }
  assert.throws(() => tc.encodeFrame(deep), allowed)
  assert.throws(() => tc.signJob(issuer, deep, 'w'), allowed)
  const cyclic = { a: 1 }
  cyclic.self = cyclic
  assert.throws(() => tc.encodeFrame(cyclic), allowed)
  assert.throws(() => tc.decodeFrame(Buffer.from([0, 0, 0, 3, 0x7b, 0xff, 0x7d])), (e) => e.code === 'FRAME_INVALID')
  assert.throws(() => tc.decodeFrame(Buffer.from([0xff, 0xff, 0xff, 0xff])), (e) => e.code === 'FRAME_INVALID')
})
