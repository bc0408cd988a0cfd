'use strict'
// Hostile input that is this binding's own, one table: each row a call and the exact outcome it must
// have, a core code (a TrustError's `.code`), 'TypeError' (a JS value of the wrong type or shape,
// which is how this binding maps napi's conversion failures, too-deep JSON excepted: that is core's
// rule and code) or 'OK'.
// bad-input.test.js sweeps every argument with wrong values and checks only "TrustError or
// TypeError"; this file pins the codes, adds the sizes the binding itself carries (100 MB bodies, a
// 10 MB header value, a 1 MB token through the Verifier, its batch and as bytes), invalid UTF-8, NUL
// bytes, the Promise forms and encodeFrame on 10,000-deep JSON and the Datalog that explodes in an
// appended block (read from tests/vectors/limits.json in place), and then checks that the process is
// alive and that resident memory came back down after the huge rows.
//
// Hostile input that is pure data runs in every runner from tests/vectors/hostile.json (through
// conformance.test.js): the 1 MiB token in authenticate and parseToken (inspect), the 2 MiB
// signature, the 10 MiB timestamp and nonce, the 1 MiB and the 100,000-deep allow policy, jobs
// nested 10,000 deep (signJob objects and arrays, verifyJob). The coverage test checks they are there.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const v8 = require('node:v8')
const vm = require('node:vm')
const { tc, NOW, issuer, worker, token, request, signed, authOptions } = require('./fixtures.js')

const REPO = path.resolve(__dirname, '..', '..')
const limits = JSON.parse(fs.readFileSync(path.join(REPO, 'tests', 'vectors', 'limits.json'), 'utf8'))
const hostile = JSON.parse(fs.readFileSync(path.join(REPO, 'tests', 'vectors', 'hostile.json'), 'utf8'))
const vector = (id) => {
  const found = limits.cases.find((c) => c.id === id)
  assert.ok(found, `${id} is not in tests/vectors/limits.json`)
  return found
}
// an appended block generating 1600 facts (over the default 1000); a rule that explodes; a token
// with an appended exploding rule, which authenticate never runs (the identity is read from the
// authority block's facts) and checkPolicy refuses
const explodingPolicy = vector('tc-limits-0001')
const explodingRule = vector('tc-limits-0011')
const explodingAuth = vector('tc-limits-0013')
for (const v of [explodingPolicy, explodingRule]) assert.equal(v.expect.error, 'LIMIT_EXCEEDED')
assert.equal(explodingAuth.expect.identity?.holder_id, 'gpu-1')
const hexBytes = (hex) => Buffer.from(hex, 'hex')
const vectorRequest = (r) => ({ method: r.method, path: r.path, body: hexBytes(r.body_hex) })

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')
v8.setFlagsFromString('--no-expose-gc')
const MB = 1 << 20
const rssMB = () => {
  gc()
  gc()
  return process.memoryUsage().rss / MB
}

let nonces = 0
const fresh = (req = request) => signed(`hostile-${++nonces}`, req)
const parsed = tc.parseToken(issuer.publicHex, token)
const job = { id: 'job-1', kind: 'transcribe', n: 3 }
const headersOf = (proof) => Object.fromEntries(Object.entries(tc.proofHeaders(proof)).map(([k, v]) => [k.toLowerCase(), v]))
const deep = (depth, wrap) => {
  let value = 'leaf'
  for (let i = 0; i < depth; i++) value = wrap(value)
  return value
}
const deepObject = deep(10_000, (v) => ({ d: v }))
const deepArray = deep(10_000, (v) => [v])
const policy = { requestFacts: { req_operation: 'lease' }, allow: 'allow if right($op), req_operation($op)', now: NOW }

// made lazily by the rows that use them, dropped after, so the memory check sees them released
const big = {}
const body100MB = () => (big.body ??= Buffer.alloc(100 * MB, 'x'))
const value10MB = () => (big.header ??= 'h'.repeat(10 * MB))
const token1MB = () => (big.token ??= 'E'.repeat(MB))
const bodyRequest = () => ({ method: 'POST', path: '/upload', body: body100MB() })

/** A batch of one: its refusal thrown, so the row's outcome is the entry's code. */
function entryOutcome([outcome, ...rest]) {
  assert.equal(rest.length, 0)
  if (!outcome.ok) throw outcome.error
  return outcome
}

