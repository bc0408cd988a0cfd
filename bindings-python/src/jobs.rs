//! Jobs: the issuer signs work it hands to one holder (JCS bytes bound to the holder id); the
//! holder verifies before acting.

use pyo3::prelude::*;
use trustcore_core::ErrorCode;

use crate::convert::Text;
use crate::errors::{detached, guarded};
use crate::json::to_object;
use crate::keys::IssuerKey;

/// Sign `job` (its `sig` field left out) for `worker_id`; returns the signature as hex.
#[pyfunction]
#[pyo3(signature = (issuer, job, *, worker_id))]
pub fn sign_job(
    py: Python<'_>,
    issuer: PyRef<'_, IssuerKey>,
    job: &Bound<'_, PyAny>,
    worker_id: Text,
) -> PyResult<String> {
    guarded(|| {
        let job = to_object(job, ErrorCode::MalformedInput, "job")?;
        let issuer = &issuer.inner;
        detached(py, || trustcore_core::sign_job(issuer, &job, &worker_id.0))
    })
}

/// Verify `job["sig"]` against the pinned issuer public key for `worker_id`; JOB_INVALID when it
/// is missing, malformed, or does not verify.
#[pyfunction]
#[pyo3(signature = (issuer_public_hex, job, *, worker_id))]
pub fn verify_job(py: Python<'_>, issuer_public_hex: Text, job: &Bound<'_, PyAny>, worker_id: Text) -> PyResult<()> {
    guarded(|| {
        // a job that cannot even be encoded cannot carry a valid signature
        let job = to_object(job, ErrorCode::JobInvalid, "job")?;
        detached(py, || trustcore_core::verify_job(&issuer_public_hex.0, &job, &worker_id.0))
    })
}
