'use strict'
// trustcore/express: `trustcore({ verifier, policy })`, an Express 4 and 5 middleware. It hands core
// the request as received (method, `req.originalUrl`, `req.rawHeaders`, the body read once and
// never past the policy's cap) and answers what core's decision says: a refusal exactly as the
// decision gives it (status, headers, body), or `next()` with `req.trustcore` set and the very same
// body bytes in `req.body` (a Buffer) and back in the request stream, for a body parser mounted
// after it. docs/DESIGN.md §10.3 has the decision and its status table.

const adapter = require('./http-adapter.js')

/**
 * The middleware. `options.verifier` (a Verifier; its `authorities` the host[:port] the app answers
 * to), `options.policy` (an HttpPolicy), and optionally `options.facts(req)`: the app's own facts for
 * the request (named `req_…`), or a Promise of them.
 */
function trustcore(options) {
  const config = adapter.settings('trustcore/express', options)
  return function trustcoreMiddleware(req, res, next) {
    protect(config, req, res).then((allowed) => allowed && next(), next)
  }
}

async function protect(config, req, res) {
  if (adapter.alreadyRead(req)) {
    throw new Error('trustcore/express: the request body was read before the middleware: mount trustcore() before any body parser')
  }
  const refusal = adapter.announcedRefusal(config.policy, req.headers)
  if (refusal !== null) return refuse(req, res, refusal, false)
  const { body, complete } = await adapter.readBody(req, config.cap, { replay: true })
  const decision = await adapter.decide(config, req, req.originalUrl, req, body, complete)
  if (!decision.allowed) return refuse(req, res, decision, complete)
  req.trustcore = adapter.requestInfo(decision, body)
  req.body = body
  return true
}

/** Answer a refusal exactly as decided; a body left unread (over the cap) is drained after it. */
function refuse(req, res, decision, complete) {
  if (!complete) adapter.dropUnreadBody(req, res)
  res.writeHead(decision.status, decision.headers)
  res.end(decision.body)
  return false
}

module.exports = trustcore
module.exports.trustcore = trustcore
module.exports.default = trustcore
