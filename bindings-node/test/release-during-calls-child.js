'use strict'
// For release-during-calls.test.js: `node --expose-gc release-during-calls-child.js SCENARIO 'ARGS'`
// (node --test does not pass --expose-gc on). Each scenario starts calls that cannot finish yet,
// lets go of the only JS reference to the Verifier or SignerClient, runs gc() to collect it, then
// lets the calls finish (gc() still running) and collects it if it was not yet. It prints one JSON
// line: every call's outcome ("OK" or a TrustError code), whether the object was collected while its
// calls were pending and how many had settled then, and calls on new objects afterwards. Anything
// thrown that is not a TrustError is reported as "THREW ..." so the test fails on it.
//
// No closure made where the object is in scope outlives that scope (a closure would keep it alive
// through the scope's context): the calls are started in a function that returns only a WeakRef.

const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { tc, NOW, issuer, worker, request, signed, ALLOW } = require('./fixtures.js')

if (typeof global.gc !== 'function') throw new Error('run with --expose-gc')
const [scenario, argsJson = '{}'] = process.argv.slice(2)
const args = JSON.parse(argsJson)
// a bound on waiting for what must happen, never a measurement
const BOUND_MS = 10_000
const clock = { now: NOW }
const forged = (nonce) => ({ ...signed(nonce), nonce: `${nonce}-forged` }) // not the nonce signed
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const turn = () => new Promise((resolve) => setImmediate(resolve))

/** Tracks calls: each resolves to [kind, outcome]; `settled` counts those done. */
class Calls {
  constructor() {
    this.all = []
    this.settled = 0
  }
  /** Tracks `promise`; returns the tracked one (to await it). */
  add(kind, promise) {
    const tracked = Promise.resolve(promise).then(
      (value) => {
        this.settled++
        // a batch settles with one entry per request
        return [kind, Array.isArray(value) ? value.map((e) => (e.ok ? 'OK' : e.error.code)).join(',') : 'OK']
      },
      (err) => {
        this.settled++
        return [kind, err instanceof tc.TrustError ? err.code : `THREW ${err?.name}: ${err?.message}`]
      },
    )
    this.all.push(tracked)
    return tracked
  }
  /** A sync call's outcome, recorded now. */
  now(kind, call) {
    this.add(kind, new Promise((resolve) => resolve(call())))
  }
  /** Every outcome, gc() running meanwhile. */
  async finish() {
    let done = false
    const outcomes = Promise.all(this.all).finally(() => (done = true))
    while (!done) {
      global.gc()
      await sleep(2)
    }
    return outcomes
  }
}

/** gc() until `weak` is empty (a turn of the loop first: a WeakRef keeps its target for the job). */
async function collect(weak, turns = 500) {
  for (let i = 0; i < turns; i++) {
    await turn()
    global.gc()
    if (weak.deref() === undefined) {
      await turn() // a napi finalizer the gc deferred to setImmediate runs before this turn ends
      return true
    }
  }
  return false
}

async function until(what, predicate) {
  const deadline = Date.now() + BOUND_MS
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`)
    await sleep(2)
  }
}

async function outcomeOf(promise) {
  try {
    await promise
    return 'OK'
  } catch (err) {
    if (err instanceof tc.TrustError) return err.code
    throw err
  }
}

// ---- a silent Redis -------------------------------------------------------------------------------

/** A fake Redis on a free loopback port: accepts, reads, never answers; `hangUp` closes every
 *  connection and every one after it. */
async function silentRedis() {
  const sockets = new Set()
  let connections = 0
  let hungUp = false
  const server = net.createServer((socket) => {
    connections++
    socket.on('error', () => {})
    if (hungUp) return socket.destroy()
    sockets.add(socket)
    socket.on('data', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `redis://127.0.0.1:${server.address().port}/`,
    connections: () => connections,
    hangUp() {
      hungUp = true
      for (const socket of sockets) socket.destroy()
    },
    close() {
      this.hangUp()
      return new Promise((resolve) => server.close(resolve))
    },
  }
}

