//! `tc_token`: a Biscuit whose signatures verified against a trusted issuer key, and its inspection.

use std::ffi::c_char;
use std::sync::Arc;

use trustcore_core::{parse_token, parse_token_bytes, Error, ErrorCode, Token, VerifiedToken};

use crate::boundary::{clear, free, guard, put, run};
use crate::error::{tc_error, tc_status};
use crate::identity::tc_identity;
use crate::input::{bytes, handle, text};
use crate::issuer::tc_issuer_keys;
use crate::output::{clear_len, tc_bytes, to_buffer};

/// A verified token. Immutable: safe to share between threads (authorize it from several at once).
#[allow(non_camel_case_types)]
pub struct tc_token {
    inner: TokenRef,
}

/// A token of its own, or one shared with a verifier's cache (no copy per request).
#[allow(clippy::large_enum_variant)] // the handle itself is boxed: a second box would be a second allocation
enum TokenRef {
    Owned(Token),
    Shared(Arc<VerifiedToken>),
}

impl tc_token {
    pub(crate) fn owned(token: Token) -> Self {
        tc_token { inner: TokenRef::Owned(token) }
    }

    pub(crate) fn shared(verified: Arc<VerifiedToken>) -> Self {
        tc_token { inner: TokenRef::Shared(verified) }
    }

    pub(crate) fn token(&self) -> &Token {
        match &self.inner {
            TokenRef::Owned(token) => token,
            TokenRef::Shared(verified) => &verified.token,
        }
    }
}

/// Parse a token (URL-safe base64, as sent in `Authorization: Biscuit …`) and verify every block's
/// signature against the trusted issuer key(s). TOKEN_INVALID when it does not parse or verify;
/// LIMIT_EXCEEDED, before decoding, when it is longer than the default `max_token_bytes` (32 KiB).
///
/// # Safety
/// `issuer` is a live handle; `token` is NULL (length 0) or readable for `token_len` bytes; `out` is
/// writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_token_parse(
    issuer: *const tc_issuer_keys,
    token: *const c_char,
    token_len: usize,
    out: *mut *mut tc_token,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        let issuer = handle(issuer, "issuer")?;
        put(out, tc_token::owned(parse_token(&issuer.keys, text(token, token_len, "token")?)?))
    })
}

/// Parse a token from its raw (protobuf) bytes, verifying it as `tc_token_parse` (the same size
/// limit, on the raw bytes).
///
/// # Safety
/// As `tc_token_parse`.
#[no_mangle]
pub unsafe extern "C" fn tc_token_parse_bytes(
    issuer: *const tc_issuer_keys,
    token: *const u8,
    token_len: usize,
    out: *mut *mut tc_token,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        let issuer = handle(issuer, "issuer")?;
        put(out, tc_token::owned(parse_token_bytes(&issuer.keys, bytes(token, token_len, "token")?)?))
    })
}

/// The number of blocks (1 + the attenuation blocks); 0 when `token` is NULL.
///
/// # Safety
/// `token` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn tc_token_block_count(token: *const tc_token) -> usize {
    guard(0, || unsafe { token.as_ref() }.map_or(0, |t| t.token().block_count()))
}

/// Block `index`'s Datalog exactly as Biscuit prints it (block 0 is the issuer's authority block),
/// as an owned buffer. MALFORMED_INPUT when there is no such block.
///
/// # Safety
/// `token` is a live handle; `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_token_block_source(
    token: *const tc_token,
    index: usize,
    out: *mut *mut tc_bytes,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        put(out, tc_bytes::new(handle(token, "token")?.token().block_source(index)?))
    })
}

/// Block `index`'s revocation id (hex; one per block, `index` < `tc_token_block_count`) into a caller
/// buffer. Ed25519 blocks give 128 hex digits (`TC_SIGNATURE_HEX_SIZE` with the NUL); other
/// algorithms may differ, so query the size with a NULL buffer when unsure.
///
/// # Safety
/// `token` is a live handle; `buf` is NULL (with `buf_len` 0) or writable for `buf_len` bytes;
/// `out_len` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_token_revocation_id(
    token: *const tc_token,
    index: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear_len(out_len);
        let ids = handle(token, "token")?.token().revocation_ids();
        let id = ids
            .get(index)
            .ok_or_else(|| Error::new(ErrorCode::MalformedInput, format!("token has no block {index}")))?;
        to_buffer(id.as_bytes(), buf, buf_len, out_len)
    })
}

/// Whether the token names a root key id (key rotation); if so and `id_out` is not NULL, stores it.
/// False when `token` is NULL.
///
/// # Safety
/// `token` is NULL or a live handle; `id_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_token_root_key_id(token: *const tc_token, id_out: *mut u32) -> bool {
    guard(false, || match unsafe { token.as_ref() }.and_then(|t| t.token().root_key_id()) {
        Some(id) => {
            if !id_out.is_null() {
                unsafe { id_out.write(id) };
            }
            true
        }
        None => false,
    })
}

/// The token as URL-safe base64 (what `Authorization: Biscuit …` carries), as an owned buffer.
///
/// # Safety
/// `token` is a live handle; `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_token_to_base64(
    token: *const tc_token,
    out: *mut *mut tc_bytes,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        put(out, tc_bytes::new(handle(token, "token")?.token().to_base64()?))
    })
}

/// The token's raw (protobuf) bytes, as an owned buffer.
///
/// # Safety
/// As `tc_token_to_base64`.
#[no_mangle]
pub unsafe extern "C" fn tc_token_to_bytes(
    token: *const tc_token,
    out: *mut *mut tc_bytes,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        put(out, tc_bytes::new(handle(token, "token")?.token().to_bytes()?))
    })
}

/// The holder identity the issuer bound in the authority block (exactly one `worker_key` and one
/// `revocation`, else TOKEN_UNBOUND), read from the facts the issuer wrote: no Datalog of any block
/// runs, so no limits apply. `tc_authenticate` already returns it; this is for inspection.
///
/// # Safety
/// `token` is a live handle; `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_token_identity(
    token: *const tc_token,
    out: *mut *mut tc_identity,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(out);
        let token = handle(token, "token")?;
        put(out, tc_identity::from(token.token().identity()?))
    })
}

/// Release a token. NULL is accepted and ignored.
///
/// # Safety
/// `token` is NULL or a handle not yet freed; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tc_token_free(token: *mut tc_token) {
    unsafe { free(token) }
}
