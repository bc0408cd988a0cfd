'use strict'
// trustcore/express on Express 4 and 5 and trustcore/fastify, each over a real server on loopback
// with the HTTP matrix's route policy (tests/http-matrix/routes.json: POST /lease/{lane} for a
// holder granted that lane, GET /admin, public GET /health, a 1024-byte body cap), called by real
// clients: Node's fetch through trustcore/fetch's signedFetch, curl with the headers
// `trustcore proof` prints, and node:http for what those two will not send. Every refusal is
// core's decision, status, headers and body as it gives them; the app sees the identity and the
// exact bytes the proof covered.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const tc = require('trustcore')
const signedFetch = require('trustcore/fetch')
const trustcoreExpress = require('trustcore/express')
const trustcoreFastify = require('trustcore/fastify')
const { FRAMEWORKS, serve, read, raw, keyFile, proofHeaders, curl, challenge } = require('./http-servers.js')

const issuer = tc.IssuerKey.generate()
const worker = tc.WorkerKey.generate()
const mint = (facts, revocationId) =>
  tc.mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'worker-1', facts, revocationId, expiresAt: Date.now() / 1000 + 3600 })
const token = mint({ right: ['lease'], lane: ['a'] }, 'rev-lease')
const reportOnly = mint({ right: ['report'], lane: ['a'] }, 'rev-report')
// not JSON, not UTF-8: the bytes themselves must come through
const BODY = Buffer.concat([Buffer.from('{"episode":"e1"}'), Buffer.from([0x00, 0xff, 0xfe, 0x0a])])
const CAP = 1024

