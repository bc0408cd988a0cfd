'use strict'
// trustcore/express on a request stream that is not an IncomingMessage (no `complete`: what test
// injectors such as light-my-request hand over): the body is read to its 'end', the decision is
// made on it, the app gets the same bytes in req.body, and the stream is not errored (unshifting a
// body back into an ended stream would destroy it with ERR_STREAM_UNSHIFT_AFTER_END_EVENT).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { Readable } = require('node:stream')
const tc = require('trustcore')
const trustcore = require('trustcore/express')

const AUTHORITY = 'api.example'
const issuer = tc.IssuerKey.generate()
const worker = tc.WorkerKey.generate()
const token = tc.mintBiscuit(issuer, {
  publicHex: worker.publicHex, holderId: 'worker-1', facts: { right: ['lease'] }, revocationId: 'rev-1',
  expiresAt: Date.now() / 1000 + 3600,
})
const policy = tc.HttpPolicy.fromJson(JSON.stringify({ routes: [{ method: 'POST', path: '/lease/{lane}', allow: 'allow if right("lease")' }] }))

/** A readable request with a method, a URL and raw header lines, its body pushed and ended. */
function injected(body) {
  const signed = tc.signRequest(worker, token, { method: 'POST', url: `http://${AUTHORITY}/lease/a`, body })
  const lines = [['Host', AUTHORITY], ['Content-Length', String(body.length)], ...Object.entries(signed)]
  const req = new Readable({ read() {} })
  Object.assign(req, {
    method: 'POST', url: '/lease/a', originalUrl: '/lease/a', rawHeaders: lines.flat(),
    headers: Object.fromEntries(lines.map(([name, value]) => [name.toLowerCase(), value])),
  })
  req.push(body)
  req.push(null)
  return req
}

test('express on a stream without `complete`: allowed, the same body, the stream not errored', async () => {
  const middleware = trustcore({ verifier: new tc.Verifier(issuer.publicHex, { authorities: [AUTHORITY] }), policy })
  const body = Buffer.from('{"episode":"e1"}')
  const req = injected(body)
  const errors = []
  req.on('error', (err) => errors.push(err))
  const res = { writeHead: () => assert.fail('refused'), end: () => assert.fail('refused') }
  await new Promise((resolve, reject) => middleware(req, res, (err) => (err ? reject(err) : resolve())))
  assert.equal(req.trustcore.identity.holderId, 'worker-1')
  assert.deepEqual(req.body, body)
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(errors, [])
  assert.equal(req.errored, null)
})
