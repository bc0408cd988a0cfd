'use strict'
const path = require('node:path')
const express = require('express') // Express 4 or 5
const { HttpPolicy, Verifier } = require('trustcore')
const trustcore = require('trustcore/express')

function createApp({ issuerPublicHex, authority }) {
  // once per process: the issuer's public key, the host[:port] this service answers to, the routes
  const verifier = new Verifier(issuerPublicHex, { authorities: [authority] })
  const policy = HttpPolicy.fromFile(path.join(__dirname, 'routes.json'))

  const app = express()
  app.use(trustcore({ verifier, policy })) // first: it reads the body as sent, and refuses as core decides
  app.use(express.json()) // after it: parses the very bytes the proof covered
  app.post('/lease/:lane', (req, res) => {
    const { identity } = req.trustcore // { holderId, holderPublicHex, revocationId }; also facts, route, profile, body
    res.json({ leasedTo: identity.holderId, lane: req.params.lane, episode: req.body.episode })
  })
  app.get('/health', (req, res) => res.json({ ok: true })) // public: no proof needed
  return app
}

module.exports = { createApp }
