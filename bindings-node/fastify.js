'use strict'
// trustcore/fastify: a Fastify plugin (fastify-plugin style: its hook applies to the whole app, 404s
// included). A preParsing hook reads the body once from `request.raw` (never past the policy's
// cap), hands core the request as received (method, `request.originalUrl`, the raw header lines,
// the body) and either answers the refusal exactly as core's decision gives it (status, headers,
// body), or sets `request.trustcore` and hands the very same bytes on to Fastify's content-type
// parsers, so `request.body` is parsed from what the proof covered. docs/DESIGN.md §10.3.

const { Readable } = require('node:stream')
const adapter = require('./http-adapter.js')

/** `fastify.register(trustcore, { verifier, policy, facts? })`, before any other preParsing hook. */
function trustcore(fastify, options, done) {
  const config = adapter.settings('trustcore/fastify', options)
  fastify.decorateRequest('trustcore', null)
  fastify.addHook('preParsing', async function trustcorePreParsing(request, reply, payload) {
    const raw = request.raw
    if (payload !== raw || adapter.alreadyRead(raw)) {
      throw new Error('trustcore/fastify: the request body was read or replaced before the plugin: register trustcore before any other preParsing hook')
    }
    const refusal = adapter.announcedRefusal(config.policy, raw.headers)
    if (refusal !== null) return refuse(raw, reply, refusal, false)
    const { body, complete } = await adapter.readBody(raw, config.cap)
    const decision = await adapter.decide(config, raw, request.originalUrl, request, body, complete)
    if (!decision.allowed) return refuse(raw, reply, decision, complete)
    request.trustcore = adapter.requestInfo(decision, body)
    return replay(body)
  })
  done()
}

/** Answer a refusal exactly as decided; a body left unread (over the cap) is drained after it. */
function refuse(raw, reply, decision, complete) {
  if (!complete) adapter.dropUnreadBody(raw, reply.raw)
  // a Buffer: Fastify sends it as is, with the decision's Content-Type untouched
  reply.code(decision.status).headers(decision.headers).send(Buffer.from(decision.body))
  return undefined
}

/** The body read, as the payload stream Fastify's content-type parsers read next. */
function replay(body) {
  const stream = new Readable({ read() {} })
  if (body.length > 0) stream.push(body)
  stream.push(null)
  // what Fastify compares with Content-Length and its bodyLimit
  stream.receivedEncodedLength = body.length
  return stream
}

// what fastify-plugin sets: the hook is not encapsulated, so it guards every route of the app
trustcore[Symbol.for('skip-override')] = true
trustcore[Symbol.for('fastify.display-name')] = 'trustcore'
trustcore[Symbol.for('plugin-meta')] = { name: 'trustcore', fastify: '5.x' }

module.exports = trustcore
module.exports.trustcore = trustcore
module.exports.default = trustcore
