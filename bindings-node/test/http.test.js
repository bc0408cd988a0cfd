'use strict'
// HTTP through the binding (core `http`, docs/DESIGN.md §10): signRequest in both profiles, the
// route policy, and Verifier#decide / decideAsync with every form of header lines a Node server
// holds. The rules are core's (tests/vectors/http.json pins them in every language); these tests
// pin the conversions: what goes in, what comes out, which errors are thrown and which are
// decisions.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { tc, NOW, issuer, worker, token } = require('./fixtures.js')

const AUTHORITY = 'api.example.com'
const POLICY = {
  routes: [
    { method: 'POST', path: '/lease/{lane}', allow: 'allow if right("lease"), req_param_lane($l), req_tenant("t1")' },
    { method: 'GET', path: '/report', allow: 'allow if right("report")' },
    { method: 'GET', path: '/health', public: true },
  ],
  max_body_bytes: 64,
}
const policy = tc.HttpPolicy.fromJson(JSON.stringify(POLICY))
const body = Buffer.from('{"n":1}')
let nonces = 0

/** A request signed with signRequest, as the server receives it: pairs, the Host line first. */
function signedRequest({ method = 'POST', target = '/lease/gpu?pool=a', profile, payload = body, host = AUTHORITY } = {}) {
  const added = tc.signRequest(worker, token, {
    method,
    url: `https://${host}${target}`,
    body: payload,
    profile,
    created: NOW,
    nonce: `http-${++nonces}`,
  })
  return { method, target, headers: [['Host', host], ...Object.entries(added)], body: payload }
}

const decideOptions = (extra = {}) => ({ policy, facts: { req_tenant: 't1' }, now: NOW, ...extra })

test('signRequest: the four RFC 9421 headers in core order, or the legacy four; the same from signRequestAsync', async () => {
  const request = { method: 'POST', url: `https://${AUTHORITY}/lease/gpu`, body, created: NOW, nonce: 'n-1' }
  const headers = tc.signRequest(worker, token, request)
  assert.deepEqual(Object.keys(headers), ['Authorization', 'Content-Digest', 'Signature-Input', 'Signature'])
  assert.equal(headers.Authorization, `Biscuit ${token}`)
  assert.equal(headers['Content-Digest'], tc.contentDigest(body))
  const keyid = tc.jwkThumbprint(worker.publicHex)
  assert.equal(
    headers['Signature-Input'],
    `tc=("@method" "@authority" "@path" "@query" "authorization" "content-digest");created=${NOW};keyid="${keyid}";nonce="n-1";tag="trustcore"`,
  )
  // Ed25519 is deterministic: the Promise form signs the same bytes
  assert.deepEqual(await tc.signRequestAsync(worker, token, request), headers)
  const legacy = tc.signRequest(worker, token, { ...request, profile: 'legacy' })
  assert.deepEqual(Object.keys(legacy), ['Authorization', 'X-EP-Signature', 'X-EP-Timestamp', 'X-EP-Nonce'])
  assert.equal(legacy['X-EP-Signature'], tc.makeProof(worker, token, { method: 'POST', path: '/lease/gpu', body }, String(NOW), 'n-1').signature)
  // an origin-form target takes its authority from a Host line, in any of the header forms
  for (const given of [{ host: AUTHORITY }, [['Host', AUTHORITY]], ['Host', AUTHORITY], new Headers({ host: AUTHORITY }), new Map([['HOST', AUTHORITY]])]) {
    assert.deepEqual(tc.signRequest(worker, token, { ...request, url: '/lease/gpu', headers: given }), headers)
  }
  // fresh created and nonce when left out
  const fresh = tc.signRequest(worker, token, { method: 'GET', url: `http://${AUTHORITY}:8080/health` })
  assert.match(fresh['Signature-Input'], /;created=\d+;keyid="[\w-]+";nonce="[0-9a-f]{32}";tag="trustcore"$/)
})