for (const framework of FRAMEWORKS) {
  describe(framework, () => {
    let server
    let keyPath
    before(async () => {
      server = await serve(framework, { issuer })
      keyPath = keyFile(worker)
    })
    after(() => server.close())

    test('allowed, both profiles through signedFetch: the app sees the holder and the exact body', async () => {
      for (const profile of ['rfc9421', 'legacy']) {
        const send = signedFetch(worker, token, { profile })
        const res = await read(await send(`${server.base}/lease/a?pool=gpu&note=two%20words`, { method: 'POST', body: BODY }))
        assert.equal(res.status, 200, `${profile}: ${res.text}`)
        const hex = BODY.toString('hex')
        assert.deepEqual(res.json, { holder_id: 'worker-1', body_hex: hex, received: hex, route: '/lease/{lane}', profile })
        // an empty body is a body too
        const empty = await read(await send(`${server.base}/lease/a`, { method: 'POST' }))
        assert.deepEqual([empty.status, empty.json.body_hex], [200, ''], profile)
      }
    })

    test('allowed: curl with the headers of `trustcore proof --rfc9421` (and of the legacy proof)', async () => {
      const url = `${server.base}/lease/a?pool=gpu`
      const body = '{"episode":"e1"}'
      for (const profile of ['rfc9421', 'legacy']) {
        const headers = await proofHeaders({ keyPath, token, method: 'POST', url, body, profile })
        const res = await curl({ method: 'POST', url, headers, body })
        assert.equal(res.status, 200, `${profile}: ${res.text}`)
        assert.equal(res.json.holder_id, 'worker-1')
        assert.equal(res.json.body_hex, Buffer.from(body).toString('hex'))
        assert.equal(res.json.profile, profile)
      }
    })

    test('no proof: 401 MALFORMED_INPUT with WWW-Authenticate, the body core wrote', async () => {
      const res = await read(await fetch(`${server.base}/lease/a`, { method: 'POST', body: '{}' }))
      assert.equal(res.status, 401)
      assert.equal(res.headers['www-authenticate'], 'Biscuit error="MALFORMED_INPUT"')
      assert.equal(res.headers['content-type'], 'application/json')
      assert.deepEqual(Object.keys(res.json), ['error', 'message'])
      assert.equal(res.json.error, 'MALFORMED_INPUT')
      const viaCurl = await curl({ method: 'POST', url: `${server.base}/lease/a`, body: '{}' })
      assert.deepEqual([viaCurl.status, viaCurl.json.error], [401, 'MALFORMED_INPUT'])
    })

    test('forged: another key, or a body the proof does not cover, is 401 POP_FAILED', async () => {
      const stranger = signedFetch(tc.WorkerKey.generate(), token)
      const res = await read(await stranger(`${server.base}/lease/a`, { method: 'POST', body: BODY }))
      assert.deepEqual([res.status, challenge(res.headers), res.json.error], [401, 'POP_FAILED', 'POP_FAILED'])
      // signed for BODY, sent with one byte more
      for (const profile of ['rfc9421', 'legacy']) {
        const swap = (url, init) => fetch(url, { ...init, body: Buffer.concat([init.body, Buffer.from('!')]) })
        const tampered = await read(await signedFetch(worker, token, swap, { profile })(`${server.base}/lease/a`, { method: 'POST', body: BODY }))
        assert.deepEqual([tampered.status, tampered.json.error], [401, 'POP_FAILED'], profile)
      }
    })

    test('replayed: the same headers and body sent again are 401 REPLAYED (fetch and curl)', async () => {
      for (const profile of ['rfc9421', 'legacy']) {
        let sent
        const record = (url, init) => {
          sent = { url, init }
          return fetch(url, init)
        }
        const first = await read(await signedFetch(worker, token, record, { profile })(`${server.base}/lease/a`, { method: 'POST', body: BODY }))
        assert.equal(first.status, 200)
        const again = await read(await fetch(sent.url, sent.init))
        assert.deepEqual([again.status, challenge(again.headers), again.json.error], [401, 'REPLAYED', 'REPLAYED'], profile)
      }
      const url = `${server.base}/lease/a`
      const headers = await proofHeaders({ keyPath, token, method: 'POST', url, body: 'x' })
      assert.equal((await curl({ method: 'POST', url, headers, body: 'x' })).status, 200)
      const replayed = await curl({ method: 'POST', url, headers, body: 'x' })
      assert.deepEqual([replayed.status, replayed.json.error], [401, 'REPLAYED'])
    })

    test('ungranted: 403 DENIED (a lane, a right, an encoded lane, no route)', async () => {
      const send = signedFetch(worker, token)
      const otherLane = await read(await send(`${server.base}/lease/b`, { method: 'POST', body: '{}' }))
      assert.deepEqual([otherLane.status, otherLane.json.error], [403, 'DENIED'])
      const noRight = await read(await signedFetch(worker, reportOnly)(`${server.base}/lease/a`, { method: 'POST', body: '{}' }))
      assert.deepEqual([noRight.status, noRight.json.error], [403, 'DENIED'])
      const admin = await read(await send(`${server.base}/admin`))
      assert.deepEqual([admin.status, admin.json.error], [403, 'DENIED'])
      // `%61` is not the lane `a`: paths are matched on the bytes that were signed
      const encoded = await read(await send(`${server.base}/lease/%61`, { method: 'POST', body: '{}' }))
      assert.deepEqual([encoded.status, encoded.json.error], [403, 'DENIED'])
      const nowhere = await read(await send(`${server.base}/nowhere`))
      assert.deepEqual([nowhere.status, nowhere.json.error], [403, 'DENIED'])
    })

    test('public route: 200 without a proof, no identity', async () => {
      const res = await read(await fetch(`${server.base}/health`))
      assert.equal(res.status, 200)
      assert.deepEqual(res.json, { holder_id: null, body_hex: '', received: '', route: '/health', profile: null })
      const viaCurl = await curl({ method: 'GET', url: `${server.base}/health` })
      assert.deepEqual([viaCurl.status, viaCurl.json.route], [200, '/health'])
    })

    test('body over the cap: 413, answered before the body is read', async () => {
      const send = signedFetch(worker, token)
      const over = await read(await send(`${server.base}/lease/a`, { method: 'POST', body: Buffer.alloc(CAP + 1, 'a') }))
      assert.deepEqual([over.status, over.json.error], [413, 'LIMIT_EXCEEDED'])
      const atCap = await read(await send(`${server.base}/lease/a`, { method: 'POST', body: Buffer.alloc(CAP, 'a') }))
      assert.equal(atCap.status, 200)
      // 100 MB announced, 10 bytes sent, the rest never: the 413 cannot have waited for the body
      const announced = await raw(server.base, {
        method: 'POST',
        target: '/lease/a',
        headers: { 'content-length': String(100 << 20) },
        chunks: ['0123456789'],
        end: false,
      })
      assert.deepEqual([announced.status, announced.json.error], [413, 'LIMIT_EXCEEDED'])
      // sent chunked, without a length: read up to the cap and no further, the stream left open
      const streamed = await raw(server.base, {
        method: 'POST',
        target: '/lease/a',
        chunks: [Buffer.alloc(CAP / 2, 'a'), Buffer.alloc(CAP / 2, 'b'), Buffer.alloc(CAP / 2, 'c')],
        end: false,
      })
      assert.deepEqual([streamed.status, streamed.json.error], [413, 'LIMIT_EXCEEDED'])
      // curl with 4 MB: it gets the 413 (and stops sending)
      const url = `${server.base}/lease/a`
      const big = Buffer.alloc(4 << 20, 'z')
      const headers = await proofHeaders({ keyPath, token, method: 'POST', url, body: 'small' })
      const viaCurl = await curl({ method: 'POST', url, headers, body: big })
      assert.deepEqual([viaCurl.status, viaCurl.json.error], [413, 'LIMIT_EXCEEDED'])
    })

    test('path tricks are refused as sent: node:http with literal targets, curl --path-as-is', async () => {
      for (const target of ['/lease/../lease/a', '/lease/./a', '/lease/%2e%2e/a', '/lease/a%2Fb', '//lease/a', '/lease/a/', '/lease\\a', '/lease/%252e']) {
        // signed for that very target: the proof is fine, the path is not
        const headers = tc.signRequest(worker, token, { method: 'POST', url: target, headers: { host: server.authority }, body: '{}' })
        const res = await raw(server.base, { method: 'POST', target, headers: { ...headers, 'content-length': '2' }, chunks: ['{}'] })
        assert.deepEqual([res.status, res.json?.error], [400, 'MALFORMED_INPUT'], target)
      }
      const res = await curl({ method: 'GET', url: `${server.base}/health/../admin`, pathAsIs: true })
      assert.deepEqual([res.status, res.json.error], [400, 'MALFORMED_INPUT'])
    })
  })
}

