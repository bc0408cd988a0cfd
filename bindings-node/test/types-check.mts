// Compiled (never run) by exports.test.js: the public declarations as a TypeScript user meets them.
import {
  IssuerKey,
  WorkerKey,
  TrustError,
  ERROR_CODES,
  authenticateAsync,
  checkPolicy,
  makeProof,
  mintBiscuit,
  proofFromHeaders,
  verifyJob,
  SignerClient,
  Verifier,
  Token,
  type ErrorCode,
  type Authenticated,
  type SignerClientOptions,
  type SignerMintedToken,
  type SignerPublicKey,
  type VerifierOptions,
  type CacheStats,
  type BatchRequest,
  type BatchResult,
  HttpPolicy,
  signRequest,
  signRequestAsync,
  signatureBase,
  verifyMessageSignature,
  contentDigest,
  jwkThumbprint,
  type Decision,
  type DecideOptions,
  type HttpMessage,
  type HttpProfile,
  type HeaderLines,
  type SignRequestOptions,
  delegate,
  delegateAsync,
  parseToken,
  type DelegateOptions,
  type Holder,
  type Identity,
} from 'trustcore'

const issuer: IssuerKey = IssuerKey.generate()
const worker = WorkerKey.generate()
const token: string = mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'w', revocationId: 'r', expiresAt: 1 })
const request = { method: 'GET', path: '/', body: new Uint8Array(0) }
const proof = makeProof(worker, token, request, '1', 'n')
const headers: Record<string, string | string[] | undefined> = { authorization: `Biscuit ${proof.token}` }

export async function handle(): Promise<string> {
  try {
    const { token: verified, identity }: Authenticated = await authenticateAsync(issuer.publicHex, proofFromHeaders(headers), request, {
      now: Date.now() / 1000,
      revokedIds: new Set<string>(),
      maxSkewSeconds: 300,
    })
    checkPolicy(verified, { requestFacts: { req_operation: 'read' }, allow: 'allow if true', now: Date.now() / 1000 })
    return identity.holderId
  } catch (err) {
    if (err instanceof TrustError) {
      const code: ErrorCode = err.code
      return code === 'DENIED' ? 'forbidden' : ERROR_CODES[0]
    }
    throw err
  }
}

const signerOptions: SignerClientOptions = { connectTimeoutMs: 1000, requestTimeoutMs: 5000 }
const signer = new SignerClient('unix:/run/trustcore/signer.sock', signerOptions)

export async function fromSigner(): Promise<string> {
  const { publicKey, keyId }: SignerPublicKey = await signer.publicKey()
  const rootKeyId: number | null = keyId
  const minted: SignerMintedToken = await signer.mint({
    publicHex: worker.publicHex,
    holderId: 'w',
    facts: { right: ['lease'] },
    expiresAt: Date.now() / 1000 + 600,
  })
  const job = { job_id: 'j-1' }
  verifyJob(publicKey, { ...job, sig: await signer.signJob(job, 'w') }, 'w')
  const health: Record<string, unknown> = await signer.health()
  return `${minted.token} ${minted.revocationId} ${minted.expiresAt} ${rootKeyId} ${String(health.status)} ${signer.address}`
}

const verifierOptions: VerifierOptions = {
  maxSkewSeconds: 300,
  limits: {
    maxTimeMs: 10,
    maxTokenBytes: 32_768,
    maxBlocks: 32,
    maxBlockFacts: 1000,
    maxBlockRules: 64,
    maxBodyAtoms: 32,
    maxBodyOps: 128,
    maxJoinSize: 10_000,
    allowAppendedRegex: false,
  },
  replayCapacity: 100_000,
  replayCapacityPerHolder: 25_000,
  revokedIds: new Set(['rev-0']),
  tokenCacheCapacity: 10_000,
  tokenCacheMaxBytes: 64 << 20,
  maxBatchRequests: 1024,
  maxBatchBodyBytes: 64 << 20,
  redis: { url: 'redis://127.0.0.1:6379/', keyPrefix: 'trustcore:', connectTimeoutMs: 1000, commandTimeoutMs: 500, retryIntervalMs: 1000 },
}
const verifier = new Verifier({ 1: issuer.publicHex }, verifierOptions)
const memoryVerifier = new Verifier(issuer.publicHex)
// a Redis Cluster through its seed nodes (no url)
export const clusterOptions: VerifierOptions = { redis: { cluster: ['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000'] } }