test('signRequest refuses what core refuses (MALFORMED_INPUT), and wrong JS types (TypeError)', async () => {
  const ok = { method: 'GET', url: `https://${AUTHORITY}/x` }
  const code = (err) => err.code
  for (const bad of [{ ...ok, profile: 'cavage' }, { ...ok, url: '/x' }, { ...ok, url: 'ftp://a/x' }, { ...ok, created: 1.5 }, { ...ok, nonce: 'line\nbreak' }]) {
    assert.throws(() => tc.signRequest(worker, token, bad), (err) => err instanceof tc.TrustError && code(err) === 'MALFORMED_INPUT', JSON.stringify(bad))
    await assert.rejects(tc.signRequestAsync(worker, token, bad), (err) => err instanceof tc.TrustError && code(err) === 'MALFORMED_INPUT')
  }
  assert.throws(() => tc.signRequest(worker, 'two words', ok), (err) => code(err) === 'MALFORMED_INPUT')
  assert.throws(() => tc.signRequest(issuer, token, ok), TypeError)
  assert.throws(() => tc.signRequest(worker, token, { ...ok, headers: 'Host: a' }), TypeError)
  assert.throws(() => tc.signRequest(worker, token, { ...ok, headers: ['Host'] }), TypeError)
})

test('decide: allowed, with the identity, the facts core derived then the app facts, the route and the profile', async () => {
  const verifier = new tc.Verifier(issuer.publicHex, { authorities: ['API.Example.com'] })
  const decision = verifier.decide(signedRequest(), decideOptions())
  assert.deepEqual(decision, {
    allowed: true,
    status: 200,
    code: null,
    message: 'allowed',
    headers: {},
    body: '',
    identity: {
      holderId: 'worker-1',
      holderPublicHex: worker.publicHex,
      revocationId: 'rev-1',
      chain: [{ holderId: 'worker-1', holderPublicHex: worker.publicHex }],
    },
    facts: [
      ['req_method', 'POST'],
      ['req_path', '/lease/gpu'],
      ['req_route', '/lease/{lane}'],
      ['req_param_lane', 'gpu'],
      ['req_query_pool', 'a'],
      ['req_authority', AUTHORITY],
      ['req_tenant', 't1'],
    ],
    route: '/lease/{lane}',
    profile: 'rfc9421',
  })
  const async = await verifier.decideAsync(signedRequest(), decideOptions({ facts: [['req_tenant', 't1']] }))
  assert.deepEqual(async, decision)
  // the legacy profile: X-EP-* headers, no authority fact (the host is not signed)
  const legacy = verifier.decide(signedRequest({ profile: 'legacy' }), decideOptions())
  assert.equal(legacy.allowed, true)
  assert.equal(legacy.profile, 'legacy')
  assert.ok(!legacy.facts.some(([name]) => name === 'req_authority'))
  // a public route reads no credentials
  const open = verifier.decide({ method: 'GET', target: '/health', headers: [] }, { policy })
  assert.deepEqual([open.allowed, open.identity, open.profile, open.route], [true, null, null, '/health'])
})

test('decide: header lines as pairs, req.rawHeaders, req.headers, Headers or Map; bodies as Buffer, Uint8Array or string', async () => {
  const verifier = new tc.Verifier(issuer.publicHex, { authorities: [AUTHORITY] })
  const forms = {
    pairs: (lines) => lines,
    rawHeaders: (lines) => lines.flat(),
    'req.headers': (lines) => Object.fromEntries(lines.map(([name, value]) => [name.toLowerCase(), value])),
    Headers: (lines) => new Headers(lines),
    Map: (lines) => new Map(lines),
  }
  for (const [name, form] of Object.entries(forms)) {
    for (const payload of [body, new Uint8Array(body), body.toString()]) {
      const request = signedRequest()
      const decision = await verifier.decideAsync({ ...request, headers: form(request.headers), body: payload }, decideOptions())
      assert.equal(decision.allowed, true, `${name}: ${decision.message}`)
    }
  }
  // a body left out is empty: it does not match the digest of a non-empty one
  const request = signedRequest()
  const decision = verifier.decide({ ...request, body: undefined }, decideOptions())
  assert.deepEqual([decision.allowed, decision.code], [false, 'POP_FAILED'])
  // null is no body type (as for every other request of this package)
  assert.throws(() => verifier.decide({ ...request, body: null }, decideOptions()), TypeError)
})

