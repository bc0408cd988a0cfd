//! Delegation, the holder's side (core's `delegate`, docs/DESIGN.md §3.13): a holder hands a
//! narrowed capability to another holder's key, offline, with its token and its own key only. The
//! verifier's side is core's; every identity it returns carries the chain (`Identity#chain`).

use napi::bindgen_prelude::AsyncTask;
use trustcore_core as core;

use crate::error::{guard, trust, Result, Work};
use crate::keys::WorkerKey;

/// What a holder delegates, and to whom.
#[napi(object, object_to_js = false)]
pub struct DelegateOptions {
    /// The next holder's public key (64 hex digits): only its key can use the delegated token.
    pub to_public_hex: String,
    /// The id the next holder is known by (the identity's `holderId` when it calls).
    pub to_holder_id: String,
    /// Datalog checks narrowing what the next holder may do (`check if …;`, any number, maybe none:
    /// left out is none); facts, rules and scopes are MALFORMED_INPUT.
    pub checks: Option<String>,
    /// Seconds since the epoch (cut to whole seconds), no later than the token's own expiry.
    pub expires_at: f64,
}

fn delegate_request(options: DelegateOptions) -> core::DelegateRequest {
    core::DelegateRequest {
        to_public_hex: options.to_public_hex,
        to_holder_id: options.to_holder_id,
        checks: options.checks.unwrap_or_default(),
        expires_at: options.expires_at,
    }
}

/// Delegate `token` (base64), held by `holderKey`, to another key: the token with one more block, a
/// Biscuit third-party block signed with `holderKey` that names the next holder's key and id and
/// carries the checks and the expiry. Offline: no issuer key, no signer. Only the next holder's key
/// can then prove possession; a delegate can only narrow, never grant.
///
/// TOKEN_INVALID for a token that does not parse, TOKEN_UNBOUND for one that binds no holder;
/// MALFORMED_INPUT when `holderKey` is not the token's current holder (the last of its chain), for a
/// malformed request (a key that is not 64 hex digits, checks that do not parse or carry facts,
/// rules or scopes) or an expiry later than the token's; DELEGATION_INVALID when the token allows no
/// further link (the issuer's `delegationDepth`, 0 unless it set one, is used up) or its chain is
/// broken.
#[napi(catch_unwind)]
pub fn delegate(token: String, holder_key: &WorkerKey, options: DelegateOptions) -> Result<String> {
    guard(|| core::delegate(&token, &holder_key.inner, &delegate_request(options)).map_err(trust))
}

/// `delegate` on the libuv thread pool (it signs).
#[napi(catch_unwind, ts_return_type = "Promise<string>")]
pub fn delegate_async(
    token: String,
    holder_key: &WorkerKey,
    options: DelegateOptions,
) -> Result<AsyncTask<Work<String>>> {
    guard(|| {
        let (holder, request) = (holder_key.inner.clone(), delegate_request(options));
        Ok(AsyncTask::new(Work::new(move || core::delegate(&token, &holder, &request))))
    })
}