export async function handleWithVerifier(): Promise<string> {
  const { token: verified, identity }: Authenticated = await verifier.authenticateAsync(proofFromHeaders(headers), request)
  const sameToken: Token = verified
  await verifier.checkPolicyAsync(sameToken, { requestFacts: { req_operation: 'read' }, allow: 'allow if true' })
  memoryVerifier.checkPolicy(verified, { requestFacts: {}, allow: 'allow if true', now: Date.now() / 1000 })
  const policy: number = await verifier.authorizeAsync(verified, 'allow if true', { now: 1, externFunctions: ['test'] })
  const again: number = memoryVerifier.authorize(verified, 'allow if true')
  memoryVerifier.authenticate(proof, request, { now: 1 })
  await verifier.revokeAsync(identity.revocationId)
  memoryVerifier.revoke('rev-1')
  const revoked: void = memoryVerifier.revokeToken(verified)
  await verifier.revokeTokenAsync(sameToken)
  const { hits, misses, entries, bytes }: CacheStats = memoryVerifier.cacheStats()
  return `${identity.holderId} ${policy + again + hits + misses + entries + bytes} ${verifier.toString()} ${revoked}`
}

export async function handleBatch(): Promise<string[]> {
  const requests: BatchRequest[] = [{ proof: proofFromHeaders(headers), request }, { proof, request: { method: 'GET', path: '/', body: 'text' } }]
  const results: BatchResult[] = memoryVerifier.authenticateBatch(requests, { now: 1 })
  const later: BatchResult[] = await verifier.authenticateBatchAsync(requests)
  return [...results, ...later].map((result) => {
    // `ok` narrows: a token and an identity, or a TrustError
    if (result.ok) {
      const sameToken: Token = result.token
      return `${result.identity.holderId} ${sameToken.blockCount}`
    }
    const error: TrustError = result.error
    const code: ErrorCode = error.code
    return code
  })
}

const profiles: HttpProfile[] = ['rfc9421', 'legacy']
const httpVerifier = new Verifier(issuer.publicHex, { authorities: ['api.example.com'], profiles })
const routes: HttpPolicy = HttpPolicy.fromJson('{"routes": [{"method": "GET", "path": "/health", "public": true}]}')
const fromFile: HttpPolicy = HttpPolicy.fromFile('/etc/trustcore/routes.json')
const maxBody: number = routes.maxBodyBytes + fromFile.routeCount
// the 413 of an announced length (null within the cap), and where a server decides
const tooLong: Decision | null = routes.bodyLengthRefusal(maxBody + 1)
const inline: boolean = !httpVerifier.mayWaitOnNetwork && tooLong?.status === 413

export async function signAndDecide(rawHeaders: string[]): Promise<[number, string | null]> {
  const signing: SignRequestOptions = { method: 'POST', url: 'https://api.example.com/lease', body: 'x', profile: 'rfc9421', created: 1, nonce: 'n' }
  const added: Record<string, string> = signRequest(worker, token, signing)
  const later: Record<string, string> = await signRequestAsync(worker, token, { method: 'GET', url: '/health', headers: { host: 'api.example.com' } })
  const lines: HeaderLines = [['Host', 'api.example.com'], ...Object.entries(added)]
  const message: HttpMessage = { method: 'POST', target: '/lease', headers: lines, body: Buffer.from('x') }
  const base: Buffer = signatureBase(message, 'tc')
  const checked: void = verifyMessageSignature(message, 'tc', worker.publicHex)
  const digest: string = contentDigest(base) + jwkThumbprint(worker.publicHex) + String(checked) + later.Signature
  const options: DecideOptions = { policy: routes, facts: { req_tenant: 't' }, now: Date.now() / 1000 }
  const decision: Decision = httpVerifier.decide({ method: 'GET', target: '/health', headers: rawHeaders }, options)
  const async: Decision = await httpVerifier.decideAsync(message, { policy: routes, facts: [['req_tenant', 't']] })
  const code: ErrorCode | null = async.code
  const refusal: Record<string, string> = decision.headers
  const facts: Array<[string, string]> = decision.facts
  const profile: HttpProfile | null = decision.profile
  const holder: string | undefined = decision.identity?.holderId
  return [decision.status + maxBody + Number(inline) + digest.length + Object.keys(refusal).length + facts.length, code ?? profile ?? holder ?? decision.route]
}

