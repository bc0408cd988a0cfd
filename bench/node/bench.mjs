// `make bench-node`: the Node binding's harness for `make bench` (bench/README.md): its fixture, its
// operations and its timing loop, one JSON line per figure, for two implementations:
//   node-sync   the synchronous functions, on the JS thread
//   node-async  their Promise forms (the libuv pool), awaited one at a time
// usage: node bench/node/bench.mjs OUT.jsonl   (`-` for standard output; progress on standard error)
// The signer op starts `$TRUSTCORE_BIN signer serve` (test/signer-daemon.js), the Redis op a
// redis-server on a free loopback port (test/redis-server.js); both are stopped at the end.
// Throughput (node-sync only): the per-request path on 1 and then 2 worker threads for about a second.
// Host I/O while Redis is silent (node-async only, hostIoWhileRedisSilent): fs.promises.readFile of
// a small file, quiet and then while 64 Promise-form authentications wait on a Redis that never answers.

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import tc from '../../bindings-node/trustcore.mjs'

const NOW = 1_700_000_000
const TIMESTAMP = '1700000000'
const SAMPLES = 21
const ALLOW = 'allow if req_operation("lease"), lane("transcribe")'
const POLICY = { requestFacts: { req_operation: 'lease' }, allow: ALLOW, now: NOW }
const OPTIONS = { now: NOW, revokedIds: [], maxSkewSeconds: 300 }
const CLOCK = { now: NOW }
const BATCH = 64
// the HTTP ops: `POST /lease` to this authority, the 1 KiB body, under this route policy
const HTTP_AUTHORITY = 'bench.example'
const HTTP_POLICY = JSON.stringify({ routes: [{ method: 'POST', path: '/lease', allow: ALLOW }] })
const HTTP_OPS = [
  ['http_rfc9421_cached', 'rfc9421'],
  ['http_legacy_cached', 'legacy'],
]
const THROUGHPUT_PROOFS = 40_000 // per worker: more than one worker verifies in a second
const INFLIGHT = 64 // the Promise forms' throughput: requests in flight at once
// host I/O while Redis is silent: reads per phase, authentications in flight, the Verifier's Redis
// options (a realistic command timeout; a retry interval longer than the run, so once the first
// waits end the breaker fails the queued rest at once, as in test/verifier-redis-offload.test.js)
const HOST_READS = 50
const HOST_INFLIGHT = 64
const SILENT_REDIS = { connectTimeoutMs: 1000, commandTimeoutMs: 2000, requestTimeoutMs: 2000, retryIntervalMs: 60_000 }
// the addon's own threads (bindings-node/src/offload.rs): this many calls reach Redis at once
const ADDON_THREADS = 4
// the silent Redis, in a process of its own (its accepts are not the measured event loop's work):
// accepts, reads and ignores everything, never answers; prints its port, then a line per connection
// on which a command arrived
const SILENT_REDIS_SCRIPT = `
const server = require('node:net').createServer((socket) => {
  socket.once('data', () => process.stdout.write('command\\n'))
  socket.on('data', () => {})
  socket.on('error', () => {})
})
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'))
`

const issuer = tc.IssuerKey.fromSecretHex('11'.repeat(32))
const holder = tc.WorkerKey.fromSecretHex('22'.repeat(32))
const MINT = {
  publicHex: holder.publicHex,
  holderId: 'gpu-1',
  facts: { lane: ['transcribe', 'gpu'] },
  revocationId: 'rev-1',
  expiresAt: NOW + 3600,
}
const token = tc.mintBiscuit(issuer, MINT)
const BODIES = [
  ['2B', Buffer.from('{}')],
  ['1KiB', Buffer.alloc(1024, 'x')],
  ['1MiB', Buffer.alloc(1 << 20, 'x')],
]
const lease = (body) => ({ method: 'POST', path: '/lease', body })
const small = lease(BODIES[0][1])
const poolFor = (name) => (name === '1MiB' ? 600 : 10_000)
/** Proofs with nonces of their own (a Verifier accepts each once), made before timing. */
const proofsFor = (request, count, tag) => Array.from({ length: count }, (_, i) => tc.makeProof(holder, token, request, TIMESTAMP, `${tag}-${i}`))
/**
 * Signed HTTP requests (`POST /lease` to HTTP_AUTHORITY, the 1 KiB body) in `profile`, each with a nonce
 * of its own and created = NOW, as header lines (the Host line first), made before timing.
 */
