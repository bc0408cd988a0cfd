'use strict'
// The vector sources, read in place (never copied), and each op of tests/vectors/README.md
// run through the public API. Mirrors cli/tests/conformance.rs: same counting, codes compared,
// never messages. A file with `signer` settings runs its `signer_*` ops against a live
// `trustcore signer serve`, started for that file and stopped (SIGTERM) after it. Each case's
// input has its large values ($repeat, $nest, $nest_list) written out by `expand` before it runs.

const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
const { isDeepStrictEqual } = require('node:util')
const tc = require('trustcore')
const { startSigner } = require('./signer-daemon.js')

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

const isCount = (n) => Number.isSafeInteger(n) && n >= 0

/**
 * A case's input with its large values written out (tests/vectors/README.md, "Large values"), as
 * cli/tests/conformance.rs's `expand` does: an object whose only member is `{"$repeat": [TEXT, N]}`
 * is TEXT N times, `{"$nest": [KEY, N, LEAF]}` LEAF inside N objects `{KEY: …}`, `{"$nest_list":
 * [N, LEAF]}` LEAF inside N arrays; LEAF is expanded first. The nesting is built bottom-up in a loop
 * (10,000 levels deep); only the file's own, compact form is walked recursively.
 */
function expand(value) {
  if (Array.isArray(value)) return value.map(expand)
  if (value === null || typeof value !== 'object') return value
  const entries = Object.entries(value)
  if (entries.length === 1 && Array.isArray(entries[0][1])) {
    const [key, args] = entries[0]
    if (key === '$repeat' && args.length === 2) {
      const [text, count] = args
      if (typeof text !== 'string' || !isCount(count)) throw new Error(`$repeat takes [TEXT, N], not ${JSON.stringify(args)}`)
      return text.repeat(count)
    }
    if (key === '$nest' && args.length === 3) {
      const [name, count, leaf] = args
      if (typeof name !== 'string' || !isCount(count)) throw new Error(`$nest takes [KEY, N, LEAF], not ${JSON.stringify(args)}`)
      let nested = expand(leaf)
      for (let i = 0; i < count; i++) nested = { [name]: nested }
      return nested
    }
    if (key === '$nest_list' && args.length === 2) {
      const [count, leaf] = args
      if (!isCount(count)) throw new Error(`$nest_list takes [N, LEAF], not ${JSON.stringify(args)}`)
      let nested = expand(leaf)
      for (let i = 0; i < count; i++) nested = [nested]
      return nested
    }
  }
  // fromEntries (and the computed key above) make own properties, a `__proto__` key included
  return Object.fromEntries(entries.map(([k, v]) => [k, expand(v)]))
}

function issuerOf(input) {
  return input.issuer_keys ?? input.issuer_public_hex
}

// the `limits` keys of the vector files (cli/tests/conformance.rs, limits) and their option names
const LIMIT_OPTIONS = {
  max_time_ms: 'maxTimeMs',
  max_facts: 'maxFacts',
  max_iterations: 'maxIterations',
  max_token_bytes: 'maxTokenBytes',
  max_blocks: 'maxBlocks',
  max_block_facts: 'maxBlockFacts',
  max_block_rules: 'maxBlockRules',
  max_body_atoms: 'maxBodyAtoms',
  max_body_ops: 'maxBodyOps',
  max_join_size: 'maxJoinSize',
  allow_appended_regex: 'allowAppendedRegex',
}

