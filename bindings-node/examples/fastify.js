'use strict'
const path = require('node:path')
const Fastify = require('fastify')
const { HttpPolicy, Verifier } = require('trustcore')
const trustcore = require('trustcore/fastify')

async function createApp({ issuerPublicHex, authority }) {
  const verifier = new Verifier(issuerPublicHex, { authorities: [authority] })
  const policy = HttpPolicy.fromFile(path.join(__dirname, 'routes.json'))

  const app = Fastify()
  await app.register(trustcore, { verifier, policy }) // every route of the app, 404s included
  app.post('/lease/:lane', async (request) => ({
    leasedTo: request.trustcore.identity.holderId,
    lane: request.params.lane,
    episode: request.body.episode, // Fastify's JSON parser read the bytes the proof covered
  }))
  app.get('/health', async () => ({ ok: true }))
  return app
}

module.exports = { createApp }
