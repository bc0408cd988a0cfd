'use strict'
// The Node client of the HTTP matrix (../README.md): one JSON request per line on stdin, signed with
// trustcore/fetch's signedFetch (RFC 9421 by default, `"profile": "legacy"` on request) and sent with
// Node's fetch; one JSON answer per line on stdout, in order, until stdin closes. A line with
// `"unsigned": true` is sent as is. The package comes from bindings-node/.

const { createRequire } = require('node:module')
const path = require('node:path')
const readline = require('node:readline')

const pkgRequire = createRequire(path.join(__dirname, '..', '..', '..', 'bindings-node', 'package.json'))
const { WorkerKey } = pkgRequire('trustcore')
const signedFetch = pkgRequire('trustcore/fetch')

async function send(line) {
  const { url, method = 'GET', body_hex: bodyHex = '', holder_secret_hex: secretHex, token, profile = 'rfc9421', unsigned = false } = JSON.parse(line)
  const body = bodyHex === '' ? undefined : Buffer.from(bodyHex, 'hex')
  const fetchFn = unsigned ? fetch : signedFetch(WorkerKey.fromSecretHex(secretHex), token, { profile })
  const response = await fetchFn(url, { method, body })
  return { status: response.status, body: await response.text() }
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  for await (const line of lines) {
    if (line.trim() === '') continue
    let answer
    try {
      answer = await send(line)
    } catch (err) {
      answer = { error: String(err?.cause?.message ?? err?.message ?? err) }
    }
    process.stdout.write(`${JSON.stringify(answer)}\n`)
  }
}

main().catch((err) => {
  process.stderr.write(`http-matrix node client: ${err.stack ?? err}\n`)
  process.exit(1)
})