/** A vector's `limits` as the options object; a key this runner does not know fails the case. */
function limitsOf(input) {
  const limits = {}
  for (const [key, value] of Object.entries(input.limits ?? {})) {
    if (!Object.hasOwn(LIMIT_OPTIONS, key)) throw new Error(`unknown limits key ${key}`)
    limits[LIMIT_OPTIONS[key]] = value
  }
  return limits
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
      delegationDepth: i.delegation_depth,
    })
    return { authority_source: tc.parseToken(issuer.publicHex, token).blockSource(0) }
  },
  sign_job: (i) => ({
    signature_hex: tc.signJob(tc.IssuerKey.fromSecretHex(i.issuer_seed_hex), i.job, i.worker_id),
  }),
  verify_job: (i) => {
    tc.verifyJob(i.issuer_public_hex, i.job, i.worker_id, { now: i.now })
    return { ok: true }
  },
  frame_encode: (i) => ({ frame_hex: tc.encodeFrame(i.object).toString('hex') }),
  frame_decode: (i) => ({ object: tc.decodeFrame(hex(i.frame_hex)) }),
  verifier_sequence: (i) => verifierSequence(i),
  delegate: (i) => {
    const delegated = tc.delegate(i.token, tc.WorkerKey.fromSecretHex(i.holder_secret_hex), {
      toPublicHex: i.to_public_hex,
      toHolderId: i.to_holder_id,
      checks: i.checks,
      expiresAt: i.expires_at,
    })
    return { chain: chainValue(tc.parseToken(issuerOf(i), delegated).identity().chain) }
  },
  delegation_sequence: (i) => delegationSequence(i),
  proof_from_headers: (i) => ({ proof: proofValue(tc.proofFromHeaders(i.headers)) }),
  proof_from_query: (i) => ({ proof: proofValue(tc.proofFromQuery(i.query)) }),
  http_decide: (i) => httpDecide(i),
  http_policy: (i) => {
    const policy = tc.HttpPolicy.fromJson(i.policy)
    return { routes: policy.routeCount, max_body_bytes: policy.maxBodyBytes }
  },
  http_sign: (i) => {
    const headers = tc.signRequest(tc.WorkerKey.fromSecretHex(i.holder_secret_hex), i.token, {
      method: i.method,
      url: i.url,
      headers: i.headers ?? [],
      body: hex(i.body_hex ?? ''),
      profile: i.profile ?? undefined,
      created: i.created ?? undefined,
      nonce: i.nonce ?? undefined,
    })
    return { headers: Object.entries(headers) }
  },
  http_signature_base: (i) => ({ base: tc.signatureBase(messageOf(i.request), i.label).toString('utf8') }),
  http_verify_signature: (i) => {
    tc.verifyMessageSignature(messageOf(i.request), i.label, i.public_hex)
    return {}
  },
}

/** A vector's HTTP request (`{method, target, headers: [[name, value], …], body_hex}`) as `HttpMessage`. */
function messageOf(r) {
  return { method: r.method, target: r.target, headers: r.headers, body: hex(r.body_hex ?? '') }
}

/**
 * `http_decide` (tests/vectors/README.md, HTTP): one Verifier with memory stores and one route
 * policy for the case, then each step's decision, in order; a step whose call fails is
 * `{"error": CODE}` and does not end the steps.
 */
function httpDecide(i) {
  const v = i.verifier
  const options = { maxSkewSeconds: v.max_skew_seconds, authorities: v.authorities, profiles: v.profiles }
  if (v.revoked_ids !== undefined) options.revokedIds = v.revoked_ids
  const verifier = new tc.Verifier(v.issuer_public_hex, options)
  const policy = tc.HttpPolicy.fromJson(i.policy)
  const decisions = []
  for (const step of i.steps) {
    try {
      const d = verifier.decide(messageOf(step.request), { policy, facts: step.facts ?? undefined, now: step.now })
      decisions.push({
        allowed: d.allowed,
        status: d.status,
        code: d.code,
        route: d.route,
        profile: d.profile,
        holder_id: d.identity ? d.identity.holderId : null,
        facts: d.facts,
        headers: Object.entries(d.headers),
      })
    } catch (err) {
      if (!(err instanceof tc.TrustError)) throw err
      decisions.push({ error: err.code })
    }
  }
  return { decisions }
}

/**
 * The stateful Verifier through a sequence of steps (cli/tests/conformance.rs, verifier_sequence):
 * each step's outcome is "OK", a code, or (for `cache_stats`) "hits=H misses=M"; a step's failure
 * does not end the sequence. `revoke_token` parses its token with the case's issuer key(s), then
 * revokes every id of it. `check_policy` runs on the token of the last accepted `authenticate`
 * (an `authenticate_batch` sets none). An `authenticate_batch` step's outcome is the list of its
 * requests' outcomes, "OK" or a code, in order, or the one code of a batch refused whole
 * (verifier_batch).
 */
