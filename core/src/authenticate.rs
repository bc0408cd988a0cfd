//! Stateless authentication: parse → identity → revocation → freshness → proof of possession.

use crate::canonical::Request;
use crate::error::{Error, ErrorCode, Result};
use crate::issuer::IssuerKeys;
use crate::keys::{signature_from_hex, PublicKey};
use crate::limits::Limits;
use crate::proof::WorkerProof;
use crate::revocation::{app_id_for_lookup, RevocationList};
use crate::timestamp::check_freshness;
use crate::token::{parse_token_limited, Token, VerifiedIdentity};

/// The verifier's settings for one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AuthenticateOptions {
    /// The verifier's clock, seconds since the epoch.
    pub now: f64,
    pub max_skew_seconds: f64,
    pub limits: Limits,
}

impl AuthenticateOptions {
    pub fn new(now: f64, max_skew_seconds: f64) -> Self {
        AuthenticateOptions { now, max_skew_seconds, limits: Limits::default() }
    }
}

/// Authenticate one request, cheapest check first, and fail closed. Returns the verified token and
/// the holder's identity: never capabilities (run `check_policy` for those).
pub fn authenticate(
    issuer: &IssuerKeys,
    proof: &WorkerProof,
    request: &Request<'_>,
    revoked: &(impl RevocationList + ?Sized),
    options: &AuthenticateOptions,
) -> Result<(Token, VerifiedIdentity)> {
    // the size is checked before decoding; the identity is read from the authority block's facts:
    // nothing a holder appended is evaluated here (it runs, budgeted, in check_policy)
    let token = parse_token_limited(issuer, &proof.token, &options.limits)?;
    // the bound key comes parsed with the identity: one point decompression per token, not two
    let (identity, holder_key) = token.bound_identity()?;
    check_before_pop(&token, &identity, proof, revoked, options)?;
    verify_pop_with_key(&holder_key, proof, request)?;
    Ok((token, identity))
}

/// Steps 3 to 5 for a token already parsed and bound: revocation, freshness, proof of possession.
/// A verifier that caches parsed tokens runs these on every request.
pub fn check_request(
    token: &Token,
    identity: &VerifiedIdentity,
    proof: &WorkerProof,
    request: &Request<'_>,
    revoked: &(impl RevocationList + ?Sized),
    options: &AuthenticateOptions,
) -> Result<()> {
    check_before_pop(token, identity, proof, revoked, options)?;
    verify_pop(&identity.holder_public_hex, proof, request)
}

/// Steps 3 and 4: revocation, then freshness (the request's timestamp, the token's expiry).
fn check_before_pop(
    token: &Token,
    identity: &VerifiedIdentity,
    proof: &WorkerProof,
    revoked: &(impl RevocationList + ?Sized),
    options: &AuthenticateOptions,
) -> Result<()> {
    check_revocation(token, identity, revoked)?;
    check_freshness(&proof.timestamp, options.now, options.max_skew_seconds)?;
    token.check_expiry(options.now)
}

/// The app revocation id and every block's own revocation id (hex) against the deny-list.
pub fn check_revocation(
    token: &Token,
    identity: &VerifiedIdentity,
    revoked: &(impl RevocationList + ?Sized),
) -> Result<()> {
    let app_id = app_id_for_lookup(&identity.revocation_id);
    check_revoked_ids(std::iter::once(&app_id).chain(&token.revocation_ids()), revoked)
}

/// REVOKED when any of `ids` is on the deny-list.
pub fn check_revoked_ids<'a>(
    ids: impl IntoIterator<Item = &'a String>,
    revoked: &(impl RevocationList + ?Sized),
) -> Result<()> {
    for id in ids {
        if revoked.is_revoked(id)? {
            return Err(Error::new(ErrorCode::Revoked, "worker credential is revoked"));
        }
    }
    Ok(())
}

/// Strict Ed25519 verification of the holder's signature over the canonical request.
pub fn verify_pop(holder_public_hex: &str, proof: &WorkerProof, request: &Request<'_>) -> Result<()> {
    verify_pop_with_key(&PublicKey::from_hex(holder_public_hex)?, proof, request)
}

/// What the holder must have signed for `request`, and the signature it sent (MALFORMED_INPUT when
/// it is not 64 bytes of hex, or a part holds CR or LF).
pub fn pop_message(proof: &WorkerProof, request: &Request<'_>) -> Result<(Vec<u8>, [u8; 64])> {
    let signature = signature_from_hex(&proof.signature, "proof-of-possession signature")?;
    Ok((request.canonical(&proof.timestamp, &proof.nonce)?, signature))
}

/// [`verify_pop`] with the holder key already parsed (a verifier caches it with the token).
pub fn verify_pop_with_key(key: &PublicKey, proof: &WorkerProof, request: &Request<'_>) -> Result<()> {
    let (message, signature) = pop_message(proof, request)?;
    if key.verify_strict(&message, &signature) {
        Ok(())
    } else {
        Err(Error::new(ErrorCode::PopFailed, "proof-of-possession signature failed"))
    }
}
