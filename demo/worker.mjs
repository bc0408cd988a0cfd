// The worker (holder), in Node.js: it owns its key, never shows it, and signs every request it makes.
//
// usage: worker.mjs keygen KEY_FILE            writes a new holder key (mode 0600), prints its public key
//        worker.mjs sign KEY_FILE TOKEN_JSON OUT_JSON   writes the requests of the demo, each with its proof
import { readFileSync, writeFileSync } from 'node:fs'
import { WorkerKey, makeProof, proofHeaders } from '../bindings-node/trustcore.mjs'

const say = (text) => console.log(`   [worker · node] ${text}`)
const [command, keyFile, tokenFile, out] = process.argv.slice(2)

if (command === 'keygen') {
  const key = WorkerKey.generate()
  writeFileSync(keyFile, key.secretHex() + '\n', { mode: 0o600 })
  process.stdout.write(key.publicHex + '\n')
} else if (command === 'sign') {
  const key = WorkerKey.fromSecretHex(readFileSync(keyFile, 'utf8').trim())
  const { token } = JSON.parse(readFileSync(tokenFile, 'utf8'))
  const now = Math.floor(Date.now() / 1000)
  const body = '{"episode":"e1"}'
  const sign = (k, path, signedBody, timestamp, nonce) =>
    proofHeaders(makeProof(k, token, { method: 'POST', path, body: Buffer.from(signedBody) }, String(timestamp), nonce))
  const thief = WorkerKey.generate()
  const requests = [
    { name: 'the request as the worker sent it', path: '/lease', body, right: 'lease', offset: 0,
      headers: sign(key, '/lease', body, now, 'n-1'), expect: 'OK' },
    { name: 'the same bytes sent again (a replay)', path: '/lease', body, right: 'lease', offset: 0,
      headers: sign(key, '/lease', body, now, 'n-1'), expect: 'REPLAYED' },
    { name: 'the body changed in transit', path: '/lease', body: '{"episode":"e2"}', right: 'lease', offset: 0,
      headers: sign(key, '/lease', body, now, 'n-2'), expect: 'POP_FAILED' },
    { name: 'a stolen token, signed with the thief\'s own key', path: '/lease', body, right: 'lease', offset: 0,
      headers: sign(thief, '/lease', body, now, 'n-3'), expect: 'POP_FAILED' },
    { name: 'a right the token does not grant (admin)', path: '/admin', body, right: 'admin', offset: 0,
      headers: sign(key, '/admin', body, now, 'n-4'), expect: 'DENIED' },
    { name: 'a request made after the token expired (11 minutes on)', path: '/lease', body, right: 'lease', offset: 660,
      headers: sign(key, '/lease', body, now + 660, 'n-5'), expect: 'TOKEN_INVALID' },
    { name: 'a request after the operator revoked the token', path: '/lease', body, right: 'lease', offset: 0,
      headers: sign(key, '/lease', body, now, 'n-6'), expect: 'REVOKED', revokeFirst: true },
  ]
  say(`signs ${requests.length} requests with its own key (POST, path, sha256 of the body, timestamp, nonce)`)
  say('and sends each with Authorization: Biscuit …, X-EP-Signature, X-EP-Timestamp, X-EP-Nonce')
  writeFileSync(out, JSON.stringify(requests, null, 1))
} else {
  console.error('usage: worker.mjs keygen KEY_FILE | sign KEY_FILE TOKEN_JSON OUT_JSON')
  process.exit(2)
}