function verifierSequence(i) {
  const options = { maxSkewSeconds: i.max_skew_seconds, limits: limitsOf(i) }
  const optional = {
    replay_capacity: 'replayCapacity',
    replay_capacity_per_holder: 'replayCapacityPerHolder',
    revoked_ids: 'revokedIds',
    token_cache_max_bytes: 'tokenCacheMaxBytes',
    max_batch_requests: 'maxBatchRequests',
    max_batch_body_bytes: 'maxBatchBodyBytes',
  }
  for (const [key, option] of Object.entries(optional)) {
    if (i[key] !== undefined) options[option] = i[key]
  }
  const verifier = new tc.Verifier(issuerOf(i), options)
  let token = null
  const outcomes = []
  for (const step of i.steps) {
    const actions = Object.keys(step)
    if (actions.length !== 1) throw new Error(`one action per step, got ${JSON.stringify(actions)}`)
    const [action] = actions
    const args = step[action]
    const run = () => {
      switch (action) {
        case 'authenticate':
          token = verifier.authenticate(proofValue(args.proof), requestOf(args.request), { now: args.now }).token
          return 'OK'
        case 'check_policy':
          if (!token) throw new Error('check_policy before an accepted authenticate')
          verifier.checkPolicy(token, { requestFacts: args.request_facts, allow: args.allow, now: args.now })
          return 'OK'
        case 'authenticate_batch':
          return verifierBatch(verifier, args)
        case 'revoke':
          verifier.revoke(args)
          return 'OK'
        case 'revoke_token':
          // parsed with the case's issuer key(s): a token that does not parse is its code
          verifier.revokeToken(tc.parseToken(issuerOf(i), args))
          return 'OK'
        case 'verify_job':
          verifier.verifyJob(args.job, args.worker_id, { now: args.now })
          return 'OK'
        case 'cache_stats': {
          const { hits, misses } = verifier.cacheStats()
          return `hits=${hits} misses=${misses}`
        }
        default:
          throw new Error(`unknown verifier step ${action}`)
      }
    }
    try {
      outcomes.push(run())
    } catch (err) {
      if (!(err instanceof tc.TrustError)) throw err
      outcomes.push(err.code)
    }
  }
  return { outcomes }
}

/** An identity's chain as the vectors write it: `[[holder_id, holder_public_hex], …]`, in order. */
function chainValue(chain) {
  return chain.map((holder) => [holder.holderId, holder.holderPublicHex])
}

/**
 * `delegation_sequence` (tests/vectors/README.md, Delegation; cli/tests/conformance/delegation.rs):
 * one Verifier (memory stores) for every step; each signs `POST /lease` with body `{}` at `now`
 * (whole seconds) and its nonce with its holder's key, is authenticated, then checked against its
 * policy. A step's failure does not end the sequence: its outcome is `{"error": CODE}`.
 */
function delegationSequence(i) {
  const options = {}
  if (i.revoked_ids !== undefined) options.revokedIds = i.revoked_ids
  const verifier = new tc.Verifier(issuerOf(i), options)
  const timestamp = String(Math.floor(i.now))
  const request = { method: 'POST', path: '/lease', body: Buffer.from('{}') }
  const outcomes = []
  for (const step of i.steps) {
    try {
      const key = tc.WorkerKey.fromSecretHex(step.holder_secret_hex)
      const proof = tc.makeProof(key, step.token, request, timestamp, step.nonce)
      const { token, identity } = verifier.authenticate(proof, request, { now: i.now })
      verifier.checkPolicy(token, { requestFacts: step.request_facts, allow: step.allow, now: i.now })
      outcomes.push({ holder_id: identity.holderId, chain: chainValue(identity.chain) })
    } catch (err) {
      if (!(err instanceof tc.TrustError)) throw err
      outcomes.push({ error: err.code })
    }
  }
  return { outcomes }
}

/**
 * An `authenticate_batch` step: one outcome per request, in order, or the code of a batch refused
 * whole (thrown, as a TrustError: the step's outcome is its code); a refusal that is not a
 * TrustError propagates.
 */
function verifierBatch(verifier, args) {
  const requests = args.requests.map((r) => ({ proof: proofValue(r.proof), request: requestOf(r.request) }))
  let outcomes
  try {
    outcomes = verifier.authenticateBatch(requests, { now: args.now })
  } catch (err) {
    if (err instanceof tc.TrustError) return err.code
    throw err
  }
  return outcomes.map((outcome) => {
    if (outcome.ok) return 'OK'
    if (!(outcome.error instanceof tc.TrustError)) throw outcome.error
    return outcome.error.code
  })
}

/** Send `frame` on a fresh connection, close the writing half, read one answer frame. */
function exchange(socket, frame) {
  return new Promise((resolve, reject) => {
    const chunks = []
    const conn = net.createConnection(socket)
    const timer = setTimeout(() => conn.destroy(new Error('no answer frame within 10 s')), 10_000)
    let failure = null
    conn.on('data', (chunk) => chunks.push(chunk))
    // an error after the answer arrived (a reset as the signer closes) is no matter: as in the
    // Rust runner, only the first frame counts
    conn.on('error', (err) => (failure = err))
    conn.once('close', () => {
      clearTimeout(timer)
      const bytes = Buffer.concat(chunks)
      const length = bytes.length >= 4 ? bytes.readUInt32BE(0) : Infinity
      if (bytes.length < 4 + length) {
        reject(new Error(`no whole answer frame (${bytes.length} bytes)${failure ? `: ${failure.message}` : ''}`))
      } else {
        resolve(tc.decodeFrame(bytes.subarray(0, 4 + length)))
      }
    })
    conn.end(frame)
  })
}

