//! Jobs: the issuer signs work it hands to one holder (JCS bytes bound to the holder id); the
//! holder verifies before acting.

use pyo3::prelude::*;
use trustcore_core::ErrorCode;

use crate::convert::{Seconds, Text};
use crate::error::{detached, guarded};
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

/// Verify `job["sig"]` against the pinned issuer public key for `worker_id`, then its terms at `now`
/// (None: the clock); JOB_INVALID when the signature is missing, malformed, or does not verify, the
/// job expired, or it is single-use (a nonce: `Verifier.verify_job` checks those).
#[pyfunction]
#[pyo3(signature = (issuer_public_hex, job, *, worker_id, now=None))]
pub fn verify_job(
    py: Python<'_>,
    issuer_public_hex: Text,
    job: &Bound<'_, PyAny>,
    worker_id: Text,
    now: Option<Seconds>,
) -> PyResult<()> {
    guarded(|| {
        // a job that cannot even be encoded cannot carry a valid signature
        let job = to_object(job, ErrorCode::JobInvalid, "job")?;
        detached(py, || trustcore_core::verify_job(&issuer_public_hex.0, &job, &worker_id.0, now.map(|s| s.0)))
    })
}
