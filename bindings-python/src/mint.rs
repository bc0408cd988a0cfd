//! Minting in process (core's `mint_biscuit`); the signer daemon mints through `SignerClient`.

use pyo3::prelude::*;
use trustcore_core::MintRequest;

use crate::convert::{fact_pairs, Count, Seconds, Text};
use crate::error::{detached, guarded};
use crate::keys::IssuerKey;

/// Mint a token binding `public_hex` (the holder's key), carrying `facts`, the revocation id and
/// an expiry check; returns it as base64. `root_key_id` tags it for issuer key rotation;
/// `delegation_depth` (0: not delegable, at most 8) is how many times it may be delegated.
#[pyfunction]
#[pyo3(
    signature = (issuer, *, public_hex, holder_id, facts, revocation_id, expires_at, root_key_id=None, delegation_depth=Count(0)),
    text_signature = "(issuer, *, public_hex, holder_id, facts, revocation_id, expires_at, root_key_id=None, delegation_depth=0)"
)]
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
    delegation_depth: Count,
) -> PyResult<String> {
    guarded(|| {
        let request = MintRequest {
            public_hex: public_hex.0,
            holder_id: holder_id.0,
            facts: fact_pairs(facts)?,
            revocation_id: Some(revocation_id.0),
            expires_at: expires_at.0,
            root_key_id: root_key_id.map(|id| id.to_u32("root_key_id")).transpose()?,
            delegation_depth: delegation_depth.to_u32("delegation_depth")?,
        };
        let issuer = &issuer.inner;
        detached(py, || trustcore_core::mint_biscuit(issuer, &request))
    })
}