function startRedisCalls(calls, redis, n) {
  const verifier = new tc.Verifier(issuer.publicHex, { redis })
  for (let i = 0; i < n; i++) calls.add('redis', verifier.authenticateAsync(signed(`redis-${i}`), request, clock))
  return new WeakRef(verifier)
}

// args.settleBy: "hangUp" (the fake closes the connections once the Verifier is collected: nothing
// can settle before that) or "timeout" (the calls end by the core's own timeouts, gc racing them)
async function redis() {
  const fake = await silentRedis()
  const bound = { connectTimeoutMs: BOUND_MS, commandTimeoutMs: BOUND_MS, requestTimeoutMs: BOUND_MS }
  const short = { connectTimeoutMs: 300, commandTimeoutMs: 300 }
  const timeouts = args.settleBy === 'hangUp' ? bound : short
  // an hour's interval: once the first call has failed the rest fail at once, never reconnecting
  const redis = { url: fake.url, retryIntervalMs: 3_600_000, ...timeouts }
  const calls = new Calls()
  const weak = startRedisCalls(calls, redis, 64)
  await until('a call reached the fake Redis', () => fake.connections() > 0)
  const collected = await collect(weak)
  const settledWhenCollected = calls.settled
  if (args.settleBy === 'hangUp') fake.hangUp()
  const outcomes = await calls.finish()
  // the process goes on: a new Verifier on the same fake, and one in memory, sync and async
  const onRedis = new tc.Verifier(issuer.publicHex, { redis: { ...redis, ...short } })
  const inMemory = () => new tc.Verifier(issuer.publicHex)
  const after = [
    await outcomeOf(onRedis.authenticateAsync(signed('after'), request, clock)),
    await outcomeOf(inMemory().authenticateAsync(signed('after'), request, clock)),
    await outcomeOf(Promise.resolve().then(() => inMemory().authenticate(signed('after'), request, clock))),
  ]
  await fake.close()
  return { collected, settledWhenCollected, outcomes, after }
}

// ---- the memory stores ----------------------------------------------------------------------------

const THREADPOOL = Number(process.env.UV_THREADPOOL_SIZE)
// gc() turns while libuv-pool calls are held: napi-rs 3 keeps a method's `this` alive until its
// AsyncTask completes, so these objects are not collected before the calls finish (today)
const PENDING_TURNS = 50

