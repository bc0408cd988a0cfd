//! `tc_verifier`: the stateful verifier (core `Verifier` with its in-memory stores): replay
//! protection, a revocation list that can grow, and a cache of verified tokens.

use std::ffi::c_char;

use trustcore_core::{
    Error, ErrorCode, MemoryReplayStore, MemoryRevocationStore, Verifier, VerifierConfig, DEFAULT_REPLAY_CAPACITY,
};

use crate::boundary::{clear, free, guard, put, put_optional, run};
use crate::identity::tc_identity;
use crate::input::{handle, pairs, strs, tc_pair, tc_str, text};
use crate::issuer_keys::tc_issuer_keys;
use crate::policy::tc_limits;
use crate::proof::{tc_proof, tc_request};
use crate::status::{tc_error, tc_status};
use crate::token::tc_token;

/// A stateful verifier. Thread-safe: one verifier serves every thread of a service (its stores and
/// cache lock internally).
#[allow(non_camel_case_types)]
pub struct tc_verifier {
    verifier: Verifier,
}

/// A verifier's settings; start from `tc_verifier_options_default()`. The token cache keeps core's
/// capacity.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_verifier_options {
    /// Allowed clock skew either way, seconds (default 300); replay entries live twice as long.
    pub max_skew_seconds: f64,
    /// Authorizer limits for reading identities, `tc_verifier_check_policy` and `tc_verifier_authorize`.
    pub limits: tc_limits,
    /// The most (holder, nonce) pairs remembered; when full and none expired, requests are refused
    /// (STORE_UNAVAILABLE) rather than a nonce forgotten.
    pub replay_capacity: usize,
}

/// Core's defaults: 300 s skew, default limits, 100 000 replay entries.
#[no_mangle]
pub extern "C" fn tc_verifier_options_default() -> tc_verifier_options {
    let fallback = tc_verifier_options {
        max_skew_seconds: 300.0,
        limits: crate::policy::tc_limits_default(),
        replay_capacity: 100_000,
    };
    guard(fallback, || {
        // a placeholder issuer key only to read core's defaults; it is never used
        let defaults = VerifierConfig::new(trustcore_core::IssuerKeys::ByKeyId(Default::default()));
        tc_verifier_options {
            max_skew_seconds: defaults.max_skew_seconds,
            limits: defaults.limits.into(),
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
        }
    })
}

/// A verifier trusting `issuer`, with `options` (NULL = defaults) and an initial revocation list.
///
/// # Safety
/// `issuer` is a live handle; `options` is NULL or readable; `revoked_ids` is NULL (count 0) or points
/// at `revoked_count` readable strings; `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_new(
    issuer: *const tc_issuer_keys,
    options: *const tc_verifier_options,
    revoked_ids: *const tc_str,
    revoked_count: usize,
    out: *mut *mut tc_verifier,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        let issuer = handle(issuer, "issuer")?;
        let options = options.as_ref().copied().unwrap_or_else(|| tc_verifier_options_default());
        let revoked: Vec<String> =
            strs(revoked_ids, revoked_count, "revoked id")?.into_iter().map(str::to_owned).collect();
        let mut config = VerifierConfig::new(issuer.keys.clone());
        config.max_skew_seconds = options.max_skew_seconds;
        config.limits = options.limits.into();
        let verifier = Verifier::with_stores(
            config,
            Box::new(MemoryReplayStore::new(options.replay_capacity)),
            Box::new(MemoryRevocationStore::new(revoked)),
        );
        put(out, tc_verifier { verifier })
    })
}

