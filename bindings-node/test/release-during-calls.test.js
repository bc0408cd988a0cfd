'use strict'
// Node has no close(): a Verifier's or a SignerClient's native state goes when the JS object is
// collected. Letting go of the only reference while calls are pending must be safe: the object is
// collected (a WeakRef shows it), every pending Promise settles with a result or a TrustError code,
// and the process goes on working. gc() needs --expose-gc, which node --test does not pass on, so
// each scenario runs in a child process (release-during-calls-child.js); a crash there is a signal
// or a non-zero exit here. Outcomes and the order of events are asserted, never times.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { tc } = require('./fixtures.js')
const { startSigner } = require('./signer-daemon.js')

const CHILD = path.join(__dirname, 'release-during-calls-child.js')
// a bound on a child's run (a hang fails the test), never a measurement
const CHILD_BOUND_MS = 30_000

/** Runs one scenario; resolves to its report once the child exited cleanly. */
function runScenario(scenario, args = {}) {
  return new Promise((resolve, reject) => {
    // the memory scenario holds every libuv pool thread: it needs to know how many there are
    const env = { ...process.env, UV_THREADPOOL_SIZE: '4' }
    const child = spawn(process.execPath, ['--expose-gc', CHILD, scenario, JSON.stringify(args)], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)))
    const bound = setTimeout(() => child.kill('SIGKILL'), CHILD_BOUND_MS)
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      clearTimeout(bound)
      const lines = stdout.trim().split('\n')
      const last = lines[lines.length - 1]
      if (code !== 0 || signal !== null) {
        return reject(new Error(`the ${scenario} child ended with ${JSON.stringify({ code, signal })}: ${last}\n${stderr}`))
      }
      resolve(JSON.parse(last))
    })
  })
}

/** { kind: { outcome: count } } */
function tally(outcomes) {
  const byKind = {}
  for (const [kind, outcome] of outcomes) {
    byKind[kind] ??= {}
    byKind[kind][outcome] = (byKind[kind][outcome] ?? 0) + 1
  }
  return byKind
}

test('a Redis Verifier collected while 64 authenticateAsync wait on a silent Redis: all STORE_UNAVAILABLE after', async () => {
  // the fake closes its connections only once the Verifier is collected: no call can settle before
  const report = await runScenario('redis', { settleBy: 'hangUp' })
  assert.equal(report.collected, true, 'the Verifier was never collected')
  assert.equal(report.settledWhenCollected, 0)
  assert.deepEqual(tally(report.outcomes), { redis: { STORE_UNAVAILABLE: 64 } })
  assert.deepEqual(report.after, ['STORE_UNAVAILABLE', 'OK', 'OK'])
})

test('a Redis Verifier let go while its calls run into the timeouts: all STORE_UNAVAILABLE, and it is collected', async () => {
  // gc races the core's own connect/command timeouts here: when it is collected is not asserted
  const report = await runScenario('redis', { settleBy: 'timeout' })
  assert.equal(report.collected, true, 'the Verifier was never collected')
  assert.deepEqual(tally(report.outcomes), { redis: { STORE_UNAVAILABLE: 64 } })
  assert.deepEqual(report.after, ['STORE_UNAVAILABLE', 'OK', 'OK'])
})

// The Promise forms that run on the libuv pool (napi-rs AsyncTask: a memory Verifier's, every
// SignerClient method) keep the JS object alive until they complete (napi-rs 3 holds a method's
// `this` for its task), so today it is collected only once they settle; a Redis Verifier's (the
// addon's own threads) do not, as the tests above show. Either order must be safe: these assert
// that it is collected in the end, and that if it went first, nothing had settled yet.

test('a memory Verifier let go with Promise forms queued, after sync and awaited calls: each settles as it would have', async () => {
  // every libuv pool thread is held (in open(2) on a FIFO) while gc() runs: nothing queued can run
  const report = await runScenario('memory')
  assert.equal(report.collected, true, 'the Verifier was never collected')
  if (report.collectedWhilePending) assert.equal(report.settledWhenCollected, 0)
  assert.equal(report.held, 64 + 8 * 6)
  assert.deepEqual(tally(report.outcomes), {
    awaited: { OK: 8 },
    sync: { OK: 8 + 64 },
    forged: { POP_FAILED: 8 + 8 },
    async: { OK: 64 },
    replayed: { REPLAYED: 8 }, // nonces the sync calls used first
    policy: { OK: 8 },
    authorize: { OK: 8 },
    revoke: { OK: 8 },
    batch: { 'OK,REPLAYED': 8 },
  })
  assert.deepEqual(report.after, ['OK', 'REPLAYED', 'POP_FAILED'])
})

test('a SignerClient let go while its Promise forms wait on a stopped signer: all settle OK once it resumes', async (t) => {
  const issuer = tc.IssuerKey.generate()
  const signer = await startSigner({
    seedHex: issuer.secretHex(),
    tcp: true, // the child sees a call queued at the stopped signer in /proc/net/tcp
    args: ['--max-ttl', '3600', '--allow-predicate', 'right'],
  })
  t.after(() => signer.close())
  const report = await runScenario('signer', { address: signer.address, pid: signer.pid })
  assert.equal(report.collected, true, 'the SignerClient was never collected')
  if (report.collectedWhilePending) assert.equal(report.settledWhenCollected, 0)
  assert.deepEqual(tally(report.outcomes), { mint: { OK: 8 }, signJob: { OK: 8 }, publicKey: { OK: 8 }, health: { OK: 8 } })
  assert.deepEqual(report.after, ['OK'])
})
