//! `trustcore._trustcore`: the native half of the Python package `trustcore`.
//!
//! A thin projection of trustcore-core (docs/DESIGN.md §2): it converts Python values, maps core errors to
//! the `trustcore.errors` classes, catches panics, and releases the GIL while core verifies,
//! signs or authorizes. Every rule lives in core. The typed public API is the package
//! (python/trustcore/); this module is private, described by `_trustcore.pyi`.

use pyo3::prelude::*;

mod authenticate;
mod convert;
mod delegation;
mod error;
mod http;
mod jobs;
mod json;
mod keys;
mod limits;
mod mint;
mod policy;
mod proof;
mod revocation;
mod signer;
mod token;
mod verifier;
mod wire;

#[pymodule]
fn _trustcore(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<keys::IssuerKey>()?;
    m.add_class::<keys::WorkerKey>()?;
    m.add_class::<token::Token>()?;
    m.add_class::<limits::Limits>()?;
    m.add_class::<verifier::NativeVerifier>()?;
    m.add_class::<signer::NativeSignerClient>()?;
    m.add_class::<http::HttpPolicy>()?;
    m.add_function(wrap_pyfunction!(proof::canonical_request, m)?)?;
    m.add_function(wrap_pyfunction!(proof::make_proof, m)?)?;
    m.add_function(wrap_pyfunction!(proof::proof_headers, m)?)?;
    m.add_function(wrap_pyfunction!(proof::proof_query, m)?)?;
    m.add_function(wrap_pyfunction!(proof::proof_from_headers, m)?)?;
    m.add_function(wrap_pyfunction!(proof::proof_from_query, m)?)?;
    m.add_function(wrap_pyfunction!(proof::is_hex_key, m)?)?;
    m.add_function(wrap_pyfunction!(proof::constant_time_equal, m)?)?;
    m.add_function(wrap_pyfunction!(authenticate::authenticate, m)?)?;
    m.add_function(wrap_pyfunction!(policy::check_policy, m)?)?;
    m.add_function(wrap_pyfunction!(mint::mint_biscuit, m)?)?;
    m.add_function(wrap_pyfunction!(delegation::delegate, m)?)?;
    m.add_function(wrap_pyfunction!(token::parse_token, m)?)?;
    m.add_function(wrap_pyfunction!(token::authorize, m)?)?;
    m.add_function(wrap_pyfunction!(jobs::sign_job, m)?)?;
    m.add_function(wrap_pyfunction!(jobs::verify_job, m)?)?;
    m.add_function(wrap_pyfunction!(http::sign_request, m)?)?;
    m.add_function(wrap_pyfunction!(http::signature_base, m)?)?;
    m.add_function(wrap_pyfunction!(http::verify_message_signature, m)?)?;
    m.add_function(wrap_pyfunction!(http::content_digest, m)?)?;
    m.add_function(wrap_pyfunction!(http::jwk_thumbprint, m)?)?;
    m.add_function(wrap_pyfunction!(wire::encode_frame, m)?)?;
    m.add_function(wrap_pyfunction!(wire::decode_frame, m)?)?;
    m.add_function(wrap_pyfunction!(wire::send_frame, m)?)?;
    m.add_function(wrap_pyfunction!(wire::recv_frame, m)?)?;
    m.add_function(wrap_pyfunction!(panic_for_tests, m)?)?;
    m.add("MAX_FRAME", trustcore_core::MAX_FRAME)?;
    let codes: Vec<&str> = trustcore_core::ErrorCode::ALL.iter().map(|c| c.name()).collect();
    m.add("ERROR_CODES", pyo3::types::PyTuple::new(m.py(), codes)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

/// Panics inside the panic guard, so the tests can see that a bug surfaces as an INTERNAL
/// TrustError rather than crossing into Python.
#[pyfunction]
#[pyo3(name = "_panic_for_tests")]
fn panic_for_tests() -> PyResult<()> {
    error::guarded(|| panic!("deliberate panic for the tests"))
}
