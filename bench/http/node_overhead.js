'use strict'
// asgi_overhead.py's twin for Node (bench/README.md, "Adapter cost"): the CPU per request
// (process.cpuUsage: waiting on a busy machine is not counted) of the same app served by Express 4,
// Express 5 and Fastify without trustcore (plain: the app reads the body itself, as the matrix's
// server does) and with its middleware, each request injected in process (light-my-request, the
// same for both, no sockets), against Verifier.decide alone on the same kind of signed requests
// (the matrix's POST /lease/a, RFC 9421). protected − plain − decide is what the middleware adds
// to the binding's own decision. Five rounds of 2,000 requests per framework, one at a time.
//
// The same round then splits that figure in three, each the median of the rounds:
//   - the adapter alone: the protected app with its Verifier's `decide` replaced by a constant
//     allowed decision, minus plain (the middleware's own JS, streams and Promises, no native work);
//   - the decision inside the app: `decide`'s own time (wall, one thread) measured around each call
//     in the protected app, minus `decide` alone in a loop;
//   - the rest: protected − plain − adapter alone − decision inside the app, what the app's own JS
//     costs more when a native decision runs between its steps.
// And two controls for the rest, computed the same way and shown per µs of the work they followed:
// the app with `decide` replaced by a native call that builds no authorizer and keeps no state
// (`Verifier.verifyJob`, one Ed25519 check of a signed job, about 50 µs), and by a JS loop on the
// clock as long as `decide` alone.
//
//   usage: node node_overhead.js ROUTES.json   (from anywhere: the packages come from bindings-node/)

const { createRequire } = require('node:module')
const path = require('node:path')

const pkgRequire = createRequire(path.join(__dirname, '..', '..', 'bindings-node', 'package.json'))
const tc = pkgRequire('trustcore')
const inject = pkgRequire('light-my-request')

const REQUESTS = 2000
const ROUNDS = 5
const HOST = '127.0.0.1:8000'
const BODY = Buffer.from('{"episode":"e1"}')

const issuer = tc.IssuerKey.generate()
const holder = tc.WorkerKey.generate()
const token = tc.mintBiscuit(issuer, {
  publicHex: holder.publicHex, holderId: 'gpu-1', facts: { right: ['lease'], lane: ['a'] }, revocationId: 'rev-1',
  expiresAt: Date.now() / 1000 + 3600,
})
const policy = tc.HttpPolicy.fromFile(process.argv[2])
const verifier = () => new tc.Verifier(issuer.publicHex, { authorities: [HOST] })

/** Signed requests' header objects (each its own nonce), made before timing. */
function requests() {
  const host = [['Host', HOST]]
  return Array.from({ length: REQUESTS }, () => ({
    host: HOST, 'content-type': 'application/json',
    ...Object.fromEntries(Object.entries(tc.signRequest(holder, token, { method: 'POST', url: '/lease/a', headers: host, body: BODY }))),
  }))
}

const answer = (body) => ({ ok: true, length: body.length })

// what the constant stand-in answers: an allowed decision of the same shape as core's
const ALLOWED = Object.freeze({
  allowed: true, status: 200, code: null, message: 'allowed', headers: [], body: '',
  identity: Object.freeze({ holderId: 'gpu-1' }), facts: [['req_method', 'POST']], route: '/lease/{lane}', profile: 'rfc9421',
})
// the native control's work: one signed job, checked by the Verifier (an Ed25519 check, no authorizer)
const JOB = { id: 'job-1', kind: 'transcribe', n: 3 }
JOB.sig = tc.signJob(issuer, JOB, 'gpu-1')

/**
 * A Verifier whose `decide` is `mode`'s, timed around each call (wall time on the one JS thread):
 * `protected` core's own, `constant` the allowed decision at once, `native` verifyJob then the
 * allowed decision, `js` a loop on the clock for `spinMs` then the allowed decision.
 */
function verifierFor(mode, spinMs) {
  const v = verifier()
  const clock = { ns: 0n, calls: 0 }
  const core = v.decide.bind(v)
  const work = {
    protected: core,
    constant: () => ALLOWED,
    native: () => (v.verifyJob(JOB, 'gpu-1'), ALLOWED),
    js: () => {
      // performance.now() allocates nothing: the loop makes no garbage for the collector
      const end = performance.now() + spinMs
      while (performance.now() < end);
      return ALLOWED
    },
  }[mode]
  v.decide = (request, options) => {
    const start = process.hrtime.bigint()
    const decision = work(request, options)
    clock.ns += process.hrtime.bigint() - start
    clock.calls++
    return decision
  }
  return { v, clock }
}

function expressApp(name, v) {
  const express = pkgRequire(name)
  const app = express()
  app.use(v ? pkgRequire('trustcore/express')({ verifier: v, policy }) : express.raw({ type: () => true }))
  app.use((req, res) => res.json(answer(req.body)))
  return app
}

