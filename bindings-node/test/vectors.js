'use strict'
// The three vector sources, read in place (never copied), and each op of tests/vectors/README.md
// run through the public API. Mirrors core/tests/conformance.rs: same counting, codes compared,
// never messages.

const fs = require('node:fs')
const path = require('node:path')
const { isDeepStrictEqual } = require('node:util')
const tc = require('trustcore')

const REPO = path.resolve(__dirname, '..', '..')
const SHARED = process.env.TRUSTCORE_SHARED ? path.resolve(process.env.TRUSTCORE_SHARED) : path.join(REPO, '..', 'shared')

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'))
}

function vectorFiles(dir) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  if (files.length === 0) throw new Error(`no vector files in ${dir}`)
  return files.map((f) => path.join(dir, f))
}

const hex = (value) => Buffer.from(value, 'hex')

function issuerOf(input) {
  return input.issuer_keys ?? input.issuer_public_hex
}

function limitsOf(input) {
  const given = input.limits ?? {}
  return { maxTimeMs: given.max_time_ms, maxFacts: given.max_facts, maxIterations: given.max_iterations }
}

function requestOf(r) {
  return { method: r.method, path: r.path, body: hex(r.body_hex) }
}

function proofValue(p) {
  return { token: p.token, signature: p.signature, timestamp: p.timestamp, nonce: p.nonce }
}

const OPS = {
  public_key: (i) => ({ public_hex: tc.WorkerKey.fromSecretHex(i.seed_hex).publicHex }),
  canonical_request: (i) => ({
    canonical_hex: tc.canonicalRequest(requestOf(i), i.timestamp, i.nonce).toString('hex'),
  }),
  make_proof: (i) => {
    const worker = tc.WorkerKey.fromSecretHex(i.worker_seed_hex)
    const proof = tc.makeProof(worker, i.token, requestOf(i), i.timestamp, i.nonce)
    return { signature_hex: proof.signature, headers: tc.proofHeaders(proof) }
  },
  authenticate: (i) => {
    const { identity } = tc.authenticate(issuerOf(i), i.proof, requestOf(i.request), {
      now: i.now,
      revokedIds: i.revoked_ids,
      maxSkewSeconds: i.max_skew_seconds,
      limits: limitsOf(i),
    })
    return {
      identity: {
        holder_id: identity.holderId,
        holder_public_hex: identity.holderPublicHex,
        revocation_id: identity.revocationId,
      },
    }
  },
  check_policy: (i) => {
    const token = tc.parseToken(issuerOf(i), i.token)
    tc.checkPolicy(token, { requestFacts: i.request_facts, allow: i.allow, now: i.now, limits: limitsOf(i) })
    return { ok: true }
  },
  authorize: (i) => {
    const token = tc.parseToken(issuerOf(i), i.token)
    const options = { now: i.now, limits: limitsOf(i), externFunctions: i.extern_functions }
    return { policy: token.authorize(i.code, options) }
  },
  inspect: (i) => {
    const token = tc.parseToken(issuerOf(i), i.token)
    const blocks = Array.from({ length: token.blockCount }, (_, n) => token.blockSource(n))
    return {
      block_count: token.blockCount,
      blocks,
      revocation_ids: token.revocationIds,
      root_key_id: token.rootKeyId,
    }
  },
  mint: (i) => {
    const issuer = tc.IssuerKey.fromSecretHex(i.issuer_seed_hex)
    const token = tc.mintBiscuit(issuer, {
      publicHex: i.public_hex,
      holderId: i.holder_id,
      facts: i.facts,
      revocationId: i.revocation_id,
      expiresAt: i.expires_at,
      rootKeyId: i.root_key_id,
    })
    return { authority_source: tc.parseToken(issuer.publicHex, token).blockSource(0) }
  },
  sign_job: (i) => ({
    signature_hex: tc.signJob(tc.IssuerKey.fromSecretHex(i.issuer_seed_hex), i.job, i.worker_id),
  }),
  verify_job: (i) => {
    tc.verifyJob(i.issuer_public_hex, i.job, i.worker_id)
    return { ok: true }
  },
  frame_encode: (i) => ({ frame_hex: tc.encodeFrame(i.object).toString('hex') }),
  frame_decode: (i) => ({ object: tc.decodeFrame(hex(i.frame_hex)) }),
  proof_from_headers: (i) => ({ proof: proofValue(tc.proofFromHeaders(i.headers)) }),
  proof_from_query: (i) => ({ proof: proofValue(tc.proofFromQuery(i.query)) }),
}

