'use strict'
// Interop with an RFC 9421 implementation no one here wrote: the npm package
// `http-message-signatures` 1.0.6 (a devDependency, installed from the committed lock), both ways.
//  (a) it signs a request with the holder's Ed25519 key in the trustcore profile (the six
//      components; created, keyid = the key's RFC 7638 thumbprint, nonce, tag="trustcore") and
//      Verifier#decide accepts it; tampered in any covered part, decide refuses it;
//  (b) signRequest signs and the package verifies with the holder's public key; tampered, it does not.
// Where the two disagree on a byte of the signature base, the last test pins who RFC 9421 sides with.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { httpbis, createSigner, createVerifier } = require('http-message-signatures')
const { tc, NOW, issuer, worker, token } = require('./fixtures.js')

const AUTHORITY = 'api.example.com'
const COMPONENTS = ['@method', '@authority', '@path', '@query', 'authorization', 'content-digest']
const KEYID = tc.jwkThumbprint(worker.publicHex)
const policy = tc.HttpPolicy.fromJson(
  JSON.stringify({
    routes: [
      { method: 'POST', path: '/lease/{lane}', allow: 'allow if right("lease"), req_param_lane($l)' },
      { method: 'GET', path: '/report', allow: 'allow if right("report")' },
    ],
  }),
)

// the holder's key as Node's crypto holds it (JWK, RFC 8037): the package signs with it
const b64url = (hex) => Buffer.from(hex, 'hex').toString('base64url')
const holderPrivate = crypto.createPrivateKey({
  key: { kty: 'OKP', crv: 'Ed25519', d: b64url(worker.secretHex()), x: b64url(worker.publicHex) },
  format: 'jwk',
})
const holderPublic = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(worker.publicHex) }, format: 'jwk' })

/** RFC 9530 Content-Digest computed here with Node's crypto, not trustcore's. */
const sha256Digest = (body) => `sha-256=:${crypto.createHash('sha256').update(body).digest('base64')}:`

let nonces = 0

/** The package signs `method url` in the trustcore profile; `paramValues` add to or override its parameters. */
async function packageSigned({ method = 'POST', url = `https://${AUTHORITY}/lease/gpu?pool=a&n=2`, body = Buffer.from('{"lane":"gpu"}'), params = ['created', 'keyid', 'nonce', 'tag'], paramValues = {} } = {}) {
  const headers = {
    host: new URL(url).host,
    authorization: `Biscuit ${token}`,
    'content-type': 'application/json',
    'content-digest': sha256Digest(body),
  }
  const signed = await httpbis.signMessage(
    {
      key: createSigner(holderPrivate, 'ed25519', KEYID),
      name: 'sig1',
      fields: COMPONENTS,
      params,
      paramValues: { created: new Date(NOW * 1000), nonce: `interop-${++nonces}`, tag: 'trustcore', ...paramValues },
    },
    { method, url, headers },
  )
  // as a server receives it when the client sends the URL as written: the request target in
  // origin form, the header lines as sent
  const target = url.slice(url.indexOf('/', url.indexOf('//') + 2))
  return { method, target, headers: Object.entries(signed.headers), body }
}

const verifier = () => new tc.Verifier(issuer.publicHex, { authorities: [AUTHORITY, 'other.example.com'] })
const outcome = (decision) => (decision.allowed ? 'allowed' : decision.code)

test('(a) http-message-signatures signs in the trustcore profile; decide accepts it, sync and async', async () => {
  const v = verifier()
  const request = await packageSigned()
  const input = request.headers.find(([name]) => name === 'Signature-Input')[1]
  assert.equal(input, `sig1=("@method" "@authority" "@path" "@query" "authorization" "content-digest");created=${NOW};keyid="${KEYID}";nonce="interop-1";tag="trustcore"`)
  const decision = v.decide(request, { policy, now: NOW })
  assert.equal(decision.allowed, true, decision.message)
  assert.equal(decision.profile, 'rfc9421')
  assert.equal(decision.identity.holderPublicHex, worker.publicHex)
  assert.deepEqual(decision.facts.slice(0, 4), [
    ['req_method', 'POST'],
    ['req_path', '/lease/gpu'],
    ['req_route', '/lease/{lane}'],
    ['req_param_lane', 'gpu'],
  ])
  assert.equal(outcome(await v.decideAsync(await packageSigned(), { policy, now: NOW })), 'allowed')
  // once only
  assert.equal(outcome(v.decide(request, { policy, now: NOW })), 'REPLAYED')
  // other parameters the package can add: alg="ed25519" and expires (honoured)
  const withAlg = await packageSigned({ params: ['created', 'expires', 'keyid', 'alg', 'nonce', 'tag'], paramValues: { expires: new Date((NOW + 60) * 1000) } })
  assert.match(withAlg.headers.find(([name]) => name === 'Signature-Input')[1], /;expires=\d+;keyid="[\w-]+";alg="ed25519";nonce=/)
  assert.equal(outcome(v.decide(withAlg, { policy, now: NOW })), 'allowed')
  const expired = await packageSigned({ params: ['created', 'expires', 'keyid', 'nonce', 'tag'], paramValues: { expires: new Date((NOW + 60) * 1000) } })
  assert.equal(outcome(v.decide(expired, { policy, now: NOW + 61 })), 'STALE_REQUEST')
  // a GET with no query and an empty body: "@query": ? and the digest of nothing
  const get = await packageSigned({ method: 'GET', url: `https://${AUTHORITY}/report`, body: Buffer.alloc(0) })
  assert.equal(outcome(v.decide(get, { policy, now: NOW })), 'allowed')
})