async function fastifyApp(v) {
  const Fastify = pkgRequire('fastify')
  const app = Fastify()
  if (v) await app.register(pkgRequire('trustcore/fastify'), { verifier: v, policy })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => done(null, body))
  app.all('*', async (request) => answer(request.body))
  await app.ready()
  return app
}

/** CPU µs per request of `send` over every request, one at a time; each must be answered 200. */
async function cpuPerRequest(send, pool) {
  const start = process.cpuUsage()
  for (const headers of pool) {
    const res = await send(headers)
    if (res.statusCode !== 200) throw new Error(`answered ${res.statusCode}: ${res.payload}`)
  }
  const used = process.cpuUsage(start)
  return (used.user + used.system) / pool.length
}

/** CPU µs per call of `call` over `items`, in a loop. */
function cpuPerCall(call, items) {
  const start = process.cpuUsage()
  for (const item of items) call(item)
  const used = process.cpuUsage(start)
  return (used.user + used.system) / items.length
}

function decideAlone(pool) {
  const v = verifier()
  // the header lines made before timing, as the middleware is handed Node's rawHeaders ready-made
  const requests = pool.map((headers) => ({ method: 'POST', target: '/lease/a', headers: Object.entries(headers), body: BODY }))
  return cpuPerCall((request) => {
    if (!v.decide(request, { policy }).allowed) throw new Error('refused')
  }, requests)
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const f = (x) => x.toFixed(1)
const f2 = (x) => x.toFixed(2)

async function main() {
  const frameworks = {
    express4: async (v) => expressApp('express', v),
    express5: async (v) => expressApp('express5', v),
    fastify: fastifyApp,
  }
  for (const [name, make] of Object.entries(frameworks)) {
    const rounds = []
    for (let round = 0; round < ROUNDS; round++) {
      const decide = decideAlone(requests())
      const v = verifier()
      cpuPerCall(() => v.verifyJob(JOB, 'gpu-1'), Array(200)) // warm
      const verifyJob = cpuPerCall(() => v.verifyJob(JOB, 'gpu-1'), Array(REQUESTS))
      // the app's CPU per request and its `decide`'s wall µs per call, per mode
      const app = {}
      const inside = {}
      for (const mode of ['plain', 'protected', 'constant', 'native', 'js']) {
        const made = mode === 'plain' ? null : verifierFor(mode, decide / 1e3)
        const server = await make(made && made.v)
        const dispatch = name === 'fastify' ? (opts) => server.inject(opts) : (opts) => inject(server, opts)
        const send = (headers) => dispatch({ method: 'POST', url: '/lease/a', headers, payload: BODY })
        await cpuPerRequest(send, requests().slice(0, 200)) // warm the JIT and the token cache
        if (made) Object.assign(made.clock, { ns: 0n, calls: 0 })
        app[mode] = await cpuPerRequest(send, requests())
        if (made) inside[mode] = Number(made.clock.ns) / made.clock.calls / 1e3
        if (name === 'fastify') await server.close()
      }
      const r = {
        adds: app.protected - app.plain - decide,
        adapter: app.constant - app.plain,
        decideInside: inside.protected - decide,
        rest: app.protected - app.constant - inside.protected,
        nativeRest: app.native - app.constant - inside.native,
        jsRest: app.js - app.constant - inside.js,
      }
      // each rest per µs of the work it followed: the decision, the native control, the JS loop
      Object.assign(r, { restShare: r.rest / inside.protected, nativeShare: r.nativeRest / inside.native, jsShare: r.jsRest / inside.js })
      rounds.push(r)
      console.log(`${name}: plain ${f(app.plain)} µs CPU, protected ${f(app.protected)}, decide alone ${f(decide)}: ` +
        `the middleware adds ${f(r.adds)} µs = adapter alone ${f(r.adapter)} + decide inside the app ${f(inside.protected)} ` +
        `(${f(r.decideInside)} more than alone) + the rest ${f(r.rest)} (${f2(r.restShare)} per µs of decide inside); ` +
        `the rest after verifyJob (${f(verifyJob)} alone, ${f(inside.native)} inside) ${f(r.nativeRest)} (${f2(r.nativeShare)}), ` +
        `after a JS loop as long as decide (${f(inside.js)}) ${f(r.jsRest)} (${f2(r.jsShare)})`)
    }
    const m = (key, format = f) => format(median(rounds.map((r) => r[key])))
    console.log(`${name} median: the middleware adds ${m('adds')} µs CPU per request; adapter alone ${m('adapter')}, ` +
      `decide inside the app over alone ${m('decideInside')}, the rest ${m('rest')} (${m('restShare', f2)} per µs); ` +
      `the rest per µs after verifyJob ${m('nativeShare', f2)}, after a JS loop ${m('jsShare', f2)}`)
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
