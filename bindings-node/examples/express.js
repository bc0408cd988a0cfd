'use strict'
const express = require('express')
const { authenticateAsync, checkPolicyAsync, proofFromHeaders, TrustError } = require('trustcore')

// Authentication failures are 401, authorization failures 403; anything else is a server error.
const FORBIDDEN = new Set(['DENIED', 'LIMIT_EXCEEDED'])
const UNAUTHORIZED = new Set(['MALFORMED_INPUT', 'TOKEN_INVALID', 'TOKEN_UNBOUND', 'REVOKED', 'STALE_REQUEST', 'REPLAYED', 'POP_FAILED'])

/** Middleware: authenticate the request, then allow it only if the token grants `operation`. */
function requireRight(operation, { issuerPublicHex, revokedIds }) {
  return async (req, res, next) => {
    try {
      const now = Date.now() / 1000
      // the proof signs the exact bytes received: mount express.raw() so req.body is a Buffer
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
      const request = { method: req.method, path: req.originalUrl, body }
      const { token, identity } = await authenticateAsync(issuerPublicHex, proofFromHeaders(req.headers), request, {
        now,
        revokedIds,
        maxSkewSeconds: 300,
      })
      await checkPolicyAsync(token, {
        requestFacts: { operation },
        allow: 'allow if right($op), operation($op)',
        now,
      })
      req.identity = identity // holderId, holderPublicHex, revocationId
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
  app.use(express.raw({ type: '*/*' }))
  app.post('/lease', requireRight('lease', { issuerPublicHex, revokedIds }), (req, res) => {
    res.json({ leasedTo: req.identity.holderId })
  })
  return app
}

module.exports = { createApp, requireRight }
