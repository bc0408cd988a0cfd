//! `tc_issuer_keys`: the issuer public key(s) a verifier trusts (one, or several by root key id).

use std::ffi::c_char;

use trustcore_core::IssuerKeys;

use crate::boundary::{clear, free, put, run};
use crate::error::{tc_error, tc_status};
use crate::input::{array, text};

/// The issuer public key(s) a verifier trusts. Immutable: safe to share between threads.
#[allow(non_camel_case_types)]
pub struct tc_issuer_keys {
    pub(crate) keys: IssuerKeys,
}

/// One trusted issuer key for key rotation: the root key id a token names, and the public key (hex).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_issuer_key_entry {
    pub root_key_id: u32,
    pub public_hex: *const c_char,
    pub public_hex_len: usize,
}

/// Trust one issuer public key (64 hex digits); every token is verified against it.
///
/// # Safety
/// `public_hex` is NULL (length 0) or readable for `public_hex_len` bytes; `out` is writable; `err`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_issuer_keys_from_hex(
    public_hex: *const c_char,
    public_hex_len: usize,
    out: *mut *mut tc_issuer_keys,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        put(out, tc_issuer_keys { keys: IssuerKeys::from_hex(text(public_hex, public_hex_len, "public_hex")?)? })
    })
}

/// Trust several issuer keys, each selected by the root key id a token names (key rotation). A token
/// naming no id, or an id not listed, is TOKEN_INVALID when parsed. No entry at all, or a root key id
/// given twice, is MALFORMED_INPUT (core's `IssuerKeys::by_key_id`).
///
/// # Safety
/// `entries` is NULL (count 0) or points at `count` entries whose strings are readable; `out` is
/// writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_issuer_keys_by_key_id(
    entries: *const tc_issuer_key_entry,
    count: usize,
    out: *mut *mut tc_issuer_keys,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        let mut keys = Vec::with_capacity(count);
        for entry in array(entries, count, "entries")? {
            keys.push((entry.root_key_id, text(entry.public_hex, entry.public_hex_len, "public_hex")?));
        }
        put(out, tc_issuer_keys { keys: IssuerKeys::from_hex_by_key_id(keys)? })
    })
}

/// Release trusted keys. NULL is accepted and ignored.
///
/// # Safety
/// `keys` is NULL or a handle not yet freed; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tc_issuer_keys_free(keys: *mut tc_issuer_keys) {
    unsafe { free(keys) }
}
