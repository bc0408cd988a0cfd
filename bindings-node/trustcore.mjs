// ESM entry: the same module instance as the CommonJS one, so TrustError is one class.
import trustcore from './trustcore.js'

export const {
  IssuerKey,
  WorkerKey,
  Token,
  SignerClient,
  Verifier,
  TrustError,
  ERROR_CODES,
  errorCodes,
  isHexKey,
  constantTimeEqual,
  canonicalRequest,
  makeProof,
  makeProofAsync,
  proofFromHeaders,
  proofFromQuery,
  proofHeaders,
  proofQuery,
  mintBiscuit,
  mintBiscuitAsync,
  parseToken,
  parseTokenAsync,
  authenticate,
  authenticateAsync,
  checkPolicy,
  checkPolicyAsync,
  signJob,
  signJobAsync,
  verifyJob,
  verifyJobAsync,
  encodeFrame,
  decodeFrame,
  __napiBindingTarget,
} = trustcore

export default trustcore
