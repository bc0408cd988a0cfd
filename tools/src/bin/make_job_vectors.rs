//! Writes tests/vectors/jobs.json: a job's terms, `expires_at` and `nonce` (format:
//! tests/vectors/README.md). Signatures come from running the core (Ed25519 is deterministic);
//! expected codes are written by hand. Run: `cargo run -p trustcore-core --example
//! make_job_vectors`, then review the diff.
//!
//! What it pins: a job is good through the second of its `expires_at` and JOB_INVALID after; terms
//! of the wrong type are refused when signing (MALFORMED_INPUT) and verifying (JOB_INVALID); a
//! single-use job (a nonce) is refused by the stateless verify_job and accepted once by a Verifier,
//! REPLAYED after, while a forged copy burns nothing; trust-core 0.1's jobs (no terms) are unchanged.

use serde_json::{json, Map, Value};
use trustcore_core::*;
use trustcore_tools::{err, seed_hex, Suite};

const NOW: f64 = 1_700_000_000.0;
const EXPIRES: i64 = 1_700_000_600;

fn object(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn main() {
    let seed = seed_hex("jobs-issuer");
    let issuer = IssuerKey::from_secret_hex(&seed).unwrap();
    let public = issuer.public_hex();
    let signed = |job: Value, worker: &str| {
        let mut job = object(job);
        let sig = sign_job(&issuer, &job, worker).unwrap();
        job.insert("sig".into(), json!(sig));
        Value::Object(job)
    };
    let mut s = Suite::new("jobs", env!("CARGO_BIN_NAME"));

    let timed = json!({"op": "transcribe", "episode_id": "e1", "expires_at": EXPIRES});
    let once = json!({"op": "transcribe", "episode_id": "e1", "expires_at": EXPIRES, "nonce": "job-7f3a"});
    for (description, job) in [("sign a job with an expiry", &timed), ("sign a single-use job", &once)] {
        let sig = sign_job(&issuer, &object(job.clone()), "w1").unwrap();
        s.case(
            description,
            "sign_job",
            json!({"issuer_seed_hex": seed, "job": job, "worker_id": "w1"}),
            json!({"signature_hex": sig}),
        );
    }
    for (description, job) in [
        ("signing refuses an expires_at that is not whole seconds", json!({"op": "x", "expires_at": "soon"})),
        ("signing refuses a fractional expires_at", json!({"op": "x", "expires_at": 1.5})),
        ("signing refuses a nonce that is not a string", json!({"op": "x", "expires_at": EXPIRES, "nonce": 7})),
        ("signing refuses an empty nonce", json!({"op": "x", "expires_at": EXPIRES, "nonce": ""})),
        ("signing refuses a nonce with a space", json!({"op": "x", "expires_at": EXPIRES, "nonce": "a b"})),
        (
            "signing refuses a nonce over 128 characters",
            json!({"op": "x", "expires_at": EXPIRES, "nonce": "n".repeat(129)}),
        ),
        ("signing refuses a nonce without an expiry (its replay entry must end)", json!({"op": "x", "nonce": "n1"})),
    ] {
        s.case(
            description,
            "sign_job",
            json!({"issuer_seed_hex": seed, "job": job, "worker_id": "w1"}),
            err("MALFORMED_INPUT"),
        );
    }

    let timed_signed = signed(timed.clone(), "w1");
    let verify = |job: &Value, worker: &str, now: f64| json!({"issuer_public_hex": public, "job": job, "worker_id": worker, "now": now});
    let ok = json!({"ok": true});
    s.case("a job before its expiry verifies", "verify_job", verify(&timed_signed, "w1", NOW), ok.clone());
    s.case(
        "a job verifies through the last second of its expiry",
        "verify_job",
        verify(&timed_signed, "w1", EXPIRES as f64 + 0.999),
        ok.clone(),
    );
    s.case(
        "a job past its expiry is JOB_INVALID",
        "verify_job",
        verify(&timed_signed, "w1", EXPIRES as f64 + 1.0),
        err("JOB_INVALID"),
    );
    s.case(
        "an expiring job bound to another worker is JOB_INVALID",
        "verify_job",
        verify(&timed_signed, "w2", NOW),
        err("JOB_INVALID"),
    );
    let mut extended = timed_signed.clone();
    extended["expires_at"] = json!(EXPIRES + 86_400);
    s.case(
        "a job whose expiry was pushed back is JOB_INVALID (the signature covers it)",
        "verify_job",
        verify(&extended, "w1", NOW),
        err("JOB_INVALID"),
    );
    // signed bytes are signed, whatever their terms: these were signed by the issuer key directly
    let bad_terms = |job: Value| {
        let mut job = object(job);
        let message = job_signing_bytes(&job, "w1").unwrap();
        job.insert("sig".into(), json!(hex::encode(issuer.sign(&message))));
        Value::Object(job)
    };
    s.case(
        "a signed job whose expires_at is not whole seconds is JOB_INVALID",
        "verify_job",
        verify(&bad_terms(json!({"op": "x", "expires_at": "1700000600"})), "w1", NOW),
        err("JOB_INVALID"),
    );
    s.case(
        "a signed job whose nonce has no expiry is JOB_INVALID",
        "verify_job",
        verify(&bad_terms(json!({"op": "x", "nonce": "n1"})), "w1", NOW),
        err("JOB_INVALID"),
    );
    let once_signed = signed(once.clone(), "w1");
    s.case(
        "the stateless verify_job refuses a single-use job (it cannot remember the nonce)",
        "verify_job",
        verify(&once_signed, "w1", NOW),
        err("JOB_INVALID"),
    );

    let step =
        |job: &Value, worker: &str, now: f64| json!({"verify_job": {"job": job, "worker_id": worker, "now": now}});
    let sequence = |steps: Vec<Value>| json!({"issuer_public_hex": public, "max_skew_seconds": 300.0, "steps": steps});
    let mut forged = once_signed.clone();
    forged["sig"] = json!("00".repeat(64));
    let other_nonce =
        signed(json!({"op": "transcribe", "episode_id": "e1", "expires_at": EXPIRES, "nonce": "job-8b41"}), "w1");
    s.case(
        "a Verifier accepts a single-use job once, REPLAYED after; a forged copy burns nothing; another nonce is fresh",
        "verifier_sequence",
        sequence(vec![
            step(&forged, "w1", NOW),
            step(&once_signed, "w1", NOW),
            step(&once_signed, "w1", NOW + 1.0),
            step(&other_nonce, "w1", NOW),
            step(&timed_signed, "w1", NOW),
            step(&timed_signed, "w1", NOW),
        ]),
        json!({"outcomes": ["JOB_INVALID", "OK", "REPLAYED", "OK", "OK", "OK"]}),
    );
    let once_w2 = signed(once.clone(), "w2");
    let far = signed(json!({"op": "x", "expires_at": NOW as i64 + 86_401, "nonce": "far"}), "w1");
    s.case(
        "a Verifier: an expired single-use job is JOB_INVALID; the same nonce for another worker is another job; one expiring over a day ahead is JOB_INVALID",
        "verifier_sequence",
        sequence(vec![
            step(&once_signed, "w1", EXPIRES as f64 + 1.0),
            step(&once_signed, "w1", NOW),
            step(&once_w2, "w2", NOW),
            step(&far, "w1", NOW),
        ]),
        json!({"outcomes": ["JOB_INVALID", "OK", "OK", "JOB_INVALID"]}),
    );

    s.write("a job's terms: expires_at, and a nonce that makes it single-use (checked by a Verifier)", None);
}