/** The `signer_exchange` and `signer_call` ops against one live daemon (cli/tests/conformance/signer.rs). */
function signerOps(daemon, issuerPublicHex) {
  // the result itself plus what its token says, when it has one
  const outcomeOf = (id, result) => {
    const value = { result }
    if (id !== undefined) value.id = id
    if (typeof result.token === 'string') {
      const token = tc.parseToken(issuerPublicHex, result.token)
      value.token_authority_source = token.blockSource(0)
      value.token_root_key_id = token.rootKeyId
    }
    return value
  }
  return {
    signer_exchange: async (i) => {
      const answer = await exchange(daemon.socket, hex(i.frame_hex))
      if (answer.ok === true) return outcomeOf(answer.id ?? null, answer.result)
      const code = answer.error?.code
      if (!tc.ERROR_CODES.includes(code)) throw new Error(`the signer answered an unknown code ${JSON.stringify(code)}`)
      throw new tc.TrustError(code, 'signer refused')
    },
    signer_call: async (i) => {
      const client = new tc.SignerClient(typeof i.address === 'string' ? i.address : `unix:${daemon.socket}`)
      const args = i.args
      switch (i.call) {
        case 'public_key': {
          const { publicKey, keyId } = await client.publicKey()
          return outcomeOf(undefined, { public_key: publicKey, key_id: keyId })
        }
        case 'health':
          return outcomeOf(undefined, await client.health())
        case 'mint': {
          const minted = await client.mint({
            publicHex: args.public_hex,
            holderId: args.holder_id,
            // [[predicate, values], …] in order, as mintBiscuit takes them: an object, order kept
            facts: Object.fromEntries(args.facts),
            revocationId: args.revocation_id,
            expiresAt: args.expires_at,
            delegationDepth: args.delegation_depth,
          })
          return outcomeOf(undefined, { token: minted.token, revocation_id: minted.revocationId, expires_at: minted.expiresAt })
        }
        case 'sign_job':
          return outcomeOf(undefined, { sig: await client.signJob(args.job, args.worker_id) })
        default:
          throw new Error(`unknown signer call ${i.call}`)
      }
    },
  }
}

/** Run one op; a thrown (or rejected) TrustError is an outcome, anything else (a TypeError, a bug) propagates. */
async function outcome(run) {
  try {
    return { value: await run() }
  } catch (err) {
    if (err instanceof tc.TrustError) return { error: err }
    throw err
  }
}

/**
 * null when `got` matches `expect`, else why not. For the signer ops `result` is matched field by
 * field and `result_has` names fields that must be present.
 */
function mismatch(got, expect) {
  if (got.error && expect.error === got.error.code) return null
  if (got.error && expect.error) return `expected ${expect.error}, got ${got.error.code} (${got.error.message})`
  if (got.error) return `expected success, got ${got.error.code} (${got.error.message})`
  if (expect.error) return `expected ${expect.error}, got success ${JSON.stringify(got.value)}`
  for (const [key, want] of Object.entries(expect)) {
    if (key === 'result') {
      for (const [field, wanted] of Object.entries(want)) {
        // a field that is not there compares as null, as in the Rust runner
        const value = got.value.result?.[field] ?? null
        if (!isDeepStrictEqual(value, wanted)) {
          return `result.${field}: expected ${JSON.stringify(wanted)}, got ${JSON.stringify(value)}`
        }
      }
    } else if (key === 'result_has') {
      for (const field of want) {
        if (!Object.hasOwn(got.value.result ?? {}, field)) return `result has no ${field}`
      }
    } else if (!isDeepStrictEqual(got.value[key], want)) {
      return `${key}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got.value[key])}`
    }
  }
  return null
}

