//! The panic boundary every export goes through: a panic never unwinds into C, it becomes
//! `TC_INTERNAL` (fallible functions) or a harmless default (getters), and the process lives on.

use std::panic::{catch_unwind, AssertUnwindSafe};

use trustcore_core::{Error, ErrorCode};

use crate::error::{tc_error, tc_status};

pub(crate) type Result<T> = std::result::Result<T, Error>;

fn panicked() -> Error {
    Error::new(ErrorCode::Internal, "internal error: a panic was caught at the C boundary")
}

/// Run a fallible export: on success `*err` (when given) is set to NULL; on failure to a new
/// `tc_error` the caller owns. Returns the status either way.
pub(crate) fn run(err: *mut *mut tc_error, body: impl FnOnce() -> Result<()>) -> tc_status {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| Err(panicked()));
    let (status, detail) = match outcome {
        Ok(()) => (tc_status::TC_OK, std::ptr::null_mut()),
        Err(e) => {
            let status = tc_status::from(e.code());
            // allocating the detail could itself panic (it should not); the status still gets out
            let detail = if err.is_null() {
                std::ptr::null_mut()
            } else {
                catch_unwind(|| Box::into_raw(Box::new(tc_error::new(&e)))).unwrap_or(std::ptr::null_mut())
            };
            (status, detail)
        }
    };
    if !err.is_null() {
        // SAFETY: the caller passes NULL or a writable `tc_error *` slot (documented on every export)
        unsafe { err.write(detail) };
    }
    status
}

/// Run an infallible export (a getter); a panic yields `fallback`.
pub(crate) fn guard<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// Release a boxed handle; NULL is ignored. A panic in a destructor is contained.
///
/// # Safety
/// `handle` is NULL or came from `Box::into_raw` and is not used again.
pub(crate) unsafe fn free<T>(handle: *mut T) {
    if handle.is_null() {
        return;
    }
    // SAFETY: the caller's contract: a live handle from Box::into_raw, freed once
    let owned = unsafe { Box::from_raw(handle) };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(owned)));
}

/// Store a new handle in a caller's out-parameter, which must not be NULL.
///
/// # Safety
/// `out` is NULL or writable.
pub(crate) unsafe fn put<T>(out: *mut *mut T, value: T) -> Result<()> {
    if out.is_null() {
        return Err(Error::new(ErrorCode::MalformedInput, "output pointer is NULL"));
    }
    // SAFETY: checked non-NULL; writable per the caller's contract
    unsafe { out.write(Box::into_raw(Box::new(value))) };
    Ok(())
}

/// Store a handle in an optional out-parameter: NULL means the caller does not want it.
///
/// # Safety
/// `out` is NULL or writable.
pub(crate) unsafe fn put_optional<T>(out: *mut *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: checked non-NULL; writable per the caller's contract
        unsafe { out.write(Box::into_raw(Box::new(value))) };
    }
}

/// Clear an out-parameter on entry, so a failed call never leaves a stale pointer behind.
///
/// # Safety
/// `out` is NULL or writable.
pub(crate) unsafe fn clear<T>(out: *mut *mut T) {
    if !out.is_null() {
        // SAFETY: checked non-NULL; writable per the caller's contract
        unsafe { out.write(std::ptr::null_mut()) };
    }
}

/// The preamble of every export that returns a handle: clear the out-parameter (a failed call never
/// leaves a stale pointer behind) and require it (NULL is MALFORMED_INPUT).
///
/// # Safety
/// `out` is NULL or writable.
pub(crate) unsafe fn prepare_out<T>(out: *mut *mut T) -> Result<()> {
    // SAFETY: the caller's contract, passed on
    unsafe { clear(out) };
    if out.is_null() {
        return Err(Error::new(ErrorCode::MalformedInput, "output pointer is NULL"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_internal_with_details() {
        let mut err: *mut tc_error = std::ptr::null_mut();
        let status = run(&mut err, || panic!("boom"));
        assert_eq!(status, tc_status::TC_INTERNAL);
        assert!(!err.is_null());
        // SAFETY: err was just set by `run`
        unsafe {
            assert_eq!(crate::error::tc_error_code(err), tc_status::TC_INTERNAL);
            let message = std::ffi::CStr::from_ptr(crate::error::tc_error_message(err));
            assert!(message.to_str().unwrap().contains("panic"));
            crate::error::tc_error_free(err);
        }
    }

    #[test]
    fn a_panic_in_a_getter_yields_the_fallback() {
        assert_eq!(guard(7, || panic!("boom")), 7);
    }

    #[test]
    fn success_clears_the_error_slot() {
        let mut err: *mut tc_error = std::ptr::dangling_mut(); // garbage left by the caller
        assert_eq!(run(&mut err, || Ok(())), tc_status::TC_OK);
        assert!(err.is_null());
    }
}
