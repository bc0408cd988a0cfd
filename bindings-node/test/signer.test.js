'use strict'
// SignerClient against the real daemon (`trustcore signer serve`, a child process on a socket in a
// temporary directory): minting and job signing end to end, the event loop left free while a
// request waits, a daemon killed and restarted under the same client, many requests at once, and
// the errors bad arguments give.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
const { performance } = require('node:perf_hooks')
const tc = require('trustcore')
const { startSigner, tempDir } = require('./signer-daemon.js')

const isCode = (code) => (err) => err instanceof tc.TrustError && err.code === code
const isTypeError = (err) => err instanceof TypeError
const now = () => Math.floor(Date.now() / 1000)
// a bound on how much longer than its timeout a request may take to fail on a loaded machine
const MARGIN_MS = 3000

const issuer = tc.IssuerKey.generate()
const MAX_TTL = 3600
const ALLOW = 'allow if right($op), req_operation($op)'

let signer // the daemon most tests share
let client
const auditDir = tempDir()

before(async () => {
  signer = await startSigner({
    seedHex: issuer.secretHex(),
    args: ['--max-ttl', String(MAX_TTL), '--allow-predicate', 'right', '--allow-predicate', 'lane', '--key-id', '3', '--audit-log', path.join(auditDir, 'audit.log')],
  })
  client = new tc.SignerClient(signer.socket)
})

after(async () => {
  // SIGTERM drains and removes the socket
  assert.deepEqual(await signer.stop(), { status: 0, socketGone: true }, signer.log())
  await signer.close()
  fs.rmSync(auditDir, { recursive: true, force: true })
})

test('publicKey and health describe the signer', async () => {
  assert.deepEqual(await client.publicKey(), { publicKey: issuer.publicHex, keyId: 3 })
  const health = await client.health()
  assert.equal(health.status, 'ok')
  assert.equal(health.public_key, issuer.publicHex)
  assert.equal(health.key_id, 3)
  assert.equal(typeof health.audit.entries, 'number')
  assert.ok(client instanceof tc.SignerClient)
  assert.equal(client.address, `unix:${signer.socket}`)
  assert.equal(String(client), `SignerClient(unix:${signer.socket})`)
})

test('end to end: a token minted by the signer authenticates and authorizes in-process', async () => {
  const worker = tc.WorkerKey.generate()
  const t = now()
  const minted = await client.mint({
    publicHex: worker.publicHex,
    holderId: 'worker-1',
    facts: { right: ['lease', 'report'], lane: ['a'] },
    expiresAt: t + 600.75,
  })
  assert.equal(minted.expiresAt, t + 600, 'cut to whole seconds')
  assert.match(minted.revocationId, /^[0-9a-f]{32}$/, 'the signer picks a revocation id')

  // the token carries what was asked for, in order, and the signer's root key id
  const parsed = tc.parseToken(issuer.publicHex, minted.token)
  assert.equal(parsed.rootKeyId, 3)
  const authority = parsed.blockSource(0)
  assert.ok(authority.indexOf('right("lease")') < authority.indexOf('lane("a")'), authority)

  // the holder proves possession; the service verifies with the issuer's public key only
  const request = { method: 'POST', path: '/lease', body: Buffer.from('{"pool":"gpu"}') }
  const proof = tc.makeProof(worker, minted.token, request, String(t), 'nonce-e2e')
  const { publicKey } = await client.publicKey()
  const { token, identity } = await tc.authenticateAsync(publicKey, proof, request, { now: t, revokedIds: [], maxSkewSeconds: 300 })
  assert.deepEqual(identity, {
    holderId: 'worker-1',
    holderPublicHex: worker.publicHex,
    revocationId: minted.revocationId,
    chain: [{ holderId: 'worker-1', holderPublicHex: worker.publicHex }],
  })
  tc.checkPolicy(token, { requestFacts: { req_operation: 'lease' }, allow: ALLOW, now: t })
  assert.throws(() => tc.checkPolicy(token, { requestFacts: { req_operation: 'delete' }, allow: ALLOW, now: t }), isCode('DENIED'))

  // a revocation id the caller chose is kept
  const chosen = await client.mint({ publicHex: worker.publicHex, holderId: 'worker-1', facts: {}, expiresAt: t + 60, revocationId: 'rev-chosen' })
  assert.equal(chosen.revocationId, 'rev-chosen')
})

