//! `tc_identity`: who made a request, read from the issuer's authority block.

use trustcore_core::VerifiedIdentity;

use crate::boundary::{free, guard};
use crate::input::tc_str;
use crate::output::{Text, EMPTY};

/// The verified holder: id, public key (hex) and revocation id, and the delegation chain (every
/// holder in order, docs/DESIGN.md §3.13). Identifiers, not capabilities. Immutable: safe to share
/// between threads.
#[allow(non_camel_case_types)]
pub struct tc_identity {
    holder_id: Text,
    holder_public_hex: Text,
    revocation_id: Text,
    /// (holder id, holder public key hex), the issuer's holder first
    chain: Vec<(Text, Text)>,
}

impl From<VerifiedIdentity> for tc_identity {
    fn from(identity: VerifiedIdentity) -> Self {
        tc_identity {
            holder_id: Text::new(identity.holder_id),
            holder_public_hex: Text::new(identity.holder_public_hex),
            revocation_id: Text::new(identity.revocation_id),
            chain: identity
                .chain
                .into_iter()
                .map(|h| (Text::new(h.holder_id), Text::new(h.holder_public_hex)))
                .collect(),
        }
    }
}

fn field(identity: *const tc_identity, pick: fn(&tc_identity) -> &Text) -> tc_str {
    // SAFETY: the callers' contract: NULL or a live handle
    guard(EMPTY, || unsafe { identity.as_ref() }.map_or(EMPTY, |i| pick(i).as_tc_str()))
}

/// The holder id: the one the proof of possession came from (`worker_id`; for a delegated token,
/// the last delegate's; empty when the token names none). Borrowed: valid until
/// `tc_identity_free`; NUL-terminated. Empty when `identity` is NULL.
///
/// # Safety
/// `identity` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_identity_holder_id(identity: *const tc_identity) -> tc_str {
    field(identity, |i| &i.holder_id)
}

/// The holder's public key, hex (for a delegated token, the last delegate's). Borrowed as
/// `tc_identity_holder_id`.
///
/// # Safety
/// `identity` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_identity_holder_public_hex(identity: *const tc_identity) -> tc_str {
    field(identity, |i| &i.holder_public_hex)
}

/// The token's app revocation id. Borrowed as `tc_identity_holder_id`.
///
/// # Safety
/// `identity` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_identity_revocation_id(identity: *const tc_identity) -> tc_str {
    field(identity, |i| &i.revocation_id)
}

/// The number of holders in the delegation chain: 1 for a token never delegated (the holder the
/// issuer bound), one more per delegation link; the last is `tc_identity_holder_id` /
/// `tc_identity_holder_public_hex`. 0 when `identity` is NULL.
///
/// # Safety
/// `identity` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_identity_chain_count(identity: *const tc_identity) -> usize {
    // SAFETY: the caller's contract: NULL or a live handle
    guard(0, || unsafe { identity.as_ref() }.map_or(0, |i| i.chain.len()))
}

fn holder(identity: *const tc_identity, index: usize, pick: fn(&(Text, Text)) -> &Text) -> tc_str {
    // SAFETY: the callers' contract: NULL or a live handle
    guard(EMPTY, || match unsafe { identity.as_ref() }.and_then(|i| i.chain.get(index)) {
        Some(h) => pick(h).as_tc_str(),
        None => EMPTY,
    })
}

/// The id of holder `index` of the delegation chain (0 is the holder the issuer bound, then each
/// delegate in order). Borrowed as `tc_identity_holder_id`. Empty when `identity` is NULL or
/// `index` is not below `tc_identity_chain_count`.
///
/// # Safety
/// `identity` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_identity_chain_holder_id(identity: *const tc_identity, index: usize) -> tc_str {
    holder(identity, index, |h| &h.0)
}

/// The public key (hex) of holder `index` of the delegation chain. Borrowed and empty as
/// `tc_identity_chain_holder_id`.
///
/// # Safety
/// `identity` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_identity_chain_holder_public_hex(identity: *const tc_identity, index: usize) -> tc_str {
    holder(identity, index, |h| &h.1)
}

/// Release an identity. NULL is accepted and ignored.
///
/// # Safety
/// `identity` is NULL or a handle not yet freed; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tc_identity_free(identity: *mut tc_identity) {
    unsafe { free(identity) }
}
