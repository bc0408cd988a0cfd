//! HTTP in core (docs/DESIGN.md §10): RFC 9421 message signatures with an RFC 9530 Content-Digest
//! (the trustcore profile) beside trust-core 0.1's `X-EP-*` headers, a route policy, and one
//! decision per request with its status.

mod decision;
mod digest;
mod fields;
mod legacy;
mod message;
mod rfc9421;
mod route;
mod sign;
mod signature_base;
mod thumbprint;

pub use decision::{status_for, Decision, PATH_PARAMETER_PREFIX, QUERY_PARAMETER_PREFIX, REQUEST_FACTS};
pub use digest::content_digest;
pub use fields::MAX_FIELD_BYTES;
pub use message::{HttpRequest, MAX_TARGET_BYTES};
pub use rfc9421::{MAX_NONCE_BYTES, REQUIRED_COMPONENTS, TRUSTCORE_LABEL, TRUSTCORE_TAG};
pub use route::{check_path, Access, HttpPolicy, Route, DEFAULT_MAX_BODY_BYTES, MAX_POLICY_BYTES, MAX_ROUTES};
pub use sign::{sign_request, HttpProfile, SignRequest};
pub use signature_base::MAX_COVERED_FIELD_BYTES;
pub use signature_base::{signature_base, verify_message_signature, MAX_COMPONENTS};
pub use thumbprint::jwk_thumbprint;

pub(crate) use digest::check_content_digest;
pub(crate) use legacy::read_legacy_proof;
pub(crate) use message::normalize_authority;
pub(crate) use rfc9421::{read_http_proof, HttpProof};