describe('composition with the frameworks', () => {
  test('Express 4 and 5: express.json() mounted after reads the same bytes; req.trustcore.body keeps them', async (t) => {
    for (const framework of ['express4', 'express5']) {
      const express = require(framework === 'express4' ? 'express' : 'express5')
      const server = await serve(framework, { issuer, app: { after: express.json() } })
      t.after(() => server.close())
      const body = '{"episode":"e1","n":[1,2]}'
      const send = signedFetch(worker, token)
      const res = await read(await send(`${server.base}/lease/a`, { method: 'POST', body, headers: { 'content-type': 'application/json' } }))
      assert.equal(res.status, 200, framework)
      assert.deepEqual(res.json.received, { episode: 'e1', n: [1, 2] }, framework)
      assert.equal(res.json.body_hex, Buffer.from(body).toString('hex'))
      // chunked, several chunks: the same, through node:http
      const headers = tc.signRequest(worker, token, { method: 'POST', url: `${server.base}/lease/a`, body })
      const chunked = await raw(server.base, {
        method: 'POST',
        target: '/lease/a',
        headers: { ...headers, 'content-type': 'application/json' },
        chunks: [body.slice(0, 5), body.slice(5, 12), body.slice(12)],
      })
      assert.deepEqual([chunked.status, chunked.json.received], [200, { episode: 'e1', n: [1, 2] }], `${framework} chunked`)
    }
  })

  test('Express: a body parser mounted before the middleware is an error for the app, never a pass', async (t) => {
    for (const framework of ['express4', 'express5']) {
      const express = require(framework === 'express4' ? 'express' : 'express5')
      const server = await serve(framework, { issuer, app: { before: express.json() } })
      t.after(() => server.close())
      const send = signedFetch(worker, token)
      const res = await read(await send(`${server.base}/lease/a`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }))
      assert.equal(res.status, 500, framework)
      assert.match(res.json.app_error, /mount trustcore\(\) before any body parser/)
    }
  })

  test("Fastify: its own JSON parser reads the same bytes; request.trustcore.body keeps them", async (t) => {
    const server = await serve('fastify', { issuer, app: { parsers: 'default' } })
    t.after(() => server.close())
    const body = '{"episode":"e1"}'
    const res = await read(await signedFetch(worker, token)(`${server.base}/lease/a`, { method: 'POST', body, headers: { 'content-type': 'application/json' } }))
    assert.equal(res.status, 200)
    assert.deepEqual(res.json.received, { episode: 'e1' })
    assert.equal(res.json.body_hex, Buffer.from(body).toString('hex'))
  })

  test("the app's own facts reach the decision (and a bad one is the app's error)", async (t) => {
    const policy = tc.HttpPolicy.fromJson(
      JSON.stringify({ routes: [{ method: 'POST', path: '/lease/{lane}', allow: 'allow if right("lease"), req_tenant("t1")' }] }),
    )
    for (const framework of ['express5', 'fastify']) {
      const facts = (req) => ({ req_tenant: req.headers['x-tenant'] ?? '' })
      const server = await serve(framework, { issuer, policy, facts })
      t.after(() => server.close())
      const send = signedFetch(worker, token)
      const ok = await read(await send(`${server.base}/lease/a`, { method: 'POST', body: '{}', headers: { 'x-tenant': 't1' } }))
      assert.equal(ok.status, 200, framework)
      const denied = await read(await send(`${server.base}/lease/a`, { method: 'POST', body: '{}', headers: { 'x-tenant': 't2' } }))
      assert.deepEqual([denied.status, denied.json.error], [403, 'DENIED'], framework)
      const bad = await serve(framework, { issuer, policy, facts: () => ({ tenant: 't1' }) })
      t.after(() => bad.close())
      const refused = await send(`${bad.base}/lease/a`, { method: 'POST', body: '{}' })
      assert.equal(refused.status, 500, framework)
    }
  })

  test('options are checked when the middleware is made', () => {
    const verifier = new tc.Verifier(issuer.publicHex)
    const policy = tc.HttpPolicy.fromJson('{"routes": []}')
    for (const make of [(o) => trustcoreExpress(o), (o) => trustcoreFastify({ addHook() {}, decorateRequest() {} }, o, () => {})]) {
      assert.throws(() => make(undefined), TypeError)
      assert.throws(() => make({ verifier, policy: {} }), /HttpPolicy/)
      assert.throws(() => make({ verifier: {}, policy }), /Verifier/)
      assert.throws(() => make({ verifier, policy, facts: 'x' }), /facts/)
    }
  })
})
