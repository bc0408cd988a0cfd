//! `tc_identity`: who made a request, read from the issuer's authority block.

use trustcore_core::VerifiedIdentity;

use crate::boundary::{free, guard};
use crate::input::tc_str;
use crate::output::{Text, EMPTY};

/// The verified holder: id, public key (hex) and revocation id. Identifiers, not capabilities.
/// Immutable: safe to share between threads.
#[allow(non_camel_case_types)]
pub struct tc_identity {
    holder_id: Text,
    holder_public_hex: Text,
    revocation_id: Text,
}

impl From<VerifiedIdentity> for tc_identity {
    fn from(identity: VerifiedIdentity) -> Self {
        tc_identity {
            holder_id: Text::new(identity.holder_id),
            holder_public_hex: Text::new(identity.holder_public_hex),
            revocation_id: Text::new(identity.revocation_id),
        }
    }
}

fn field(identity: *const tc_identity, pick: fn(&tc_identity) -> &Text) -> tc_str {
    // SAFETY: the callers' contract: NULL or a live handle
    guard(EMPTY, || unsafe { identity.as_ref() }.map_or(EMPTY, |i| pick(i).as_tc_str()))
}

/// The holder id (`worker_id`; empty when the token names none). Borrowed: valid until
/// `tc_identity_free`; NUL-terminated. Empty when `identity` is NULL.
///
/// # Safety
/// `identity` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_identity_holder_id(identity: *const tc_identity) -> tc_str {
    field(identity, |i| &i.holder_id)
}

/// The holder's public key, hex. Borrowed as `tc_identity_holder_id`.
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

/// Release an identity. NULL is accepted and ignored.
///
/// # Safety
/// `identity` is NULL or a handle not yet freed; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tc_identity_free(identity: *mut tc_identity) {
    unsafe { free(identity) }
}
