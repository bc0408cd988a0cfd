'use strict'
// One issuer, one worker, a token and a signed request, shared by the tests.

const tc = require('trustcore')

const NOW = 1_700_000_000
const issuer = tc.IssuerKey.fromSecretHex('11'.repeat(32))
const worker = tc.WorkerKey.fromSecretHex('22'.repeat(32))
const token = tc.mintBiscuit(issuer, {
  publicHex: worker.publicHex,
  holderId: 'worker-1',
  facts: { right: ['lease', 'report'] },
  revocationId: 'rev-1',
  expiresAt: NOW + 3600,
})
const request = { method: 'POST', path: '/lease?pool=gpu', body: Buffer.from('{"n":1}') }
const ALLOW = 'allow if right($op), req_operation($op)'

function signed(nonce = 'nonce-1', req = request) {
  return tc.makeProof(worker, token, req, String(NOW), nonce)
}

const authOptions = { now: NOW, revokedIds: [], maxSkewSeconds: 300 }

module.exports = { tc, NOW, issuer, worker, token, request, ALLOW, signed, authOptions }