/** [name, expected outcome, call]; a call may return a Promise (its outcome is the settled one). */
const ROWS = [
  // wrong types
  ['authenticate: a number as the proof', 'TypeError', () => tc.authenticate(issuer.publicHex, 42, request, authOptions)],
  ['authenticate: a string as the request', 'TypeError', () => tc.authenticate(issuer.publicHex, fresh(), 'POST /lease', authOptions)],
  ['authenticate: revokedIds a string', 'TypeError', () => tc.authenticate(issuer.publicHex, fresh(), request, { ...authOptions, revokedIds: 'rev-1' })],
  ['makeProof: a string as the worker key', 'TypeError', () => tc.makeProof(worker.secretHex(), token, request, String(NOW), 'n')],
  ['makeProof: a number as the body', 'TypeError', () => tc.makeProof(worker, token, { ...request, body: 7 }, String(NOW), 'n')],
  ['parseToken: a number as the token', 'TypeError', () => tc.parseToken(issuer.publicHex, 5)],
  ['mintBiscuit: expiresAt a string', 'TypeError', () => tc.mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'w', revocationId: 'r', expiresAt: 'soon' })],
  ['signJob: a string as the job', 'TypeError', () => tc.signJob(issuer, '{"id":1}', 'w')],
  ['verifyJob: an array as the job', 'TypeError', () => tc.verifyJob(issuer.publicHex, [job], 'w')],
  ['new Verifier: a number as the issuer', 'TypeError', () => new tc.Verifier(42)],
  ['Verifier#authenticateAsync: a number as the proof', 'TypeError', () => new tc.Verifier(issuer.publicHex).authenticateAsync(1, request, { now: NOW })],
  // null and undefined
  ['authenticate: null request', 'TypeError', () => tc.authenticate(issuer.publicHex, fresh(), null, authOptions)],
  ['authenticate: undefined proof', 'TypeError', () => tc.authenticate(issuer.publicHex, undefined, request, authOptions)],
  ['parseToken: null token', 'TypeError', () => tc.parseToken(issuer.publicHex, null)],
  ['parseTokenAsync: undefined token', 'TypeError', () => tc.parseTokenAsync(issuer.publicHex, undefined)],
  ['proofFromHeaders: undefined', 'TypeError', () => tc.proofFromHeaders(undefined)],
  ['signJob: null job', 'TypeError', () => tc.signJob(issuer, null, 'w')],
  ['makeProof: null worker key', 'TypeError', () => tc.makeProof(null, token, request, String(NOW), 'n')],
  // empty values
  ['parseToken: empty token', 'TOKEN_INVALID', () => tc.parseToken(issuer.publicHex, '')],
  ['authenticate: empty token', 'TOKEN_INVALID', () => tc.authenticate(issuer.publicHex, { ...fresh(), token: '' }, request, authOptions)],
  ['authenticate: empty issuer key', 'MALFORMED_INPUT', () => tc.authenticate('', fresh(), request, authOptions)],
  ['authenticate: empty signature', 'MALFORMED_INPUT', () => tc.authenticate(issuer.publicHex, { ...fresh(), signature: '' }, request, authOptions)],
  ['proofFromHeaders: no headers', 'MALFORMED_INPUT', () => tc.proofFromHeaders({})],
  ['IssuerKey.fromSecretHex: empty', 'MALFORMED_INPUT', () => tc.IssuerKey.fromSecretHex('')],
  ['checkPolicy: empty allow', 'MALFORMED_INPUT', () => tc.checkPolicy(parsed, { ...policy, allow: '' })],
  ['verifyJob: an empty job', 'JOB_INVALID', () => tc.verifyJob(issuer.publicHex, {}, 'w')],
  ['decodeFrame: empty', 'FRAME_INVALID', () => tc.decodeFrame(Buffer.alloc(0))],
  // huge values the binding carries: 100 MB bodies, a 10 MB header value, 1 MB tokens
  ['makeProof: 100 MB body', 'OK', () => tc.makeProof(worker, token, bodyRequest(), String(NOW), 'big')],
  ['authenticate: 100 MB body, its own proof', 'OK', () => tc.authenticate(issuer.publicHex, signed('big-1', bodyRequest()), bodyRequest(), authOptions)],
  ['authenticate: 100 MB body, a proof for another body', 'POP_FAILED', () => tc.authenticate(issuer.publicHex, fresh(), bodyRequest(), authOptions)],
  ['authenticateAsync: 100 MB body, a proof for another body', 'POP_FAILED', () => tc.authenticateAsync(issuer.publicHex, fresh(), bodyRequest(), authOptions)],
  ['Verifier#authenticate: 100 MB body, a proof for another body', 'POP_FAILED', () => new tc.Verifier(issuer.publicHex).authenticate(fresh(), bodyRequest(), { now: NOW })],
  // a header value is not size-checked when read: the 10 MB token it carries is refused where it is
  // parsed, by its size (core's default maxTokenBytes), before it is decoded
  ['proofFromHeaders: 10 MB Authorization value', 'OK', () => tc.proofFromHeaders({ ...headersOf(fresh()), authorization: `Biscuit ${value10MB()}` })],
  [
    'authenticate: the proof read from a 10 MB Authorization value',
    'LIMIT_EXCEEDED',
    () => tc.authenticate(issuer.publicHex, tc.proofFromHeaders({ ...headersOf(fresh()), authorization: `Biscuit ${value10MB()}` }), request, authOptions),
  ],
  // a 1 MB token where hostile.json does not reach: a Buffer on the libuv pool, the Verifier, a
  // batch entry (its error returned, not thrown)
  ['parseTokenAsync: 1 MB token (bytes)', 'LIMIT_EXCEEDED', () => tc.parseTokenAsync(issuer.publicHex, Buffer.from(token1MB()))],
  ['Verifier#authenticate: 1 MB token', 'LIMIT_EXCEEDED', () => new tc.Verifier(issuer.publicHex).authenticate({ ...fresh(), token: token1MB() }, request, { now: NOW })],
  ['Verifier#authenticateBatch: 1 MB token, an entry', 'LIMIT_EXCEEDED', () => entryOutcome(new tc.Verifier(issuer.publicHex).authenticateBatch([{ proof: { ...fresh(), token: token1MB() }, request }], { now: NOW }))],
  // invalid UTF-8 and lone surrogates
  ['parseToken: invalid UTF-8 bytes', 'TOKEN_INVALID', () => tc.parseToken(issuer.publicHex, Buffer.from([0xff, 0xfe, 0xc3, 0x28]))],
  ['authenticate: a body of invalid UTF-8, its own proof', 'OK', () => {
    const req = { ...request, body: Buffer.from([0xff, 0xfe, 0xc3, 0x28]) }
    return tc.authenticate(issuer.publicHex, fresh(req), req, authOptions)
  }],
  ['authenticate: issuer key with a lone surrogate', 'MALFORMED_INPUT', () => tc.authenticate(`${issuer.publicHex.slice(0, 63)}\ud800`, fresh(), request, authOptions)],
  ['authenticate: signature with a lone surrogate', 'MALFORMED_INPUT', () => tc.authenticate(issuer.publicHex, { ...fresh(), signature: `${'ab'.repeat(31)}\udfff` }, request, authOptions)],
  ['WorkerKey.fromSecretHex: a lone surrogate', 'MALFORMED_INPUT', () => tc.WorkerKey.fromSecretHex('\ud800'.repeat(64))],
  // NUL bytes inside strings
  ['parseToken: a NUL after the token', 'TOKEN_INVALID', () => tc.parseToken(issuer.publicHex, `${token}\0`)],
  ['authenticate: a NUL inside the signature', 'MALFORMED_INPUT', () => tc.authenticate(issuer.publicHex, { ...fresh(), signature: `ab\0${'ab'.repeat(63)}` }, request, authOptions)],
  ['authenticate: a NUL inside the issuer key', 'MALFORMED_INPUT', () => tc.authenticate(`${issuer.publicHex.slice(0, 63)}\0`, fresh(), request, authOptions)],
  ['authenticate: a NUL appended to the nonce after signing', 'POP_FAILED', () => tc.authenticate(issuer.publicHex, { ...fresh(), nonce: `n\0` }, request, authOptions)],
  ['authenticate: a NUL in the method after signing', 'POP_FAILED', () => tc.authenticate(issuer.publicHex, fresh(), { ...request, method: 'POST\0' }, authOptions)],
  ['IssuerKey.fromSecretHex: a NUL inside', 'MALFORMED_INPUT', () => tc.IssuerKey.fromSecretHex(`${'11'.repeat(31)}1\0`)],
  ['checkPolicy: a NUL inside the allow policy', 'MALFORMED_INPUT', () => tc.checkPolicy(parsed, { ...policy, allow: `${policy.allow}\0` })],
  ['new Verifier: a NUL as the issuer key', 'MALFORMED_INPUT', () => new tc.Verifier('\0')],
  ['verifyJob: a NUL in the worker id', 'JOB_INVALID', () => tc.verifyJob(issuer.publicHex, { ...job, sig: tc.signJob(issuer, job, 'w') }, 'w\0')],
  // JSON nested 10,000 deep, where hostile.json does not reach (the Promise forms, a frame body):
  // too deep is core's rule (past 127 levels), with core's codes, as signJob and verifyJob give in
  // hostile.json; napi's own conversion stops first, and the binding gives its refusal that code
  ['signJobAsync: a job nested 10,000 deep', 'MALFORMED_INPUT', () => tc.signJobAsync(issuer, { id: 'j', deep: deepObject }, 'w')],
  ['verifyJobAsync: a job nested 10,000 deep', 'JOB_INVALID', () => tc.verifyJobAsync(issuer.publicHex, { id: 'j', deep: deepArray, sig: 'ab'.repeat(64) }, 'w')],
  ['encodeFrame: a body nested 10,000 deep', 'MALFORMED_INPUT', () => tc.encodeFrame({ deep: deepObject })],
  // Datalog that explodes in an appended block (tests/vectors/limits.json)
  [
    'checkPolicy: an appended block generating 1600 facts',
    'LIMIT_EXCEEDED',
    () => {
      const i = explodingPolicy.input
      return tc.checkPolicy(tc.parseToken(i.issuer_public_hex, i.token), { requestFacts: i.request_facts, allow: i.allow, now: i.now })
    },
  ],
  [
    'checkPolicyAsync: an appended block generating 1600 facts',
    'LIMIT_EXCEEDED',
    () => {
      const i = explodingPolicy.input
      return tc.checkPolicyAsync(tc.parseToken(i.issuer_public_hex, i.token), { requestFacts: i.request_facts, allow: i.allow, now: i.now })
    },
  ],
  [
    'Token#authorize: a rule that explodes',
    'LIMIT_EXCEEDED',
    () => tc.parseToken(explodingRule.input.issuer_public_hex, explodingRule.input.token).authorize(explodingRule.input.code, { now: explodingRule.input.now }),
  ],
  [
    'authenticate: a token with an appended exploding rule, which it never runs',
    'OK',
    () => {
      const i = explodingAuth.input
      return tc.authenticate(i.issuer_public_hex, i.proof, vectorRequest(i.request), { now: i.now, revokedIds: i.revoked_ids, maxSkewSeconds: i.max_skew_seconds })
    },
  ],
  [
    'Verifier#authenticateAsync: a token with an appended exploding rule',
    'OK',
    () => {
      const i = explodingAuth.input
      return new tc.Verifier(i.issuer_public_hex).authenticateAsync(i.proof, vectorRequest(i.request), { now: i.now })
    },
  ],
  [
    'Verifier#authenticateBatch: a token with an appended exploding rule is an accepted entry',
    'OK',
    () => {
      const i = explodingAuth.input
      return entryOutcome(new tc.Verifier(i.issuer_public_hex).authenticateBatch([{ proof: i.proof, request: vectorRequest(i.request) }], { now: i.now }))
    },
  ],
  [
    'Verifier#checkPolicy: the authenticated token with an appended exploding rule',
    'LIMIT_EXCEEDED',
    () => {
      const i = explodingAuth.input
      const verifier = new tc.Verifier(i.issuer_public_hex)
      const { token: authenticated } = verifier.authenticate(i.proof, vectorRequest(i.request), { now: i.now })
      return verifier.checkPolicy(authenticated, { requestFacts: { req_right: 'lease' }, allow: 'allow if req_right($r), right($r)', now: i.now })
    },
  ],
  [
    'Verifier#checkPolicyAsync: the authenticated token with an appended exploding rule',
    'LIMIT_EXCEEDED',
    () => {
      const i = explodingAuth.input
      const verifier = new tc.Verifier(i.issuer_public_hex)
      const { token: authenticated } = verifier.authenticate(i.proof, vectorRequest(i.request), { now: i.now })
      return verifier.checkPolicyAsync(authenticated, { requestFacts: { req_right: 'lease' }, allow: 'allow if req_right($r), right($r)', now: i.now })
    },
  ],
]

