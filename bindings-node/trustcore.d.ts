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

/** The codes in number order (the C `tc_status` numbers are index + 1). */
export declare const ERROR_CODES: readonly ErrorCode[]

/** What every trustcore call throws (or rejects with) when core refuses; a wrong JS type is a TypeError. */
export declare class TrustError extends Error {
  constructor(code: ErrorCode, message: string)
  readonly code: ErrorCode
  readonly name: 'TrustError'
}