test('the signer refuses what its policy does not grant: SIGNER_REFUSED', async () => {
  const worker = tc.WorkerKey.generate()
  const base = { publicHex: worker.publicHex, holderId: 'worker-1', facts: { right: ['lease'] }, expiresAt: now() + 60 }
  await assert.rejects(client.mint({ ...base, facts: { right: ['lease'], admin: ['yes'] } }), isCode('SIGNER_REFUSED'))
  await assert.rejects(client.mint({ ...base, expiresAt: now() + MAX_TTL + 600 }), isCode('SIGNER_REFUSED'))
  // what core refuses whatever the policy: still core's code
  await assert.rejects(client.mint({ ...base, facts: { worker_key: ['00'] } }), isCode('SIGNER_REFUSED'))
  await assert.rejects(client.mint({ ...base, publicHex: 'zz' }), isCode('MALFORMED_INPUT'))
  // a refusal leaves the client usable
  assert.equal((await client.health()).status, 'ok')
})

test("delegationDepth: past the signer's --max-delegation-depth (0 by default) SIGNER_REFUSED; within it, a token that delegates", async () => {
  const a = tc.WorkerKey.generate()
  const b = tc.WorkerKey.generate()
  const t = now()
  const base = { publicHex: a.publicHex, holderId: 'worker-a', facts: { right: ['lease'] }, expiresAt: t + 600 }
  await assert.rejects(client.mint({ ...base, delegationDepth: 1 }), isCode('SIGNER_REFUSED'))
  assert.doesNotMatch(tc.parseToken(issuer.publicHex, (await client.mint({ ...base, delegationDepth: 0 })).token).blockSource(0), /delegation_depth/)
  // what no depth can be is refused before anything is sent
  for (const bad of [-1, 1.5, NaN]) await assert.rejects(client.mint({ ...base, delegationDepth: bad }), isCode('MALFORMED_INPUT'), String(bad))
  await assert.rejects(client.mint({ ...base, delegationDepth: '1' }), isTypeError)

  const daemon = await startSigner({ seedHex: issuer.secretHex(), args: ['--max-delegation-depth', '2'] })
  try {
    const delegating = new tc.SignerClient(daemon.address)
    await assert.rejects(delegating.mint({ ...base, delegationDepth: 3 }), isCode('SIGNER_REFUSED'))
    const minted = await delegating.mint({ ...base, delegationDepth: 2 })
    assert.match(tc.parseToken(issuer.publicHex, minted.token).blockSource(0), /delegation_depth\(2\);/)
    const delegated = tc.delegate(minted.token, a, { toPublicHex: b.publicHex, toHolderId: 'worker-b', expiresAt: t + 300 })
    const request = { method: 'POST', path: '/lease', body: Buffer.from('{}') }
    const proof = tc.makeProof(b, delegated, request, String(t), 'nonce-delegated')
    const { identity } = tc.authenticate(issuer.publicHex, proof, request, { now: t, revokedIds: [], maxSkewSeconds: 300 })
    assert.deepEqual(identity.chain, [
      { holderId: 'worker-a', holderPublicHex: a.publicHex },
      { holderId: 'worker-b', holderPublicHex: b.publicHex },
    ])
    assert.deepEqual(await daemon.stop(), { status: 0, socketGone: true })
  } finally {
    await daemon.close()
  }
})

test('signJob through the signer verifies with verifyJob', async () => {
  const job = { job_id: 'j-1', episode: 'e1', steps: 3 }
  const sig = await client.signJob(job, 'worker-1')
  assert.equal(sig, tc.signJob(issuer, job, 'worker-1'), 'the same signature as the in-process signJob')
  tc.verifyJob(issuer.publicHex, { ...job, sig }, 'worker-1')
  await tc.verifyJobAsync(issuer.publicHex, { ...job, sig }, 'worker-1')
  assert.throws(() => tc.verifyJob(issuer.publicHex, { ...job, sig }, 'worker-2'), isCode('JOB_INVALID'))
  assert.throws(() => tc.verifyJob(issuer.publicHex, { ...job, steps: 4, sig }, 'worker-1'), isCode('JOB_INVALID'))
  // a `sig` already in the job is left out of what is signed
  assert.equal(await client.signJob({ ...job, sig: 'old' }, 'worker-1'), sig)
})