// trustcore/express, trustcore/fastify, trustcore/fetch: default and named imports, the options,
// what the app is given, and the request types of each framework
import trustcoreExpress, { trustcore as trustcoreExpressNamed, type TrustcoreRequestInfo, type TrustcoreOptions } from 'trustcore/express'
import trustcoreFastify, { type TrustcoreRequestInfo as FastifyRequestInfo } from 'trustcore/fastify'
import signedFetch, { signedFetch as signedFetchNamed, type SignedFetchOptions, type Fetch } from 'trustcore/fetch'
import type { IncomingMessage } from 'node:http'
import Fastify from 'fastify'

const expressOptions: TrustcoreOptions = { verifier: httpVerifier, policy: routes, facts: (req: IncomingMessage) => ({ req_tenant: String(req.headers['x-tenant']) }) }
const middleware = trustcoreExpress(expressOptions)
const sameMiddleware: typeof middleware = trustcoreExpressNamed({ verifier: httpVerifier, policy: routes, facts: async () => [['req_tenant', 't']] })

export function expressRequest(req: Express.Request): string | null {
  const info: TrustcoreRequestInfo | undefined = req.trustcore
  const body: Buffer | undefined = info?.body
  const profile: HttpProfile | null | undefined = info?.profile
  return `${info?.identity?.holderId} ${info?.route} ${body?.length} ${profile} ${info?.facts.length}`
}

export async function fastifyApp(): Promise<void> {
  const app = Fastify()
  await app.register(trustcoreFastify, { verifier: httpVerifier, policy: routes, facts: (request) => ({ req_tenant: request.ip }) })
  app.get('/health', async (request) => {
    const info: FastifyRequestInfo | null = request.trustcore
    return { holder: info?.identity?.holderId ?? null, route: info?.route ?? null, bytes: info?.body.length ?? 0 }
  })
}

const fetchOptions: SignedFetchOptions = { profile: 'legacy', fetch }
const signed: Fetch = signedFetch(worker, token)
const viaImpl: typeof fetch = signedFetch(worker, token, fetch, { profile: 'rfc9421' })
const viaOptions: Fetch = signedFetchNamed(worker, token, fetchOptions)

export async function fetchSigned(): Promise<number> {
  const res: Response = await signed('https://api.example.com/lease/a', { method: 'POST', body: '{}' })
  const again = await viaImpl(new URL('https://api.example.com/lease/a'), { method: 'POST', body: new URLSearchParams({ a: '1' }) })
  const third = await viaOptions(new Request('https://api.example.com/health'))
  return res.status + again.status + third.status + (sameMiddleware === middleware ? 1 : 0)
}

export async function handOn(next: WorkerKey): Promise<string[]> {
  const delegable: string = mintBiscuit(issuer, { publicHex: worker.publicHex, holderId: 'w', revocationId: 'r', expiresAt: 60, delegationDepth: 2 })
  const options: DelegateOptions = { toPublicHex: next.publicHex, toHolderId: 'w2', checks: 'check if req_operation("read");', expiresAt: 30 }
  const byNext: string = delegate(delegable, worker, options)
  const later: string = await delegateAsync(byNext, next, { toPublicHex: worker.publicHex, toHolderId: 'w3', expiresAt: 20 })
  const identity: Identity = parseToken(issuer.publicHex, later).identity()
  const chain: Holder[] = identity.chain
  const minted: SignerMintedToken = await signer.mint({ publicHex: worker.publicHex, holderId: 'w', expiresAt: 60, delegationDepth: 1 })
  return [...chain.map((holder) => `${holder.holderId}:${holder.holderPublicHex}`), minted.token]
}