async function outcomeOf(call) {
  try {
    const result = call()
    if (result instanceof Promise) await result
    return 'OK'
  } catch (err) {
    if (err instanceof tc.TrustError) return err.code
    if (err instanceof TypeError) return 'TypeError'
    throw err
  }
}

// the kinds that left this table for tests/vectors/hostile.json (every runner's): the case's op,
// where in its input the compact form ($repeat, $nest, $nest_list) is written, and the code
const MOVED_TO_VECTORS = [
  ['a 1 MB token', 'authenticate', ['proof', 'token'], '$repeat', 'LIMIT_EXCEEDED'],
  ['parseToken: a 1 MB token', 'inspect', ['token'], '$repeat', 'LIMIT_EXCEEDED'],
  ['a huge signature', 'authenticate', ['proof', 'signature'], '$repeat', 'MALFORMED_INPUT'],
  ['a 10 MB timestamp', 'authenticate', ['proof', 'timestamp'], '$repeat', 'MALFORMED_INPUT'],
  ['a 10 MB nonce', 'authenticate', ['proof', 'nonce'], '$repeat', 'POP_FAILED'],
  ['a 1 MB allow policy', 'check_policy', ['allow'], '$repeat', 'MALFORMED_INPUT'],
  ['signJob: a job nested 10,000 deep (objects)', 'sign_job', ['job', 'a'], '$nest', 'MALFORMED_INPUT'],
  ['signJob: a job nested 10,000 deep (arrays)', 'sign_job', ['job', 'a'], '$nest_list', 'MALFORMED_INPUT'],
  ['verifyJob: a job nested 10,000 deep', 'verify_job', ['job', 'a'], '$nest', 'JOB_INVALID'],
]

