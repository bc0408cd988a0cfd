'use strict'
// The HTTP matrix's Node programs (tests/http-matrix/node/server.js and client.js) speak the
// protocol of tests/http-matrix/README.md: each framework's server started as a subprocess with its
// environment (the Verifier's stores on a real redis-server), `LISTENING <port>` on stdout, the
// app's JSON for allowed requests and core's refusals; the client reading JSON lines and answering
// one line each, in order, until its stdin closes. The matrix driver runs them against every other
// language; here they run against each other.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const readline = require('node:readline')
const { spawn } = require('node:child_process')
const tc = require('trustcore')
const { RedisServer } = require('./redis-server.js')
const { FRAMEWORKS, MATRIX_POLICY } = require('./http-servers.js')

const PROGRAMS = path.join(__dirname, '..', '..', 'tests', 'http-matrix', 'node')
const issuer = tc.IssuerKey.generate()
const worker = tc.WorkerKey.generate()
const token = tc.mintBiscuit(issuer, {
  publicHex: worker.publicHex,
  holderId: 'worker-1',
  facts: { right: ['lease'], lane: ['a'] },
  revocationId: 'rev-matrix',
  expiresAt: Date.now() / 1000 + 3600,
})

/** A matrix server: resolves to { port, exited } once it printed `LISTENING <port>`. */
async function startServer(framework, redisUrl) {
  const env = {
    ...process.env,
    TRUSTCORE_MATRIX_ISSUER_PUBLIC: issuer.publicHex,
    TRUSTCORE_MATRIX_POLICY: MATRIX_POLICY,
    TRUSTCORE_MATRIX_REDIS_URL: redisUrl,
    TRUSTCORE_MATRIX_FRAMEWORK: framework,
  }
  const child = spawn(process.execPath, [path.join(PROGRAMS, 'server.js')], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const [first] = await Promise.race([
    readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]().next().then(({ value }) => [value]),
    exited.then((status) => [`exited ${JSON.stringify(status)}`]),
  ])
  const match = /^LISTENING (\d+)$/.exec(first ?? '')
  assert.ok(match, `${framework}: the first line was ${JSON.stringify(first)}`)
  return { framework, port: Number(match[1]), stop: () => (child.kill('SIGTERM'), exited) }
}

/** The matrix client: send(lines) resolves to its answers, parsed, one per line. */
async function runClient(lines) {
  const child = spawn(process.execPath, [path.join(PROGRAMS, 'client.js')], { stdio: ['pipe', 'pipe', 'inherit'] })
  for (const line of lines) child.stdin.write(`${JSON.stringify(line)}\n`)
  child.stdin.end()
  const answers = []
  for await (const line of readline.createInterface({ input: child.stdout })) answers.push(JSON.parse(line))
  return answers
}

test('the matrix server (express4, express5, fastify) and client speak tests/http-matrix/README.md', async (t) => {
  const redis = await RedisServer.start()
  t.after(() => redis.close())
  const servers = await Promise.all(FRAMEWORKS.map((framework) => startServer(framework, redis.url)))
  t.after(() => Promise.all(servers.map((server) => server.stop())))

  const holder = { holder_secret_hex: worker.secretHex(), token }
  const cases = (port) => {
    const url = (p) => `http://127.0.0.1:${port}${p}`
    return [
      [{ url: url('/lease/a'), method: 'POST', body_hex: '7b2265223a317d00ff', ...holder }, 200, { holder_id: 'worker-1', body_hex: '7b2265223a317d00ff', route: '/lease/{lane}' }],
      [{ url: url('/lease/a?x=1'), method: 'POST', body_hex: '7b7d', ...holder, profile: 'legacy' }, 200, { holder_id: 'worker-1', body_hex: '7b7d', route: '/lease/{lane}' }],
      [{ url: url('/lease/a'), method: 'POST', body_hex: '', ...holder }, 200, { holder_id: 'worker-1', body_hex: '', route: '/lease/{lane}' }],
      [{ url: url('/lease/a'), method: 'POST', body_hex: '7b7d', unsigned: true }, 401, 'MALFORMED_INPUT'],
      [{ url: url('/lease/a'), method: 'POST', body_hex: '7b7d', holder_secret_hex: tc.WorkerKey.generate().secretHex(), token }, 401, 'POP_FAILED'],
      [{ url: url('/health'), method: 'GET', body_hex: '', unsigned: true }, 200, { holder_id: null, body_hex: '', route: '/health' }],
      [{ url: url('/lease/b'), method: 'POST', body_hex: '7b7d', ...holder }, 403, 'DENIED'],
      [{ url: url('/admin'), method: 'GET', body_hex: '', ...holder }, 403, 'DENIED'],
      [{ url: url('/lease/a'), method: 'POST', body_hex: '61'.repeat(1025), ...holder }, 413, 'LIMIT_EXCEEDED'],
    ]
  }
  const all = servers.flatMap((server) => cases(server.port).map((c) => [server.framework, ...c]))
  const answers = await runClient(all.map(([, line]) => line))
  assert.equal(answers.length, all.length)
  for (const [i, [framework, line, status, expected]] of all.entries()) {
    const where = `${framework} ${line.method} ${line.url}`
    assert.equal(answers[i].status, status, `${where}: ${JSON.stringify(answers[i])}`)
    const body = JSON.parse(answers[i].body)
    if (typeof expected === 'string') assert.equal(body.error, expected, where)
    else assert.deepEqual(body, expected, where)
  }

  // Redis stopped: 503 from every server; a request that cannot be sent is an `error` line
  await redis.stop()
  const down = await runClient([
    ...servers.map((server) => ({ url: `http://127.0.0.1:${server.port}/lease/a`, method: 'POST', body_hex: '7b7d', ...holder })),
    { url: 'http://127.0.0.1:1/lease/a', method: 'POST', body_hex: '', ...holder },
  ])
  for (const [i, server] of servers.entries()) {
    assert.equal(down[i].status, 503, `${server.framework}: ${JSON.stringify(down[i])}`)
    assert.equal(JSON.parse(down[i].body).error, 'STORE_UNAVAILABLE')
  }
  assert.equal(typeof down[servers.length].error, 'string')

  // SIGTERM ends each server
  for (const server of servers) assert.deepEqual(await server.stop(), { code: 0, signal: null }, server.framework)
})
