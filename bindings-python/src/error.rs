//! Core errors become the `TrustError` subclasses of `trustcore.errors` (one per code, defined in
//! Python so they pickle and type-check like any exception), and no panic crosses into Python.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use trustcore_core::{Error, ErrorCode};

mod classes {
    // resolved on first use from the pure-Python module, which never imports the native one
    pyo3::import_exception!(trustcore.errors, MalformedInput);
    pyo3::import_exception!(trustcore.errors, TokenInvalid);
    pyo3::import_exception!(trustcore.errors, TokenUnbound);
    pyo3::import_exception!(trustcore.errors, Revoked);
    pyo3::import_exception!(trustcore.errors, StaleRequest);
    pyo3::import_exception!(trustcore.errors, Replayed);
    pyo3::import_exception!(trustcore.errors, PopFailed);
    pyo3::import_exception!(trustcore.errors, Denied);
    pyo3::import_exception!(trustcore.errors, LimitExceeded);
    pyo3::import_exception!(trustcore.errors, JobInvalid);
    pyo3::import_exception!(trustcore.errors, FrameInvalid);
    pyo3::import_exception!(trustcore.errors, SignerUnavailable);
    pyo3::import_exception!(trustcore.errors, SignerRefused);
    pyo3::import_exception!(trustcore.errors, StoreUnavailable);
    pyo3::import_exception!(trustcore.errors, Internal);
    pyo3::import_exception!(trustcore.errors, WrongAudience);
    pyo3::import_exception!(trustcore.errors, DelegationInvalid);
}

/// The Python exception for a core error: the code picks the class, the message is core's own
/// (trust-core 0.1's phrase where it had one), never anything secret.
pub fn to_py(err: Error) -> PyErr {
    use classes::*;
    let message = err.message().to_owned();
    // exhaustive on purpose: a code added to core must get its class here and in errors.py
    match err.code() {
        ErrorCode::MalformedInput => MalformedInput::new_err(message),
        ErrorCode::TokenInvalid => TokenInvalid::new_err(message),
        ErrorCode::TokenUnbound => TokenUnbound::new_err(message),
        ErrorCode::Revoked => Revoked::new_err(message),
        ErrorCode::StaleRequest => StaleRequest::new_err(message),
        ErrorCode::Replayed => Replayed::new_err(message),
        ErrorCode::PopFailed => PopFailed::new_err(message),
        ErrorCode::Denied => Denied::new_err(message),
        ErrorCode::LimitExceeded => LimitExceeded::new_err(message),
        ErrorCode::JobInvalid => JobInvalid::new_err(message),
        ErrorCode::FrameInvalid => FrameInvalid::new_err(message),
        ErrorCode::SignerUnavailable => SignerUnavailable::new_err(message),
        ErrorCode::SignerRefused => SignerRefused::new_err(message),
        ErrorCode::StoreUnavailable => StoreUnavailable::new_err(message),
        ErrorCode::Internal => Internal::new_err(message),
        ErrorCode::WrongAudience => WrongAudience::new_err(message),
        ErrorCode::DelegationInvalid => DelegationInvalid::new_err(message),
    }
}

/// A MALFORMED_INPUT raised while converting a Python value (a lone surrogate, an int out of range).
pub fn malformed(message: impl Into<String>) -> PyErr {
    to_py(Error::new(ErrorCode::MalformedInput, message))
}

pub fn type_error(what: &str, expected: &str, got: &Bound<'_, PyAny>) -> PyErr {
    let name = got.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".to_owned());
    PyTypeError::new_err(format!("{what} must be {expected}, not {name}"))
}

/// What a panic becomes: INTERNAL, never a crash.
pub fn panic_error() -> Error {
    Error::new(ErrorCode::Internal, "internal error (a bug in trustcore)")
}

fn panicked() -> PyErr {
    to_py(panic_error())
}

/// Run a binding body; a panic becomes INTERNAL instead of PyO3's PanicException (a BaseException
/// that `except TrustError` would not catch).
pub fn guarded<T>(body: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| Err(panicked()))
}

/// Run core work detached from the interpreter, so other Python threads run meanwhile (signature
/// checks and authorization use a second core); errors and panics come back as Python exceptions.
pub fn detached<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send,
    F: Send + FnOnce() -> trustcore_core::Result<T>,
{
    match py.detach(move || catch_unwind(AssertUnwindSafe(work))) {
        Ok(result) => result.map_err(to_py),
        Err(_) => Err(panicked()),
    }
}