const httpRequestsFor = (profile, count, tag) => {
  const host = [['Host', HTTP_AUTHORITY]]
  const body = BODIES[1][1]
  const signed = (nonce) => tc.signRequest(holder, token, { method: 'POST', url: '/lease', headers: host, body, profile, created: NOW, nonce })
  return Array.from({ length: count }, (_, i) => [...host, ...Object.entries(signed(`${tag}-${i}`))])
}
let verifiers = 0
/**
 * A fresh Verifier (memory, or Redis under a key prefix of its own), so a proof pool serves both impls.
 * The fixture's one holder sends every request of a pool: its share of the memory store is all of it
 * (the default, a quarter, would refuse it with LIMIT_EXCEEDED a quarter of the way through).
 * `authorities`: those `decide` answers to (the HTTP ops).
 */
const freshVerifier = (pool, redis, authorities) =>
  new tc.Verifier(issuer.publicHex, {
    replayCapacity: Math.max(pool, 1000),
    replayCapacityPerHolder: Math.max(pool, 1000),
    ...(redis ? { redis: { url: redis.url, keyPrefix: `bench-node-${process.pid}-${++verifiers}:` } } : {}),
    ...(authorities ? { authorities } : {}),
  })

if (!isMainThread) await throughputWorker(workerData)
else await main()

