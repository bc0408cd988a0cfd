//! `tc_status` and `tc_error`: the projection of core's one error table (docs/DESIGN.md §5) into C.

use std::ffi::{c_char, CString};

use trustcore_core::{Error, ErrorCode};

/// What a fallible function returned. `TC_OK` is 0; every other value is the number of a core error
/// code (docs/DESIGN.md §5) and never changes.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum tc_status {
    TC_OK = 0,
    TC_MALFORMED_INPUT = 1,
    TC_TOKEN_INVALID = 2,
    TC_TOKEN_UNBOUND = 3,
    TC_REVOKED = 4,
    TC_STALE_REQUEST = 5,
    TC_REPLAYED = 6,
    TC_POP_FAILED = 7,
    TC_DENIED = 8,
    TC_LIMIT_EXCEEDED = 9,
    TC_JOB_INVALID = 10,
    TC_FRAME_INVALID = 11,
    TC_SIGNER_UNAVAILABLE = 12,
    TC_SIGNER_REFUSED = 13,
    TC_STORE_UNAVAILABLE = 14,
    TC_INTERNAL = 15,
    TC_WRONG_AUDIENCE = 16,
    TC_DELEGATION_INVALID = 17,
}

impl From<ErrorCode> for tc_status {
    fn from(code: ErrorCode) -> Self {
        match code {
            ErrorCode::MalformedInput => tc_status::TC_MALFORMED_INPUT,
            ErrorCode::TokenInvalid => tc_status::TC_TOKEN_INVALID,
            ErrorCode::TokenUnbound => tc_status::TC_TOKEN_UNBOUND,
            ErrorCode::Revoked => tc_status::TC_REVOKED,
            ErrorCode::StaleRequest => tc_status::TC_STALE_REQUEST,
            ErrorCode::Replayed => tc_status::TC_REPLAYED,
            ErrorCode::PopFailed => tc_status::TC_POP_FAILED,
            ErrorCode::Denied => tc_status::TC_DENIED,
            ErrorCode::LimitExceeded => tc_status::TC_LIMIT_EXCEEDED,
            ErrorCode::JobInvalid => tc_status::TC_JOB_INVALID,
            ErrorCode::FrameInvalid => tc_status::TC_FRAME_INVALID,
            ErrorCode::SignerUnavailable => tc_status::TC_SIGNER_UNAVAILABLE,
            ErrorCode::SignerRefused => tc_status::TC_SIGNER_REFUSED,
            ErrorCode::StoreUnavailable => tc_status::TC_STORE_UNAVAILABLE,
            ErrorCode::Internal => tc_status::TC_INTERNAL,
            ErrorCode::WrongAudience => tc_status::TC_WRONG_AUDIENCE,
            ErrorCode::DelegationInvalid => tc_status::TC_DELEGATION_INVALID,
        }
    }
}

/// Details of a failure: its status and a short message (never a secret). Owned by the caller;
/// release it with `tc_error_free`.
#[allow(non_camel_case_types)]
pub struct tc_error {
    code: ErrorCode,
    message: CString,
}

impl tc_error {
    pub(crate) fn new(error: &Error) -> tc_error {
        // core messages hold no NUL; should one ever appear, keep the message rather than lose it
        let text = error.message().replace('\0', "\u{FFFD}");
        tc_error { code: error.code(), message: CString::new(text).unwrap_or_default() }
    }

    /// The failure again, as a core error (to hand a stored failure out as a call's own).
    pub(crate) fn to_error(&self) -> Error {
        Error::new(self.code, self.message.to_string_lossy())
    }
}

/// The status of `error`; `TC_OK` when `error` is NULL.
///
/// # Safety
/// `error` is NULL or a live `tc_error`.
#[no_mangle]
pub unsafe extern "C" fn tc_error_code(error: *const tc_error) -> tc_status {
    crate::boundary::guard(tc_status::TC_INTERNAL, || match unsafe { error.as_ref() } {
        Some(e) => tc_status::from(e.code),
        None => tc_status::TC_OK,
    })
}

/// The message of `error`, NUL-terminated UTF-8, borrowed: valid until `tc_error_free(error)`.
/// An empty string when `error` is NULL.
///
/// # Safety
/// `error` is NULL or a live `tc_error`.
#[no_mangle]
pub unsafe extern "C" fn tc_error_message(error: *const tc_error) -> *const c_char {
    crate::boundary::guard(c"".as_ptr(), || match unsafe { error.as_ref() } {
        Some(e) => e.message.as_ptr(),
        None => c"".as_ptr(),
    })
}

/// Release an error. NULL is accepted and ignored.
///
/// # Safety
/// `error` is NULL or a `tc_error` not yet freed; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tc_error_free(error: *mut tc_error) {
    crate::boundary::free(error)
}

/// The name of a status (`"OK"`, `"MALFORMED_INPUT"`, …), a static NUL-terminated string;
/// `"UNKNOWN"` for a number that is no `tc_status`. Takes a plain number so any value is safe.
#[no_mangle]
pub extern "C" fn tc_status_name(status: u32) -> *const c_char {
    crate::boundary::guard(c"UNKNOWN".as_ptr(), || {
        if status == 0 {
            return c"OK".as_ptr();
        }
        match ErrorCode::from_number(status) {
            Some(code) => status_cstr(code).as_ptr(),
            None => c"UNKNOWN".as_ptr(),
        }
    })
}

fn status_cstr(code: ErrorCode) -> &'static std::ffi::CStr {
    match code {
        ErrorCode::MalformedInput => c"MALFORMED_INPUT",
        ErrorCode::TokenInvalid => c"TOKEN_INVALID",
        ErrorCode::TokenUnbound => c"TOKEN_UNBOUND",
        ErrorCode::Revoked => c"REVOKED",
        ErrorCode::StaleRequest => c"STALE_REQUEST",
        ErrorCode::Replayed => c"REPLAYED",
        ErrorCode::PopFailed => c"POP_FAILED",
        ErrorCode::Denied => c"DENIED",
        ErrorCode::LimitExceeded => c"LIMIT_EXCEEDED",
        ErrorCode::JobInvalid => c"JOB_INVALID",
        ErrorCode::FrameInvalid => c"FRAME_INVALID",
        ErrorCode::SignerUnavailable => c"SIGNER_UNAVAILABLE",
        ErrorCode::SignerRefused => c"SIGNER_REFUSED",
        ErrorCode::StoreUnavailable => c"STORE_UNAVAILABLE",
        ErrorCode::Internal => c"INTERNAL",
        ErrorCode::WrongAudience => c"WRONG_AUDIENCE",
        ErrorCode::DelegationInvalid => c"DELEGATION_INVALID",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names_follow_core() {
        for code in ErrorCode::ALL {
            assert_eq!(tc_status::from(code) as u32, code.number());
            assert_eq!(status_cstr(code).to_str().unwrap(), code.name());
        }
    }
}
