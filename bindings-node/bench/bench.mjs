// `make bench-node`: the per-request path (authenticate + checkPolicy) through the Node binding,
// sync and async, against the Rust core timed in the same run by the binary given as argv[2].
// Medians of rounds; Rust and Node take turns REPEATS times and each operation keeps its lowest
// median, so a burst of load from another process on a shared machine skews neither side alone.
// The goal is an overhead over the Rust core of at most 20 % per request.
// Then the stateful Verifier's cached per-request path (authenticate + checkPolicy, a fresh nonce
// each request, the token verified once), on its memory stores and on Redis: a redis-server
// started here on a free loopback port and stopped after, for both the Rust and the Node side.
// Last, 64 requests through the Verifier (memory, authenticate only) one by one against the same
// 64 as one authenticateBatch (one Ed25519 batch verification), sync and async, Rust alongside:
// requests per second and the batch's gain (goal >= 1.6x).

import { execFileSync } from 'node:child_process'
import tc from 'trustcore'
import { RedisServer } from '../test/redis-server.js'

const NOW = 1_700_000_000
const ALLOW = 'allow if right($op), operation($op)'
const ROUNDS = 15
const PER_ROUND = 400
const IN_FLIGHT = 8
const REPEATS = 5
const BATCH = 64
const BATCHES_PER_ROUND = 10

const issuer = tc.IssuerKey.fromSecretHex('11'.repeat(32))
const worker = tc.WorkerKey.fromSecretHex('22'.repeat(32))
const token = tc.mintBiscuit(issuer, {
  publicHex: worker.publicHex,
  holderId: 'worker-1',
  facts: { right: ['lease', 'report'] },
  revocationId: 'rev-1',
  expiresAt: NOW + 3600,
})
const request = { method: 'POST', path: '/lease?pool=gpu', body: Buffer.alloc(256, 'x') }
const proof = tc.makeProof(worker, token, request, String(NOW), 'nonce-1')
const options = { now: NOW, revokedIds: [], maxSkewSeconds: 300 }
const policy = { requestFacts: { operation: 'lease' }, allow: ALLOW, now: NOW }
const parsed = tc.authenticate(issuer.publicHex, proof, request, options).token

const median = (values) => values.sort((a, b) => a - b)[values.length >> 1]
const nsSince = (start) => Number(process.hrtime.bigint() - start)

function timeSync(op, perRound = PER_ROUND) {
  for (let i = 0; i < perRound; i++) op() // warm up
  const rounds = []
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < perRound; i++) op()
    rounds.push(nsSince(start) / perRound)
  }
  return median(rounds)
}

async function timeAsync(op, inFlight = 1, perRound = PER_ROUND) {
  const run = async (count) => {
    const lane = async () => {
      for (let i = 0; i < count / inFlight; i++) await op()
    }
    await Promise.all(Array.from({ length: inFlight }, lane))
  }
  await run(perRound)
  const rounds = []
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint()
    await run(perRound)
    rounds.push(nsSince(start) / perRound)
  }
  return median(rounds)
}

const rustBinary = process.argv[2]
if (!rustBinary) throw new Error('usage: node bench/bench.mjs <path of the bench_core_per_request binary>')
const perRequest = () => tc.checkPolicy(tc.authenticate(issuer.publicHex, proof, request, options).token, policy)
const perRequestAsync = async () => {
  const { token: verified } = await tc.authenticateAsync(issuer.publicHex, proof, request, options)
  await tc.checkPolicyAsync(verified, policy)
}

// the Verifier: every request a nonce of its own, so the proofs are made before any timing; each
// timing gets a fresh verifier (memory) or key prefix (Redis), so the same proofs serve them all
// the warm-up round and ROUNDS more, of single requests or of batches, whichever needs more
const PROOFS = Math.max(PER_ROUND, BATCH * BATCHES_PER_ROUND) * (ROUNDS + 1)
const proofs = Array.from({ length: PROOFS }, (_, i) => tc.makeProof(worker, token, request, String(NOW), `bench-${i}`))
const clock = { now: NOW }
let prefixes = 0
const freshVerifier = (redis) =>
  new tc.Verifier(issuer.publicHex, redis ? { redis: { url: redis.url, keyPrefix: `bench-node-${process.pid}-${++prefixes}:` } } : {})
