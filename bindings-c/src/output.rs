//! Results handed to C: caller buffers that report the size they need and never truncate, and the
//! owned `tc_bytes` buffer for results whose size is not known in advance.

use std::ffi::c_char;

use trustcore_core::{Error, ErrorCode};

use crate::boundary::Result;
use crate::input::tc_str;

/// Zero `*out_len` on entry: after a failure it stays 0 unless the buffer was too small, so callers
/// can tell the two apart (every buffer result is at least one byte long).
///
/// # Safety
/// `out_len` is NULL or writable.
pub(crate) unsafe fn clear_len(out_len: *mut usize) {
    if !out_len.is_null() {
        // SAFETY: checked non-NULL; writable per the caller's contract
        unsafe { out_len.write(0) };
    }
}

/// Copy `result` into the caller's buffer followed by a NUL. `*out_len` always receives the length
/// of the result (without the NUL); a buffer shorter than that plus one is MALFORMED_INPUT and is
/// left untouched, so a result is never cut. `buf` may be NULL only when `buf_len` is 0 (a size query).
///
/// # Safety
/// `buf` is NULL or writable for `buf_len` bytes; `out_len` is NULL or writable.
pub(crate) unsafe fn to_buffer(result: &[u8], buf: *mut c_char, buf_len: usize, out_len: *mut usize) -> Result<()> {
    if out_len.is_null() {
        return Err(Error::new(ErrorCode::MalformedInput, "out_len is NULL"));
    }
    // SAFETY: checked non-NULL; writable per the caller's contract
    unsafe { out_len.write(result.len()) };
    if buf.is_null() && buf_len != 0 {
        return Err(Error::new(ErrorCode::MalformedInput, "output buffer is NULL with a non-zero length"));
    }
    if buf_len <= result.len() {
        return Err(Error::new(ErrorCode::MalformedInput, "output buffer too small: see out_len (+1 for the NUL)"));
    }
    // SAFETY: buf is non-NULL (buf_len > 0) and holds result.len() + 1 bytes
    unsafe {
        std::ptr::copy_nonoverlapping(result.as_ptr(), buf.cast::<u8>(), result.len());
        buf.add(result.len()).write(0);
    }
    Ok(())
}

/// Owned text with a NUL after it, so C can read it either as (pointer, length) or as a C string.
/// The text itself may contain NUL bytes (a Datalog string can): trust the length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Text(Box<[u8]>);

impl Text {
    pub(crate) fn new(bytes: impl Into<Vec<u8>>) -> Text {
        let mut bytes = bytes.into();
        // exactly one byte more: a plain push would double the buffer, and the boxed slice then
        // shrink it back (two reallocations per string a decision hands to C)
        bytes.reserve_exact(1);
        bytes.push(0);
        Text(bytes.into_boxed_slice())
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0[..self.0.len() - 1]
    }

    pub(crate) fn as_tc_str(&self) -> tc_str {
        tc_str { ptr: self.0.as_ptr().cast(), len: self.0.len() - 1 }
    }
}

pub(crate) const EMPTY: tc_str = tc_str { ptr: c"".as_ptr(), len: 0 };

/// An owned byte buffer (a minted token, a frame, JSON text, a block's Datalog). A NUL follows the
/// data (not counted in the length), so text results can be used as C strings. Release it with
/// `tc_bytes_free`.
#[allow(non_camel_case_types)]
pub struct tc_bytes {
    data: Text,
}

impl tc_bytes {
    pub(crate) fn new(bytes: impl Into<Vec<u8>>) -> tc_bytes {
        tc_bytes { data: Text::new(bytes) }
    }
}

/// The data of `bytes` (borrowed, valid until `tc_bytes_free`); a pointer to an empty string when
/// `bytes` is NULL.
///
/// # Safety
/// `bytes` is NULL or a live `tc_bytes`.
#[no_mangle]
pub unsafe extern "C" fn tc_bytes_data(bytes: *const tc_bytes) -> *const u8 {
    crate::boundary::guard(EMPTY.ptr.cast(), || match unsafe { bytes.as_ref() } {
        Some(b) => b.data.as_tc_str().ptr.cast(),
        None => EMPTY.ptr.cast(),
    })
}

/// The length of `bytes` (without the trailing NUL); 0 when `bytes` is NULL.
///
/// # Safety
/// `bytes` is NULL or a live `tc_bytes`.
#[no_mangle]
pub unsafe extern "C" fn tc_bytes_len(bytes: *const tc_bytes) -> usize {
    crate::boundary::guard(0, || unsafe { bytes.as_ref() }.map_or(0, |b| b.data.as_bytes().len()))
}

/// Release a buffer. NULL is accepted and ignored.
///
/// # Safety
/// `bytes` is NULL or a `tc_bytes` not yet freed; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tc_bytes_free(bytes: *mut tc_bytes) {
    unsafe { crate::boundary::free(bytes) }
}
