//! The per-request path's first half: authenticate (token, identity, revocation, freshness, proof of
//! possession). Core does every step, in its order, without the GIL; this file only converts.

use pyo3::prelude::*;
use trustcore_core::{AuthenticateOptions, Request, WorkerProof};

use crate::convert::{issuer_keys, Bytes, Seconds, Text};
use crate::delegation::{authenticated, Authenticated};
use crate::error::{detached, guarded};
use crate::limits::{or_default, Limits};
use crate::revocation::DenyList;
use crate::token::Token;

/// Flat form of `trustcore.authenticate` (the package unpacks its value objects): returns
/// `(token, holder_id, holder_public_hex, revocation_id, chain)` (chain: `(holder_id,
/// holder_public_hex)` pairs, the issuer's holder first).
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
) -> PyResult<Authenticated> {
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
        Ok(authenticated(Token::owned(token), identity))
    })
}
