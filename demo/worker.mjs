// The worker (holder), in Node.js: it owns its key, never shows it, and signs every request it
// sends with trustcore/fetch (RFC 9421 message signatures). Every outcome is checked: a status or
// code other than the one narrated ends the demo.
//
// usage: worker.mjs keygen KEY_FILE                              writes a new holder key (mode 0600), prints its public key
//        worker.mjs call KEY_FILE TOKEN_JSON GO_URL PY_URL PHASE   sends the demo's requests of PHASE (before | revoked)
import { readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { createRequire } from 'node:module'
import { WorkerKey, signRequestAsync } from '../bindings-node/trustcore.mjs'

const require = createRequire(import.meta.url)
const { signedFetch } = require('../bindings-node/fetch.js')
const say = (text) => console.log(`   [worker · node] ${text}`)
const [command, keyFile, tokenFile, goUrl, pyUrl, phase] = process.argv.slice(2)

/** Send one request, narrate the answer, and fail unless it is `status` (and `code`, when refused). */
async function expect(step, name, send, status, code) {
  console.log(`\n${step}. ${name}`)
  const response = await send()
  const body = await response.json()
  const got = response.ok ? `${response.status} served by ${body.served_by} for holder ${body.holder_id}` : `${response.status} ${body.error}`
  say(`→ ${got}${response.ok ? '' : ` (${body.message})`}`)
  if (response.status !== status || (code !== undefined && body.error !== code)) {
    console.error(`demo failed: "${name}": expected ${status} ${code ?? ''}, got ${got}`)
    process.exit(1)
  }
}

/** The captured bytes sent as they were, Host line included, to another server (node:http). */
function sendCaptured(url, headers, body) {
  const target = new URL(url)
  return new Promise((resolve, reject) => {
    const request = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers, setHost: false }, (response) => {
      const chunks = []
      response.on('data', (chunk) => chunks.push(chunk))
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        resolve({ ok: response.statusCode === 200, status: response.statusCode, json: async () => JSON.parse(text) })
      })
    })
    request.on('error', reject)
    request.end(body)
  })
}

if (command === 'keygen') {
  const key = WorkerKey.generate()
  writeFileSync(keyFile, key.secretHex() + '\n', { mode: 0o600 })
  process.stdout.write(key.publicHex + '\n')
} else if (command === 'call') {
  const key = WorkerKey.fromSecretHex(readFileSync(keyFile, 'utf8').trim())
  const { token } = JSON.parse(readFileSync(tokenFile, 'utf8'))
  const fetchSigned = signedFetch(key, token)
  const body = '{"episode":"e1"}'
  const post = (url, extra = {}) => ({ method: 'POST', body, headers: { 'content-type': 'application/json' }, ...extra })
  if (phase === 'before') {
    say('signs every request with its own key: @method @authority @path @query, the token and the body digest')
    await expect('a', 'a lease, to the Go service', () => fetchSigned(`${goUrl}/lease/transcribe`, post()), 200)
    await expect('b', 'the same call, to the Python service', () => fetchSigned(`${pyUrl}/lease/transcribe`, post()), 200)
    const signed = await signRequestAsync(key, token, { method: 'POST', url: `${goUrl}/lease/transcribe`, body: Buffer.from(body) })
    const resend = (url, sentBody = body) => () => fetch(url, { method: 'POST', body: sentBody, headers: signed })
    await expect('c', 'a request signed once, sent to Go', resend(`${goUrl}/lease/transcribe`), 200)
    await expect('d', 'the same bytes sent again (a replay)', resend(`${goUrl}/lease/transcribe`), 401, 'REPLAYED')
    const captured = { ...signed, host: new URL(goUrl).host, 'content-length': String(Buffer.byteLength(body)) }
    await expect('e', 'the same bytes, Host line included, replayed at the Python service', () => sendCaptured(`${pyUrl}/lease/transcribe`, captured, body), 401, 'WRONG_AUDIENCE')
    const fresh = await signRequestAsync(key, token, { method: 'POST', url: `${goUrl}/lease/transcribe`, body: Buffer.from(body) })
    await expect('f', 'the body changed in transit', () => fetch(`${goUrl}/lease/transcribe`, { method: 'POST', body: '{"episode":"e2"}', headers: fresh }), 401, 'POP_FAILED')
    const thief = signedFetch(WorkerKey.generate(), token)
    await expect('g', "a stolen token, signed with the thief's own key", () => thief(`${pyUrl}/lease/transcribe`, post()), 401, 'POP_FAILED')
    await expect('h', 'a lane the token does not grant (gpu)', () => fetchSigned(`${goUrl}/lease/gpu`, post()), 403, 'DENIED')
    await expect('i', 'an admin route the token does not grant', () => fetchSigned(`${pyUrl}/admin`, post()), 403, 'DENIED')
    await expect('j', 'no proof at all', () => fetch(`${goUrl}/lease/transcribe`, post()), 401, 'MALFORMED_INPUT')
  } else if (phase === 'revoked') {
    await expect('k', 'a lease after the operator revoked the token (Go)', () => fetchSigned(`${goUrl}/lease/transcribe`, post()), 401, 'REVOKED')
    await expect('l', 'and at the Python service', () => fetchSigned(`${pyUrl}/lease/transcribe`, post()), 401, 'REVOKED')
  } else {
    console.error(`unknown phase ${phase}`)
    process.exit(2)
  }
} else {
  console.error('usage: worker.mjs keygen KEY_FILE | call KEY_FILE TOKEN_JSON GO_URL PY_URL PHASE')
  process.exit(2)
}
