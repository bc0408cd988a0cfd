//! Borrowing C inputs as Rust values. Every input is pointer + length; NULL is allowed only with
//! length 0; text must be valid UTF-8. A violation is MALFORMED_INPUT, never a crash.

use std::ffi::c_char;

use trustcore_core::Error;

use crate::boundary::Result;

/// A borrowed string: `len` bytes of UTF-8 at `ptr` (no NUL needed). `ptr` may be NULL only when
/// `len` is 0. In results (getters), the text is followed by a NUL not counted in `len`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_str {
    pub ptr: *const c_char,
    pub len: usize,
}

/// A borrowed (name, value) pair of strings: a header, a query parameter or a request fact.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tc_pair {
    pub name: *const c_char,
    pub name_len: usize,
    pub value: *const c_char,
    pub value_len: usize,
}

fn malformed(message: String) -> Error {
    Error::new(trustcore_core::ErrorCode::MalformedInput, message)
}

/// MALFORMED_INPUT for a misused argument (a NULL out-parameter and the like).
pub(crate) fn malformed_error(message: &str) -> Error {
    malformed(message.to_owned())
}

/// Borrow `len` bytes at `ptr`.
///
/// # Safety
/// `ptr` is NULL or points at `len` readable bytes that outlive the returned slice.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        return if len == 0 { Ok(&[]) } else { Err(malformed(format!("{what} is NULL with a non-zero length"))) };
    }
    if len > isize::MAX as usize {
        return Err(malformed(format!("{what} length is too large")));
    }
    // SAFETY: non-NULL, length bounded; readable for `len` bytes per the caller's contract
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrow `len` bytes of UTF-8 at `ptr`.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn text<'a>(ptr: *const c_char, len: usize, what: &str) -> Result<&'a str> {
    // SAFETY: forwarded contract
    let raw = unsafe { bytes(ptr.cast(), len, what)? };
    std::str::from_utf8(raw).map_err(|_| malformed(format!("{what} is not valid UTF-8")))
}

/// Borrow an array of `count` items at `ptr` (NULL only when `count` is 0).
///
/// # Safety
/// `ptr` is NULL or points at `count` initialised items that outlive the returned slice.
pub(crate) unsafe fn array<'a, T>(ptr: *const T, count: usize, what: &str) -> Result<&'a [T]> {
    if ptr.is_null() {
        return if count == 0 { Ok(&[]) } else { Err(malformed(format!("{what} is NULL with a non-zero count"))) };
    }
    if count > isize::MAX as usize / std::mem::size_of::<T>().max(1) {
        return Err(malformed(format!("{what} count is too large")));
    }
    // SAFETY: non-NULL, size bounded; `count` items readable per the caller's contract
    Ok(unsafe { std::slice::from_raw_parts(ptr, count) })
}

/// Borrow every string of a `tc_str` array.
///
/// # Safety
/// As [`array`], and every item's `ptr`/`len` as [`text`].
pub(crate) unsafe fn strs<'a>(ptr: *const tc_str, count: usize, what: &str) -> Result<Vec<&'a str>> {
    // SAFETY: forwarded contract
    let items = unsafe { array(ptr, count, what)? };
    // SAFETY: forwarded contract
    items.iter().map(|s| unsafe { text(s.ptr, s.len, what) }).collect()
}

/// Borrow every pair of a `tc_pair` array, in order.
///
/// # Safety
/// As [`array`], and every name and value as [`text`].
pub(crate) unsafe fn pairs<'a>(ptr: *const tc_pair, count: usize, what: &str) -> Result<Vec<(&'a str, &'a str)>> {
    // SAFETY: forwarded contract
    let items = unsafe { array(ptr, count, what)? };
    items
        .iter()
        // SAFETY: forwarded contract
        .map(|p| unsafe { Ok((text(p.name, p.name_len, what)?, text(p.value, p.value_len, what)?)) })
        .collect()
}

/// Borrow a required handle.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `T`.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, what: &str) -> Result<&'a T> {
    // SAFETY: forwarded contract
    unsafe { ptr.as_ref() }.ok_or_else(|| malformed(format!("{what} is NULL")))
}

/// Parse JSON text that must be an object (a job to sign, a frame object to encode) through core's one
/// reader (`trustcore_core::parse_object`): a key given twice at any depth, text that is not
/// JSON or not an object is refused with `code`, the code the place already gives to text it cannot
/// read. Never serde_json directly: it keeps the last of duplicated keys where cJSON keeps the first.
pub(crate) fn json_object(
    raw: &str,
    code: trustcore_core::ErrorCode,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    trustcore_core::parse_object(raw.as_bytes(), code)
}
