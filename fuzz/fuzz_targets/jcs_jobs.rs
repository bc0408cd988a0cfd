//! JCS and jobs: any JSON object signed, then verified; the same job with any change refused.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use trustcore_core::serde_json::{Map, Value};
use trustcore_core::*;

fn issuer() -> &'static IssuerKey {
    static KEY: OnceLock<IssuerKey> = OnceLock::new();
    KEY.get_or_init(|| IssuerKey::from_secret_hex(&"11".repeat(32)).unwrap())
}

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(job)) = serde_json::from_slice::<Value>(data) else { return };
    let issuer = issuer();
    // a job as received may carry any "sig": verification never panics
    let _ = verify_job(&issuer.public_hex(), &job, "w", None);
    let Ok(sig) = sign_job(issuer, &job, "w") else { return };
    let mut signed: Map<String, Value> = job.clone();
    signed.insert("sig".into(), Value::String(sig));
    verify_job(&issuer.public_hex(), &signed, "w", None).expect("a job just signed verifies");
    assert_eq!(verify_job(&issuer.public_hex(), &signed, "other", None).unwrap_err().code(), ErrorCode::JobInvalid);
    // canonical bytes are stable: signing bytes of the signed job equal those of the original
    assert_eq!(job_signing_bytes(&signed, "w").unwrap(), job_signing_bytes(&job, "w").unwrap());
});
