'use strict'
// trustcore/fetch: `signedFetch(key, token, fetchImpl?)`, a function with fetch's signature that signs
// every request it sends: the exact URL, method and body bytes that go out (RFC 9421 by default,
// trust-core 0.1's X-EP-* headers with `{ profile: 'legacy' }`), then calls fetchImpl (the global
// fetch by default). Core makes the headers (signRequestAsync, docs/DESIGN.md §10.1).

const { WorkerKey, signRequestAsync } = require('./trustcore.js')

// the methods fetch upper-cases (any case in, upper-case out); others are sent as written
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'])
const PROFILES = new Set(['rfc9421', 'legacy'])
const BODY_TYPES = 'a string, Buffer, Uint8Array (or another TypedArray or DataView), ArrayBuffer, URLSearchParams, Blob or FormData'

/**
 * `signedFetch(key, token)`, `signedFetch(key, token, fetchImpl)`,
 * `signedFetch(key, token, fetchImpl, { profile })` or `signedFetch(key, token, { fetch, profile })`.
 */
function signedFetch(key, token, fetchImpl, options) {
  if (fetchImpl !== null && typeof fetchImpl === 'object' && options === undefined) {
    options = fetchImpl
    fetchImpl = options.fetch
  }
  if (!(key instanceof WorkerKey)) throw new TypeError('signedFetch: key must be a trustcore WorkerKey (the holder key the token binds)')
  if (typeof token !== 'string') throw new TypeError('signedFetch: token must be a string (the Biscuit token, base64)')
  if (fetchImpl !== undefined && fetchImpl !== null && typeof fetchImpl !== 'function') {
    throw new TypeError('signedFetch: fetchImpl must be a function with the signature of fetch')
  }
  const profile = options?.profile ?? 'rfc9421'
  if (!PROFILES.has(profile)) throw new TypeError("signedFetch: options.profile must be 'rfc9421' or 'legacy'")

  return async function fetch(input, init) {
    const send = fetchImpl ?? globalThis.fetch
    if (typeof send !== 'function') throw new TypeError('signedFetch: no fetch to call: pass fetchImpl')
    const request = typeof Request === 'function' && input instanceof Request ? input : null
    const url = new URL(request ? request.url : input instanceof URL ? input.href : String(input))
    url.hash = '' // fetch never sends the fragment
    const method = normalizedMethod(init?.method ?? request?.method ?? 'GET')
    const headers = new Headers(init?.headers ?? request?.headers)
    const { bytes, contentType } = await bodyBytes(init?.body !== undefined ? init.body : request?.body ? request : null)
    if (contentType !== null && !headers.has('content-type')) headers.set('content-type', contentType)
    const signed = await signRequestAsync(key, token, { method, url: url.href, body: bytes ?? undefined, profile })
    for (const [name, value] of Object.entries(signed)) headers.set(name, value)
    const sent = request ? { signal: request.signal, redirect: request.redirect, ...init } : { ...init }
    return send(url.href, { ...sent, method, headers, body: bytes })
  }
}

function normalizedMethod(method) {
  const upper = String(method).toUpperCase()
  return NORMALIZED_METHODS.has(upper) ? upper : String(method)
}

/**
 * The exact bytes fetch would send for `body` (null for none), and the Content-Type fetch would
 * add for it when the caller sets none. A stream cannot be signed: the proof covers the digest of
 * the whole body, before the first byte is sent.
 */
async function bodyBytes(body) {
  if (body === null || body === undefined) return { bytes: null, contentType: null }
  if (typeof body === 'string') return { bytes: Buffer.from(body, 'utf8'), contentType: 'text/plain;charset=UTF-8' }
  if (body instanceof URLSearchParams) {
    return { bytes: Buffer.from(body.toString(), 'utf8'), contentType: 'application/x-www-form-urlencoded;charset=UTF-8' }
  }
  // copied: what is signed is what is sent, whatever the caller does with its buffer meanwhile
  if (body instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && body instanceof SharedArrayBuffer)) {
    return { bytes: Buffer.from(new Uint8Array(body)), contentType: null }
  }
  if (ArrayBuffer.isView(body)) return { bytes: Buffer.from(new Uint8Array(body.buffer, body.byteOffset, body.byteLength)), contentType: null }
  if (typeof Blob === 'function' && body instanceof Blob) {
    return { bytes: Buffer.from(await body.arrayBuffer()), contentType: body.type === '' ? null : body.type }
  }
  if (typeof FormData === 'function' && body instanceof FormData) return serialized(new Response(body))
  // a Request's body (given as the input): read whole, with the Content-Type it carries
  if (typeof Request === 'function' && body instanceof Request) return { bytes: Buffer.from(await body.arrayBuffer()), contentType: null }
  if (typeof body.getReader === 'function' || typeof body.pipe === 'function' || typeof body[Symbol.asyncIterator] === 'function') {
    throw new TypeError(`signedFetch: a stream body cannot be signed (the proof covers a digest of the whole body): pass ${BODY_TYPES}`)
  }
  throw new TypeError(`signedFetch: cannot sign a body of this type: pass ${BODY_TYPES}`)
}

/** A FormData's multipart bytes and the Content-Type (with its boundary) that goes with them. */
async function serialized(response) {
  return { bytes: Buffer.from(await response.arrayBuffer()), contentType: response.headers.get('content-type') }
}

module.exports = signedFetch
module.exports.signedFetch = signedFetch
module.exports.default = signedFetch