async function main() {
  const target = process.argv[2]
  if (!target || process.argv.length > 3) throw new Error('usage: node bench/node/bench.mjs OUT.jsonl (or -)')
  const out = target === '-' ? 1 : fs.openSync(target, 'w')
  const line = (value) => fs.writeSync(out, `${JSON.stringify(value)}\n`)
  // first, while the heap is small: a major GC or the teardown of the throughput workers would
  // otherwise land in one of its reads, and its figure is the slowest read
  await hostIoWhileRedisSilent(line)

  // bench/README.md's loop: warm up 0.2 s (at least 3 calls, at most a fifth of `pool` when each
  // call consumes a proof made before timing), `k` calls per ~10 ms sample, 21 samples; `per` is
  // the requests one call handles (figures per request)
  async function measure(impl, op, call, { pool = Infinity, per = 1 } = {}) {
    const sync = impl === 'node-sync'
    const warmCap = pool / 5
    let calls = 0
    const start = process.hrtime.bigint()
    const elapsed = () => Number(process.hrtime.bigint() - start) / 1e9
    while (calls < 3 || (elapsed() < 0.2 && calls < warmCap)) {
      if (sync) call()
      else await call()
      calls++
    }
    let k = Math.max(1, Math.round(0.01 / (elapsed() / calls)))
    if (pool !== Infinity) k = Math.max(1, Math.min(k, Math.floor((pool - calls) / SAMPLES)))
    const times = []
    for (let s = 0; s < SAMPLES; s++) {
      const t = process.hrtime.bigint()
      if (sync) for (let i = 0; i < k; i++) call()
      else for (let i = 0; i < k; i++) await call()
      times.push(Number(process.hrtime.bigint() - t) / (k * per))
    }
    times.sort((a, b) => a - b)
    const median = times[SAMPLES >> 1]
    process.stderr.write(`${impl} ${op}: ${(median / 1000).toFixed(1)} us\n`)
    line({ impl, op, unit: 'ns', median, min: times[0], max: times[SAMPLES - 1], samples: SAMPLES, k })
  }
  /** A call that takes the next proof of `pool`, and fails rather than reuse one. */
  const drawing = (pool) => {
    let i = 0
    return () => {
      if (i >= pool.length) throw new Error('proof pool exhausted')
      return pool[i++]
    }
  }

  // the pools, made once: each op gets a fresh Verifier, so node-sync and node-async use the same
  const proof = tc.makeProof(holder, token, small, TIMESTAMP, 'n-1')
  const cachedPools = Object.fromEntries(BODIES.map(([name, body]) => [name, proofsFor(lease(body), poolFor(name), `c${name}`)]))
  const perRequestPool = proofsFor(small, 10_000, 'per-request')
  const httpPools = Object.fromEntries(HTTP_OPS.map(([op, profile]) => [op, httpRequestsFor(profile, poolFor('1KiB'), op)]))
  const httpPolicy = tc.HttpPolicy.fromJson(HTTP_POLICY)
  const httpKilobyte = BODIES[1][1]
  const groups = []
  for (const [g, p] of proofsFor(small, 400 * BATCH, 'batch').entries()) {
    if (g % BATCH === 0) groups.push([])
    groups.at(-1).push({ proof: p, request: small })
  }
  const warmProof = (tag) => tc.makeProof(holder, token, small, TIMESTAMP, `warm-${tag}`)
  const parsed = tc.authenticate(issuer.publicHex, proof, small, OPTIONS).token
  const job = { id: 'job-1', kind: 'transcribe', n: 3, url: 'https://example.invalid/a.mp3' }
  const signedJob = { ...job, sig: tc.signJob(issuer, job, 'gpu-1') }
  const { RedisServer } = await import('../../bindings-node/test/redis-server.js')
  const { startSigner } = await import('../../bindings-node/test/signer-daemon.js')
  const redis = await RedisServer.start()
  // no audit log; expiry from the real clock, as the daemon checks it against its own
  const signer = await startSigner({ seedHex: '11'.repeat(32), args: ['--max-ttl', '86400'] })
  const client = new tc.SignerClient(signer.address)
  const signerMint = { ...MINT, expiresAt: Math.floor(Date.now() / 1000) + 3600 }

  try {
    for (const impl of ['node-sync', 'node-async']) {
      const sync = impl === 'node-sync'
      const run = (op, call, opts) => measure(impl, op, call, opts)
      const authenticate = sync ? tc.authenticate : tc.authenticateAsync
      const checkPolicy = sync ? tc.checkPolicy : tc.checkPolicyAsync

      await run('mint', sync ? () => tc.mintBiscuit(issuer, MINT) : () => tc.mintBiscuitAsync(issuer, MINT))
      await run('make_proof', () => (sync ? tc.makeProof : tc.makeProofAsync)(holder, token, small, TIMESTAMP, 'n-1'))
      for (const [name, body] of BODIES) {
        const request = lease(body)
        const p = tc.makeProof(holder, token, request, TIMESTAMP, 'n-1')
        await run(`authenticate_uncached_${name}`, () => authenticate(issuer.publicHex, p, request, OPTIONS))
      }
      for (const [name, body] of BODIES) {
        const request = lease(body)
        const pool = cachedPools[name]
        const verifier = freshVerifier(pool.length)
        verifier.authenticate(tc.makeProof(holder, token, request, TIMESTAMP, `warm-${name}`), request, CLOCK) // token cached
        const next = drawing(pool)
        const call = sync
          ? () => verifier.authenticate(next(), request, CLOCK)
          : () => verifier.authenticateAsync(next(), request, CLOCK)
        await run(`authenticate_cached_${name}`, call, { pool: pool.length })
      }
      await run('check_policy', () => checkPolicy(parsed, POLICY))
      await run(
        'per_request_uncached',
        sync
          ? () => tc.checkPolicy(tc.authenticate(issuer.publicHex, proof, small, OPTIONS).token, POLICY)
          : async () => tc.checkPolicyAsync((await tc.authenticateAsync(issuer.publicHex, proof, small, OPTIONS)).token, POLICY),
      )
      for (const [op, store] of [
        ['per_request_cached', null],
        ['per_request_cached_redis', redis],
      ]) {
        const verifier = freshVerifier(perRequestPool.length, store)
        verifier.authenticate(warmProof(op), small, CLOCK)
        const next = drawing(perRequestPool)
        const call = sync
          ? () => verifier.checkPolicy(verifier.authenticate(next(), small, CLOCK).token, POLICY)
          : async () => verifier.checkPolicyAsync((await verifier.authenticateAsync(next(), small, CLOCK)).token, POLICY)
        await run(op, call, { pool: perRequestPool.length })
        if (op !== 'per_request_cached') continue
        // right after it: the HTTP goal compares the two. The decision function on a cached token,
        // a fresh nonce per request; every decision must be allowed
        for (const [httpOp, profile] of HTTP_OPS) {
          const pool = httpPools[httpOp]
          const verifier = freshVerifier(pool.length, null, [HTTP_AUTHORITY])
          const options = { policy: httpPolicy, facts: POLICY.requestFacts, now: NOW }
          const message = (headers) => ({ method: 'POST', target: '/lease', headers, body: httpKilobyte })
          const allowed = (decision) => {
            if (!decision.allowed) throw new Error(`${httpOp}: refused, ${decision.status} ${decision.code}: ${decision.message}`)
          }
          allowed(verifier.decide(message(httpRequestsFor(profile, 1, `${httpOp}-warm`)[0]), options)) // token cached
          const next = drawing(pool)
          const call = sync
            ? () => allowed(verifier.decide(message(next()), options))
            : async () => allowed(await verifier.decideAsync(message(next()), options))
          await run(httpOp, call, { pool: pool.length })
        }
      }
      await run('sign_job', () => (sync ? tc.signJob : tc.signJobAsync)(issuer, job, 'gpu-1'))
      await run('verify_job', () => (sync ? tc.verifyJob : tc.verifyJobAsync)(issuer.publicHex, signedJob, 'gpu-1'))
      // SignerClient has Promise forms only: node-async alone has this op
      if (!sync) await run('signer_mint_socket', () => client.mint(signerMint))
      for (const [op, batched] of [
        ['batch64_one_by_one', false],
        ['batch64', true],
      ]) {
        const verifier = freshVerifier(groups.length * BATCH)
        const next = drawing(groups)
        const allOk = (outcomes) => {
          for (const outcome of outcomes) if (!outcome.ok) throw outcome.error
        }
        let call
        if (batched && sync) call = () => allOk(verifier.authenticateBatch(next(), CLOCK))
        else if (batched) call = async () => allOk(await verifier.authenticateBatchAsync(next(), CLOCK))
        else if (sync) call = () => next().forEach(({ proof: p, request }) => verifier.authenticate(p, request, CLOCK))
        else
          call = async () => {
            for (const { proof: p, request } of next()) await verifier.authenticateAsync(p, request, CLOCK)
          }
        await run(op, call, { pool: groups.length, per: BATCH })
      }
    }
  } finally {
    await signer.close()
    await redis.close()
  }

  for (const op of ['throughput_uncached', 'throughput_cached']) {
    for (const threads of [1, 2]) {
      const { requests, seconds } = await throughput(op, threads)
      const value = requests / seconds
      process.stderr.write(`node-sync ${op} x${threads}: ${value.toFixed(0)} req/s\n`)
      line({ impl: 'node-sync', op, threads, unit: 'req/s', value, requests, seconds })
    }
  }
  {
    const { requests, seconds } = await inflightThroughput(INFLIGHT)
    const value = requests / seconds
    process.stderr.write(`node-async throughput_cached, ${INFLIGHT} in flight: ${value.toFixed(0)} req/s\n`)
    line({ impl: 'node-async', op: 'throughput_cached', threads: INFLIGHT, inflight: INFLIGHT, unit: 'req/s', value, requests, seconds })
  }
  if (out !== 1) fs.closeSync(out)
}

