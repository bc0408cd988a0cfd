//! The per-request path (authenticate, check_policy) and minting. Core does every step, in its
//! order, without the GIL; this file only converts.

use pyo3::prelude::*;
use trustcore_core::{AuthenticateOptions, MintRequest, Request, WorkerProof};

use crate::convert::{fact_pairs, issuer_keys, string_pairs, Bytes, Count, Seconds, Text};
use crate::errors::{detached, guarded};
use crate::keys::IssuerKey;
use crate::limits::{or_default, Limits};
use crate::revocation::DenyList;
use crate::token::Token;

/// Flat form of `trustcore.authenticate` (the package unpacks its value objects): returns
/// `(token, holder_id, holder_public_hex, revocation_id)`.
#[pyfunction]
#[pyo3(signature = (issuer_public_hex, token, signature, timestamp, nonce, method, path, body, now, revoked_ids, max_skew_seconds, limits=None))]
#[allow(clippy::too_many_arguments)] // one per field of the proof and the request
pub fn authenticate(
    py: Python<'_>,
    issuer_public_hex: &Bound<'_, PyAny>,
    token: Text,
    signature: Text,
    timestamp: Text,
    nonce: Text,
    method: Text,
    path: Text,
    body: Bytes<'_>,
    now: Seconds,
    revoked_ids: &Bound<'_, PyAny>,
    max_skew_seconds: Seconds,
    limits: Option<PyRef<'_, Limits>>,
) -> PyResult<(Token, String, String, String)> {
    guarded(|| {
        let issuer = issuer_keys(issuer_public_hex)?;
        let revoked = DenyList::new(revoked_ids)?;
        let proof = WorkerProof { token: token.0, signature: signature.0, timestamp: timestamp.0, nonce: nonce.0 };
        let options =
            AuthenticateOptions { now: now.0, max_skew_seconds: max_skew_seconds.0, limits: or_default(limits) };
        let (method, path, body) = (method.0, path.0, &*body.0);
        let result = detached(py, || {
            let request = Request::new(&method, &path, body);
            trustcore_core::authenticate(&issuer, &proof, &request, &revoked, &options)
        });
        if let Some(failure) = revoked.take_failure() {
            return Err(failure); // the caller's container raised: show that, not a store error
        }
        let (token, identity) = result?;
        Ok((Token::owned(token), identity.holder_id, identity.holder_public_hex, identity.revocation_id))
    })
}

/// One authorization decision: `time(now)`, the request facts (values bound, never spliced), the
/// `allow` policy, then `deny if true`. None on allow; DENIED, or LIMIT_EXCEEDED past the limits.
#[pyfunction]
#[pyo3(signature = (token, *, request_facts, allow, now, limits=None))]
pub fn check_policy(
    py: Python<'_>,
    token: PyRef<'_, Token>,
    request_facts: &Bound<'_, PyAny>,
    allow: Text,
    now: Seconds,
    limits: Option<PyRef<'_, Limits>>,
) -> PyResult<()> {
    guarded(|| {
        let facts = string_pairs(request_facts, "request_facts")?;
        let limits = or_default(limits);
        let token = token.core();
        detached(py, || {
            let facts = facts.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            trustcore_core::check_policy(token, facts, &allow.0, now.0, &limits)
        })
    })
}

/// Mint a token binding `public_hex` (the holder's key), carrying `facts`, the revocation id and
/// an expiry check; returns it as base64. `root_key_id` tags it for issuer key rotation.
#[pyfunction]
#[pyo3(signature = (issuer, *, public_hex, holder_id, facts, revocation_id, expires_at, root_key_id=None))]
#[allow(clippy::too_many_arguments)] // trust-core 0.1's keyword arguments, one each
pub fn mint_biscuit(
    py: Python<'_>,
    issuer: PyRef<'_, IssuerKey>,
    public_hex: Text,
    holder_id: Text,
    facts: &Bound<'_, PyAny>,
    revocation_id: Text,
    expires_at: Seconds,
    root_key_id: Option<Count>,
) -> PyResult<String> {
    guarded(|| {
        let request = MintRequest {
            public_hex: public_hex.0,
            holder_id: holder_id.0,
            facts: fact_pairs(facts)?,
            revocation_id: revocation_id.0,
            expires_at: expires_at.0,
            root_key_id: root_key_id.map(|id| id.to_u32("root_key_id")).transpose()?,
        };
        let issuer = &issuer.inner;
        detached(py, || trustcore_core::mint_biscuit(issuer, &request))
    })
}
