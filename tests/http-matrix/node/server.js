'use strict'
// The Node server of the HTTP matrix (../README.md): the tiny app behind trustcore/express (Express 4
// or 5) or trustcore/fastify, per TRUSTCORE_MATRIX_FRAMEWORK (express4, express5 or fastify; default
// express4). It binds 127.0.0.1:0, makes its Verifier for that authority, prints `LISTENING <port>`
// and serves until killed. Every allowed request is answered 200 with the holder, the exact body
// the app received (hex) and the route; refusals are the middleware's, straight from core.
// The package and the frameworks come from bindings-node/ (its node_modules: `make setup-node`).
// TRUSTCORE_MATRIX_PLAIN=1 (the HTTP bench's baseline, bench/README.md): the same app without
// trustcore, every request answered 200 (holder_id and route null; Express reads the body with
// express.raw, Fastify with the same content type parser).

const http = require('node:http')
const { createRequire } = require('node:module')
const path = require('node:path')

const pkgRequire = createRequire(path.join(__dirname, '..', '..', '..', 'bindings-node', 'package.json'))
const { HttpPolicy, Verifier } = pkgRequire('trustcore')

const PLAIN = process.env.TRUSTCORE_MATRIX_PLAIN === '1'
const FRAMEWORKS = { express4: expressApp('express'), express5: expressApp('express5'), fastify: fastifyApp }

function env(name) {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set (tests/http-matrix/README.md)`)
  return value
}

/** What the app answers to every request the middleware let through. */
function answer(identity, body, route) {
  return { holder_id: identity ? identity.holderId : null, body_hex: Buffer.from(body).toString('hex'), route: route ?? null }
}

function expressApp(moduleName) {
  return async ({ verifier, policy }) => {
    const express = pkgRequire(moduleName)
    const trustcore = pkgRequire('trustcore/express')
    const app = express()
    app.use(PLAIN ? express.raw({ type: () => true }) : trustcore({ verifier, policy }))
    // req.body: the bytes the middleware read and core's decision covered
    app.use((req, res) => res.json(answer(req.trustcore?.identity, req.body, req.trustcore?.route)))
    return app
  }
}

async function fastifyApp({ verifier, policy, server }) {
  const Fastify = pkgRequire('fastify')
  const trustcore = pkgRequire('trustcore/fastify')
  const app = Fastify({ serverFactory: (handler) => server.on('request', handler), bodyLimit: Math.max(policy.maxBodyBytes, 1) })
  if (!PLAIN) await app.register(trustcore, { verifier, policy })
  // every body as bytes, whatever its Content-Type (or none): request.body is what the parser got
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => done(null, body))
  app.all('*', async (request) => answer(request.trustcore?.identity, request.body ?? Buffer.alloc(0), request.trustcore?.route))
  await app.ready()
  return null
}

async function main() {
  const framework = process.env.TRUSTCORE_MATRIX_FRAMEWORK || 'express4'
  const makeApp = FRAMEWORKS[framework]
  if (!makeApp) throw new Error(`TRUSTCORE_MATRIX_FRAMEWORK=${framework}: this server serves ${Object.keys(FRAMEWORKS).join(', ')}`)
  const issuer = env('TRUSTCORE_MATRIX_ISSUER_PUBLIC')
  const policy = HttpPolicy.fromFile(env('TRUSTCORE_MATRIX_POLICY'))
  const redisUrl = process.env.TRUSTCORE_MATRIX_REDIS_URL
  const server = http.createServer()
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  const skew = process.env.TRUSTCORE_MATRIX_MAX_SKEW_SECONDS
  const verifier = new Verifier(issuer, {
    authorities: [`127.0.0.1:${port}`],
    ...(redisUrl ? { redis: { url: redisUrl } } : {}),
    ...(skew ? { maxSkewSeconds: Number(skew) } : {}),
  })
  const app = await makeApp({ verifier, policy, server })
  if (app) server.on('request', app)
  process.stdout.write(`LISTENING ${port}\n`)
  process.once('SIGTERM', () => {
    server.close()
    server.closeAllConnections()
  })
}

main().catch((err) => {
  process.stderr.write(`http-matrix node server: ${err.stack ?? err}\n`)
  process.exit(1)
})