function verifierSync(redis) {
  const verifier = freshVerifier(redis)
  let i = 0
  return timeSync(() => verifier.checkPolicy(verifier.authenticate(proofs[i++], request, clock).token, policy))
}
async function verifierAsync(redis, inFlight = 1) {
  const verifier = freshVerifier(redis)
  let i = 0
  return timeAsync(async () => {
    const { token: verified } = await verifier.authenticateAsync(proofs[i++], request, clock)
    await verifier.checkPolicyAsync(verified, policy)
  }, inFlight)
}

// 64 requests one by one or as one batch: the groups of { proof, request } made before any timing
const groups = Array.from({ length: PROOFS / BATCH }, (_, g) => proofs.slice(g * BATCH, (g + 1) * BATCH).map((proof) => ({ proof, request })))
const allOk = (outcomes) => {
  for (const outcome of outcomes) if (!outcome.ok) throw outcome.error
}
// ns per request
function batchSync(batched) {
  const verifier = freshVerifier(null)
  let g = 0
  const op = batched
    ? () => allOk(verifier.authenticateBatch(groups[g++], clock))
    : () => {
        for (const { proof, request } of groups[g++]) verifier.authenticate(proof, request, clock)
      }
  return timeSync(op, BATCHES_PER_ROUND) / BATCH
}
async function batchAsync(batched) {
  const verifier = freshVerifier(null)
  let g = 0
  const op = batched
    ? async () => allOk(await verifier.authenticateBatchAsync(groups[g++], clock))
    : async () => {
        for (const { proof, request } of groups[g++]) await verifier.authenticateAsync(proof, request, clock)
      }
  return (await timeAsync(op, 1, BATCHES_PER_ROUND)) / BATCH
}

const redis = await RedisServer.start()
const best = (runs, key) => Math.min(...runs.map((run) => run[key]))
const runs = { rust: [], node: [], nodeAsync: [], concurrent: [], verifier: [], batch: [] }
try {
  for (let i = 0; i < REPEATS; i++) {
    runs.rust.push(JSON.parse(execFileSync(rustBinary, [redis.url], { encoding: 'utf8' })))
    runs.node.push({
      authenticate: timeSync(() => tc.authenticate(issuer.publicHex, proof, request, options)),
      check_policy: timeSync(() => tc.checkPolicy(parsed, policy)),
      per_request: timeSync(perRequest),
    })
    runs.nodeAsync.push({
      authenticate: await timeAsync(() => tc.authenticateAsync(issuer.publicHex, proof, request, options)),
      check_policy: await timeAsync(() => tc.checkPolicyAsync(parsed, policy)),
      per_request: await timeAsync(perRequestAsync),
    })
    runs.concurrent.push({ per_request: await timeAsync(perRequestAsync, IN_FLIGHT) })
    runs.verifier.push({
      memory: verifierSync(null),
      memory_async: await verifierAsync(null),
      memory_concurrent: await verifierAsync(null, IN_FLIGHT),
      redis: verifierSync(redis),
      redis_async: await verifierAsync(redis),
      redis_concurrent: await verifierAsync(redis, IN_FLIGHT),
    })
    runs.batch.push({
      sync_one_by_one: batchSync(false),
      sync_batch: batchSync(true),
      async_one_by_one: await batchAsync(false),
      async_batch: await batchAsync(true),
    })
  }
} finally {
  await redis.stop()
}
const ops = ['authenticate', 'check_policy', 'per_request']
const pick = (side) => Object.fromEntries(ops.map((op) => [op, best(runs[side], op)]))
const [rust, node, nodeAsync] = [pick('rust'), pick('node'), pick('nodeAsync')]
const concurrent = best(runs.concurrent, 'per_request')