async function runVectorDir(dir) {
  const result = { ran: 0, declared: 0, failures: [] }
  for (const file of vectorFiles(dir)) {
    const doc = readJson(file)
    const name = path.basename(file)
    if (doc.schema !== 'trustcore-vectors/1') throw new Error(`${file}: schema ${doc.schema}`)
    result.declared += doc.numberOfTests
    // a file with `signer` settings runs against a live daemon, started for it and stopped after
    const daemon = doc.signer ? await startSigner({ seedHex: doc.signer.issuer_seed_hex, args: doc.signer.args }) : null
    try {
      const signer = daemon ? signerOps(daemon, doc.signer.issuer_public_hex) : {}
      for (const c of doc.cases) {
        result.ran += 1
        const isSignerOp = c.op.startsWith('signer_')
        if (isSignerOp && !daemon) throw new Error(`${name}: ${c.id}: op ${c.op} needs the file's signer settings`)
        const op = isSignerOp ? signer[c.op] : OPS[c.op]
        if (!op) throw new Error(`${name}: ${c.id}: unknown op ${c.op}`)
        let why
        try {
          // written out for this case only: the huge values are not kept
          why = mismatch(await outcome(() => op(expand(c.input))), c.expect)
        } catch (err) {
          why = `threw ${err.name}: ${err.message}`
        }
        if (why) result.failures.push(`${name}: ${c.id}: ${why}`)
      }
    } finally {
      if (daemon) {
        // SIGTERM, as an operator would stop it: it must exit 0 and remove its socket
        try {
          const { status, socketGone } = await daemon.stop()
          if (status !== 0) result.failures.push(`${name}: the signer exited with ${status} on SIGTERM`)
          if (!socketGone) result.failures.push(`${name}: the signer left its socket behind`)
        } finally {
          await daemon.close()
        }
      }
    }
  }
  return result
}

// Format → TOKEN_INVALID, FailedLogic and Execution → DENIED, RunLimit → LIMIT_EXCEEDED
const SAMPLE_ERRORS = { Format: 'TOKEN_INVALID', FailedLogic: 'DENIED', Execution: 'DENIED', RunLimit: 'LIMIT_EXCEEDED' }

async function runBiscuitSamples(dir) {
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
        why = mismatch(await outcome(run), expect)
      } catch (err) {
        why = `threw ${err.name}: ${err.message}`
      }
      if (why) result.failures.push(`biscuit-samples: ${c.filename} [${name}]: ${why}`)
    }
  }
  return result
}

/**
 * RFC 9421's own examples, read in place (tests/vectors/README.md, "The RFC's own examples"): the
 * B.2.6 signature base and signature, then each B.4 message verified (or POP_FAILED) with the
 * B.1.4 key. `2 + len(appendix_b4_transform.messages)` cases.
 */
async function runRfc9421(file) {
  const doc = readJson(file)
  const b4 = doc.appendix_b4_transform
  const result = { ran: 0, declared: 2 + b4.messages.length, failures: [] }
  const publicHex = doc.key.public_raw_hex
  const request = doc.request
  const b26 = (extra) => ({
    method: request.method,
    target: request.target,
    headers: [...request.headers, ...extra],
    body: Buffer.from(request.body, 'utf8'),
  })
  const cases = [
    ['B.2.6 signature base', () => ({ base: tc.signatureBase(b26([['Signature-Input', doc.signature_input]]), doc.label).toString('utf8') }), { base: doc.signature_base }],
    [
      'B.2.6 signature',
      () => {
        const message = b26([
          ['Signature-Input', doc.signature_input],
          ['Signature', doc.signature],
        ])
        tc.verifyMessageSignature(message, doc.label, publicHex)
        return {}
      },
      {},
    ],
  ]
  for (const [n, m] of b4.messages.entries()) {
    const run = () => {
      const [requestLine, ...lines] = m.message.split('\n')
      const [method, target] = requestLine.split(' ')
      const headers = lines.map((line) => {
        const at = line.indexOf(': ')
        if (at < 0) throw new Error(`B.4 message ${n}: a header line without ': ': ${line}`)
        return [line.slice(0, at), line.slice(at + 2)]
      })
      tc.verifyMessageSignature({ method, target, headers, body: Buffer.alloc(0) }, 'transform', publicHex)
      return {}
    }
    cases.push([`B.4 message ${n}`, run, m.expect_valid ? {} : { error: 'POP_FAILED' }])
  }
  for (const [name, run, expect] of cases) {
    result.ran += 1
    let why
    try {
      why = mismatch(await outcome(run), expect)
    } catch (err) {
      why = `threw ${err.name}: ${err.message}`
    }
    if (why) result.failures.push(`rfc9421: ${name}: ${why}`)
  }
  return result
}

const SOURCES = [
  ['trust-core-0.1', () => runVectorDir(path.join(SHARED, 'vectors', 'trust-core-0.1'))],
  ['tests/vectors', () => runVectorDir(path.join(REPO, 'tests', 'vectors'))],
  ['biscuit-samples', () => runBiscuitSamples(path.join(SHARED, 'vectors', 'biscuit-samples', 'current'))],
  ['rfc9421', () => runRfc9421(path.join(SHARED, 'vectors', 'rfc9421', 'ed25519.json'))],
]

module.exports = { SHARED, SOURCES, OPS, expand }