test('(a) tampered after the package signed it: decide refuses every covered part', async () => {
  const v = verifier()
  const replace = (request, name, value) => ({
    ...request,
    headers: request.headers.map(([n, old]) => [n, n.toLowerCase() === name ? value : old]),
  })
  const cases = {
    body: async () => ({ ...(await packageSigned()), body: Buffer.from('{"lane":"cpu"}') }),
    'body and its digest': async () => {
      const request = await packageSigned()
      return replace({ ...request, body: Buffer.from('{"lane":"cpu"}') }, 'content-digest', sha256Digest(Buffer.from('{"lane":"cpu"}')))
    },
    method: async () => ({ ...(await packageSigned({ method: 'GET', url: `https://${AUTHORITY}/report` })), method: 'POST', target: '/lease/gpu' }),
    path: async () => ({ ...(await packageSigned()), target: '/lease/cpu?pool=a&n=2' }),
    query: async () => ({ ...(await packageSigned()), target: '/lease/gpu?pool=b&n=2' }),
    'query dropped': async () => ({ ...(await packageSigned()), target: '/lease/gpu' }),
    'authority (another service of ours)': async () => replace(await packageSigned(), 'host', 'other.example.com'),
    'authority (not ours)': async () => replace(await packageSigned(), 'host', 'evil.example.com'),
    'another token': async () => replace(await packageSigned(), 'authorization', `Biscuit ${tc.mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'worker-1', facts: { right: ['lease', 'admin'] }, revocationId: 'rev-1', expiresAt: NOW + 3600 })}`),
    signature: async () => {
      const request = await packageSigned()
      const signature = request.headers.find(([n]) => n === 'Signature')[1]
      const bytes = Buffer.from(signature.slice('sig1=:'.length, -1), 'base64')
      bytes[0] ^= 1
      return replace(request, 'signature', `sig1=:${bytes.toString('base64')}:`)
    },
    'keyid of another key': async () => {
      const request = await packageSigned({ paramValues: { keyid: tc.jwkThumbprint(issuer.publicHex) } })
      return request
    },
    'tag removed': async () => packageSigned({ params: ['created', 'keyid', 'nonce'] }),
    'nonce removed': async () => packageSigned({ params: ['created', 'keyid', 'tag'] }),
    'created long ago': async () => packageSigned({ paramValues: { created: new Date((NOW - 3600) * 1000) } }),
  }
  const refused = {}
  for (const [name, make] of Object.entries(cases)) refused[name] = outcome(v.decide(await make(), { policy, now: NOW }))
  assert.deepEqual(refused, {
    body: 'POP_FAILED',
    'body and its digest': 'POP_FAILED',
    method: 'POP_FAILED',
    path: 'POP_FAILED',
    query: 'POP_FAILED',
    'query dropped': 'POP_FAILED',
    'authority (another service of ours)': 'POP_FAILED',
    'authority (not ours)': 'WRONG_AUDIENCE',
    'another token': 'POP_FAILED',
    signature: 'POP_FAILED',
    'keyid of another key': 'POP_FAILED',
    'tag removed': 'MALFORMED_INPUT',
    'nonce removed': 'MALFORMED_INPUT',
    'created long ago': 'STALE_REQUEST',
  })
})

/** The package's verifyMessage with the holder's public key; true, false, or what it threw. */
async function packageVerifies(message) {
  const key = { id: KEYID, algs: ['ed25519'], verify: createVerifier(holderPublic, 'ed25519') }
  return httpbis.verifyMessage(
    {
      keyLookup: async (params) => (params.keyid === KEYID ? key : null),
      requiredFields: COMPONENTS,
      requiredParams: ['created', 'keyid', 'nonce', 'tag'],
    },
    message,
  )
}

