'use strict'
const express = require('express')
const { authenticateAsync, checkPolicyAsync, proofFromHeaders, TrustError } = require('trustcore')

// Authentication failures are 401, authorization failures 403; anything else is a server error.
const FORBIDDEN = new Set(['DENIED', 'LIMIT_EXCEEDED'])
const UNAUTHORIZED = new Set(['MALFORMED_INPUT', 'TOKEN_INVALID', 'TOKEN_UNBOUND', 'REVOKED', 'STALE_REQUEST', 'REPLAYED', 'POP_FAILED'])

/** The exact bytes received, as express.raw() captured them; a body it did not capture is refused. */
function receivedBody(req) {
  if (Buffer.isBuffer(req.body)) return req.body
  // a body was sent but not read as bytes (another parser took it, or raw() was not mounted here):
  // verifying an empty body instead would hand the route bytes no proof covers
  const sentBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0
  if (sentBody) throw new TrustError('MALFORMED_INPUT', 'the request body was not captured as bytes')
  return Buffer.alloc(0)
}

/** Middleware: authenticate the request, then allow it only if the token grants `operation`. */
function requireRight(operation, { issuerPublicHex, revokedIds }) {
  return async (req, res, next) => {
    try {
      const now = Date.now() / 1000
      const request = { method: req.method, path: req.originalUrl, body: receivedBody(req) }
      const { token, identity } = await authenticateAsync(issuerPublicHex, proofFromHeaders(req.headers), request, {
        now,
        revokedIds,
        maxSkewSeconds: 300,
      })
      await checkPolicyAsync(token, {
        requestFacts: { req_operation: operation },
        allow: 'allow if right($op), req_operation($op)',
        now,
      })
      req.identity = identity // holderId, holderPublicHex, revocationId, chain
      next()
    } catch (err) {
      if (!(err instanceof TrustError)) return next(err)
      const status = FORBIDDEN.has(err.code) ? 403 : UNAUTHORIZED.has(err.code) ? 401 : 500
      res.status(status).json({ error: err.code })
    }
  }
}

function createApp({ issuerPublicHex, revokedIds = new Set() }) {
  const app = express()
  // every body as bytes, whatever its Content-Type: express.raw() skips a request without one
  // (even with type '*/*'), and that body would reach the route unread by the proof check
  app.use(express.raw({ type: () => true }))
  app.post('/lease', requireRight('lease', { issuerPublicHex, revokedIds }), (req, res) => {
    res.json({ leasedTo: req.identity.holderId })
  })
  return app
}

module.exports = { createApp, requireRight }
