'use strict'
// What test/shapes.test.js compares: one authenticate, one allowed and one refused decide, made on
// whichever thread loads this file (the main thread, or a worker: an environment of its own).

const { tc, NOW, issuer, worker, token, request, signed } = require('./fixtures.js')

const AUTHORITY = 'api.example'
const policy = () => tc.HttpPolicy.fromJson(JSON.stringify({ routes: [{ method: 'POST', path: '/lease/{lane}', allow: 'allow if right("lease")' }] }))
const verifier = () => new tc.Verifier(issuer.publicHex, { authorities: [AUTHORITY] })

function results() {
  const v = verifier()
  const { token: t, identity } = v.authenticate(signed('shape-1'), request, { now: NOW })
  const host = [['Host', AUTHORITY]]
  const body = Buffer.from('{}')
  const headers = [...host, ...Object.entries(tc.signRequest(worker, token, { method: 'POST', url: '/lease/a', headers: host, body, created: NOW, nonce: 'shape-2' }))]
  const allowed = v.decide({ method: 'POST', target: '/lease/a', headers, body }, { policy: policy(), facts: { req_tier: 'gold' }, now: NOW })
  const refused = v.decide({ method: 'POST', target: '/lease/a', headers: host, body }, { policy: policy(), now: NOW })
  return { token: t instanceof tc.Token, identity, allowed, refused }
}

module.exports = { results }