/**
 * The Promise forms' throughput: the cached per-request path (`authenticateAsync`, then
 * `checkPolicyAsync`) of one Verifier (memory stores, token cached) with `inflight` requests in
 * flight at once on the main thread, for about a second; requests per second. The report compares it
 * with the sync form on one thread (`throughput_cached`, 1 thread, node-sync): the Promise forms
 * exist to use more than the main thread.
 */
async function inflightThroughput(inflight) {
  const proofs = proofsFor(small, THROUGHPUT_PROOFS, 'inflight')
  const verifier = freshVerifier(THROUGHPUT_PROOFS)
  verifier.authenticate(tc.makeProof(holder, token, small, TIMESTAMP, 'inflight-warm'), small, CLOCK)
  let next = 0
  const lane = async (deadline) => {
    let n = 0
    while (performance.now() < deadline) {
      if (next >= proofs.length) throw new Error('in-flight proof pool exhausted')
      const { token: verified } = await verifier.authenticateAsync(proofs[next++], small, CLOCK)
      await verifier.checkPolicyAsync(verified, POLICY)
      n++
    }
    return n
  }
  await Promise.all(Array.from({ length: inflight }, () => lane(performance.now() + 200))) // warm-up
  const start = process.hrtime.bigint()
  const counts = await Promise.all(Array.from({ length: inflight }, () => lane(performance.now() + 1000)))
  return { requests: counts.reduce((a, b) => a + b, 0), seconds: Number(process.hrtime.bigint() - start) / 1e9 }
}

