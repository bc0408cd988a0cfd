'use strict'
// One verifier process for the Redis tests: `node verifier-process.js '<settings JSON>'` makes a
// Verifier with the same addon as the test (settings: { issuer, options }), prints {"ready":true},
// then answers one JSON line per request line on stdin:
//   {"id", "op": "load", "name", "proofs": [...], "request"}   keep proofs to run later
//   {"id", "op": "run", "name", "startAt"?}  authenticateAsync every loaded proof at once, in a
//                                        random order, at `startAt` (Date.now() ms) when given;
//                                        outcomes in the order loaded
//   {"id", "op": "authenticate", "proof", "request", "sync"?}  one request
//   {"id", "op": "revoke", "revokeId"}   revoke through this process's verifier
// Each answer is {"id", "outcomes": ["OK" | CODE, ...]}; anything that is not a TrustError is
// {"id", "crash": message}, so the test fails loudly.

const readline = require('node:readline')
const tc = require('trustcore')

const settings = JSON.parse(process.argv[2])
const verifier = new tc.Verifier(settings.issuer, settings.options)
const loaded = new Map()

const requestOf = (r) => ({ method: r.method, path: r.path, body: Buffer.from(r.body, 'utf8') })

async function outcome(call) {
  try {
    await call()
    return 'OK'
  } catch (err) {
    if (err instanceof tc.TrustError) return err.code
    throw err
  }
}

async function answer(message) {
  switch (message.op) {
    case 'load':
      loaded.set(message.name, { proofs: message.proofs, request: requestOf(message.request) })
      return []
    case 'run': {
      const { proofs, request } = loaded.get(message.name)
      // every process starts at the same instant of the wall clock, so the requests really race
      if (message.startAt) await new Promise((resolve) => setTimeout(resolve, message.startAt - Date.now()))
      // each process sends them in its own random order: which one is first to a nonce is a
      // fresh race for every nonce, not one process a step ahead of the other all along
      const order = proofs.map((_, i) => i)
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1))
        ;[order[i], order[j]] = [order[j], order[i]]
      }
      const outcomes = new Array(proofs.length)
      await Promise.all(order.map(async (i) => (outcomes[i] = await outcome(() => verifier.authenticateAsync(proofs[i], request)))))
      return outcomes
    }
    case 'authenticate': {
      const request = requestOf(message.request)
      if (message.sync) return [await outcome(() => verifier.authenticate(message.proof, request))]
      return [await outcome(() => verifier.authenticateAsync(message.proof, request))]
    }
    case 'revoke':
      return [await outcome(() => verifier.revokeAsync(message.revokeId))]
    default:
      throw new Error(`unknown op ${message.op}`)
  }
}

const lines = readline.createInterface({ input: process.stdin })
lines.on('line', (line) => {
  const message = JSON.parse(line)
  answer(message).then(
    (outcomes) => process.stdout.write(`${JSON.stringify({ id: message.id, outcomes })}\n`),
    (err) => process.stdout.write(`${JSON.stringify({ id: message.id, crash: `${err.name}: ${err.message}` })}\n`),
  )
})
lines.on('close', () => process.exit(0))
process.stdout.write(`${JSON.stringify({ ready: true, verifier: String(verifier) })}\n`)