test('decide: every refusal is a decision with its status, headers and JSON body; only caller mistakes throw', async () => {
  const verifier = new tc.Verifier(issuer.publicHex, { authorities: [AUTHORITY] })
  const refusal = (decision) => [decision.allowed, decision.status, decision.code]
  const replayed = signedRequest()
  assert.equal(verifier.decide(replayed, decideOptions()).allowed, true)
  const again = verifier.decide(replayed, decideOptions())
  assert.deepEqual(refusal(again), [false, 401, 'REPLAYED'])
  assert.deepEqual(again.headers, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Biscuit error="REPLAYED"' })
  assert.deepEqual(JSON.parse(again.body), { error: 'REPLAYED', message: again.message })
  assert.deepEqual([again.identity, again.facts, again.route], [null, [], '/lease/{lane}'])
  // signed for another service
  assert.deepEqual(refusal(verifier.decide(signedRequest({ host: 'other.example.com' }), decideOptions())), [false, 401, 'WRONG_AUDIENCE'])
  // no route: fail closed
  const unrouted = verifier.decide(signedRequest({ target: '/admin' }), decideOptions())
  assert.deepEqual([...refusal(unrouted), unrouted.route], [false, 403, 'DENIED', null])
  // the route's policy does not hold
  assert.deepEqual(refusal(verifier.decide(signedRequest(), decideOptions({ facts: { req_tenant: 't2' } }))), [false, 403, 'DENIED'])
  // over the policy's body cap, before anything is read
  const big = signedRequest({ payload: Buffer.alloc(65) })
  assert.deepEqual(refusal(await verifier.decideAsync(big, decideOptions())), [false, 413, 'LIMIT_EXCEEDED'])
  // a path two routers could read apart
  assert.deepEqual(refusal(verifier.decide({ ...signedRequest(), target: '/lease/../admin' }, decideOptions())), [false, 400, 'MALFORMED_INPUT'])
  // no credentials at all
  assert.deepEqual(refusal(verifier.decide({ method: 'GET', target: '/report', headers: [['Host', AUTHORITY]] }, { policy, now: NOW })), [
    false,
    401,
    'MALFORMED_INPUT',
  ])
  // a profile the verifier does not accept
  const legacyOnly = new tc.Verifier(issuer.publicHex, { authorities: [AUTHORITY], profiles: ['legacy'] })
  assert.deepEqual(refusal(legacyOnly.decide(signedRequest(), decideOptions())), [false, 401, 'MALFORMED_INPUT'])
  assert.equal(legacyOnly.decide(signedRequest({ profile: 'legacy' }), decideOptions()).allowed, true)
  // no authorities configured: every RFC 9421 request is for someone else
  assert.equal(new tc.Verifier(issuer.publicHex).decide(signedRequest(), decideOptions()).code, 'WRONG_AUDIENCE')

  // the caller's mistakes: an application fact core owns, or outside req_ (TrustError), a wrong type (TypeError)
  for (const facts of [{ req_method: 'GET' }, { tenant: 't1' }, [['req_param_lane', 'x']]]) {
    assert.throws(() => verifier.decide(signedRequest(), decideOptions({ facts })), (err) => err instanceof tc.TrustError && err.code === 'MALFORMED_INPUT')
    await assert.rejects(verifier.decideAsync(signedRequest(), decideOptions({ facts })), (err) => err instanceof tc.TrustError && err.code === 'MALFORMED_INPUT')
  }
  for (const facts of [{ req_n: 1 }, [['req_a']], 'req_a', [['req_a', 'x', 'y']]]) {
    assert.throws(() => verifier.decide(signedRequest(), decideOptions({ facts })), TypeError)
  }
  assert.throws(() => verifier.decide(signedRequest(), { policy: POLICY }), TypeError)
  assert.throws(() => verifier.decide(signedRequest(), { policy: issuer }), TypeError)
  await assert.rejects(verifier.decideAsync(signedRequest(), {}), TypeError)
  assert.throws(() => verifier.decide({ ...signedRequest(), headers: ['Host', AUTHORITY, 'Authorization'] }, decideOptions()), TypeError)
  assert.throws(() => verifier.decide({ ...signedRequest(), headers: 'Host: x' }, decideOptions()), TypeError)
})

test('Verifier options: authorities and profiles go to core as given (its checks, its codes)', () => {
  for (const options of [{ authorities: ['user@host'] }, { authorities: ['a b'] }, { profiles: ['rfc9421', 'cavage'] }, { profiles: [] }]) {
    assert.throws(() => new tc.Verifier(issuer.publicHex, options), (err) => err instanceof tc.TrustError && err.code === 'MALFORMED_INPUT', JSON.stringify(options))
  }
  for (const options of [{ authorities: 'api.example.com' }, { authorities: [1] }, { profiles: 'legacy' }]) {
    assert.throws(() => new tc.Verifier(issuer.publicHex, options), TypeError, JSON.stringify(options))
  }
  assert.ok(new tc.Verifier(issuer.publicHex, { authorities: ['[::1]:8443', 'Example.COM'], profiles: ['rfc9421'] }))
})

test('HttpPolicy: fromJson (text or bytes) and fromFile, checked whole by core; no constructor', (t) => {
  assert.equal(policy.routeCount, 3)
  assert.equal(policy.maxBodyBytes, 64)
  assert.equal(String(policy), 'HttpPolicy(routes=3, maxBodyBytes=64)')
  const minimal = tc.HttpPolicy.fromJson(Buffer.from('{"routes": []}'))
  assert.deepEqual([minimal.routeCount, minimal.maxBodyBytes], [0, 1024 * 1024])
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustcore-policy-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'routes.json')
  fs.writeFileSync(file, JSON.stringify(POLICY))
  assert.equal(tc.HttpPolicy.fromFile(file).routeCount, 3)
  const malformed = (err) => err instanceof tc.TrustError && err.code === 'MALFORMED_INPUT'
  assert.throws(() => tc.HttpPolicy.fromFile(path.join(dir, 'missing.json')), malformed)
  for (const text of ['', '[]', '{"routes": [{"method": "GET", "path": "/a"}]}', '{"routes": [], "extra": 1}', '{"routes": [{"method": "GET", "path": "/a/../b", "public": true}]}']) {
    assert.throws(() => tc.HttpPolicy.fromJson(text), malformed, text)
  }
  assert.throws(() => tc.HttpPolicy.fromJson(42), TypeError)
  assert.throws(() => new tc.HttpPolicy(), TypeError)
  assert.throws(() => tc.HttpPolicy(), TypeError)
})

