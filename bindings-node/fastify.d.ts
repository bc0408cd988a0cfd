// trustcore/fastify: a Fastify 5 plugin that hands each request to core's decision
// (docs/DESIGN.md §10.3); `request.trustcore` on the requests it allowed.
import type { FastifyPluginCallback, FastifyRequest } from 'fastify'
import type { Decision, HttpPolicy, Identity, Verifier } from './trustcore'

declare namespace trustcore {
  /** What `request.trustcore` holds once core allowed the request. */
  export interface TrustcoreRequestInfo {
    /** Who sent it; null on a public route. */
    identity: Identity | null
    /** The request facts the route's policy saw (core's, then the app's), in order. */
    facts: Decision['facts']
    /** The route template that matched. */
    route: string | null
    /** How the credentials came; null on a public route. */
    profile: Decision['profile']
    /** The exact body bytes the decision covered (what Fastify's content-type parser then read). */
    body: Buffer
  }

  export interface TrustcoreOptions {
    /** The Verifier (its `authorities`: the host[:port] the app answers to). Make one per process. */
    verifier: Verifier
    /** The route policy; its `maxBodyBytes` caps the body read (keep Fastify's `bodyLimit` at least that). */
    policy: HttpPolicy
    /** The app's own facts for a request, each named `req_…` (none of core's). */
    facts?: (request: FastifyRequest) => Record<string, string> | Array<[string, string]> | null | undefined | Promise<Record<string, string> | Array<[string, string]> | null | undefined>
  }

  export const trustcore: TrustcorePlugin
  export { trustcore as default }
}

/**
 * `await app.register(trustcore, { verifier, policy })`, before any other preParsing hook: every route
 * of the app (404s included) is decided by core; a refusal is answered as the decision says.
 */
declare function trustcore(...params: Parameters<TrustcorePlugin>): ReturnType<TrustcorePlugin>
type TrustcorePlugin = FastifyPluginCallback<trustcore.TrustcoreOptions>

declare module 'fastify' {
  export interface FastifyRequest {
    /** Set by trustcore/fastify on a request core allowed; null before (and on a refusal). */
    trustcore: import('./fastify').TrustcoreRequestInfo | null
  }
}

export = trustcore
