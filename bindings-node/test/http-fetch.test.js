'use strict'
// trustcore/fetch against a real server (trustcore/express on loopback): every body type fetch
// sends is signed as the bytes that go out, with the Content-Type fetch would give it; the URL is
// signed as sent (a URL object, a Request, no fragment); methods as fetch normalizes them; a custom
// fetchImpl gets the signed request; streams and bad arguments are refused before anything is sent.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Readable } = require('node:stream')
const tc = require('trustcore')
const signedFetch = require('trustcore/fetch')
const { serve, read } = require('./http-servers.js')

const issuer = tc.IssuerKey.generate()
const worker = tc.WorkerKey.generate()
const token = tc.mintBiscuit(issuer, {
  publicHex: worker.publicHex,
  holderId: 'worker-1',
  facts: { right: ['lease'], lane: ['a'] },
  revocationId: 'rev-fetch',
  expiresAt: Date.now() / 1000 + 3600,
})
const POLICY = tc.HttpPolicy.fromJson(
  JSON.stringify({
    max_body_bytes: 4096,
    routes: [
      { method: 'POST', path: '/lease/{lane}', allow: 'allow if right("lease"), req_param_lane($l), lane($l)' },
      { method: 'PUT', path: '/lease/{lane}', allow: 'allow if right("lease")' },
      { method: 'PATCH', path: '/lease/{lane}', allow: 'allow if right("lease")' },
      { method: 'GET', path: '/lease/{lane}', allow: 'allow if right("lease")' },
    ],
  }),
)

let server
before(async () => {
  server = await serve('express5', { issuer, policy: POLICY })
})
after(() => server.close())

test('every body type is signed as the bytes fetch sends, with the Content-Type fetch gives it', async () => {
  const send = signedFetch(worker, token)
  const form = new FormData()
  form.append('episode', 'e1')
  form.append('file', new Blob([Buffer.from([0, 1, 2, 255])], { type: 'application/octet-stream' }), 'f.bin')
  const bytes = Buffer.from([0x7b, 0x00, 0xff, 0x7d])
  const cases = [
    ['string', 'é and {"a":1}', Buffer.from('é and {"a":1}'), 'text/plain;charset=UTF-8'],
    ['Buffer', bytes, bytes, undefined],
    ['Uint8Array', new Uint8Array(bytes), bytes, undefined],
    ['a view into a larger buffer', new Uint8Array(new TextEncoder().encode('xx{}yy').buffer, 2, 2), Buffer.from('{}'), undefined],
    ['DataView', new DataView(new Uint8Array(bytes).buffer), bytes, undefined],
    ['ArrayBuffer', new Uint8Array(bytes).buffer, bytes, undefined],
    ['URLSearchParams', new URLSearchParams({ pool: 'gpu a', n: 'é' }), Buffer.from('pool=gpu+a&n=%C3%A9'), 'application/x-www-form-urlencoded;charset=UTF-8'],
    ['Blob', new Blob(['{"blob":1}'], { type: 'application/json' }), Buffer.from('{"blob":1}'), 'application/json'],
    ['FormData', form, null, /^multipart\/form-data; boundary=/],
  ]
  for (const [name, body, expected, contentType] of cases) {
    let seen
    const spy = (url, init) => {
      seen = init.headers.get('content-type') ?? undefined
      return fetch(url, init)
    }
    const res = await read(await signedFetch(worker, token, spy)(`${server.base}/lease/a`, { method: 'POST', body }))
    assert.equal(res.status, 200, `${name}: ${res.text}`)
    assert.equal(res.json.holder_id, 'worker-1', name)
    if (expected) assert.equal(res.json.body_hex, expected.toString('hex'), name)
    if (contentType instanceof RegExp) assert.match(seen, contentType, name)
    else assert.equal(seen, contentType, name)
  }
  // the caller's Content-Type wins over fetch's default
  const own = await read(await send(`${server.base}/lease/a`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } }))
  assert.equal(own.status, 200)
})

test('the URL as sent: a URL object, a Request, a query, no fragment; methods as fetch writes them', async () => {
  const send = signedFetch(worker, token)
  const viaUrl = await read(await send(new URL(`${server.base}/lease/a?x=1&y=two%20words#fragment`), { method: 'POST', body: 'u' }))
  assert.equal(viaUrl.status, 200, viaUrl.text)
  const viaRequest = await read(await send(new Request(`${server.base}/lease/a?r=1`, { method: 'POST', body: 'from a Request', headers: { 'X-Extra': '1' } })))
  assert.deepEqual([viaRequest.status, viaRequest.json.body_hex], [200, Buffer.from('from a Request').toString('hex')])
  // fetch upper-cases post, put, get… (and sends others as written): they are signed as sent
  for (const method of ['post', 'Put', 'PATCH']) {
    const res = await read(await send(`${server.base}/lease/a`, { method, body: '{}' }))
    assert.equal(res.status, 200, `${method}: ${res.text}`)
  }
  const get = await read(await send(`${server.base}/lease/a`))
  assert.equal(get.status, 200)
})

test('legacy profile; the signature replaces an Authorization of the caller; a custom fetchImpl gets the signed request', async () => {
  const calls = []
  const spy = (url, init) => {
    calls.push({ url, headers: Object.fromEntries(init.headers), body: init.body, method: init.method })
    return fetch(url, init)
  }
  const legacy = await read(
    await signedFetch(worker, token, spy, { profile: 'legacy' })(`${server.base}/lease/a#x`, { method: 'POST', body: '{}', headers: { Authorization: 'Bearer other' } }),
  )
  assert.deepEqual([legacy.status, legacy.json.profile], [200, 'legacy'])
  const [call] = calls
  assert.equal(call.url, `${server.base}/lease/a`)
  assert.equal(call.method, 'POST')
  assert.equal(call.headers.authorization, `Biscuit ${token}`)
  assert.ok(call.headers['x-ep-signature'] && call.headers['x-ep-nonce'] && call.headers['x-ep-timestamp'])
  assert.deepEqual(Buffer.from(call.body), Buffer.from('{}'))
  // the options object form, with its own fetch
  const viaOptions = await read(await signedFetch(worker, token, { fetch: spy })(`${server.base}/lease/a`, { method: 'POST', body: '{}' }))
  assert.deepEqual([viaOptions.status, viaOptions.json.profile], [200, 'rfc9421'])
  assert.ok(calls[1].headers['signature-input'].includes('tag="trustcore"'))
})

test('streams are refused, clearly, before anything is sent; so are bad arguments', async () => {
  let called = 0
  const send = signedFetch(worker, token, () => {
    called++
    return Promise.resolve(new Response('unreachable'))
  })
  const streams = [
    new ReadableStream({ start: (c) => c.close() }),
    Readable.from(['a', 'b']),
    (async function* () {
      yield 'a'
    })(),
  ]
  for (const body of streams) {
    await assert.rejects(send(`${server.base}/lease/a`, { method: 'POST', body, duplex: 'half' }), (err) => err instanceof TypeError && /stream body cannot be signed/.test(err.message))
  }
  await assert.rejects(send(`${server.base}/lease/a`, { method: 'POST', body: 42 }), /cannot sign a body of this type/)
  await assert.rejects(send('/relative', { method: 'POST', body: '{}' }), TypeError)
  assert.equal(called, 0)
  assert.throws(() => signedFetch('not a key', token), /WorkerKey/)
  assert.throws(() => signedFetch(worker, 42), /token/)
  assert.throws(() => signedFetch(worker, token, 'fetch'), /fetchImpl/)
  assert.throws(() => signedFetch(worker, token, { profile: 'jwt' }), /profile/)
})
