//! `tc_delegate`: a holder hands a narrowed capability to another holder's key (docs/DESIGN.md
//! §3.13), offline, with its token and its own key only.

use std::ffi::c_char;

use trustcore_core::{delegate, DelegateRequest};

use crate::boundary::{prepare_out, put, run, Result};
use crate::error::{tc_error, tc_status};
use crate::input::{handle, text};
use crate::keys::tc_worker_key;
use crate::output::tc_bytes;

/// What a holder delegates, and to whom: `to_public_hex`, the next holder's public key (64 hex
/// digits: only its key can use the delegated token); `to_holder_id`, the id it is known by;
/// `checks`, Datalog checks narrowing what it may do (`check if …;`, any number, maybe none: NULL
/// with length 0; facts, rules and scopes are MALFORMED_INPUT); `expires_at`, seconds since the
/// epoch (cut to whole seconds), no later than the token's own expiry.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_delegate_request {
    pub to_public_hex: *const c_char,
    pub to_public_hex_len: usize,
    pub to_holder_id: *const c_char,
    pub to_holder_id_len: usize,
    pub checks: *const c_char,
    pub checks_len: usize,
    pub expires_at: f64,
}

/// Borrow a `tc_delegate_request` as core's `DelegateRequest`: types only, core validates.
///
/// # Safety
/// `request` is NULL or readable, with strings as documented on `tc_delegate_request`.
unsafe fn delegate_request(request: *const tc_delegate_request) -> Result<DelegateRequest> {
    // SAFETY: the caller's contract
    unsafe {
        let r = handle(request, "request")?;
        Ok(DelegateRequest {
            to_public_hex: text(r.to_public_hex, r.to_public_hex_len, "to_public_hex")?.to_owned(),
            to_holder_id: text(r.to_holder_id, r.to_holder_id_len, "to_holder_id")?.to_owned(),
            checks: text(r.checks, r.checks_len, "checks")?.to_owned(),
            expires_at: r.expires_at,
        })
    }
}

/// Delegate `token` (URL-safe base64), held by `holder`, to another key: into `*out`, the token
/// with one more block (URL-safe base64, an owned buffer: `tc_bytes_free`), a Biscuit third-party
/// block signed with `holder`'s key naming the next holder's key and id, carrying the checks and
/// `check if time($t), $t <= expires_at`. Offline: no issuer key, no signer. Only the next holder's
/// key can then prove possession; the identity the verifier returns names it, and
/// `tc_identity_chain_count` / `tc_identity_chain_holder_id` list every holder.
///
/// TOKEN_INVALID for a token that does not parse, TOKEN_UNBOUND for one that binds no holder;
/// MALFORMED_INPUT when `holder` is not the token's current holder (the last of its chain), for a
/// request that is malformed (a key that is not 64 hex digits, checks that do not parse or carry
/// facts, rules or scopes) or an expiry later than the token's; DELEGATION_INVALID when the token
/// allows no further link (its issuer's `delegation_depth`, 0 when it minted none, is used up) or
/// its chain is broken.
///
/// # Safety
/// `token` is NULL (length 0) or readable for `token_len` bytes; `holder` is a live handle;
/// `request` is readable, with strings as documented on `tc_delegate_request`; `out` is writable;
/// `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_delegate(
    token: *const c_char,
    token_len: usize,
    holder: *const tc_worker_key,
    request: *const tc_delegate_request,
    out: *mut *mut tc_bytes,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        prepare_out(out)?;
        let token = text(token, token_len, "token")?;
        let holder = handle(holder, "holder")?;
        let request = delegate_request(request)?;
        put(out, tc_bytes::new(delegate(token, &holder.key, &request)?))
    })
}