/// Authenticate one request as `tc_authenticate` does, plus: the token comes from the cache when it
/// was seen before, the revocation list is the verifier's, and a (holder, nonce) pair seen again
/// inside the window is REPLAYED (recorded only after the proof verified). `now` NULL is the system
/// clock. The token handle shares the cached token (no copy).
///
/// # Safety
/// `verifier` and `proof` are live handles; `request` is readable with valid parts; `now` is NULL or
/// readable; `token_out`, `identity_out` and `err` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_authenticate(
    verifier: *const tc_verifier,
    proof: *const tc_proof,
    request: *const tc_request,
    now: *const f64,
    token_out: *mut *mut tc_token,
    identity_out: *mut *mut tc_identity,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(token_out);
        clear(identity_out);
        let verifier = &handle(verifier, "verifier")?.verifier;
        let proof = handle(proof, "proof")?;
        let request = crate::proof::request(request)?;
        let verified = verifier.authenticate(&proof.proof, &request, now.as_ref().copied())?;
        put_optional(identity_out, tc_identity::from(verified.identity.clone()));
        put_optional(token_out, tc_token::shared(verified));
        Ok(())
    })
}

/// `tc_check_policy` with the verifier's limits; `now` NULL is the system clock.
///
/// # Safety
/// `verifier` and `token` are live handles; `facts` is NULL (count 0) or points at `facts_count`
/// pairs of readable strings; `allow` is NULL (length 0) or readable; `now` is NULL or readable;
/// `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_check_policy(
    verifier: *const tc_verifier,
    token: *const tc_token,
    facts: *const tc_pair,
    facts_count: usize,
    allow: *const c_char,
    allow_len: usize,
    now: *const f64,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        let verifier = &handle(verifier, "verifier")?.verifier;
        let token = handle(token, "token")?;
        let facts = pairs(facts, facts_count, "request fact")?;
        verifier.check_policy(token.token(), facts, text(allow, allow_len, "allow")?, now.as_ref().copied())
    })
}

/// `tc_authorize` with the verifier's limits; `now` NULL is the system clock (a `time` fact is always
/// added here). On TC_OK, `*policy_out` is the index of the allow policy that matched.
///
/// # Safety
/// `verifier` and `token` are live handles; `code` is NULL (length 0) or readable; `now` is NULL or
/// readable; `extern_functions` is NULL (count 0) or points at `extern_count` readable strings;
/// `policy_out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_authorize(
    verifier: *const tc_verifier,
    token: *const tc_token,
    code: *const c_char,
    code_len: usize,
    now: *const f64,
    extern_functions: *const tc_str,
    extern_count: usize,
    policy_out: *mut usize,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        let verifier = &handle(verifier, "verifier")?.verifier;
        let token = handle(token, "token")?;
        let code = text(code, code_len, "code")?;
        let externs: Vec<String> =
            strs(extern_functions, extern_count, "extern function")?.into_iter().map(str::to_owned).collect();
        if policy_out.is_null() {
            return Err(Error::new(ErrorCode::MalformedInput, "policy_out is NULL"));
        }
        policy_out.write(verifier.authorize(token.token(), code, now.as_ref().copied(), &externs)?);
        Ok(())
    })
}

/// Revoke an id (an app revocation id, or a block's revocation id in hex): refused from the next
/// request on.
///
/// # Safety
/// `verifier` is a live handle; `revocation_id` is NULL (length 0) or readable; `err` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_revoke(
    verifier: *const tc_verifier,
    revocation_id: *const c_char,
    revocation_id_len: usize,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        let verifier = &handle(verifier, "verifier")?.verifier;
        verifier.revoke(text(revocation_id, revocation_id_len, "revocation_id")?)
    })
}

/// The token cache's hit and miss counts (each out-pointer may be NULL); zeros when `verifier` is NULL.
///
/// # Safety
/// `verifier` is NULL or a live handle; `hits` and `misses` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_cache_stats(verifier: *const tc_verifier, hits: *mut u64, misses: *mut u64) {
    guard((), || unsafe {
        let stats = verifier.as_ref().map(|v| v.verifier.cache_stats());
        if !hits.is_null() {
            hits.write(stats.map_or(0, |s| s.hits));
        }
        if !misses.is_null() {
            misses.write(stats.map_or(0, |s| s.misses));
        }
    })
}

/// Release a verifier. NULL is accepted and ignored.
///
/// # Safety
/// `verifier` is NULL or a handle not yet freed, used by no other thread; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_free(verifier: *mut tc_verifier) {
    unsafe { free(verifier) }
}