test('signatureBase, verifyMessageSignature, contentDigest and jwkThumbprint: core’s RFC 9421 pieces', () => {
  const request = signedRequest()
  const base = tc.signatureBase(request, 'tc')
  assert.ok(Buffer.isBuffer(base))
  assert.equal(base.toString().split('\n')[0], '"@method": POST')
  assert.ok(worker.sign(base).equals(Buffer.from(request.headers.find(([n]) => n === 'Signature')[1].slice(4, -1), 'base64')))
  assert.equal(tc.verifyMessageSignature(request, 'tc', worker.publicHex), undefined)
  assert.throws(() => tc.verifyMessageSignature(request, 'tc', issuer.publicHex), (err) => err.code === 'POP_FAILED')
  assert.throws(() => tc.verifyMessageSignature({ ...request, method: 'PUT' }, 'tc', worker.publicHex), (err) => err.code === 'POP_FAILED')
  assert.throws(() => tc.signatureBase(request, 'other'), (err) => err.code === 'MALFORMED_INPUT')
  assert.throws(() => tc.verifyMessageSignature(request, 'tc', 'zz'), (err) => err.code === 'MALFORMED_INPUT')
  // RFC 9530 Appendix D, RFC 8037 Appendix A.3
  assert.equal(tc.contentDigest('{"hello": "world"}'), 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:')
  const rfc8037 = Buffer.from('11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', 'base64url').toString('hex')
  assert.equal(tc.jwkThumbprint(rfc8037), 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k')
  assert.throws(() => tc.jwkThumbprint('00'), (err) => err.code === 'MALFORMED_INPUT')
})
