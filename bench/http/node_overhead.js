'use strict'
// asgi_overhead.py's twin for Node (bench/README.md, "Adapter cost"): the CPU per request
// (process.cpuUsage: waiting on a busy machine is not counted) of the same app served by Express 4,
// Express 5 and Fastify without trustcore (plain: the app reads the body itself, as the matrix's
// server does) and with its middleware, each request injected in process (light-my-request, the
// same for both, no sockets), against Verifier.decide alone on the same kind of signed requests
// (the matrix's POST /lease/a, RFC 9421). protected − plain − decide is what the middleware adds
// to the binding's own decision. Five rounds of 2,000 requests per framework, one at a time.
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

function expressApp(name, protect) {
  const express = pkgRequire(name)
  const app = express()
  app.use(protect ? pkgRequire('trustcore/express')({ verifier: verifier(), policy }) : express.raw({ type: () => true }))
  app.use((req, res) => res.json(answer(req.body)))
  return app
}

async function fastifyApp(protect) {
  const Fastify = pkgRequire('fastify')
  const app = Fastify()
  if (protect) await app.register(pkgRequire('trustcore/fastify'), { verifier: verifier(), policy })
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

function decideAlone(pool) {
  const v = verifier()
  // the header lines made before timing, as the middleware is handed Node's rawHeaders ready-made
  const requests = pool.map((headers) => ({ method: 'POST', target: '/lease/a', headers: Object.entries(headers), body: BODY }))
  const start = process.cpuUsage()
  for (const request of requests) {
    if (!v.decide(request, { policy }).allowed) throw new Error('refused')
  }
  const used = process.cpuUsage(start)
  return (used.user + used.system) / pool.length
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function main() {
  const frameworks = {
    express4: async (protect) => expressApp('express', protect),
    express5: async (protect) => expressApp('express5', protect),
    fastify: fastifyApp,
  }
  for (const [name, make] of Object.entries(frameworks)) {
    const added = []
    for (let round = 0; round < ROUNDS; round++) {
      const figures = {}
      for (const protect of [false, true]) {
        const app = await make(protect)
        const dispatch = name === 'fastify' ? (opts) => app.inject(opts) : (opts) => inject(app, opts)
        const send = (headers) => dispatch({ method: 'POST', url: '/lease/a', headers, payload: BODY })
        await cpuPerRequest(send, requests().slice(0, 200)) // warm the JIT and the token cache
        figures[protect ? 'protected' : 'plain'] = await cpuPerRequest(send, requests())
        if (name === 'fastify') await app.close()
      }
      const decide = decideAlone(requests())
      const adds = figures.protected - figures.plain - decide
      added.push(adds)
      console.log(`${name}: plain ${figures.plain.toFixed(1)} µs CPU, protected ${figures.protected.toFixed(1)}, ` +
        `decide alone ${decide.toFixed(1)}: the middleware adds ${adds.toFixed(1)} µs`)
    }
    console.log(`${name} median: the middleware adds ${median(added).toFixed(1)} µs CPU per request`)
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
