'use strict'
// The middleware over a Verifier on Redis, for Express 4, Express 5 and Fastify on loopback: served
// while a real redis-server runs (test/redis-server.js), 503 STORE_UNAVAILABLE with Retry-After once
// it is stopped (never a pass, never a 401), the public route still served meanwhile; and with a
// Redis that accepts connections and never answers, the server's event loop keeps running while
// decisions wait on it: a timer keeps firing, the libuv pool is free, and the public route is
// answered before any of the waiting requests is refused. No timing is asserted, only the order in
// which things settle. (Redis-backed decisions share the addon's 4 threads, public routes' too: one
// waiting request per server here leaves a thread for the public route.)

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const tc = require('trustcore')
const signedFetch = require('trustcore/fetch')
const { RedisServer } = require('./redis-server.js')
const { FRAMEWORKS, serve, read } = require('./http-servers.js')

const issuer = tc.IssuerKey.generate()
const worker = tc.WorkerKey.generate()
const token = tc.mintBiscuit(issuer, {
  publicHex: worker.publicHex,
  holderId: 'worker-1',
  facts: { right: ['lease'], lane: ['a'] },
  revocationId: 'rev-redis',
  expiresAt: Date.now() / 1000 + 3600,
})
const send = signedFetch(worker, token)

test('Redis stopped: 503 STORE_UNAVAILABLE with Retry-After from every framework; the public route still served', async (t) => {
  const redis = await RedisServer.start()
  t.after(() => redis.close())
  const servers = await Promise.all(
    FRAMEWORKS.map((framework, i) =>
      serve(framework, { issuer, verifierOptions: { redis: { url: redis.url, keyPrefix: `mw-${i}:`, retryIntervalMs: 60_000 } } }),
    ),
  )
  t.after(() => Promise.all(servers.map((server) => server.close())))
  for (const server of servers) {
    const res = await read(await send(`${server.base}/lease/a`, { method: 'POST', body: '{"n":1}' }))
    assert.deepEqual([res.status, res.json.holder_id], [200, 'worker-1'], server.framework)
  }
  assert.ok(Number(await redis.command('DBSIZE').then((line) => line.slice(1))) >= 3, 'the nonces are in Redis')
  await redis.stop()
  for (const server of servers) {
    const res = await read(await send(`${server.base}/lease/a`, { method: 'POST', body: '{"n":2}' }))
    assert.equal(res.status, 503, `${server.framework}: ${res.text}`)
    assert.equal(res.headers['retry-after'], '1')
    assert.equal(res.json.error, 'STORE_UNAVAILABLE')
    assert.equal(res.headers['www-authenticate'], undefined)
    const legacy = await read(await signedFetch(worker, token, { profile: 'legacy' })(`${server.base}/lease/a`, { method: 'POST', body: '{}' }))
    assert.equal(legacy.status, 503, server.framework)
    const health = await read(await fetch(`${server.base}/health`))
    assert.equal(health.status, 200, server.framework)
    // the cap comes first: a body over it is 413 whatever the store
    const over = await read(await send(`${server.base}/lease/a`, { method: 'POST', body: Buffer.alloc(2000) }))
    assert.equal(over.status, 413, server.framework)
  }
})

/** A fake Redis on a free loopback port: accepts, reads and ignores everything, never answers. */
async function blackHole() {
  const sockets = new Set()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('data', () => {})
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `redis://127.0.0.1:${server.address().port}/`,
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(resolve))
    },
  }
}

test('a silent Redis never holds the event loop: timers fire and the public route is answered while decisions wait', async (t) => {
  const fake = await blackHole()
  t.after(() => fake.close())
  const redis = { url: fake.url, connectTimeoutMs: 600, commandTimeoutMs: 600, requestTimeoutMs: 600, retryIntervalMs: 60_000 }
  const servers = await Promise.all(FRAMEWORKS.map((framework) => serve(framework, { issuer, verifierOptions: { redis } })))
  t.after(() => Promise.all(servers.map((server) => server.close())))

  const events = []
  let ticks = 0
  const timer = setInterval(() => ticks++, 10)
  t.after(() => clearInterval(timer))
  const waiting = servers.map((server) =>
    send(`${server.base}/lease/a`, { method: 'POST', body: '{"n":1}' })
      .then(read)
      .then((res) => {
        events.push(`${server.framework}-signed`)
        return [res.status, res.json.error, ticks]
      }),
  )
  // the signed requests are at the verifiers (their decisions waiting on the fake) before these go
  await new Promise((resolve) => setTimeout(resolve, 100))
  const ticksBefore = ticks
  const file = fs.promises.readFile(__filename).then(() => events.push('readFile'))
  const health = await Promise.all(
    servers.map((server) =>
      fetch(`${server.base}/health`)
        .then(read)
        .then((res) => {
          events.push(`${server.framework}-health`)
          return res.status
        }),
    ),
  )
  const outcomes = await Promise.all(waiting)
  await file
  assert.deepEqual(health, [200, 200, 200])
  assert.deepEqual(events.slice(0, 4).sort(), ['readFile', ...FRAMEWORKS.map((f) => `${f}-health`)].sort(), `waited on Redis: ${events.join(', ')}`)
  for (const [status, code, ticksThen] of outcomes) {
    assert.deepEqual([status, code], [503, 'STORE_UNAVAILABLE'])
    assert.ok(ticksThen > ticksBefore, 'the timer stopped while a decision waited')
  }
})
