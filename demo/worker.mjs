// The worker (holder), in Node.js: it owns its key, never shows it, and signs every request it
// sends with trustcore/fetch (RFC 9421 message signatures). It can hand one lane of its token to a
// second worker's key (delegate: offline, narrowed, no later expiry); the second worker is this same
// program with its own key and the delegated token. Every outcome is checked: a status or code other
// than the one narrated ends the demo.
//
// usage: worker.mjs keygen KEY_FILE                              writes a new holder key (mode 0600), prints its public key
//        worker.mjs delegate KEY_FILE TOKEN_JSON TO_PUBLIC_HEX TO_HOLDER_ID OUT_JSON
//                                                                  delegates lane transcribe of TOKEN_JSON to that key
//        worker.mjs call KEY_FILE TOKEN_JSON GO_URL PY_URL PHASE   sends the demo's requests of PHASE
//                                                                  (before | delegated | revoked | delegated-revoked)
import { readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { createRequire } from 'node:module'
import { TrustError, WorkerKey, delegate, signRequestAsync } from '../bindings-node/trustcore.mjs'

const require = createRequire(import.meta.url)
const { signedFetch } = require('../bindings-node/fetch.js')
const [command, keyFile, tokenFile, goUrl, pyUrl, phase] = process.argv.slice(2)
// the second worker (the delegate) speaks in the phases it runs
const who = phase?.startsWith('delegated') ? 'worker 2' : 'worker'
const say = (text) => console.log(`   [${who} · node] ${text}`)
/** A delegation chain as the service reported it: holder ids and the start of each key, in order. */
const chainText = (chain) => chain.map((h) => `${h.holder_id} (${h.holder_public_hex.slice(0, 8)}…)`).join(' → ')

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
  return body
}

/** Fail unless the service reported exactly the holders `expected` ([holder id, public key hex], in order). */
function expectChain(body, expected) {
  const got = (body.chain ?? []).map((h) => [h.holder_id, h.holder_public_hex])
  say(`  the chain the service saw: ${chainText(body.chain ?? [])}`)
  if (JSON.stringify(got) !== JSON.stringify(expected)) {
    console.error(`demo failed: expected the chain ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`)
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
} else if (command === 'delegate') {
  const [toPublicHex, toHolderId, outFile] = process.argv.slice(5)
  const key = WorkerKey.fromSecretHex(readFileSync(keyFile, 'utf8').trim())
  const own = JSON.parse(readFileSync(tokenFile, 'utf8'))
  // five minutes, never past the worker's own token (core refuses a link that would outlive it)
  const expiresAt = Math.min(own.expires_at, Math.floor(Date.now() / 1000) + 300)
  const checks = 'check if req_param_lane("transcribe");'
  const token = delegate(own.token, key, { toPublicHex, toHolderId, checks, expiresAt })
  say(`delegates to ${toHolderId} (key ${toPublicHex.slice(0, 16)}…) with its own key, offline: ${checks}`)
  say(`  until ${new Date(expiresAt * 1000).toISOString()} (its own token ends ${new Date(own.expires_at * 1000).toISOString()})`)
  say(`  one Biscuit block more, signed by its key: ${own.token.length} → ${token.length} characters`)
  // with who handed it on and to whom, for the chain the services must report
  const delegation = { token, expires_at: expiresAt, delegator_public_hex: key.publicHex, holder_id: toHolderId }
  writeFileSync(outFile, JSON.stringify(delegation), { mode: 0o600 })
} else if (command === 'call') {
  const key = WorkerKey.fromSecretHex(readFileSync(keyFile, 'utf8').trim())
  const { token, delegator_public_hex: delegatorPublicHex, holder_id: holderId } = JSON.parse(readFileSync(tokenFile, 'utf8'))
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
    await expect('k', 'the other lane the token grants (summarize), to Python', () => fetchSigned(`${pyUrl}/lease/summarize`, post()), 200)
  } else if (phase === 'delegated') {
    say('signs with its own key and the delegated token; it never saw the first worker\'s key')
    const chain = [['gpu-1', delegatorPublicHex], [holderId, key.publicHex]]
    expectChain(await expect('l', 'the delegated lane (transcribe), to the Go service', () => fetchSigned(`${goUrl}/lease/transcribe`, post()), 200), chain)
    expectChain(await expect('m', 'the same, to the Python service', () => fetchSigned(`${pyUrl}/lease/transcribe`, post()), 200), chain)
    const third = signedFetch(WorkerKey.generate(), token)
    await expect('n', "the delegated token, signed with a third key (not the one it names)", () => third(`${goUrl}/lease/transcribe`, post()), 401, 'POP_FAILED')
    await expect('o', 'a lane the first worker holds but did not delegate (summarize)', () => fetchSigned(`${pyUrl}/lease/summarize`, post()), 403, 'DENIED')
    // the issuer allowed one link and the first worker used it: handing it on again fails, offline
    console.log('\n   and worker 2 tries to hand the token on to another key')
    try {
      delegate(token, key, { toPublicHex: WorkerKey.generate().publicHex, toHolderId: 'gpu-3', expiresAt: Math.floor(Date.now() / 1000) + 60 })
      console.error('demo failed: a token delegable once was delegated twice')
      process.exit(1)
    } catch (err) {
      if (!(err instanceof TrustError) || err.code !== 'DELEGATION_INVALID') throw err
      say(`→ refused by its own library, ${err.code} (${err.message})`)
    }
  } else if (phase === 'revoked') {
    await expect('p', 'a lease after the operator revoked the token (Go)', () => fetchSigned(`${goUrl}/lease/transcribe`, post()), 401, 'REVOKED')
    await expect('q', 'and at the Python service', () => fetchSigned(`${pyUrl}/lease/transcribe`, post()), 401, 'REVOKED')
  } else if (phase === 'delegated-revoked') {
    await expect('r', "the delegated token, once the first worker's token is revoked (Go)", () => fetchSigned(`${goUrl}/lease/transcribe`, post()), 401, 'REVOKED')
  } else {
    console.error(`unknown phase ${phase}`)
    process.exit(2)
  }
} else {
  console.error('usage: worker.mjs keygen KEY_FILE | delegate KEY_FILE TOKEN_JSON TO_PUBLIC_HEX TO_HOLDER_ID OUT_JSON | call KEY_FILE TOKEN_JSON GO_URL PY_URL PHASE')
  process.exit(2)
}
