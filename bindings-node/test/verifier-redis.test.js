'use strict'
// The Verifier on Redis, against a real redis-server on a free loopback port (started here,
// stopped after; missing redis-server fails, never skips): two verifier processes sharing one
// Redis accept each nonce exactly once between them, a revocation written by one refuses the token
// in the other, Redis gone (or too slow) is STORE_UNAVAILABLE for every request and never a pass
// until it returns, and the event loop keeps running while Redis-backed calls wait.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const net = require('node:net')
const readline = require('node:readline')
const { spawn } = require('node:child_process')
const tc = require('trustcore')
const { RedisServer, sleep } = require('./redis-server.js')

const issuer = tc.IssuerKey.generate()
const worker = tc.WorkerKey.generate()
const nowSeconds = () => Date.now() / 1000
const mint = (revocationId) =>
  tc.mintBiscuit(issuer, {
    publicHex: worker.publicHex,
    holderId: 'worker-1',
    facts: { right: ['lease'] },
    revocationId,
    expiresAt: nowSeconds() + 3600,
  })
const token = mint('rev-1')
const request = { method: 'POST', path: '/lease', body: '{"pool":"gpu"}' }
const proof = (nonce, tokenB64 = token) => tc.makeProof(worker, tokenB64, request, String(Math.floor(nowSeconds())), nonce)
const codeOf = async (call) => {
  try {
    await call()
    return 'OK'
  } catch (err) {
    if (err instanceof tc.TrustError) return err.code
    throw err
  }
}
const tally = (outcomes) => outcomes.reduce((t, o) => ({ ...t, [o]: (t[o] ?? 0) + 1 }), {})

/**
 * After a failure core's Redis stores fail at once for their retry interval (1 s), then let one
 * probe through at a time until one succeeds (a circuit breaker): once Redis is back, send requests
 * with fresh nonces, one at a time, until one is served. Each refused meanwhile must be
 * STORE_UNAVAILABLE; no timing is asserted (it gives up after some 30 s).
 */
async function untilServed(verifier, tag) {
  for (let i = 0; ; i++) {
    const outcome = await codeOf(() => verifier.authenticateAsync(proof(`${tag}-probe-${i}`), request))
    if (outcome === 'OK') return
    assert.equal(outcome, 'STORE_UNAVAILABLE', `${tag}: while service resumes`)
    assert.ok(i < 600, `${tag}: service did not resume after Redis returned`)
    await sleep(50)
  }
}

let redis
let prefixes = 0
/** A key prefix of its own for each test: the tests share one redis-server. */
const freshPrefix = () => `trustcore-node-test-${process.pid}-${++prefixes}:`
const redisOptions = (keyPrefix, more = {}) => ({ url: redis.url, keyPrefix, ...more })

before(async () => {
  redis = await RedisServer.start()
})

after(async () => {
  await redis.close()
})

/** `node test/verifier-process.js`: another verifier process, with the same addon, driven over stdin. */
async function verifierProcess(options) {
  const script = path.join(__dirname, 'verifier-process.js')
  const child = spawn(process.execPath, [script, JSON.stringify({ issuer: issuer.publicHex, options })], {
    cwd: path.join(__dirname, '..'),
    stdio: ['pipe', 'pipe', 'pipe'],
    // more pool threads than the default 4: more requests in flight against Redis at once
    env: { ...process.env, UV_THREADPOOL_SIZE: '8' },
  })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)))
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const pending = new Map()
  let ready
  const readyNow = new Promise((resolve, reject) => {
    ready = resolve
    exited.then((status) => reject(new Error(`verifier process exited ${JSON.stringify(status)}: ${stderr}`)))
  })
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line)
    if (message.ready) return ready(message)
    const { resolve, reject } = pending.get(message.id)
    pending.delete(message.id)
    if (message.crash) reject(new Error(`verifier process: ${message.crash}`))
    else resolve(message.outcomes)
  })
  exited.then((status) => {
    for (const { reject } of pending.values()) reject(new Error(`verifier process exited ${JSON.stringify(status)}: ${stderr}`))
  })
  await readyNow
  let ids = 0
  return {
    call(message) {
      const id = ++ids
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject })
        child.stdin.write(`${JSON.stringify({ id, ...message })}\n`)
      })
    },
    async close() {
      child.stdin.end()
      const status = await exited
      assert.deepEqual(status, { code: 0, signal: null }, stderr)
    },
  }
}

