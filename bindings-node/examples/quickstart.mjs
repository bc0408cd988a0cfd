import {
  IssuerKey,
  WorkerKey,
  TrustError,
  mintBiscuit,
  makeProof,
  proofHeaders,
  proofFromHeaders,
  authenticate,
  checkPolicy,
} from 'trustcore'

// The issuer (in production, the signer process) mints a token bound to the worker's public key.
const issuer = IssuerKey.generate()
const worker = WorkerKey.generate()
const now = Math.floor(Date.now() / 1000)
const token = mintBiscuit(issuer, {
  publicHex: worker.publicHex,
  holderId: 'worker-1',
  facts: { right: ['lease'] },
  revocationId: 'rev-1',
  expiresAt: now + 3600,
})

// The worker signs every request: method, path, body, timestamp and nonce.
const request = { method: 'POST', path: '/lease', body: Buffer.from('{"pool":"gpu"}') }
const proof = makeProof(worker, token, request, String(now), 'nonce-1')
const headers = proofHeaders(proof) // Authorization: Biscuit …, X-EP-Signature, X-EP-Timestamp, X-EP-Nonce

// The service verifies who sent it, then what they may do. Node lower-cases header names.
const received = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]))
const { token: verified, identity } = authenticate(issuer.publicHex, proofFromHeaders(received), request, {
  now,
  revokedIds: [],
  maxSkewSeconds: 300,
})
const allow = 'allow if right($op), req_operation($op)'
checkPolicy(verified, { requestFacts: { req_operation: 'lease' }, allow, now })
console.log(`${identity.holderId} may lease`)

try {
  checkPolicy(verified, { requestFacts: { req_operation: 'delete' }, allow, now })
} catch (err) {
  if (!(err instanceof TrustError)) throw err
  console.log(`delete: ${err.code}`) // delete: DENIED
}
