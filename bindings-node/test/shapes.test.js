'use strict'
// The per-request result objects (src/shapes.rs: arranged by JS functions compiled once per
// environment): their keys in the order of the TypeScript types, plain objects and arrays, the
// same in a worker thread (an environment of its own) as on the main thread, one worker after
// another, and not moved by a program that replaced Array.prototype.push.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { Worker } = require('node:worker_threads')
const { tc, worker } = require('./fixtures.js')

const { results } = require('./shapes-results.js')

const DECISION_KEYS = ['allowed', 'status', 'code', 'message', 'headers', 'body', 'identity', 'facts', 'route', 'profile']
const IDENTITY_KEYS = ['holderId', 'holderPublicHex', 'revocationId', 'chain']

test('results: keys in the order of the types, plain objects and arrays', () => {
  const { token: isToken, identity, allowed, refused } = results()
  assert.ok(isToken)
  assert.deepEqual(Object.keys(identity), IDENTITY_KEYS)
  assert.deepEqual(identity, { holderId: 'worker-1', holderPublicHex: worker.publicHex, revocationId: 'rev-1', chain: [{ holderId: 'worker-1', holderPublicHex: worker.publicHex }] })
  assert.deepEqual(Object.keys(allowed), DECISION_KEYS)
  assert.equal(Object.getPrototypeOf(allowed), Object.prototype)
  assert.deepEqual(allowed.identity, identity)
  assert.ok(Array.isArray(allowed.facts) && allowed.facts.every((pair) => Array.isArray(pair) && pair.length === 2))
  assert.deepEqual(allowed.facts.at(-1), ['req_tier', 'gold'])
  assert.deepEqual(allowed.facts.slice(0, 2), [['req_method', 'POST'], ['req_path', '/lease/a']])
  assert.deepEqual([allowed.allowed, allowed.status, allowed.code, allowed.headers, allowed.body], [true, 200, null, {}, ''])
  assert.deepEqual([allowed.route, allowed.profile], ['/lease/{lane}', 'rfc9421'])
  assert.deepEqual(Object.keys(refused), DECISION_KEYS)
  assert.deepEqual([refused.allowed, refused.status, refused.code, refused.identity, refused.facts], [false, 401, 'MALFORMED_INPUT', null, []])
  assert.equal(JSON.parse(refused.body).error, 'MALFORMED_INPUT')
})

test('results: not moved by a replaced Array.prototype.push', () => {
  const push = Array.prototype.push
  Array.prototype.push = () => {
    throw new Error('replaced')
  }
  try {
    assert.equal(results().allowed.facts.at(-1)[1], 'gold')
  } finally {
    Array.prototype.push = push
  }
})

// a worker loads the package in an environment of its own and sends its results back as JSON
function inWorker() {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { results } = require(workerData.file)
    parentPort.postMessage(JSON.stringify(results()))`
  return new Promise((resolve, reject) => {
    const w = new Worker(source, { eval: true, workerData: { file: require.resolve('./shapes-results.js') } })
    w.once('message', (message) => resolve(JSON.parse(message)))
    w.once('error', reject)
    w.once('exit', (code) => code !== 0 && reject(new Error(`worker exit ${code}`)))
  })
}

test('results: the same in worker threads, one environment after another', async () => {
  const here = JSON.parse(JSON.stringify(results()))
  for (let i = 0; i < 3; i++) assert.deepEqual(await inWorker(), here)
  // and the main thread's functions still work after the workers' environments are gone
  assert.deepEqual(JSON.parse(JSON.stringify(results())), here)
})

