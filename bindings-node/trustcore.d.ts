// Public types: the generated native declarations (index.d.ts) plus the error class.
export * from './index'

/** Every error code (docs/DESIGN.md §5); `err.code` of a TrustError is one of these. */
export type ErrorCode =
  | 'MALFORMED_INPUT'
  | 'TOKEN_INVALID'
  | 'TOKEN_UNBOUND'
  | 'REVOKED'
  | 'STALE_REQUEST'
  | 'REPLAYED'
  | 'POP_FAILED'
  | 'DENIED'
  | 'LIMIT_EXCEEDED'
  | 'JOB_INVALID'
  | 'FRAME_INVALID'
  | 'SIGNER_UNAVAILABLE'
  | 'SIGNER_REFUSED'
  | 'STORE_UNAVAILABLE'
  | 'INTERNAL'
  | 'WRONG_AUDIENCE'
  | 'DELEGATION_INVALID'

/** This package's version, e.g. "0.2.0" (every trustcore package of a release has the same one). */
export declare const version: string

/** The codes in number order (the C `tc_status` numbers are index + 1). */
export declare const ERROR_CODES: readonly ErrorCode[]

/** What every trustcore call throws (or rejects with) when core refuses; a wrong JS type is a TypeError. */
export declare class TrustError extends Error {
  constructor(code: ErrorCode, message: string)
  readonly code: ErrorCode
  readonly name: 'TrustError'
}

/** How a proof travels on an HTTP request: RFC 9421 message signatures, or trust-core 0.1's `X-EP-*` headers. */
export type HttpProfile = 'rfc9421' | 'legacy'

/**
 * A request's header lines, in the order they came: `[name, value]` pairs, Node's `req.rawHeaders`
 * (a flat list: name, value, name, value, …), an object such as `req.headers` (a value may be a
 * list of lines), or anything with `entries()` (`Headers`, `Map`). Names in any case.
 */
export type HeaderLines =
  | Array<[string, string]>
  | string[]
  | Record<string, string | string[] | undefined>
  | Iterable<[string, string]>
