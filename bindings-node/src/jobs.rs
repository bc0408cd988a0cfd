//! Signed jobs: the issuer signs work for one holder; the holder verifies before acting.

use napi::bindgen_prelude::{AsyncTask, Unknown};

use trustcore_core as core;

use crate::convert::json_object_arg;
use crate::error::{guard, trust, Result, Work};
use crate::keys::IssuerKey;
use crate::verifier::VerifierClock;

/// Sign `job` (its `sig` field left out) for `workerId`; returns the signature in hex, for `job.sig`.
#[napi(catch_unwind, ts_args_type = "issuer: IssuerKey, job: Record<string, unknown>, workerId: string")]
pub fn sign_job(issuer: &IssuerKey, job: Unknown<'_>, worker_id: String) -> Result<String> {
    guard(|| {
        core::sign_job(&issuer.inner, &json_object_arg(job, "job", core::ErrorCode::MalformedInput)?, &worker_id)
            .map_err(trust)
    })
}

/// `signJob` on the libuv thread pool.
#[napi(
    catch_unwind,
    ts_args_type = "issuer: IssuerKey, job: Record<string, unknown>, workerId: string",
    ts_return_type = "Promise<string>"
)]
pub fn sign_job_async(issuer: &IssuerKey, job: Unknown<'_>, worker_id: String) -> Result<AsyncTask<Work<String>>> {
    guard(|| {
        let (issuer, job) = (issuer.inner.clone(), json_object_arg(job, "job", core::ErrorCode::MalformedInput)?);
        Ok(AsyncTask::new(Work::new(move || core::sign_job(&issuer, &job, &worker_id))))
    })
}

/// Check `job.sig` against the pinned issuer public key for `workerId`, then its terms at `now` (left
/// out, the system clock); throws JOB_INVALID, also for an expired job and a single-use one (a
/// nonce: `Verifier#verifyJob` checks those).
#[napi(
    catch_unwind,
    ts_args_type = "issuerPublicHex: string, job: Record<string, unknown>, workerId: string, options?: VerifierClock"
)]
pub fn verify_job(
    issuer_public_hex: String,
    job: Unknown<'_>,
    worker_id: String,
    options: Option<VerifierClock>,
) -> Result<()> {
    guard(|| {
        let now = options.unwrap_or_default().now;
        core::verify_job(
            &issuer_public_hex,
            &json_object_arg(job, "job", core::ErrorCode::JobInvalid)?,
            &worker_id,
            now,
        )
        .map_err(trust)
    })
}

/// `verifyJob` on the libuv thread pool.
#[napi(
    catch_unwind,
    ts_args_type = "issuerPublicHex: string, job: Record<string, unknown>, workerId: string, options?: VerifierClock",
    ts_return_type = "Promise<void>"
)]
pub fn verify_job_async(
    issuer_public_hex: String,
    job: Unknown<'_>,
    worker_id: String,
    options: Option<VerifierClock>,
) -> Result<AsyncTask<Work<()>>> {
    guard(|| {
        let (job, now) = (json_object_arg(job, "job", core::ErrorCode::JobInvalid)?, options.unwrap_or_default().now);
        Ok(AsyncTask::new(Work::new(move || core::verify_job(&issuer_public_hex, &job, &worker_id, now))))
    })
}