test('two verifier processes on one Redis: 1,000 nonces sent to both at once, each accepted exactly once', async () => {
  const keyPrefix = freshPrefix()
  const [a, b] = await Promise.all([
    verifierProcess({ redis: redisOptions(keyPrefix) }),
    verifierProcess({ redis: redisOptions(keyPrefix) }),
  ])
  try {
    const proofs = Array.from({ length: 1000 }, (_, i) => proof(`race-${i}`))
    await Promise.all([a, b].map((p) => p.call({ op: 'load', name: 'race', proofs, request })))
    // both start at the same instant (a pipe write apart, one process would be done before the other began)
    const startAt = Date.now() + 200
    const [fromA, fromB] = await Promise.all([a, b].map((p) => p.call({ op: 'run', name: 'race', startAt })))
    const total = tally([...fromA, ...fromB])
    console.log(`1,000 nonces to two processes: A ${JSON.stringify(tally(fromA))}, B ${JSON.stringify(tally(fromB))}`)
    assert.deepEqual(total, { OK: 1000, REPLAYED: 1000 })
    // nonce by nonce: exactly one process accepted it
    for (let i = 0; i < 1000; i++) assert.ok((fromA[i] === 'OK') !== (fromB[i] === 'OK'), `nonce ${i}: A ${fromA[i]}, B ${fromB[i]}`)
    // one key per nonce, hashed and prefixed, expiring after twice the skew plus a second (default 601 s)
    assert.equal(await redis.command('KEYS', `${keyPrefix}replay:*`), '*1000')
    const ttl = Number((await redis.command('PTTL', `${keyPrefix}replay:${'0'.repeat(64)}`)).slice(1))
    assert.equal(ttl, -2, 'no key is named after the nonce itself')
  } finally {
    await Promise.all([a.close(), b.close()])
  }
})

test('a revocation written by one process refuses the token in the other on its next request', async () => {
  const keyPrefix = freshPrefix()
  const [a, b] = await Promise.all([
    verifierProcess({ redis: redisOptions(keyPrefix) }),
    verifierProcess({ redis: redisOptions(keyPrefix) }),
  ])
  try {
    // B has verified (and cached) the token
    assert.deepEqual(await b.call({ op: 'authenticate', proof: proof('rev-a'), request }), ['OK'])
    assert.deepEqual(await b.call({ op: 'authenticate', proof: proof('rev-b'), request, sync: true }), ['OK'])
    assert.deepEqual(await a.call({ op: 'revoke', revokeId: 'rev-1' }), ['OK'])
    assert.deepEqual(await b.call({ op: 'authenticate', proof: proof('rev-c'), request }), ['REVOKED'])
    assert.deepEqual(await b.call({ op: 'authenticate', proof: proof('rev-d'), request, sync: true }), ['REVOKED'])
    assert.deepEqual(await a.call({ op: 'authenticate', proof: proof('rev-e'), request }), ['REVOKED'])
    assert.equal(await redis.command('SISMEMBER', `${keyPrefix}revoked`, 'rev-1'), ':1')

    // ids revoked at construction go to the shared set too: a third process refuses them in A and B
    const other = mint('rev-2')
    assert.deepEqual(await a.call({ op: 'authenticate', proof: proof('rev-f', other), request }), ['OK'])
    const c = await verifierProcess({ redis: redisOptions(keyPrefix), revokedIds: ['rev-2'] })
    await c.close()
    assert.deepEqual(await a.call({ op: 'authenticate', proof: proof('rev-g', other), request }), ['REVOKED'])
    assert.deepEqual(await b.call({ op: 'authenticate', proof: proof('rev-h', other), request }), ['REVOKED'])

    // another key prefix is another deployment: it does not see these revocations
    const elsewhere = new tc.Verifier(issuer.publicHex, { redis: redisOptions(freshPrefix()) })
    assert.equal(await codeOf(() => elsewhere.authenticateAsync(proof('rev-i'), request)), 'OK')
  } finally {
    await Promise.all([a.close(), b.close()])
  }
})