const us = (ns) => (ns / 1000).toFixed(1).padStart(9)
const ratio = (ns, base) => `${ns >= base ? '+' : ''}${(((ns - base) / base) * 100).toFixed(1)} %`.padStart(10)
console.log(`Node binding vs Rust core, µs per operation: median of ${ROUNDS} rounds of ${PER_ROUND}, lowest of ${REPEATS} turns, one run`)
console.log('operation                  rust core   node sync  overhead  node async  overhead')
for (const [name, label] of [
  ['authenticate', 'authenticate'],
  ['check_policy', 'checkPolicy'],
  ['per_request', 'per request (both)'],
]) {
  console.log(
    `${label.padEnd(24)}${us(rust[name])}   ${us(node[name])}${ratio(node[name], rust[name])}   ${us(nodeAsync[name])}${ratio(nodeAsync[name], rust[name])}`,
  )
}
console.log(`per request, async, ${IN_FLIGHT} in flight: ${us(concurrent).trim()} µs per request (libuv pool throughput)`)
const overhead = (node.per_request - rust.per_request) / rust.per_request
console.log(`goal (sync per-request overhead <= 20 %): ${overhead <= 0.2 ? 'met' : 'NOT met'} (${(overhead * 100).toFixed(1)} %)`)

const verifier = Object.fromEntries(Object.keys(runs.verifier[0]).map((key) => [key, best(runs.verifier, key)]))
const rustVerifier = { memory: best(runs.rust, 'verifier_memory'), redis: best(runs.rust, 'verifier_redis') }
console.log('')
console.log('Verifier, cached per-request path (authenticate + checkPolicy, a fresh nonce each), µs per request')
console.log('store                      rust core   node sync  overhead  node async  overhead')
for (const [store, label] of [
  ['memory', 'memory'],
  ['redis', 'redis (loopback)'],
]) {
  console.log(
    `${label.padEnd(24)}${us(rustVerifier[store])}   ${us(verifier[store])}${ratio(verifier[store], rustVerifier[store])}   ${us(verifier[`${store}_async`])}${ratio(verifier[`${store}_async`], rustVerifier[store])}`,
  )
}
console.log(
  `Verifier, async, ${IN_FLIGHT} in flight: memory ${us(verifier.memory_concurrent).trim()} µs, redis ${us(verifier.redis_concurrent).trim()} µs per request (libuv pool throughput)`,
)

const batch = Object.fromEntries(Object.keys(runs.batch[0]).map((key) => [key, best(runs.batch, key)]))
const rustBatch = { one_by_one: best(runs.rust, 'verifier_64_one_by_one'), batch: best(runs.rust, 'verifier_64_batch') }
const perSecond = (ns) => Math.round(1e9 / ns).toLocaleString('en-US').padStart(12)
const gain = (oneByOne, batched) => oneByOne / batched
console.log('')
console.log(`Verifier, ${BATCH} requests one by one vs as one batch (memory store, authenticate only), requests per second`)
console.log('                        one by one       batch    batch gain')
for (const [label, oneByOne, batched] of [
  ['rust core', rustBatch.one_by_one, rustBatch.batch],
  ['node sync', batch.sync_one_by_one, batch.sync_batch],
  ['node async', batch.async_one_by_one, batch.async_batch],
]) {
  console.log(`${label.padEnd(20)}${perSecond(oneByOne)}${perSecond(batched)}${`${gain(oneByOne, batched).toFixed(2)}x`.padStart(14)}`)
}
console.log(`(async one by one: ${BATCH} authenticateAsync awaited in turn; async batch: one authenticateBatchAsync of ${BATCH})`)
const [syncGain, asyncGain] = [gain(batch.sync_one_by_one, batch.sync_batch), gain(batch.async_one_by_one, batch.async_batch)]
console.log(
  `goal (batch >= 1.6x one by one): ${syncGain >= 1.6 && asyncGain >= 1.6 ? 'met' : 'NOT met'} (sync ${syncGain.toFixed(2)}x, async ${asyncGain.toFixed(2)}x)`,
)
