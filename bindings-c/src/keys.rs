//! `tc_issuer_key` and `tc_worker_key`: the two private Ed25519 keys (a 32-byte seed each).
//!
//! cbindgen does not expand macros, so each export is written out; the shared bodies live in
//! the generic functions below.

use std::ffi::c_char;

use trustcore_core::{IssuerKey, WorkerKey};

use crate::boundary::{clear, free, put, run, Result};
use crate::error::{tc_error, tc_status};
use crate::input::{bytes, handle, text};
use crate::output::{clear_len, to_buffer};

/// The issuer's private key: the Biscuit root key and the job signer. The seed is wiped when freed.
#[allow(non_camel_case_types)]
pub struct tc_issuer_key {
    pub(crate) key: IssuerKey,
}

/// A holder's private key: signs each request's proof of possession. The seed is wiped when freed.
#[allow(non_camel_case_types)]
pub struct tc_worker_key {
    pub(crate) key: WorkerKey,
}

/// What the two key handles share.
trait KeyHandle: Sized {
    fn generate() -> Result<Self>;
    fn from_secret_hex(hex: &str) -> Result<Self>;
    fn from_seed(seed: &[u8]) -> Result<Self>;
    fn public_hex(&self) -> String;
    fn secret_hex(&self) -> zeroize::Zeroizing<String>;
}

macro_rules! key_handle {
    ($handle:ident, $core:ident) => {
        impl KeyHandle for $handle {
            fn generate() -> Result<Self> {
                Ok($handle { key: $core::generate()? })
            }
            fn from_secret_hex(hex: &str) -> Result<Self> {
                Ok($handle { key: $core::from_secret_hex(hex)? })
            }
            fn from_seed(seed: &[u8]) -> Result<Self> {
                Ok($handle { key: $core::from_seed(seed)? })
            }
            fn public_hex(&self) -> String {
                self.key.public_hex()
            }
            fn secret_hex(&self) -> zeroize::Zeroizing<String> {
                self.key.secret_hex()
            }
        }
    };
}

key_handle!(tc_issuer_key, IssuerKey);
key_handle!(tc_worker_key, WorkerKey);

unsafe fn generate<K: KeyHandle>(out: *mut *mut K, err: *mut *mut tc_error) -> tc_status {
    run(err, || unsafe {
        clear(out);
        put(out, K::generate()?)
    })
}

unsafe fn from_secret_hex<K: KeyHandle>(
    secret_hex: *const c_char,
    secret_hex_len: usize,
    out: *mut *mut K,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        put(out, K::from_secret_hex(text(secret_hex, secret_hex_len, "secret_hex")?)?)
    })
}

unsafe fn from_seed<K: KeyHandle>(
    seed: *const u8,
    seed_len: usize,
    out: *mut *mut K,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        put(out, K::from_seed(bytes(seed, seed_len, "seed")?)?)
    })
}

unsafe fn public_hex<K: KeyHandle>(
    key: *const K,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear_len(out_len);
        to_buffer(handle(key, "key")?.public_hex().as_bytes(), buf, buf_len, out_len)
    })
}

unsafe fn secret_hex<K: KeyHandle>(
    key: *const K,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear_len(out_len);
        to_buffer(handle(key, "key")?.secret_hex().as_bytes(), buf, buf_len, out_len)
    })
}

/// A fresh issuer key from the operating system's random source.
///
/// # Safety
/// `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_issuer_key_generate(out: *mut *mut tc_issuer_key, err: *mut *mut tc_error) -> tc_status {
    unsafe { generate(out, err) }
}

/// An issuer key from its seed as 64 hex digits.
///
/// # Safety
/// `secret_hex` is NULL (length 0) or readable for `secret_hex_len` bytes; `out` is writable;
/// `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_issuer_key_from_secret_hex(
    secret_hex: *const c_char,
    secret_hex_len: usize,
    out: *mut *mut tc_issuer_key,
    err: *mut *mut tc_error,
) -> tc_status {
    unsafe { from_secret_hex(secret_hex, secret_hex_len, out, err) }
}

