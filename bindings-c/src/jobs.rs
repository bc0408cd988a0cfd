//! Jobs: the issuer signs work for one holder; the holder verifies before acting.

use std::ffi::c_char;

use trustcore_core::{sign_job, verify_job_text, ErrorCode};

use crate::boundary::run;
use crate::error::{tc_error, tc_status};
use crate::input::{handle, json_object, text};
use crate::keys::tc_issuer_key;
use crate::output::{clear_len, to_buffer};
use crate::verifier::tc_verifier;

/// Sign `job` (UTF-8 JSON text of an object; a `sig` member is ignored) for `worker_id`: the signature
/// (128 hex digits) goes into a caller buffer of `TC_SIGNATURE_HEX_SIZE` bytes; store it as the job's
/// `sig`. MALFORMED_INPUT when `job` is not a JSON object or holds a key twice (at any depth: the
/// text is read once, by core, as `tc_verify_job` reads it).
///
/// # Safety
/// `issuer` is a live handle; strings are NULL (length 0) or readable; `buf` is NULL (with `buf_len`
/// 0) or writable for `buf_len` bytes; `out_len` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_sign_job(
    issuer: *const tc_issuer_key,
    job_json: *const c_char,
    job_json_len: usize,
    worker_id: *const c_char,
    worker_id_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear_len(out_len);
        let issuer = handle(issuer, "issuer")?;
        let job = json_object(text(job_json, job_json_len, "job")?, ErrorCode::MalformedInput)?;
        let signature = sign_job(&issuer.key, &job, text(worker_id, worker_id_len, "worker_id")?)?;
        to_buffer(signature.as_bytes(), buf, buf_len, out_len)
    })
}

/// Verify `job["sig"]` (job as UTF-8 JSON text of an object) against the pinned issuer public key
/// for `worker_id`, then its terms at `*now` (NULL: the system clock) (core's `verify_job_text`).
/// TC_OK when it verifies; JOB_INVALID when the signature is missing, malformed or wrong (a tampered
/// job, another holder), when `expires_at` has passed or is not whole seconds, for a single-use job
/// (a `nonce`: only `tc_verifier_verify_job` can refuse its second use), and when the text is not JSON, not
/// an object, or holds a key twice anywhere (`{"cmd":"x", …, "cmd":"y"}`): readers disagree on which
/// of two duplicated keys counts (cJSON keeps the first, serde_json the last), so such a job is never
/// verified. MALFORMED_INPUT for a bad key or text that is not UTF-8. On TC_OK, act on exactly the
/// text that was verified: parse that same buffer, with any JSON reader.
///
/// # Safety
/// Strings are NULL (length 0) or readable; `now` is NULL or readable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verify_job(
    issuer_public_hex: *const c_char,
    issuer_public_hex_len: usize,
    job_json: *const c_char,
    job_json_len: usize,
    worker_id: *const c_char,
    worker_id_len: usize,
    now: *const f64,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        let public_hex = text(issuer_public_hex, issuer_public_hex_len, "issuer_public_hex")?;
        let job = text(job_json, job_json_len, "job")?;
        let worker_id = text(worker_id, worker_id_len, "worker_id")?;
        verify_job_text(public_hex, job.as_bytes(), worker_id, now.as_ref().copied()).map(drop)
    })
}

/// `tc_verify_job` with the verifier's issuer key(s), and a single-use job (one with a `nonce`) used
/// up: accepted once, then REPLAYED on this verifier and every verifier sharing its Redis. The nonce
/// is recorded only after the signature and expiry pass, and kept until the job expires (at most a
/// day after `now`, else JOB_INVALID). With Redis, STORE_UNAVAILABLE when Redis cannot answer.
///
/// # Safety
/// `verifier` is a live handle; strings are NULL (length 0) or readable; `now` is NULL or readable;
/// `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_verifier_verify_job(
    verifier: *const tc_verifier,
    job_json: *const c_char,
    job_json_len: usize,
    worker_id: *const c_char,
    worker_id_len: usize,
    now: *const f64,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        let verifier = &handle(verifier, "verifier")?.verifier;
        let job = text(job_json, job_json_len, "job")?;
        let worker_id = text(worker_id, worker_id_len, "worker_id")?;
        verifier.verify_job_text(job.as_bytes(), worker_id, now.as_ref().copied()).map(drop)
    })
}
