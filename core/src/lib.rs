//! trustcore core: Biscuit capability tokens bound to a holder key, a per-request Ed25519 proof of
//! possession, Datalog authorization, signed jobs and the signer's wire frames.
//!
//! Every binding (Python, Node, C, Go) is a thin projection of this crate. See DESIGN.md §3.

pub mod authenticate;
pub mod canonical;
pub mod error;
pub mod issuer;
pub mod jobs;
pub mod keys;
pub mod mint;
pub mod policy;
pub mod proof;
pub mod timestamp;
pub mod token;
pub mod wire;

pub use authenticate::{authenticate, check_request, verify_pop, AuthenticateOptions, RevocationList};
pub use canonical::{body_sha256_hex, canonical_request, Request};
pub use error::{Error, ErrorCode, Result};
pub use issuer::IssuerKeys;
pub use jobs::{job_signing_bytes, sign_job, verify_job};
pub use keys::{constant_time_equal, is_hex_key, IssuerKey, PublicKey, WorkerKey};
pub use mint::{mint_biscuit, MintRequest, RESERVED_PREDICATES};
pub use policy::{authorize, check_policy, AuthorizeOptions, Limits, EXTERN_FUNCTIONS};
pub use proof::{make_proof, proof_from_headers, proof_from_query, WorkerProof};
pub use timestamp::{now_seconds, parse_timestamp};
pub use token::{inspect_unverified, parse_token, parse_token_bytes, Token, TokenSummary, VerifiedIdentity};
pub use wire::{
    decode_frame, decode_frame_body, encode_frame, frame_body_length, read_frame, read_frame_timeout, write_frame,
    MAX_FRAME,
};

/// Re-exported so callers can build JSON jobs and frames without naming serde_json themselves.
pub use serde_json;