/// An issuer key from its 32-byte seed.
///
/// # Safety
/// `seed` is NULL (length 0) or readable for `seed_len` bytes; `out` is writable; `err` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn tc_issuer_key_from_seed(
    seed: *const u8,
    seed_len: usize,
    out: *mut *mut tc_issuer_key,
    err: *mut *mut tc_error,
) -> tc_status {
    unsafe { from_seed(seed, seed_len, out, err) }
}

/// The issuer public key as 64 hex digits, into a caller buffer of `TC_KEY_HEX_SIZE` bytes.
///
/// # Safety
/// `key` is a live handle; `buf` is NULL (with `buf_len` 0) or writable for `buf_len` bytes;
/// `out_len` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_issuer_key_public_hex(
    key: *const tc_issuer_key,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut *mut tc_error,
) -> tc_status {
    unsafe { public_hex(key, buf, buf_len, out_len, err) }
}

/// The issuer private seed as 64 hex digits, into a caller buffer of `TC_KEY_HEX_SIZE` bytes.
/// Handle with care: wipe the buffer after use.
///
/// # Safety
/// As `tc_issuer_key_public_hex`.
#[no_mangle]
pub unsafe extern "C" fn tc_issuer_key_secret_hex(
    key: *const tc_issuer_key,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut *mut tc_error,
) -> tc_status {
    unsafe { secret_hex(key, buf, buf_len, out_len, err) }
}

/// Release (and wipe) a issuer key. NULL is accepted and ignored.
///
/// # Safety
/// `key` is NULL or a handle not yet freed; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tc_issuer_key_free(key: *mut tc_issuer_key) {
    unsafe { free(key) }
}

/// A fresh worker (holder) key from the operating system's random source.
///
/// # Safety
/// `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_worker_key_generate(out: *mut *mut tc_worker_key, err: *mut *mut tc_error) -> tc_status {
    unsafe { generate(out, err) }
}

/// A worker (holder) key from its seed as 64 hex digits.
///
/// # Safety
/// `secret_hex` is NULL (length 0) or readable for `secret_hex_len` bytes; `out` is writable;
/// `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_worker_key_from_secret_hex(
    secret_hex: *const c_char,
    secret_hex_len: usize,
    out: *mut *mut tc_worker_key,
    err: *mut *mut tc_error,
) -> tc_status {
    unsafe { from_secret_hex(secret_hex, secret_hex_len, out, err) }
}

/// A worker (holder) key from its 32-byte seed.
///
/// # Safety
/// `seed` is NULL (length 0) or readable for `seed_len` bytes; `out` is writable; `err` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn tc_worker_key_from_seed(
    seed: *const u8,
    seed_len: usize,
    out: *mut *mut tc_worker_key,
    err: *mut *mut tc_error,
) -> tc_status {
    unsafe { from_seed(seed, seed_len, out, err) }
}

/// The worker (holder) public key as 64 hex digits, into a caller buffer of `TC_KEY_HEX_SIZE` bytes.
///
/// # Safety
/// `key` is a live handle; `buf` is NULL (with `buf_len` 0) or writable for `buf_len` bytes;
/// `out_len` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_worker_key_public_hex(
    key: *const tc_worker_key,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut *mut tc_error,
) -> tc_status {
    unsafe { public_hex(key, buf, buf_len, out_len, err) }
}

/// The worker (holder) private seed as 64 hex digits, into a caller buffer of `TC_KEY_HEX_SIZE` bytes.
/// Handle with care: wipe the buffer after use.
///
/// # Safety
/// As `tc_worker_key_public_hex`.
#[no_mangle]
pub unsafe extern "C" fn tc_worker_key_secret_hex(
    key: *const tc_worker_key,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut *mut tc_error,
) -> tc_status {
    unsafe { secret_hex(key, buf, buf_len, out_len, err) }
}

/// Release (and wipe) a worker (holder) key. NULL is accepted and ignored.
///
/// # Safety
/// `key` is NULL or a handle not yet freed; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tc_worker_key_free(key: *mut tc_worker_key) {
    unsafe { free(key) }
}