/** Run one op; a thrown TrustError is an outcome, anything else (a TypeError, a bug) propagates. */
function outcome(run) {
  try {
    return { value: run() }
  } catch (err) {
    if (err instanceof tc.TrustError) return { error: err }
    throw err
  }
}

/** null when `got` matches `expect`, else why not. */
function mismatch(got, expect) {
  if (got.error && expect.error === got.error.code) return null
  if (got.error && expect.error) return `expected ${expect.error}, got ${got.error.code} (${got.error.message})`
  if (got.error) return `expected success, got ${got.error.code} (${got.error.message})`
  if (expect.error) return `expected ${expect.error}, got success ${JSON.stringify(got.value)}`
  for (const [key, want] of Object.entries(expect)) {
    if (!isDeepStrictEqual(got.value[key], want)) {
      return `${key}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got.value[key])}`
    }
  }
  return null
}

function runVectorDir(dir) {
  const result = { ran: 0, declared: 0, failures: [] }
  for (const file of vectorFiles(dir)) {
    const doc = readJson(file)
    if (doc.schema !== 'trustcore-vectors/1') throw new Error(`${file}: schema ${doc.schema}`)
    result.declared += doc.numberOfTests
    for (const c of doc.cases) {
      result.ran += 1
      const op = OPS[c.op]
      if (!op) throw new Error(`${path.basename(file)}: ${c.id}: unknown op ${c.op}`)
      let why
      try {
        why = mismatch(outcome(() => op(c.input)), c.expect)
      } catch (err) {
        why = `threw ${err.name}: ${err.message}`
      }
      if (why) result.failures.push(`${path.basename(file)}: ${c.id}: ${why}`)
    }
  }
  return result
}

// Format → TOKEN_INVALID, FailedLogic and Execution → DENIED, RunLimit → LIMIT_EXCEEDED
const SAMPLE_ERRORS = { Format: 'TOKEN_INVALID', FailedLogic: 'DENIED', Execution: 'DENIED', RunLimit: 'LIMIT_EXCEEDED' }

function runBiscuitSamples(dir) {
  const doc = readJson(path.join(dir, 'samples.json'))
  const result = { ran: 0, declared: 0, failures: [] }
  for (const c of doc.testcases) {
    const data = fs.readFileSync(path.join(dir, c.filename))
    const names = Object.keys(c.validations).sort()
    result.declared += names.length
    for (const name of names) {
      const validation = c.validations[name]
      result.ran += 1
      let expect
      if ('Ok' in validation.result) expect = { policy: validation.result.Ok }
      else {
        const kind = Object.keys(validation.result.Err ?? {})[0]
        if (!SAMPLE_ERRORS[kind]) throw new Error(`${c.filename}: unmapped error kind ${kind}`)
        expect = { error: SAMPLE_ERRORS[kind] }
      }
      const run = () => {
        const token = tc.parseToken(doc.root_public_key, data)
        if (!isDeepStrictEqual(token.revocationIds, validation.revocation_ids)) {
          throw new tc.TrustError('INTERNAL', `revocation ids differ: ${JSON.stringify(token.revocationIds)}`)
        }
        return { policy: token.authorize(validation.authorizer_code, { externFunctions: ['test'] }) }
      }
      let why
      try {
        why = mismatch(outcome(run), expect)
      } catch (err) {
        why = `threw ${err.name}: ${err.message}`
      }
      if (why) result.failures.push(`biscuit-samples: ${c.filename} [${name}]: ${why}`)
    }
  }
  return result
}

const SOURCES = [
  ['trust-core-0.1', () => runVectorDir(path.join(SHARED, 'vectors', 'trust-core-0.1'))],
  ['tests/vectors', () => runVectorDir(path.join(REPO, 'tests', 'vectors'))],
  ['biscuit-samples', () => runBiscuitSamples(path.join(SHARED, 'vectors', 'biscuit-samples', 'current'))],
]

module.exports = { SHARED, SOURCES, OPS }