/**
 * The Promise forms of a Verifier on Redis wait on the addon's own threads, so a Redis
 * that accepts and never answers must not delay the host's libuv pool (fs, crypto, dns). One
 * `fs.promises.readFile` of a 1 KiB file at a time, HOST_READS times: quiet, then again while
 * HOST_INFLIGHT `authenticateAsync` calls wait on a silent Redis (a child process on 127.0.0.1:0),
 * the reads starting once a command has arrived from each of the addon's threads (all of them
 * waiting on Redis, the other calls queued behind them). A read held behind Redis waits shows in the
 * slowest read (the first queues behind them all, the rest would find the pool free), not in the
 * median. Rows `host_readfile_quiet` and `host_readfile_redis_silent` (impl node-async, ns per read,
 * with p95); the loaded one also has how many calls were still pending when the last read ended
 * (all of them, or the reads did not overlap the waits) and how long until the last one settled.
 * Every call must end STORE_UNAVAILABLE.
 */
async function hostIoWhileRedisSilent(line) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustcore-bench-'))
  const file = path.join(dir, 'small.txt')
  fs.writeFileSync(file, Buffer.alloc(1024, 'x'))
  const fake = spawn(process.execPath, ['-e', SILENT_REDIS_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise((resolve) => fake.once('exit', resolve))
  let commands = 0
  let waiting = null // [count, resolve]: resolved once `count` connections have sent a command
  const lines = readline.createInterface({ input: fake.stdout })
  const port = new Promise((resolve, reject) => {
    fake.once('error', reject)
    fake.once('exit', (code, signal) => reject(new Error(`the silent Redis exited (${code ?? signal})`)))
    lines.once('line', (text) => {
      resolve(Number(text))
      lines.on('line', () => {
        commands++
        if (waiting && commands >= waiting[0]) waiting[1]()
      })
    })
  })
  const commandsFrom = (count, ms) =>
    new Promise((resolve) => {
      if (commands >= count) return resolve()
      waiting = [count, resolve]
      setTimeout(resolve, ms).unref()
    })
  const nanos = (t) => Number(process.hrtime.bigint() - t)
  const reads = async (count) => {
    const times = []
    for (let i = 0; i < count; i++) {
      const t = process.hrtime.bigint()
      if ((await fs.promises.readFile(file)).length !== 1024) throw new Error('short read')
      times.push(nanos(t))
    }
    return times
  }
  const row = (op, times, extra = {}) => {
    const sorted = [...times].sort((a, b) => a - b)
    const at = (q) => sorted[Math.ceil(q * sorted.length) - 1]
    const figures = { median: at(0.5), min: sorted[0], max: sorted.at(-1), p95: at(0.95) }
    const text = (ns) => `${(ns / 1000).toFixed(1)} us`
    process.stderr.write(`node-async ${op}: median ${text(figures.median)}, max ${text(figures.max)}\n`)
    line({ impl: 'node-async', op, unit: 'ns', ...figures, samples: times.length, k: 1, ...extra })
  }
  try {
    const verifier = new tc.Verifier(issuer.publicHex, {
      redis: { url: `redis://127.0.0.1:${await port}/`, keyPrefix: `bench-node-${process.pid}-silent:`, ...SILENT_REDIS },
    })
    const proofs = proofsFor(small, HOST_INFLIGHT, 'silent')
    await reads(10) // warm up
    row('host_readfile_quiet', await reads(HOST_READS))

    let settled = 0
    let waited = 0
    const start = process.hrtime.bigint()
    const calls = proofs.map((p) =>
      verifier
        .authenticateAsync(p, small, CLOCK)
        .then(
          () => 'OK',
          (err) => (err instanceof tc.TrustError ? err.code : String(err)),
        )
        .finally(() => {
          if (++settled === HOST_INFLIGHT) waited = nanos(start)
        }),
    )
    // every one of the addon's threads waiting on Redis (the rest of the calls queued behind them)
    await commandsFrom(Math.min(ADDON_THREADS, HOST_INFLIGHT), SILENT_REDIS.commandTimeoutMs / 2)
    const ready = nanos(start)
    const loaded = await reads(HOST_READS)
    const pending = HOST_INFLIGHT - settled
    const outcomes = {}
    for (const outcome of await Promise.all(calls)) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
    if (outcomes.STORE_UNAVAILABLE !== HOST_INFLIGHT)
      throw new Error(`silent Redis: expected ${HOST_INFLIGHT} STORE_UNAVAILABLE, got ${JSON.stringify(outcomes)}`)
    if (pending !== HOST_INFLIGHT)
      process.stderr.write(`host_readfile_redis_silent: only ${pending} of ${HOST_INFLIGHT} calls still waited after the reads\n`)
    row('host_readfile_redis_silent', loaded, {
      inflight: HOST_INFLIGHT,
      pending_after_reads: pending,
      redis_wait_ms: waited / 1e6,
      redis_connections: commands, // those a command arrived on
      waiting_after_ms: ready / 1e6,
      redis_options: SILENT_REDIS,
    })
  } finally {
    if (fake.exitCode === null && fake.signalCode === null && fake.pid !== undefined) {
      fake.kill()
      await exited
    }
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The per-request path on `threads` worker threads for about a second: each worker loads the addon
 * and makes its proofs, then all start together. A Verifier is a native object of one JS realm and
 * cannot be handed to another worker, so for `throughput_cached` each worker has a Verifier of its
 * own (memory stores, the token cached before the start) where the other harnesses share one.
 */
async function throughput(op, threads) {
  const workers = Array.from({ length: threads }, (_, t) => new Worker(new URL(import.meta.url), { workerData: { op, tag: `t${threads}-${t}` } }))
  const message = (worker) =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
      worker.once('exit', (code) => reject(new Error(`a bench worker exited (${code}) before answering`)))
    })
  try {
    await Promise.all(workers.map(message)) // ready
    const start = process.hrtime.bigint()
    const done = Promise.all(workers.map(message))
    const deadline = performance.timeOrigin + performance.now() + 1000
    for (const worker of workers) worker.postMessage({ deadline })
    const counts = await done
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    for (const count of counts) if (typeof count !== 'number') throw new Error(`a bench worker failed: ${count.error}`)
    return { requests: counts.reduce((a, b) => a + b, 0), seconds }
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()))
  }
}

async function throughputWorker({ op, tag }) {
  let work
  if (op === 'throughput_uncached') {
    const proof = tc.makeProof(holder, token, small, TIMESTAMP, 'n-1')
    work = () => tc.checkPolicy(tc.authenticate(issuer.publicHex, proof, small, OPTIONS).token, POLICY)
  } else {
    const proofs = proofsFor(small, THROUGHPUT_PROOFS, tag)
    const verifier = freshVerifier(THROUGHPUT_PROOFS)
    verifier.authenticate(tc.makeProof(holder, token, small, TIMESTAMP, `${tag}-warm`), small, CLOCK)
    let i = 0
    work = () => {
      if (i >= proofs.length) throw new Error('throughput proof pool exhausted')
      verifier.checkPolicy(verifier.authenticate(proofs[i++], small, CLOCK).token, POLICY)
    }
  }
  const { deadline } = await new Promise((resolve) => {
    parentPort.once('message', resolve)
    parentPort.postMessage('ready')
  })
  let n = 0
  try {
    while (performance.timeOrigin + performance.now() < deadline) {
      work()
      n++
    }
    parentPort.postMessage(n)
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.code ? `${err.code}: ${err.message}` : err) })
  }
}
