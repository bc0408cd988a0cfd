'use strict'
// What trustcore/express and trustcore/fastify take from core besides the decision, over real
// servers on loopback: where a decision runs (Verifier#mayWaitOnNetwork: inline on the event loop
// with the stores in memory, CPU only; off it with Redis) and the 413 of an announced body length
// (HttpPolicy#bodyLengthRefusal, answered before the body is read).

const { describe, test, before } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const tc = require('trustcore')
const signedFetch = require('trustcore/fetch')
const { FRAMEWORKS, serve, read, raw } = require('./http-servers.js')

const issuer = tc.IssuerKey.generate()
const worker = tc.WorkerKey.generate()
const token = tc.mintBiscuit(issuer, {
  publicHex: worker.publicHex,
  holderId: 'worker-1',
  facts: { right: ['lease'], lane: ['a'] },
  revocationId: 'rev-lease',
  expiresAt: Date.now() / 1000 + 3600,
})

/** A redis:// URL on a loopback port nobody listens on: every store call is refused at once. */
async function refusedRedisUrl() {
  const probe = net.createServer()
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address()
  await new Promise((resolve) => probe.close(resolve))
  return `redis://127.0.0.1:${port}/`
}

describe('core answers, the adapters only convert', () => {
  let redisUrl
  before(async () => {
    redisUrl = await refusedRedisUrl()
  })

  test('HttpPolicy#bodyLengthRefusal: null up to the cap, past it the 413 decide gives such a body', () => {
    const policy = tc.HttpPolicy.fromJson('{"routes": [{"method": "POST", "path": "/a", "public": true}], "max_body_bytes": 16}')
    for (const length of [0, 1, 16]) assert.equal(policy.bodyLengthRefusal(length), null, String(length))
    for (const length of [17, 2 ** 53, 2 ** 70]) {
      const refusal = policy.bodyLengthRefusal(length)
      assert.deepEqual([refusal.allowed, refusal.status, refusal.code], [false, 413, 'LIMIT_EXCEEDED'], String(length))
      assert.deepEqual([refusal.identity, refusal.route, refusal.profile], [null, null, null])
    }
    const verifier = new tc.Verifier(issuer.publicHex)
    const decided = verifier.decide({ method: 'POST', target: '/a', headers: [], body: Buffer.alloc(17) }, { policy })
    assert.deepEqual(policy.bodyLengthRefusal(17), decided)
    for (const wrong of [-1, 1.5, NaN, Infinity]) {
      assert.throws(() => policy.bodyLengthRefusal(wrong), { code: 'MALFORMED_INPUT' }, String(wrong))
    }
  })

  test('Verifier#mayWaitOnNetwork: false with the stores in memory, true with Redis (nothing connects yet)', () => {
    assert.equal(new tc.Verifier(issuer.publicHex).mayWaitOnNetwork, false)
    assert.equal(new tc.Verifier(issuer.publicHex, { redis: { url: redisUrl } }).mayWaitOnNetwork, true)
  })

  for (const framework of FRAMEWORKS) {
    test(`${framework}: in memory every decision is made inline (decide), with Redis off the loop (decideAsync)`, async () => {
      for (const [verifierOptions, used, unused, status] of [
        [{}, 'decide', 'decideAsync', 200],
        [{ redis: { url: redisUrl, requestTimeout: 0.5 } }, 'decideAsync', 'decide', 503],
      ]) {
        const server = await serve(framework, { issuer, verifierOptions })
        try {
          const calls = []
          const real = server.verifier[used].bind(server.verifier)
          // own properties on the instance the middleware was given: what it calls is seen here
          server.verifier[used] = (...args) => {
            calls.push(used)
            return real(...args)
          }
          server.verifier[unused] = () => {
            throw new Error(`${unused} must not be called here`)
          }
          const res = await read(await signedFetch(worker, token)(`${server.base}/lease/a`, { method: 'POST', body: '{}' }))
          assert.equal(res.status, status, res.text)
          assert.deepEqual(calls, [used])
        } finally {
          await server.close()
        }
      }
    })

    test(`${framework}: an announced length over the cap is answered with core's refusal, nothing read`, async () => {
      const server = await serve(framework, { issuer })
      try {
        const length = server.policy.maxBodyBytes + 1
        const res = await raw(server.base, {
          method: 'POST',
          target: '/lease/a',
          headers: { 'content-length': String(length) },
          chunks: ['0123456789'],
          end: false,
        })
        const refusal = server.policy.bodyLengthRefusal(length)
        assert.equal(res.status, refusal.status)
        assert.equal(res.text, refusal.body)
        assert.equal(res.headers['content-type'], refusal.headers['Content-Type'])
      } finally {
        await server.close()
      }
    })
  }
})
