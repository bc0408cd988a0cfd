//! Jobs: work the issuer hands to one holder, signed over JCS (RFC 8785) bytes and bound to that holder.

use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, Result};
use crate::keys::{IssuerKey, PublicKey};

/// The signed bytes: JCS of `{"job": <job without "sig">, "worker_id": <id>}`. For ASCII strings and
/// integers these equal trust-core 0.1's `json.dumps(sort_keys=True, separators=(",", ":"))`.
pub fn job_signing_bytes(job: &Map<String, Value>, worker_id: &str) -> Result<Vec<u8>> {
    let mut unsigned = job.clone();
    unsigned.remove("sig");
    let mut payload = Map::new();
    payload.insert("job".to_owned(), Value::Object(unsigned));
    payload.insert("worker_id".to_owned(), Value::String(worker_id.to_owned()));
    serde_jcs::to_vec(&Value::Object(payload)).map_err(|_| Error::malformed("job cannot be canonicalized"))
}

/// Sign `job` for `worker_id`; returns the signature as hex (the caller stores it as `job["sig"]`).
pub fn sign_job(issuer: &IssuerKey, job: &Map<String, Value>, worker_id: &str) -> Result<String> {
    Ok(hex::encode(issuer.sign(&job_signing_bytes(job, worker_id)?)))
}

/// [`verify_job`] for a job given as JSON text (the C ABI's form). The text is read once: a key given
/// twice anywhere is JOB_INVALID, so no reader of the same text can see another job than the one
/// verified. Returns the job as verified.
pub fn verify_job_text(issuer_public_hex: &str, job_json: &[u8], worker_id: &str) -> Result<Map<String, Value>> {
    let job = crate::json::parse_object(job_json, ErrorCode::JobInvalid)?;
    verify_job(issuer_public_hex, &job, worker_id)?;
    Ok(job)
}

/// Verify `job["sig"]` against the pinned issuer key for `worker_id`. A missing, malformed or
/// failing signature, a tampered job or one bound to another holder is JOB_INVALID.
pub fn verify_job(issuer_public_hex: &str, job: &Map<String, Value>, worker_id: &str) -> Result<()> {
    let issuer = PublicKey::from_hex(issuer_public_hex)?;
    let invalid = |message: &str| Error::new(ErrorCode::JobInvalid, message);
    let signature_hex = match job.get("sig") {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => return Err(invalid("job carries no issuer signature")),
    };
    let signature: [u8; 64] = hex::decode(signature_hex)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| invalid("malformed issuer key or job signature"))?;
    let message = job_signing_bytes(job, worker_id).map_err(|_| invalid("job cannot be canonicalized"))?;
    if issuer.verify_strict(&message, &signature) {
        Ok(())
    } else {
        Err(invalid("job signature failed verification"))
    }
}
