'use strict'
// Real servers and real clients on loopback for the middleware tests: the same tiny app behind
// trustcore/express on Express 4 and 5 and behind trustcore/fastify (it answers every allowed
// request with the holder, the exact body it received, hex, and the route, as the HTTP matrix's
// app does), curl with the headers `trustcore proof` prints, and node:http for what fetch and curl
// will not send (a literal path, a body cut short).

const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { promisify } = require('node:util')
const tc = require('trustcore')
const trustcoreExpress = require('trustcore/express')
const trustcoreFastify = require('trustcore/fastify')

const FRAMEWORKS = ['express4', 'express5', 'fastify']
const MATRIX_POLICY = path.join(__dirname, '..', '..', 'tests', 'http-matrix', 'routes.json')

/**
 * What the app answers to every request the middleware let through: the holder, the body the
 * decision covered (hex), what the framework handed the app as the body (the bytes, hex, or what a
 * parser made of them), the route and the profile.
 */
function answer(info, received) {
  return {
    holder_id: info.identity ? info.identity.holderId : null,
    body_hex: info.body.toString('hex'),
    received: Buffer.isBuffer(received) ? received.toString('hex') : received,
    route: info.route,
    profile: info.profile,
  }
}

function expressApp(express, options, { before, after } = {}) {
  const app = express()
  if (before) app.use(before)
  app.use(trustcoreExpress(options))
  if (after) app.use(after)
  app.use((req, res) => res.json(answer(req.trustcore, req.body)))
  // errors (a misconfiguration) to the app's own handler
  app.use((err, req, res, next) => res.status(500).json({ app_error: err.message }))
  return app
}

async function fastifyApp(options, server, { parsers = 'bytes' } = {}) {
  const Fastify = require('fastify')
  const app = Fastify({ serverFactory: (handler) => server.on('request', handler) })
  await app.register(trustcoreFastify, options)
  if (parsers === 'bytes') {
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => done(null, body))
  }
  app.all('*', async (request) => answer(request.trustcore, request.body ?? Buffer.alloc(0)))
  await app.ready()
  return app
}

/**
 * A server on 127.0.0.1:<free port> with `framework`'s app; its Verifier answers to that authority.
 * `verifierOptions` go to the Verifier (a Redis store), `policy` defaults to the matrix's routes.
 */
async function serve(framework, { issuer, verifierOptions = {}, policy = tc.HttpPolicy.fromFile(MATRIX_POLICY), facts, app: appOptions } = {}) {
  const server = http.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const authority = `127.0.0.1:${server.address().port}`
  const verifier = new tc.Verifier(issuer.publicHex, { authorities: [authority], ...verifierOptions })
  const options = { verifier, policy, facts }
  let fastify = null
  if (framework === 'fastify') fastify = await fastifyApp(options, server, appOptions)
  else server.on('request', expressApp(require(framework === 'express4' ? 'express' : 'express5'), options, appOptions))
  return {
    framework,
    authority,
    base: `http://${authority}`,
    verifier,
    policy,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      if (fastify) await fastify.close()
    },
  }
}

/** A response as { status, headers, text, json } (json: the body parsed, when it is JSON). */
async function read(response) {
  const text = await response.text()
  let json = null
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: response.status, headers: Object.fromEntries(response.headers), text, json }
}

/**
 * One request through node:http with exactly this target (nothing normalized), these headers and
 * these body chunks; `end: false` leaves the body unfinished (the server must answer anyway).
 * Resolves to { status, headers, text, json } once the response has been read.
 */
function raw(base, { method = 'GET', target, headers = {}, chunks = [], end = true }) {
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path: target, headers, agent: false })
    // a server that answers before the body is sent may close while it is still being written:
    // the answer is what counts (a failure here is no answer within 10 s, not a hang)
    req.on('error', (err) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? undefined : reject(err)))
    const timer = setTimeout(() => {
      req.destroy()
      reject(new Error(`no answer to ${method} ${target} within 10 s`))
    }, 10_000)
    req.on('response', (res) => {
      const parts = []
      res.on('data', (part) => parts.push(part))
      res.on('end', () => {
        const text = Buffer.concat(parts).toString()
        let json = null
        try {
          json = JSON.parse(text)
        } catch {}
        clearTimeout(timer)
        resolve({ status: res.statusCode, headers: res.headers, text, json })
        req.destroy()
      })
    })
    req.flushHeaders()
    for (const chunk of chunks) req.write(chunk)
    if (end) req.end()
  })
}

const run = promisify(execFile)
const TRUSTCORE_BIN = process.env.TRUSTCORE_BIN ?? path.join(__dirname, '..', '..', 'target', 'release', 'trustcore')
let keyFiles = 0

/** The holder's key in a 0600 file, as `trustcore proof --key-file` takes it (removed at exit). */
function keyFile(key) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustcore-curl-'))
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, `holder-${++keyFiles}.key`)
  fs.writeFileSync(file, key.secretHex(), { mode: 0o600 })
  return file
}

/** The proof's header lines from `trustcore proof` (`--rfc9421` unless `profile: 'legacy'`). */
async function proofHeaders({ keyPath, token, method, url, body = '', profile = 'rfc9421' }) {
  assert.ok(fs.existsSync(TRUSTCORE_BIN), `no trustcore CLI at ${TRUSTCORE_BIN}: \`make signer-bin\` builds it`)
  const args = ['proof', '--key-file', keyPath, '--token', token, '--method', method, '--url', url, '--body', body]
  if (profile === 'rfc9421') args.push('--rfc9421')
  const { stdout } = await run(TRUSTCORE_BIN, args)
  return stdout.trim().split('\n')
}

/**
 * curl, with `headers` (lines `Name: value`), the body from a file, the URL as given
 * (`--path-as-is`). Resolves to { status, json, text }.
 */
async function curl({ method, url, headers = [], body = null, pathAsIs = false }) {
  const args = ['-sS', '--max-time', '20', '-X', method, '-o', '-', '-w', '\n%{http_code}']
  for (const line of headers) args.push('-H', line)
  if (body !== null) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustcore-curl-body-'))
    const file = path.join(dir, 'body')
    fs.writeFileSync(file, body)
    args.push('--data-binary', `@${file}`)
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  }
  if (pathAsIs) args.push('--path-as-is')
  args.push(url)
  const { stdout } = await run('curl', args, { encoding: 'utf8', maxBuffer: 1 << 20 })
  const cut = stdout.lastIndexOf('\n')
  const text = stdout.slice(0, cut)
  let json = null
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: Number(stdout.slice(cut + 1)), text, json }
}

/** The code a refusal's WWW-Authenticate names. */
function challenge(headers) {
  const value = headers['www-authenticate']
  return value === undefined ? undefined : /error="([A-Z_]+)"/.exec(value)?.[1]
}

module.exports = { FRAMEWORKS, MATRIX_POLICY, serve, read, raw, keyFile, proofHeaders, curl, challenge }