/** Holds every libuv pool thread in open(2) on a FIFO with no writer; `release` lets them go. */
function holdThePool() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-release-'))
  const fifos = Array.from({ length: THREADPOOL }, (_, i) => path.join(dir, `hold-${i}`))
  execFileSync('mkfifo', fifos)
  const opened = fifos.map((fifo) => fs.promises.open(fifo, 'r'))
  return async () => {
    for (const fifo of fifos) fs.closeSync(fs.openSync(fifo, 'w')) // a reader waits: returns at once
    for (const handle of await Promise.all(opened)) await handle.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

// `done`: sync calls and awaited ones, settled at once; `held`: started with the pool held
async function startMemoryCalls(done, held) {
  const verifier = new tc.Verifier(issuer.publicHex)
  // with the pool free: awaited calls and sync calls in turn
  for (let i = 0; i < 8; i++) {
    await done.add('awaited', verifier.authenticateAsync(signed(`awaited-${i}`), request, clock))
    done.now('sync', () => verifier.authenticate(signed(`sync-${i}`), request, clock))
    await done.add('forged', verifier.authenticateAsync(forged(`awaited-f-${i}`), request, clock))
  }
  const { token: verified } = verifier.authenticate(signed('for-policy'), request, clock)
  // with the pool held: none of these can run before `release`
  const release = holdThePool()
  for (let i = 0; i < 64; i++) {
    held.add('async', verifier.authenticateAsync(signed(`async-${i}`), request, clock))
    done.now('sync', () => verifier.authenticate(signed(`sync-late-${i}`), request, clock))
    if (i % 8 === 0) {
      held.add('replayed', verifier.authenticateAsync(signed(`sync-${i / 8}`), request, clock))
      held.add('forged', verifier.authenticateAsync(forged(`async-f-${i}`), request, clock))
      held.add('policy', verifier.checkPolicyAsync(verified, { requestFacts: { req_operation: 'lease' }, allow: ALLOW, now: NOW }))
      held.add('authorize', verifier.authorizeAsync(verified, 'allow if right("report")', clock))
      held.add('revoke', verifier.revokeAsync(`rev-unrelated-${i}`))
      const twice = { proof: signed(`batch-${i}`), request }
      held.add('batch', verifier.authenticateBatchAsync([twice, twice], clock))
    }
  }
  return { weak: new WeakRef(verifier), release }
}

async function memory() {
  if (!(THREADPOOL > 0)) throw new Error('set UV_THREADPOOL_SIZE: the test holds every pool thread')
  const done = new Calls()
  const held = new Calls()
  const { weak, release } = await startMemoryCalls(done, held)
  const collectedWhilePending = await collect(weak, PENDING_TURNS)
  const settledWhenCollected = held.settled
  await release()
  const outcomes = [...(await done.finish()), ...(await held.finish())]
  const collected = collectedWhilePending || (await collect(weak))
  const verifier = new tc.Verifier(issuer.publicHex)
  const after = [
    await outcomeOf(verifier.authenticateAsync(signed('after'), request, clock)),
    await outcomeOf(Promise.resolve().then(() => verifier.authenticate(signed('after'), request, clock))),
    await outcomeOf(verifier.authenticateAsync(forged('after-2'), request, clock)),
  ]
  return { collected, collectedWhilePending, settledWhenCollected, held: held.all.length, outcomes, after }
}

// ---- a SignerClient -------------------------------------------------------------------------------

/** Connections waiting in the accept queue of the loopback TCP listener on `port` (Linux: a LISTEN
 *  socket's rx_queue in /proc/net/tcp). */
function queuedConnections(port) {
  for (const line of fs.readFileSync('/proc/net/tcp', 'ascii').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    if (fields[3] === '0A' && parseInt(fields[1].split(':')[1], 16) === port) return parseInt(fields[4].split(':')[1], 16)
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`)
}

const mintOptions = (i) => ({
  publicHex: worker.publicHex,
  holderId: `gpu-${i}`,
  facts: { right: ['lease'] },
  expiresAt: Date.now() / 1000 + 600,
})

function startSignerCalls(calls, n) {
  const client = new tc.SignerClient(args.address, { requestTimeoutMs: BOUND_MS })
  for (let i = 0; i < n; i++) {
    const kind = ['mint', 'signJob', 'publicKey', 'health'][i % 4]
    if (kind === 'mint') calls.add(kind, client.mint(mintOptions(i)))
    else if (kind === 'signJob') calls.add(kind, client.signJob({ job_id: `j-${i}`, steps: 3 }, 'gpu-1'))
    else calls.add(kind, client[kind]())
  }
  return new WeakRef(client)
}

async function signer() {
  const port = Number(/^tcp:127\.0\.0\.1:(\d+)$/.exec(args.address)[1])
  // stopped: each call connects (the kernel queues it) and waits; none can settle before SIGCONT
  process.kill(args.pid, 'SIGSTOP')
  const calls = new Calls()
  let weak
  let collectedWhilePending
  let settledWhenCollected
  try {
    weak = startSignerCalls(calls, 32)
    await until('a call reached the stopped signer', () => queuedConnections(port) > 0)
    collectedWhilePending = await collect(weak, PENDING_TURNS)
    settledWhenCollected = calls.settled
  } finally {
    process.kill(args.pid, 'SIGCONT')
  }
  const outcomes = await calls.finish()
  const collected = collectedWhilePending || (await collect(weak))
  const after = [await outcomeOf(new tc.SignerClient(args.address).mint(mintOptions(99)))]
  return { collected, collectedWhilePending, settledWhenCollected, outcomes, after }
}

const scenarios = { redis, memory, signer }
scenarios[scenario]().then(
  (report) => process.stdout.write(`${JSON.stringify(report)}\n`),
  (err) => {
    process.stdout.write(`${JSON.stringify({ crash: `${err.name}: ${err.message}` })}\n`)
    process.exitCode = 1
  },
)
