'use strict'
// The README's Express example, served on a loopback port and called with signed requests.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const express = require('express')
const { tc, issuer, worker, token } = require('./fixtures.js')
const { createApp, requireRight } = require('../examples/express.js')

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

/**
 * A POST through node:http with exactly `headers` (no Content-Type unless given) and `chunks` of
 * body: one chunk with a Content-Length, several sent chunked (Transfer-Encoding). Resolves to
 * { status, body } with the JSON body parsed.
 */
function post(url, headers, chunks) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      const parts = []
      res.on('data', (part) => parts.push(part))
      res.on('end', () => {
        const text = Buffer.concat(parts).toString()
        resolve({ status: res.statusCode, body: res.headers['content-type']?.startsWith('application/json') ? JSON.parse(text) : text })
      })
    })
    req.on('error', reject)
    for (const chunk of chunks) req.write(chunk)
    req.end()
  })
}

/** The proof headers for `signedBody` (what the holder signed), none of them a Content-Type. */
function proofFor(pathAndQuery, signedBody) {
  const request = { method: 'POST', path: pathAndQuery, body: Buffer.from(signedBody) }
  const proof = tc.makeProof(worker, module.exports.token, request, String(Math.floor(Date.now() / 1000)), `n-${Math.random()}`)
  return tc.proofHeaders(proof)
}

test('a body sent without Content-Type is the body verified: never a 200 for bytes no proof covers', async () => {
  const body = '{"pool":"gpu"}'
  // signed for an empty body, sent with one and no Content-Type: the body is read and checked
  const unsigned = await post(`${base}/lease`, { ...proofFor('/lease', ''), 'content-length': Buffer.byteLength(body) }, [body])
  assert.equal(unsigned.status, 401)
  assert.deepEqual(unsigned.body, { error: 'POP_FAILED' })
  const chunked = await post(`${base}/lease`, proofFor('/lease', ''), ['{"pool":', '"gpu"}'])
  assert.equal(chunked.status, 401)
  assert.deepEqual(chunked.body, { error: 'POP_FAILED' })
  // signed for the bytes it carries, without a Content-Type: served
  const signedBody = await post(`${base}/lease`, { ...proofFor('/lease', body), 'content-length': Buffer.byteLength(body) }, [body])
  assert.equal(signedBody.status, 200)
  assert.deepEqual(signedBody.body, { leasedTo: 'worker-1' })
  // no body at all, signed as empty: served
  const empty = await post(`${base}/lease`, { ...proofFor('/lease', ''), 'content-length': 0 }, [])
  assert.equal(empty.status, 200)
})

test('a body the middleware did not capture as bytes is refused (401 MALFORMED_INPUT), never verified as empty', async () => {
  // requireRight mounted where no express.raw() reads the body, or after a JSON parser took it
  const app = express()
  app.post('/bare', requireRight('lease', { issuerPublicHex: issuer.publicHex, revokedIds: [] }), (req, res) => res.json({ served: true }))
  app.post('/json', express.json(), requireRight('lease', { issuerPublicHex: issuer.publicHex, revokedIds: [] }), (req, res) => res.json({ served: true }))
  const other = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => other.once('listening', resolve))
  try {
    const url = `http://127.0.0.1:${other.address().port}`
    const body = '{"pool":"gpu"}'
    for (const route of ['/bare', '/json']) {
      const headers = { ...proofFor(route, ''), 'content-type': 'application/json' }
      const sized = await post(url + route, { ...headers, 'content-length': Buffer.byteLength(body) }, [body])
      assert.equal(sized.status, 401, route)
      assert.deepEqual(sized.body, { error: 'MALFORMED_INPUT' }, route)
      const chunked = await post(url + route, headers, ['{"pool":', '"gpu"}'])
      assert.equal(chunked.status, 401, `${route} (chunked)`)
      assert.deepEqual(chunked.body, { error: 'MALFORMED_INPUT' }, `${route} (chunked)`)
      // the body as signed does not help: it was never read, so it is never served
      const signed = await post(url + route, { ...proofFor(route, body), 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, [body])
      assert.deepEqual(signed.body, { error: 'MALFORMED_INPUT' }, `${route} (signed)`)
    }
    // a request without a body is verified as the empty body it is
    const none = await post(`${url}/bare`, { ...proofFor('/bare', ''), 'content-length': 0 }, [])
    assert.equal(none.status, 200)
    assert.deepEqual(none.body, { served: true })
  } finally {
    await new Promise((resolve) => other.close(resolve))
  }
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
