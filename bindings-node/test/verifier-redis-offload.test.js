'use strict'
// The Promise forms of a Verifier on Redis run on the addon's own threads, not the libuv pool: with
// Redis black-holed (a fake that accepts connections and never answers), 64 authentications in
// flight must not delay the host's own fs calls, all 64 are STORE_UNAVAILABLE, and the circuit
// breaker keeps the fake from seeing a connection per request. No timing is asserted: only the
// order in which things settle.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const tc = require('trustcore')

const issuer = tc.IssuerKey.generate()
const worker = tc.WorkerKey.generate()
const nowSeconds = () => Date.now() / 1000
const token = tc.mintBiscuit(issuer, {
  publicHex: worker.publicHex,
  holderId: 'worker-1',
  facts: { right: ['lease'] },
  revocationId: 'rev-offload',
  expiresAt: nowSeconds() + 3600,
})
const request = { method: 'POST', path: '/lease', body: '{"pool":"gpu"}' }
const proof = (nonce) => tc.makeProof(worker, token, request, String(Math.floor(nowSeconds())), nonce)
// the addon's own pool: at most this many calls reach Redis at once
const ADDON_THREADS = 4

/** A fake Redis on a free loopback port: accepts, reads and ignores everything, never answers. */
async function blackHole() {
  const sockets = new Set()
  let connections = 0
  const server = net.createServer((socket) => {
    connections++
    sockets.add(socket)
    socket.on('data', () => {})
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `redis://127.0.0.1:${server.address().port}/`,
    connections: () => connections,
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(resolve))
    },
  }
}

const codeOf = (promise) =>
  promise.then(
    () => 'OK',
    (err) => {
      if (err instanceof tc.TrustError) return err.code
      throw err
    },
  )
const tally = (outcomes) => outcomes.reduce((t, o) => ({ ...t, [o]: (t[o] ?? 0) + 1 }), {})

test('a black-holed Redis holds no libuv pool thread: fs completes before any of 64 authentications settles', async (t) => {
  const fake = await blackHole()
  t.after(() => fake.close())
  const verifier = new tc.Verifier(issuer.publicHex, {
    redis: { url: fake.url, connectTimeoutMs: 300, commandTimeoutMs: 300, retryIntervalMs: 3_600_000 },
  })

  const events = []
  const calls = Array.from({ length: 64 }, (_, i) =>
    codeOf(verifier.authenticateAsync(proof(`offload-${i}`), request)).then((code) => {
      events.push(`auth-${i}`)
      return code
    }),
  )
  // on the libuv pool while all 64 are pending (with them on the pool it would queue behind them)
  const read = fs.promises.readFile(__filename).then((text) => {
    events.push('readFile')
    return text
  })
  const [outcomes, text] = await Promise.all([Promise.all(calls), read])

  assert.ok(text.length > 0)
  assert.equal(events[0], 'readFile', `the fs call waited for an authentication: ${events.slice(0, 5).join(', ')}`)
  assert.equal(events.length, 65)
  assert.deepEqual(tally(outcomes), { STORE_UNAVAILABLE: 64 })
  // the breaker: the first failure opens it, the rest fail at once; at most the calls already
  // under way on the addon's threads connected, never one per request
  const seen = fake.connections()
  assert.ok(seen >= 1 && seen <= ADDON_THREADS, `the fake saw ${seen} connections`)

  // inside the retry interval nothing connects at all: every kind of async call fails at once
  const more = await Promise.all([
    ...Array.from({ length: 64 }, (_, i) => codeOf(verifier.authenticateAsync(proof(`again-${i}`), request))),
    codeOf(verifier.revokeAsync('rev-other')),
    codeOf(verifier.revokeTokenAsync(tc.parseToken(issuer.publicHex, token))),
  ])
  assert.deepEqual(tally(more), { STORE_UNAVAILABLE: 66 })
  const batch = await verifier
    .authenticateBatchAsync([{ proof: proof('batch-1'), request }])
    .then((entries) => entries.map((entry) => (entry.ok ? 'OK' : entry.error.code)), (err) => [err.code])
  assert.deepEqual(batch, ['STORE_UNAVAILABLE'])
  // decideAsync answers with a decision, not a rejection: 503 with Retry-After
  const policy = tc.HttpPolicy.fromJson('{"routes": [{"method": "POST", "path": "/lease", "allow": "allow if right(\\"lease\\")"}]}')
  const signedHeaders = tc.signRequest(worker, token, { method: 'POST', url: '/lease', headers: { host: 'api.example.com' }, body: request.body, profile: 'legacy' })
  const decision = await verifier.decideAsync({ method: 'POST', target: '/lease', headers: signedHeaders, body: request.body }, { policy })
  assert.deepEqual([decision.allowed, decision.status, decision.code, decision.headers['Retry-After']], [false, 503, 'STORE_UNAVAILABLE', '1'])
  assert.equal(fake.connections(), seen, 'a call inside the retry interval reached the fake')
})

test('retryIntervalMs: a short interval lets a probe through again', async (t) => {
  const fake = await blackHole()
  t.after(() => fake.close())
  const verifier = new tc.Verifier(issuer.publicHex, {
    redis: { url: fake.url, connectTimeoutMs: 200, commandTimeoutMs: 200, retryIntervalMs: 1 },
  })
  assert.equal(await codeOf(verifier.authenticateAsync(proof('short-1'), request)), 'STORE_UNAVAILABLE')
  const first = fake.connections()
  assert.equal(first, 1)
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(await codeOf(verifier.authenticateAsync(proof('short-2'), request)), 'STORE_UNAVAILABLE')
  assert.equal(fake.connections(), 2, 'past the retry interval one probe goes to Redis')
})