test('(b) signRequest signs, http-message-signatures verifies with the holder public key; tampered, it does not', async () => {
  const url = `https://${AUTHORITY}/lease/gpu?pool=a&n=2`
  const body = Buffer.from('{"lane":"gpu"}')
  for (const sign of [tc.signRequest, tc.signRequestAsync]) {
    // created left out: now, which the package checks against its own clock
    const added = await sign(worker, token, { method: 'POST', url, body })
    assert.equal(added['Content-Digest'], sha256Digest(body))
    const message = { method: 'POST', url, headers: { host: AUTHORITY, 'content-type': 'application/json', ...added } }
    assert.equal(await packageVerifies(message), true)
    assert.equal(await packageVerifies({ ...message, method: 'PUT' }), false)
    assert.equal(await packageVerifies({ ...message, url: `https://${AUTHORITY}/lease/cpu?pool=a&n=2` }), false)
    assert.equal(await packageVerifies({ ...message, url: `https://${AUTHORITY}/lease/gpu?pool=a` }), false)
    assert.equal(await packageVerifies({ ...message, url: `https://other.example.com/lease/gpu?pool=a&n=2` }), false)
    assert.equal(await packageVerifies({ ...message, headers: { ...message.headers, 'Content-Digest': sha256Digest(Buffer.from('x')) } }), false)
    assert.equal(await packageVerifies({ ...message, headers: { ...message.headers, Authorization: 'Biscuit other' } }), false)
  }
  // the empty query and an origin-form target with its Host line
  const added = tc.signRequest(worker, token, { method: 'GET', url: '/report', headers: [['Host', AUTHORITY]] })
  assert.equal(await packageVerifies({ method: 'GET', url: `https://${AUTHORITY}/report`, headers: { host: AUTHORITY, ...added } }), true)
  // and the two bases agree byte for byte on what signRequest signed
  const message = { method: 'POST', target: '/lease/gpu?pool=a&n=2', headers: [['Host', AUTHORITY], ...Object.entries(tc.signRequest(worker, token, { method: 'POST', url, body }))], body }
  const theirs = httpbis.formatSignatureBase([
    ...httpbis.createSignatureBase({ fields: COMPONENTS }, { method: 'POST', url, headers: Object.fromEntries(message.headers) }),
    ['"@signature-params"', [message.headers.find(([n]) => n === 'Signature-Input')[1].slice('tc='.length)]],
  ])
  assert.equal(tc.signatureBase(message, 'tc').toString(), theirs)
})

test('where http-message-signatures 1.0.6 and core disagree, RFC 9421 sides with core', async () => {
  // The package derives @method, @path and @query from a WHATWG URL and upper-cases the method;
  // core reads the request as received. RFC 9421 §2.2.1: "no transformation to the input method
  // value's case is performed"; §2.2.6: path components "before decoding any percent-encoded
  // octets" (the path as sent); §2.2.7: the query "read using the simple string comparison rules
  // of RFC 3986 §6.2.1" (as sent, nothing re-encoded). Each row: the line where the bases part.
  const rows = [
    ['post', `https://${AUTHORITY}/report`, '"@method": post', '"@method": POST'],
    ['GET', `https://${AUTHORITY}/report?q='a'`, `"@query": ?q='a'`, '"@query": ?q=%27a%27'],
    ['GET', `https://${AUTHORITY}/lease/{x}`, '"@path": /lease/{x}', '"@path": /lease/%7Bx%7D'],
  ]
  for (const [method, url, coreLine, packageLine] of rows) {
    const request = await packageSigned({ method, url, body: Buffer.alloc(0) })
    const ours = tc.signatureBase(request, 'sig1').toString().split('\n')
    const theirs = httpbis.formatSignatureBase(httpbis.createSignatureBase({ fields: COMPONENTS }, { method, url, headers: Object.fromEntries(request.headers) })).split('\n')
    assert.ok(ours.includes(coreLine), `core: ${ours.join(' | ')}`)
    assert.ok(theirs.includes(packageLine), `package: ${theirs.join(' | ')}`)
    // so a signature the package made over such a request does not verify as received
    assert.throws(() => tc.verifyMessageSignature(request, 'sig1', worker.publicHex), (err) => err.code === 'POP_FAILED')
  }
  // with the method in upper case and the URL in WHATWG's form on the wire, the two agree again
  const normalized = await packageSigned({ method: 'GET', url: `https://${AUTHORITY}/report?q=%27a%27`, body: Buffer.alloc(0) })
  assert.equal(tc.verifyMessageSignature(normalized, 'sig1', worker.publicHex), undefined)
})