test('the table covers every kind of hostile input, and hostile.json the kinds that are pure data', () => {
  const names = ROWS.map(([name]) => name).join('\n')
  for (const word of ['100 MB', '10 MB', '1 MB token', 'invalid UTF-8', 'NUL', '10,000 deep', 'appended block', 'null', 'undefined', 'empty']) {
    assert.ok(names.includes(word), `no row for ${word}`)
  }
  assert.equal(new Set(ROWS.map(([name]) => name)).size, ROWS.length, 'row names are unique')
  const writtenAt = (c, where) => where.reduce((value, key) => (value && typeof value === 'object' ? value[key] : undefined), c.input)
  for (const [kind, op, where, form, code] of MOVED_TO_VECTORS) {
    const found = hostile.cases.filter((c) => {
      const written = writtenAt(c, where)
      return c.op === op && written && typeof written === 'object' && Object.hasOwn(written, form) && c.expect.error === code
    })
    assert.ok(found.length > 0, `${kind}: tests/vectors/hostile.json has no ${op} case with ${form} at ${where.join('.')} expecting ${code}`)
  }
})

test('hostile input: every row gives its exact outcome, the process lives on and memory comes back', async (t) => {
  const before = rssMB()
  let peak = before
  const failures = []
  for (const [name, expected, call] of ROWS) {
    const got = await outcomeOf(call)
    if (got !== expected) failures.push(`${name}: expected ${expected}, got ${got}`)
    peak = Math.max(peak, process.memoryUsage().rss / MB)
  }
  assert.deepEqual(failures, [])
  // the huge values were made, then released: resident memory returns near where it started
  assert.ok(big.body && big.header && big.token, 'the huge rows ran')
  for (const key of Object.keys(big)) delete big[key]
  await new Promise((resolve) => setImmediate(resolve))
  const after = rssMB()
  t.diagnostic(`resident memory: ${Math.round(before)} MB before, ${Math.round(peak)} MB peak, ${Math.round(after)} MB after`)
  assert.ok(after - before < 400, `resident memory grew ${Math.round(after - before)} MB (from ${Math.round(before)} to ${Math.round(after)} MB, peak ${Math.round(peak)} MB)`)
  // still alive and still answering
  assert.equal(tc.authenticate(issuer.publicHex, fresh(), request, authOptions).identity.holderId, 'worker-1')
})
