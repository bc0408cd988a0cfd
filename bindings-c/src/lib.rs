//! trustcore's C ABI (`libtrustcore.so` / `libtrustcore.a`, header `include/trustcore.h`).
//!
//! A thin projection of `trustcore-core`: it converts types and errors and holds no rule of its own.
//! Modelled on rustls-ffi: `tc_` prefix, numbered `tc_status`, a panic boundary on every export,
//! opaque handles with typed ownership, a committed header checked for freshness by `tests/header.rs`.
//! The ABI rules are written once, at the top of the header (`cbindgen.toml`).

// In this order in the header (cbindgen keeps the order it parses): the ABI's plumbing first, then
// the objects, then the operations. Each group is a separate block so rustfmt keeps the order.
mod boundary;
mod error;
mod input;
mod output;

mod keys;

mod issuer;

mod proof;

mod token;

mod identity;

mod authenticate;

mod policy;

mod verifier;

mod mint;

mod delegation;

mod jobs;

mod wire;

mod signer;

mod http;

use std::ffi::c_char;

/// Room for a 32-byte key as hex plus its NUL (a public key or a seed).
pub const TC_KEY_HEX_SIZE: usize = 65;
/// Room for a 64-byte Ed25519 signature as hex plus its NUL (proofs, jobs, revocation ids).
pub const TC_SIGNATURE_HEX_SIZE: usize = 129;
/// The number of parts of a proof, and of the headers or query parameters that carry it.
pub const TC_PROOF_PARTS: usize = 4;

/// The library version (as `TRUSTCORE_VERSION`: the one the program was compiled with may differ from the one
/// loaded), a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn tc_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    boundary::guard(VERSION.as_ptr().cast(), || VERSION.as_ptr().cast())
}

/// The current time in seconds since the epoch (the clock core uses), for `now` arguments.
#[no_mangle]
pub extern "C" fn tc_now_seconds() -> f64 {
    boundary::guard(0.0, trustcore_core::now_seconds)
}

// Which handles may be shared between threads is part of the ABI (see the header): every handle is
// immutable after creation, and the compiler holds us to the claim that each is Send + Sync.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<keys::tc_issuer_key>();
    shareable::<keys::tc_worker_key>();
    shareable::<issuer::tc_issuer_keys>();
    shareable::<token::tc_token>();
    shareable::<identity::tc_identity>();
    shareable::<proof::tc_proof>();
    shareable::<verifier::tc_verifier>();
    shareable::<verifier::tc_batch_result>();
    shareable::<signer::tc_signer_client>();
    shareable::<http::tc_http_policy>();
    shareable::<http::tc_decision>();
    shareable::<http::tc_pair_list>();
    shareable::<output::tc_bytes>();
    shareable::<error::tc_error>();
};