test('the event loop stays free while a request waits on a peer that never answers', async () => {
  const dir = tempDir()
  const socket = path.join(dir, 'silent.sock')
  const held = []
  const received = []
  // accepts, reads, and never answers
  const silent = net.createServer((conn) => {
    held.push(conn)
    conn.on('data', (chunk) => received.push(chunk))
  })
  await new Promise((resolve) => silent.listen(socket, resolve))
  try {
    const timeoutMs = 500
    const waiting = new tc.SignerClient(`unix:${socket}`, { requestTimeoutMs: timeoutMs })
    let pending = true
    let ticksWhilePending = 0
    const timer = setInterval(() => {
      if (pending) ticksWhilePending++
    }, 10)
    const started = performance.now()
    try {
      await assert.rejects(waiting.health(), isCode('SIGNER_UNAVAILABLE'))
    } finally {
      pending = false
      clearInterval(timer)
    }
    const elapsed = performance.now() - started
    assert.ok(ticksWhilePending > 0, 'the timer never fired while the request waited')
    assert.ok(elapsed < timeoutMs + MARGIN_MS, `rejected after ${elapsed} ms`)
    // it did wait on the peer: the request reached it whole
    assert.equal(tc.decodeFrame(Buffer.concat(received)).op, 'health')
  } finally {
    for (const conn of held) conn.destroy()
    await new Promise((resolve) => silent.close(resolve))
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a signer killed with SIGKILL is SIGNER_UNAVAILABLE; one restarted on the same path is used again', async () => {
  const daemon = await startSigner({ seedHex: issuer.secretHex() })
  const { socket } = daemon
  try {
    const same = new tc.SignerClient(socket, { connectTimeoutMs: 1000, requestTimeoutMs: 2000 })
    assert.equal((await same.health()).status, 'ok') // leaves a pooled connection open
    await daemon.kill() // resolves once it is gone
    assert.ok(fs.existsSync(socket), 'a killed signer cannot remove its socket')
    const started = performance.now()
    await assert.rejects(same.health(), isCode('SIGNER_UNAVAILABLE'))
    await assert.rejects(same.publicKey(), isCode('SIGNER_UNAVAILABLE'))
    assert.ok(performance.now() - started < 2 * 2000 + MARGIN_MS)

    await daemon.restart() // on the same path, over the stale socket file
    assert.deepEqual(await same.publicKey(), { publicKey: issuer.publicHex, keyId: null })
    assert.equal((await same.health()).status, 'ok')

    // stopped properly, the socket is gone: still SIGNER_UNAVAILABLE, never a hang
    assert.deepEqual(await daemon.stop(), { status: 0, socketGone: true })
    assert.ok(!fs.existsSync(socket))
    await assert.rejects(same.health(), isCode('SIGNER_UNAVAILABLE'))
  } finally {
    await daemon.close()
  }
})

test('many concurrent requests on one client all resolve', async () => {
  const CALLS = 200
  const worker = tc.WorkerKey.generate()
  const expiresAt = now() + 600
  const results = await Promise.all(
    Array.from({ length: CALLS }, (_, i) => {
      switch (i % 4) {
        case 0:
          return client.health().then((h) => assert.equal(h.status, 'ok'))
        case 1:
          return client.publicKey().then((k) => assert.equal(k.publicKey, issuer.publicHex))
        case 2:
          return client.mint({ publicHex: worker.publicHex, holderId: `w-${i}`, facts: { right: ['lease'] }, expiresAt }).then((m) => {
            const authority = tc.parseToken(issuer.publicHex, m.token).blockSource(0)
            assert.ok(authority.includes(`worker_id("w-${i}")`), authority)
          })
        default: {
          const job = { job_id: `j-${i}` }
          return client.signJob(job, `w-${i}`).then((sig) => tc.verifyJob(issuer.publicHex, { ...job, sig }, `w-${i}`))
        }
      }
    }),
  )
  assert.equal(results.length, CALLS)
})

test('a loopback TCP signer is reached by tcp:127.0.0.1:PORT', async () => {
  const daemon = await startSigner({ seedHex: issuer.secretHex(), tcp: true })
  try {
    assert.match(daemon.address, /^tcp:127\.0\.0\.1:\d+$/)
    const tcp = new tc.SignerClient(daemon.address)
    assert.equal(tcp.address, daemon.address)
    assert.deepEqual(await tcp.publicKey(), { publicKey: issuer.publicHex, keyId: null })
    const job = { job_id: 'tcp' }
    tc.verifyJob(issuer.publicHex, { ...job, sig: await tcp.signJob(job, 'w') }, 'w')
    assert.deepEqual(await daemon.stop(), { status: 0, socketGone: true })
  } finally {
    await daemon.close()
  }
})

test('bad addresses and timeouts: MALFORMED_INPUT; values of the wrong type: TypeError', () => {
  for (const address of ['tcp:10.1.2.3:4000', '192.168.0.1:80', 'tcp:[2001:db8::1]:80', 'tcp:0.0.0.0:80', '', 'unix:', 'no-slash-nor-port']) {
    assert.throws(() => new tc.SignerClient(address), isCode('MALFORMED_INPUT'), address)
  }
  for (const address of ['tcp:127.0.0.1:1', '[::1]:1', 'unix:relative.sock', '/tmp/x.sock']) {
    assert.ok(new tc.SignerClient(address) instanceof tc.SignerClient, address) // nothing connects yet
  }
  for (const field of ['connectTimeoutMs', 'requestTimeoutMs']) {
    for (const value of [0, -0, -1, -0.5, NaN, Infinity, -Infinity, 1e300]) {
      assert.throws(() => new tc.SignerClient('/tmp/x.sock', { [field]: value }), isCode('MALFORMED_INPUT'), `${field}: ${value}`)
    }
    assert.throws(() => new tc.SignerClient('/tmp/x.sock', { [field]: '500' }), isTypeError, field)
    assert.ok(new tc.SignerClient('/tmp/x.sock', { [field]: 0.5 }))
  }
  assert.ok(new tc.SignerClient('/tmp/x.sock', {}) && new tc.SignerClient('/tmp/x.sock', null))
  for (const args of [[], [42], [null], [{ path: '/tmp/x.sock' }], ['/tmp/x.sock', 'fast'], ['/tmp/x.sock', 5]]) {
    assert.throws(() => new tc.SignerClient(...args), isTypeError, JSON.stringify(args))
  }
  assert.throws(() => tc.SignerClient('/tmp/x.sock'), isTypeError, 'a class: new is needed')
})

test('bad method arguments reject (never throw): TypeError for types, core codes for values', async () => {
  const worker = tc.WorkerKey.generate()
  const good = { publicHex: worker.publicHex, holderId: 'w', facts: { right: ['lease'] }, expiresAt: now() + 60 }
  const typeMistakes = [
    () => client.mint(),
    () => client.mint('x'),
    () => client.mint({ ...good, holderId: 5 }),
    () => client.mint({ ...good, publicHex: undefined }),
    () => client.mint({ ...good, expiresAt: '2100-01-01' }),
    () => client.mint({ ...good, facts: { right: 'lease' } }),
    () => client.mint({ ...good, facts: { right: [1] } }),
    () => client.mint({ ...good, facts: [['right', ['lease']]] }),
    () => client.mint({ ...good, revocationId: 7 }),
    () => client.signJob(),
    () => client.signJob('job', 'w'),
    () => client.signJob([1], 'w'),
    () => client.signJob({ a: 1 }, 5),
  ]
  for (const call of typeMistakes) {
    const pending = call()
    assert.ok(pending instanceof Promise, String(call))
    await assert.rejects(pending, isTypeError, String(call))
  }
  for (const expiresAt of [NaN, Infinity]) {
    await assert.rejects(client.mint({ ...good, expiresAt }), isCode('MALFORMED_INPUT'))
  }
  // a request too large for one frame is refused before it is sent
  await assert.rejects(client.signJob({ blob: 'x'.repeat(2 << 20) }, 'w'), isCode('FRAME_INVALID'))
  for (const name of ['publicKey', 'mint', 'signJob', 'health']) {
    for (const self of [undefined, null, {}, issuer]) {
      await assert.rejects(async () => tc.SignerClient.prototype[name].call(self, good), isTypeError, name)
    }
  }
  assert.equal((await client.health()).status, 'ok')
})
