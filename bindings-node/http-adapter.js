'use strict'
// What trustcore/express and trustcore/fastify share: check the options once, read a request's
// body once (never more than the policy's cap), and hand the request to core's decision. No rule
// lives here: the cap, the request's shape, the routes, the credentials, the facts and the status
// table are all core's (docs/DESIGN.md §10.3); this file converts a Node request and nothing else.

const { HttpPolicy, Verifier } = require('./trustcore.js')

/** `{ verifier, policy, facts? }`, checked when the middleware is made (a TypeError otherwise). */
function settings(name, options) {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${name}: pass { verifier, policy } (a Verifier and an HttpPolicy)`)
  }
  const { verifier, policy, facts } = options
  if (!(verifier instanceof Verifier)) throw new TypeError(`${name}: options.verifier must be a trustcore Verifier`)
  if (!(policy instanceof HttpPolicy)) throw new TypeError(`${name}: options.policy must be a trustcore HttpPolicy`)
  if (facts !== undefined && typeof facts !== 'function') {
    throw new TypeError(`${name}: options.facts must be a function of the request (its app facts, named req_…)`)
  }
  // both fixed for the verifier's and the policy's life: read once
  return { verifier, policy, facts, cap: policy.maxBodyBytes, inline: !verifier.mayWaitOnNetwork }
}

/**
 * Core's refusal (413) of the body the Content-Length announces, answered before anything is read;
 * null when none is announced or the policy allows its length (Node's parser has checked its syntax).
 */
function announcedRefusal(policy, headers) {
  const length = headers['content-length']
  return length === undefined ? null : policy.bodyLengthRefusal(Number(length))
}

/** A request body whose stream another reader has taken: it can no longer be read as sent. */
function alreadyRead(stream) {
  return stream.readableDidRead === true || stream.readableEnded === true
}

/**
 * Read `stream` (an IncomingMessage) until its end or until more than `cap` bytes have come,
 * whichever is first. Resolves to `{ body, complete }`: the bytes read, and whether they are the
 * whole body (else more than `cap` of them were read and the rest is left unread).
 *
 * With `replay`, a body read whole is pushed back into the stream (`unshift`) before its 'end' is
 * emitted, so a reader that comes later (a body parser mounted after the middleware) reads the
 * very same bytes from the request as if nothing had read it. That has to happen synchronously in
 * the 'readable' handler that sees the end: by the next tick the stream has emitted 'end'.
 */
function readBody(stream, cap, { replay = false } = {}) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    let settled = false
    const finish = (err, complete) => {
      if (settled) return
      settled = true
      stream.removeListener('readable', onReadable)
      stream.removeListener('end', onEnd)
      stream.removeListener('error', onError)
      stream.removeListener('close', onClose)
      if (err) return reject(err)
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)
      // the stream has not emitted 'end' yet (its end is still scheduled): it will not while
      // these bytes are in its buffer again. One that has (a request stream without
      // IncomingMessage's `complete`, as test injectors make) cannot take them back: unshifting
      // would destroy it with ERR_STREAM_UNSHIFT_AFTER_END_EVENT; the app still has `req.body`
      if (complete && replay && body.length > 0 && !stream.readableEnded) stream.unshift(body)
      resolve({ body, complete })
    }
    function onReadable() {
      for (let chunk; (chunk = stream.read()) !== null; ) {
        chunks.push(chunk)
        size += chunk.length
        if (size > cap) return finish(null, false)
      }
      // IncomingMessage sets `complete` just before it pushes its end: nothing more will come
      if (stream.complete) finish(null, true)
    }
    // a stream that ended with nothing buffered emits 'end' without a 'readable' first
    const onEnd = () => finish(null, true)
    const onError = (err) => finish(err)
    const onClose = () => finish(Object.assign(new Error('the request was aborted before its body was read'), { code: 'ECONNRESET', status: 400 }))
    stream.on('error', onError)
    stream.on('close', onClose)
    stream.on('end', onEnd)
    stream.on('readable', onReadable)
  })
}

/**
 * Core's decision on one request. `raw` is the IncomingMessage (method and header lines as
 * received), `target` the request target as received. The decision runs on the event loop when the
 * verifier cannot wait on the network (its stores in memory: CPU only, less than the hop to a
 * thread would cost), and so does a body read past the cap (core refuses it at its first step,
 * before any credential or store); with Redis, off the loop (`decideAsync`), so that a slow Redis
 * never blocks it. A Decision, or a Promise of one.
 */
function decide(config, raw, target, appRequest, body, complete) {
  const request = { method: raw.method, target, headers: raw.rawHeaders, body }
  // without app facts nothing is awaited first: no Promise is made for an inline decision
  if (config.facts === undefined) return decideWith(config, request, { policy: config.policy }, complete)
  return withFacts(config, request, appRequest, complete)
}

async function withFacts(config, request, appRequest, complete) {
  return decideWith(config, request, { policy: config.policy, facts: await config.facts(appRequest) }, complete)
}

function decideWith({ verifier, inline }, request, options, complete) {
  return inline || !complete ? verifier.decide(request, options) : verifier.decideAsync(request, options)
}

// how long a refused request's unread body is read and dropped after the answer, at most
const LINGER_MS = 1000

/**
 * A refusal was answered before the body was read whole (over the cap): once the answer is out,
 * read and drop what the client still sends (never kept), and close the connection if it is still
 * sending a second later. Closing at once would reset a connection the client is still writing to,
 * and a client busy sending (curl after its `Expect: 100-continue`) then fails to send instead of
 * reading the answer; a client that finishes its body in time keeps its connection.
 */
function dropUnreadBody(req, res) {
  res.once('finish', () => {
    const socket = req.socket
    if (req.readableEnded || !socket || socket.destroyed) return
    const timer = setTimeout(() => socket.destroy(), LINGER_MS)
    timer.unref()
    const stop = () => clearTimeout(timer)
    req.once('end', stop)
    socket.once('close', stop)
    req.resume()
  })
}

/** What the app is given about an allowed request. */
function requestInfo(decision, body) {
  return { identity: decision.identity, facts: decision.facts, route: decision.route, profile: decision.profile, body }
}

module.exports = { settings, announcedRefusal, alreadyRead, readBody, decide, dropUnreadBody, requestInfo }
