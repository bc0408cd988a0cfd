// trustcore/express: an Express 4 and 5 middleware that hands each request to core's decision
// (docs/DESIGN.md §10.3). No dependency on @types/express: the request and response are Node's, and
// with @types/express installed `req.trustcore` is typed on Express's own Request.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Decision, HttpPolicy, Identity, Verifier } from './trustcore'

declare namespace trustcore {
  /** What `req.trustcore` holds once core allowed the request. */
  export interface TrustcoreRequestInfo {
    /** Who sent it; null on a public route. */
    identity: Identity | null
    /** The request facts the route's policy saw (core's, then the app's), in order. */
    facts: Decision['facts']
    /** The route template that matched. */
    route: string | null
    /** How the credentials came; null on a public route. */
    profile: Decision['profile']
    /** The exact body bytes the decision covered (also `req.body` until a parser replaces it). */
    body: Buffer
  }

  export interface TrustcoreOptions<Req = IncomingMessage> {
    /** The Verifier (its `authorities`: the host[:port] the app answers to). Make one per process. */
    verifier: Verifier
    /** The route policy; its `maxBodyBytes` caps the body read. */
    policy: HttpPolicy
    /** The app's own facts for a request, each named `req_…` (none of core's). */
    facts?: (req: Req) => Record<string, string> | Array<[string, string]> | null | undefined | Promise<Record<string, string> | Array<[string, string]> | null | undefined>
  }

  /** A middleware with Express's signature (Express 4 and 5, Connect). */
  export type TrustcoreMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void

  export const trustcore: TrustcoreFunction
  export { trustcore as default }
}

/**
 * `app.use(trustcore({ verifier, policy }))`, before any body parser: a refusal is answered as core's
 * decision says (status, headers, body); an allowed request gets `req.trustcore` and `req.body` (the
 * body bytes, a Buffer), and the same bytes stay readable from the request for a parser mounted
 * after it. An error (a misconfiguration, a request that broke off) goes to `next(err)`.
 */
declare function trustcore<Req = IncomingMessage>(options: trustcore.TrustcoreOptions<Req>): trustcore.TrustcoreMiddleware

declare global {
  // Express's Request (with @types/express) and any code that names this namespace
  namespace Express {
    interface Request {
      /** Set by trustcore/express on a request core allowed. */
      trustcore?: import('./express').TrustcoreRequestInfo
    }
  }
}

type TrustcoreFunction = typeof trustcore

export = trustcore
