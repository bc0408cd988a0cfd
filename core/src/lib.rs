//! trustcore core: Biscuit capability tokens bound to a holder key, a per-request Ed25519 proof of
//! possession, Datalog authorization, signed jobs and the signer's wire frames.
//!
//! Every binding (Python, Node, C, Go) is a thin projection of this crate. See docs/DESIGN.md §3.
//!
//! ```
//! use trustcore_core::*;
//! # fn main() -> Result<()> {
//! let issuer = IssuerKey::generate()?; // lives in the signer
//! let holder = WorkerKey::generate()?; // lives on the holder
//! let token = mint_biscuit(&issuer, &MintRequest {
//!     public_hex: holder.public_hex(),
//!     holder_id: "gpu-1".into(),
//!     facts: vec![("right".into(), vec!["lease".into()])],
//!     revocation_id: Some("rev-1".into()),
//!     expires_at: now_seconds() + 3600.0,
//!     root_key_id: None,
//!     delegation_depth: 0,
//! })?;
//!
//! // holder side: sign the request
//! let body = br#"{"episode":"e1"}"#;
//! let request = Request::new("POST", "/lease", body);
//! let proof = make_proof(&holder, &token, &request, &format!("{}", now_seconds().floor()), "nonce-1")?;
//!
//! // service side: authenticate, then authorize
//! let issuer_keys = IssuerKeys::one(issuer.public_key());
//! let options = AuthenticateOptions::new(now_seconds(), 300.0);
//! let revoked: Vec<String> = Vec::new();
//! let (token, identity) = authenticate(&issuer_keys, &proof, &request, &revoked, &options)?;
//! check_policy(&token, [("req_right", "lease")], "allow if req_right($r), right($r)", options.now, &options.limits)?;
//! assert_eq!(identity.holder_id, "gpu-1");
//! # Ok(())
//! # }
//! ```

// The modules are private: every item has one path, at the root, except the signer daemon's own
// parts (its service, protocol, audit log and stream), which only the `trustcore` command needs:
// they stay under `signer`; and the HTTP layer, grouped under `http` (signing, the route policy,
// the decision).
mod authenticate;
mod biscuit;
mod budget;
mod canonical;
mod delegation;
mod error;
mod fault;
pub mod http;
mod issuer;
mod jobs;
mod json;
mod keys;
mod limits;
mod locked;
mod mint;
mod policy;
mod proof;
mod revocation;
mod settings;
mod signals;
pub mod signer;
mod stores;
mod timestamp;
mod token;
mod verifier;
mod wire;

pub use authenticate::{
    authenticate, check_request, check_revoked_ids, pop_message, verify_pop, verify_pop_with_key, AuthenticateOptions,
};
pub use biscuit::{REQUEST_FACT_PREFIX, RESERVED_PREDICATES};
pub use canonical::{body_sha256_hex, canonical_request, Request};
#[doc(hidden)]
pub use delegation::delegate_reproducible;
pub use delegation::{delegate, DelegateRequest};
pub use error::{Error, ErrorCode, Result};
pub use issuer::IssuerKeys;
pub use jobs::{job_signing_bytes, sign_job, verify_job, verify_job_text, JobTerms, JOB_EXPIRES_AT, JOB_NONCE};
pub use json::{parse_object, MAX_JSON_DEPTH};
pub use keys::{constant_time_equal, is_hex_key, IssuerKey, PublicKey, WorkerKey};
pub use limits::{Limits, MAX_REGEX_BYTES, MAX_REGEX_PROGRAM_BYTES};
#[doc(hidden)]
pub use mint::mint_biscuit_reproducible;
pub use mint::{mint_biscuit, MintRequest};
pub use policy::{authorize, check_policy, AuthorizeOptions, EXTERN_FUNCTIONS};
pub use proof::{make_proof, proof_from_headers, proof_from_query, WorkerProof};
pub use revocation::{canonical_revocation_id, DenyList, RevocationList, MAX_REVOCATION_ID_BYTES};
pub use settings::{duration_from_millis, duration_from_seconds, MAX_SETTING_DURATION, MAX_SKEW_SECONDS};
pub use signer::client::{MintedToken, SignerAddress, SignerClient, SignerClientOptions};
pub use stores::memory::{MemoryReplayStore, MemoryRevocationStore};
pub use stores::redis::{RedisConfig, RedisStore, CLUSTER_SHARDS};
pub use stores::{Admission, AdmissionStore, Deadline, ReplayKey, ReplayStore, RevocationStore};
pub use timestamp::{now_seconds, parse_timestamp};
pub use token::{
    inspect_unverified, parse_token, parse_token_bytes, parse_token_limited, Holder, Token, TokenSummary,
    VerifiedIdentity, MAX_DELEGATION_DEPTH,
};
pub use verifier::{
    cache_entry_bytes, replay_ttl, CacheStats, VerifiedToken, Verifier, VerifierConfig, DEFAULT_MAX_BATCH_BODY_BYTES,
    DEFAULT_MAX_BATCH_REQUESTS, DEFAULT_MAX_SKEW_SECONDS, DEFAULT_REPLAY_CAPACITY, DEFAULT_TOKEN_CACHE_CAPACITY,
    DEFAULT_TOKEN_CACHE_MAX_BYTES,
};
pub use wire::{
    decode_frame, decode_frame_body, encode_frame, frame_body_length, read_frame, read_frame_by, read_frame_timeout,
    read_next_body, read_next_frame, write_frame, NextBody, NextFrame, SetReadTimeout, MAX_FRAME,
};

/// Re-exported so callers can build JSON jobs and frames without naming serde_json themselves.
pub use serde_json;
