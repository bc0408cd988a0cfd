'use strict'
// The README's Express example, served on a loopback port and called with signed requests.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { tc, issuer, worker, token } = require('./fixtures.js')
const { createApp } = require('../examples/express.js')

let server
let base

before(async () => {
  const nowToken = tc.mintBiscuit(issuer, {
    publicHex: worker.publicHex,
    holderId: 'worker-1',
    facts: { right: ['lease'] },
    revocationId: 'rev-1',
    expiresAt: Date.now() / 1000 + 3600,
  })
  module.exports.token = nowToken
  server = createApp({ issuerPublicHex: issuer.publicHex, revokedIds: new Set(['rev-revoked']) }).listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  base = `http://127.0.0.1:${server.address().port}`
})

after(() => new Promise((resolve) => server.close(resolve)))

function call(pathAndQuery, { body = '{"pool":"gpu"}', withToken = module.exports.token, tamper } = {}) {
  const request = { method: 'POST', path: pathAndQuery, body: Buffer.from(body) }
  const proof = tc.makeProof(worker, withToken, request, String(Math.floor(Date.now() / 1000)), `n-${Math.random()}`)
  const headers = { ...tc.proofHeaders(proof), 'content-type': 'application/json' }
  return fetch(base + pathAndQuery, { method: 'POST', headers, body: tamper ? `${body} ` : body })
}

test('an authenticated holder with the right is served', async () => {
  const res = await call('/lease?pool=gpu')
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { leasedTo: 'worker-1' })
})

test('a tampered body is 401 POP_FAILED, a missing proof 401 MALFORMED_INPUT', async () => {
  const tampered = await call('/lease', { tamper: true })
  assert.equal(tampered.status, 401)
  assert.deepEqual(await tampered.json(), { error: 'POP_FAILED' })
  const bare = await fetch(`${base}/lease`, { method: 'POST', body: '{}' })
  assert.equal(bare.status, 401)
  assert.deepEqual(await bare.json(), { error: 'MALFORMED_INPUT' })
})

test('a holder without the right is 403 DENIED', async () => {
  const noRight = tc.mintBiscuit(issuer, {
    publicHex: worker.publicHex,
    holderId: 'worker-1',
    facts: { right: ['report'] },
    revocationId: 'rev-2',
    expiresAt: Date.now() / 1000 + 3600,
  })
  const res = await call('/lease', { withToken: noRight })
  assert.equal(res.status, 403)
  assert.deepEqual(await res.json(), { error: 'DENIED' })
})

test('an expired token is 401 TOKEN_INVALID, a revoked one 401 REVOKED', async () => {
  // the fixture token expired in 2023: authenticate refuses it, before any policy runs
  const expired = await call('/lease', { withToken: token })
  assert.equal(expired.status, 401)
  assert.deepEqual(await expired.json(), { error: 'TOKEN_INVALID' })
  const revoked = tc.mintBiscuit(issuer, {
    publicHex: worker.publicHex,
    holderId: 'worker-1',
    facts: { right: ['lease'] },
    revocationId: 'rev-revoked',
    expiresAt: Date.now() / 1000 + 3600,
  })
  const res = await call('/lease', { withToken: revoked })
  assert.equal(res.status, 401)
  assert.deepEqual(await res.json(), { error: 'REVOKED' })
})

test('the README shows the examples exactly as tested', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8')
  for (const example of ['express.js', 'quickstart.mjs']) {
    const code = fs.readFileSync(path.join(__dirname, '..', 'examples', example), 'utf8')
    assert.ok(readme.includes(code), `README.md does not include examples/${example} verbatim`)
  }
})