test('on Redis: a revocation id is written in its one spelling, refused ids never reach it, revokeToken is shared', async () => {
  const keyPrefix = freshPrefix()
  const a = new tc.Verifier(issuer.publicHex, { redis: redisOptions(keyPrefix) })
  const b = new tc.Verifier(issuer.publicHex, { redis: redisOptions(keyPrefix) })
  const other = mint('rev-canon')
  const [blockId] = tc.parseToken(issuer.publicHex, other).revocationIds
  assert.equal(await codeOf(() => a.revokeAsync(blockId.toUpperCase())), 'OK')
  assert.equal(await redis.command('SISMEMBER', `${keyPrefix}revoked`, blockId), ':1')
  assert.equal(await codeOf(() => b.authenticateAsync(proof('canon-1', other), request)), 'REVOKED')
  for (const id of [' rev-1', `0x${blockId}`, '']) assert.equal(await codeOf(() => a.revokeAsync(id)), 'MALFORMED_INPUT', JSON.stringify(id))
  assert.equal(await redis.command('SCARD', `${keyPrefix}revoked`), ':1')
  // a whole token, revoked through one verifier, is refused by the other
  const { token: verified } = await b.authenticateAsync(proof('canon-2'), request)
  assert.equal(await a.revokeTokenAsync(verified), undefined)
  assert.equal(await codeOf(() => b.authenticateAsync(proof('canon-3'), request)), 'REVOKED')
  assert.equal(await redis.command('SCARD', `${keyPrefix}revoked`), ':3') // that block id and rev-1, and the first
  // an initial list with an id that could never match is refused before anything is written
  const refused = freshPrefix()
  assert.equal(await codeOf(() => new tc.Verifier(issuer.publicHex, { redis: redisOptions(refused), revokedIds: ['rev-2', ' rev-1'] })), 'MALFORMED_INPUT')
  assert.equal(await redis.command('EXISTS', `${refused}revoked`), ':0')
})

test('Redis stopped mid-run: every request STORE_UNAVAILABLE, none accepted; restarted on the same port, service resumes', async () => {
  const verifier = new tc.Verifier(issuer.publicHex, { redis: redisOptions(freshPrefix()) })
  let nonces = 0
  let stopped = false
  const log = [] // { afterStop, outcome }
  // four lanes of requests with fresh nonces, all through the run
  // until 400 requests started after the stop (however long stopping takes on a loaded machine)
  const afterStopCount = () => log.filter((e) => e.afterStop === 'done').length
  const lanes = Array.from({ length: 4 }, async () => {
    while (stopped !== 'done' || afterStopCount() < 400) {
      const afterStop = stopped
      const outcome = await codeOf(() => verifier.authenticateAsync(proof(`mid-${++nonces}`), request))
      log.push({ afterStop, outcome })
      if (!stopped && log.length >= 100) {
        // requests started while it is being killed may go either way; those started after, never
        stopped = 'stopping'
        await redis.stop()
        stopped = 'done'
      }
    }
  })
  await Promise.all(lanes)
  const before = log.filter((e) => e.afterStop === false)
  const afterStop = log.filter((e) => e.afterStop === 'done')
  assert.ok(before.filter((e) => e.outcome === 'OK').length >= 100, JSON.stringify(tally(before.map((e) => e.outcome))))
  // a request in flight while Redis died may have gone either way; nothing else but these two
  assert.deepEqual(
    Object.keys(tally(log.map((e) => e.outcome))).filter((o) => o !== 'OK' && o !== 'STORE_UNAVAILABLE'),
    [],
  )
  assert.ok(afterStop.length >= 400, `${afterStop.length} requests after the stop`)
  assert.deepEqual(tally(afterStop.map((e) => e.outcome)), { STORE_UNAVAILABLE: afterStop.length })

  // the sync forms, revocation included, say the same
  assert.equal(await codeOf(() => verifier.authenticate(proof('down-sync'), request)), 'STORE_UNAVAILABLE')
  assert.equal(await codeOf(() => verifier.revoke('rev-x')), 'STORE_UNAVAILABLE')
  assert.equal(await codeOf(() => verifier.revokeAsync('rev-x')), 'STORE_UNAVAILABLE')
  // a verifier made while Redis is down with ids to revoke cannot write them: refused, not half-made
  assert.throws(
    () => new tc.Verifier(issuer.publicHex, { redis: redisOptions(freshPrefix()), revokedIds: ['rev-1'] }),
    (err) => err instanceof tc.TrustError && err.code === 'STORE_UNAVAILABLE',
  )
  // a verifier without initial revocations is made without contacting Redis
  const lazy = new tc.Verifier(issuer.publicHex, { redis: redisOptions(freshPrefix()) })
  assert.equal(await codeOf(() => lazy.authenticateAsync(proof('down-lazy'), request)), 'STORE_UNAVAILABLE')

  await redis.restart()
  // service resumes by itself once the breaker's probe gets through
  await untilServed(verifier, 'back')
  const resumed = await Promise.all(Array.from({ length: 50 }, (_, i) => codeOf(() => verifier.authenticateAsync(proof(`back-${i}`), request))))
  assert.deepEqual(tally(resumed), { OK: 50 })
  // a nonce refused while Redis was down was not burned: its retry goes through
  assert.equal(await codeOf(() => verifier.authenticate(proof('down-sync'), request)), 'OK')
  assert.equal(await codeOf(() => verifier.authenticate(proof('down-sync'), request)), 'REPLAYED')
  await untilServed(lazy, 'lazy')
  assert.equal(await codeOf(() => lazy.authenticateAsync(proof('down-lazy'), request)), 'OK')
})

