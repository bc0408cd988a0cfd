//! Jobs: work the issuer hands to one holder, signed over JCS (RFC 8785) bytes and bound to that holder.
//!
//! A job may also carry two terms, checked after its signature: `expires_at` (whole seconds since the
//! epoch; the job is good through that second) and `nonce` (a single-use job). Only a
//! [`crate::Verifier`], which has a replay store, can refuse a second use: the stateless
//! [`verify_job`] refuses a job with a nonce rather than let it pass twice.

use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, Result};
use crate::keys::{IssuerKey, PublicKey};
use crate::timestamp::now_seconds;

/// The member that bounds a job's life: whole seconds since the epoch.
pub const JOB_EXPIRES_AT: &str = "expires_at";
/// The member that makes a job single-use.
pub const JOB_NONCE: &str = "nonce";
/// A job nonce: 1 to this many printable ASCII characters.
pub const MAX_JOB_NONCE_BYTES: usize = 128;
/// A single-use job must expire within this many seconds of its verification (its replay entry
/// lives until then): a day.
pub const MAX_SINGLE_USE_JOB_SECONDS: i64 = crate::settings::MAX_SETTING_DURATION.as_secs() as i64;

/// The signed bytes: JCS of `{"job": <job without "sig">, "worker_id": <id>}`. For ASCII strings and
/// integers these equal trust-core 0.1's `json.dumps(sort_keys=True, separators=(",", ":"))`.
pub fn job_signing_bytes(job: &Map<String, Value>, worker_id: &str) -> Result<Vec<u8>> {
    // JCS writes recursively: a job deeper than any JSON text may be is refused before
    crate::json::check_depth(job, ErrorCode::MalformedInput)?;
    let mut unsigned = job.clone();
    unsigned.remove("sig");
    let mut payload = Map::new();
    payload.insert("job".to_owned(), Value::Object(unsigned));
    payload.insert("worker_id".to_owned(), Value::String(worker_id.to_owned()));
    serde_jcs::to_vec(&Value::Object(payload)).map_err(|_| Error::malformed("job cannot be canonicalized"))
}

/// Sign `job` for `worker_id`; returns the signature as hex (the caller stores it as `job["sig"]`).
/// The terms are checked first, so the issuer never signs a job no verifier would accept.
pub fn sign_job(issuer: &IssuerKey, job: &Map<String, Value>, worker_id: &str) -> Result<String> {
    JobTerms::read(job).map_err(|e| Error::malformed(e.message().to_owned()))?;
    Ok(hex::encode(issuer.sign(&job_signing_bytes(job, worker_id)?)))
}

/// What a verified job asks of its verifier besides its signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobTerms {
    pub expires_at: Option<i64>,
    pub nonce: Option<String>,
}

fn invalid(message: &str) -> Error {
    Error::new(ErrorCode::JobInvalid, message)
}

impl JobTerms {
    /// The terms as written: `expires_at` an integer, `nonce` a short printable string that comes
    /// with an `expires_at` (its replay entry must end). Anything else is JOB_INVALID.
    pub fn read(job: &Map<String, Value>) -> Result<JobTerms> {
        let expires_at = match job.get(JOB_EXPIRES_AT) {
            None => None,
            Some(value) => Some(value.as_i64().ok_or_else(|| invalid("a job's expires_at must be whole seconds"))?),
        };
        let nonce = match job.get(JOB_NONCE) {
            None => None,
            Some(Value::String(nonce))
                if (1..=MAX_JOB_NONCE_BYTES).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                Some(nonce.clone())
            }
            Some(_) => return Err(invalid("a job's nonce must be 1 to 128 printable ASCII characters")),
        };
        if nonce.is_some() && expires_at.is_none() {
            return Err(invalid("a job with a nonce must carry expires_at"));
        }
        Ok(JobTerms { expires_at, nonce })
    }

    /// JOB_INVALID once `expires_at` has passed at `now` (good through its last second, as a token).
    pub fn check_expiry(&self, now: f64) -> Result<()> {
        if !now.is_finite() {
            return Err(Error::malformed("now must be finite"));
        }
        match self.expires_at {
            Some(bound) if now.floor() > bound as f64 => Err(invalid("job expired")),
            _ => Ok(()),
        }
    }
}

/// [`verify_job`] for a job given as JSON text (the C ABI's form). The text is read once: a key given
/// twice anywhere is JOB_INVALID, so no reader of the same text can see another job than the one
/// verified. Returns the job as verified.
pub fn verify_job_text(
    issuer_public_hex: &str,
    job_json: &[u8],
    worker_id: &str,
    now: Option<f64>,
) -> Result<Map<String, Value>> {
    let job = crate::json::parse_object(job_json, ErrorCode::JobInvalid)?;
    verify_job(issuer_public_hex, &job, worker_id, now)?;
    Ok(job)
}

/// Verify `job["sig"]` against the pinned issuer key for `worker_id`, then its terms at `now` (None:
/// the system clock). A missing, malformed or failing signature, a tampered job or one bound to
/// another holder, an expired job, and a single-use job (a nonce: only a `Verifier` can check it)
/// are JOB_INVALID.
pub fn verify_job(issuer_public_hex: &str, job: &Map<String, Value>, worker_id: &str, now: Option<f64>) -> Result<()> {
    let issuer = PublicKey::from_hex(issuer_public_hex)?;
    let terms = verify_job_with(&[issuer], job, worker_id, now.unwrap_or_else(now_seconds))?.1;
    if terms.nonce.is_some() {
        return Err(invalid("a single-use job (one with a nonce) needs a Verifier, which remembers used nonces"));
    }
    Ok(())
}

/// The signature (against any of `issuers`), then the terms: the key that verified and the terms.
/// A forged or tampered job is refused before its terms are read.
pub(crate) fn verify_job_with(
    issuers: &[PublicKey],
    job: &Map<String, Value>,
    worker_id: &str,
    now: f64,
) -> Result<(PublicKey, JobTerms)> {
    let signature_hex = match job.get("sig") {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => return Err(invalid("job carries no issuer signature")),
    };
    let signature: [u8; 64] = hex::decode(signature_hex)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| invalid("malformed issuer key or job signature"))?;
    let message = job_signing_bytes(job, worker_id).map_err(|_| invalid("job cannot be canonicalized"))?;
    let issuer = issuers
        .iter()
        .find(|issuer| issuer.verify_strict(&message, &signature))
        .ok_or_else(|| invalid("job signature failed verification"))?;
    let terms = JobTerms::read(job)?;
    terms.check_expiry(now)?;
    Ok((*issuer, terms))
}
