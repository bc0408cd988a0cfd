//! Delegation, the holder's side (docs/DESIGN.md §3.13): a holder hands a narrowed capability to
//! another holder's key by appending a Biscuit third-party block signed with its own key. The
//! verifier's side is the chain walk of `token.rs`.

use biscuit_auth::builder::{self, BlockBuilder, Check};
use biscuit_auth::format::schema;
use biscuit_auth::UnverifiedBiscuit;
use prost::Message;

use crate::biscuit::authorizer_error;
use crate::budget::Shape;
use crate::error::{Error, ErrorCode, Result};
use crate::keys::{PublicKey, WorkerKey};
use crate::policy::check_nesting;
use crate::timestamp::to_system_time;
use crate::token::{bound_identity_of, chain_expires_at, delegation_depth};

/// What a holder delegates, and to whom.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DelegateRequest {
    /// The next holder's public key (hex): only it can use the delegated token.
    pub to_public_hex: String,
    pub to_holder_id: String,
    /// Datalog checks narrowing what the next holder may do (`check if …;`, any number, maybe
    /// none); facts and rules are refused (a delegation block's facts would grant nothing anyway).
    pub checks: String,
    /// Seconds since the epoch, cut to whole seconds; no later than the token's own expiry.
    pub expires_at: f64,
}

/// Delegate `token` (held by `holder`) to another key: the token with one more block, a third-party
/// block signed by `holder` that names the next holder and carries the checks and the expiry.
/// Offline: no issuer key, no signer. MALFORMED_INPUT when `holder` is not the token's current
/// holder, the request is malformed or it would outlive the token; DELEGATION_INVALID when the
/// token allows no further link.
pub fn delegate(token: &str, holder: &WorkerKey, request: &DelegateRequest) -> Result<String> {
    delegate_with(token, holder, request, None)
}

/// [`delegate`] with the next-block key made from `next_key_seed`: for the vector generators only
/// (see `mint_biscuit_reproducible`).
#[doc(hidden)]
pub fn delegate_reproducible(
    token: &str,
    holder: &WorkerKey,
    request: &DelegateRequest,
    next_key_seed: &[u8; 32],
) -> Result<String> {
    delegate_with(token, holder, request, Some(next_key_seed))
}

fn delegate_with(
    token: &str,
    holder: &WorkerKey,
    request: &DelegateRequest,
    next_key_seed: Option<&[u8; 32]>,
) -> Result<String> {
    let unreadable = || Error::new(ErrorCode::TokenInvalid, "token does not parse");
    let unverified = UnverifiedBiscuit::from_base64(token.trim()).map_err(|_| unreadable())?;
    let signed =
        schema::Biscuit::decode(unverified.to_vec().map_err(|_| unreadable())?.as_slice()).map_err(|_| unreadable())?;
    let shape = Shape::read_signed(&signed);
    let (identity, current) = bound_identity_of(&shape)?;
    if current != holder.public_key() {
        return Err(Error::malformed("this key is not the token's current holder"));
    }
    let links = identity.chain.len() - 1;
    let depth = delegation_depth(&shape)?;
    if links >= depth {
        return Err(Error::new(
            ErrorCode::DelegationInvalid,
            format!("the token allows {depth} delegation link(s) and has {links}"),
        ));
    }
    let expires = to_system_time(request.expires_at, "expires_at")?;
    if chain_expires_at(&shape).is_some_and(|bound| request.expires_at.floor() > bound as f64) {
        return Err(Error::malformed("a delegation cannot outlive the token"));
    }
    let next = PublicKey::from_hex(&request.to_public_hex)?;
    check_nesting(&request.checks)?;
    let narrowing = BlockBuilder::new().code(&request.checks).map_err(|_| Error::malformed("checks do not parse"))?;
    if !narrowing.facts.is_empty() || !narrowing.rules.is_empty() || !narrowing.scopes.is_empty() {
        return Err(Error::malformed("a delegation carries checks only (no facts, rules or scopes)"));
    }
    let string_fact = |name: &str, value: &str| builder::fact(name, &[builder::string(value)]);
    let mut expiry = Check::try_from("check if time($t), $t <= {expires_at}").map_err(authorizer_error)?;
    expiry.set("expires_at", builder::date(&expires)).map_err(authorizer_error)?;
    let mut block = BlockBuilder::new()
        .fact(string_fact("delegate_key", &next.to_hex()))
        .and_then(|b| b.fact(string_fact("delegate_id", &request.to_holder_id)))
        .map_err(authorizer_error)?;
    for check in narrowing.checks {
        block = block.check(check).map_err(authorizer_error)?;
    }
    block = block.check(expiry).map_err(authorizer_error)?;
    let third_party = unverified
        .third_party_request()
        .and_then(|request| request.create_block(&holder.biscuit_private_key(), block))
        .and_then(|signed_block| signed_block.serialize())
        .map_err(authorizer_error)?;
    let next_keypair = match next_key_seed {
        Some(seed) => biscuit_auth::PrivateKey::from_bytes(seed, biscuit_auth::builder::Algorithm::Ed25519)
            .map(|key| biscuit_auth::KeyPair::from(&key))
            .map_err(|_| Error::new(ErrorCode::Internal, "next key seed refused"))?,
        None => biscuit_auth::KeyPair::new(),
    };
    let delegated = unverified.append_third_party_with_keypair(&third_party, next_keypair).map_err(authorizer_error)?;
    delegated.to_base64().map_err(|_| Error::new(ErrorCode::Internal, "token could not be serialized"))
}