test('Redis too slow (past commandTimeoutMs) is STORE_UNAVAILABLE, never a pass', async () => {
  const verifier = new tc.Verifier(issuer.publicHex, { redis: redisOptions(freshPrefix(), { connectTimeoutMs: 200, commandTimeoutMs: 200 }) })
  assert.equal(await codeOf(() => verifier.authenticateAsync(proof('slow-0'), request)), 'OK')
  await redis.pause()
  try {
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => codeOf(() => verifier.authenticateAsync(proof(`slow-${i + 1}`), request))))
    assert.deepEqual(tally(outcomes), { STORE_UNAVAILABLE: 8 })
    assert.equal(await codeOf(() => verifier.revokeAsync('rev-slow')), 'STORE_UNAVAILABLE')
  } finally {
    await redis.resume()
  }
  await untilServed(verifier, 'slow-back')
  // fresh nonces: a SET that timed out may still have reached Redis (a burned nonce, never a pass)
  const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => codeOf(() => verifier.authenticateAsync(proof(`fast-${i}`), request))))
  assert.deepEqual(tally(outcomes), { OK: 8 })
})

test('the event loop keeps running while async Redis-backed calls wait', async () => {
  const verifier = new tc.Verifier(issuer.publicHex, { redis: redisOptions(freshPrefix(), { connectTimeoutMs: 20_000, commandTimeoutMs: 20_000 }) })
  assert.equal(await codeOf(() => verifier.authenticateAsync(proof('loop-0'), request)), 'OK')
  // a loopback echo server: network I/O on the event loop while Redis answers nothing
  const echo = net.createServer((conn) => conn.pipe(conn))
  await new Promise((resolve) => echo.listen(0, '127.0.0.1', resolve))
  const roundTrip = () =>
    new Promise((resolve, reject) => {
      const conn = net.createConnection(echo.address().port, '127.0.0.1', () => conn.write('ping'))
      conn.once('data', (data) => {
        conn.destroy()
        resolve(data.toString())
      })
      conn.once('error', reject)
    })
  await redis.pause()
  let settled = 0
  let calls
  try {
    calls = Array.from({ length: 16 }, (_, i) =>
      codeOf(() => verifier.authenticateAsync(proof(`loop-${i + 1}`), request)).finally(() => settled++),
    )
    let ticks = 0
    const timer = setInterval(() => ticks++, 5)
    await sleep(300)
    assert.equal(await roundTrip(), 'ping')
    clearInterval(timer)
    assert.ok(ticks > 0, 'the timer never fired while the calls waited')
    assert.equal(settled, 0, 'a call settled while Redis answered nothing')
  } finally {
    await redis.resume()
    echo.close()
  }
  assert.deepEqual(tally(await Promise.all(calls)), { OK: 16 })
})
