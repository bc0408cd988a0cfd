//! Writes tests/vectors/hostile.json: the hostile inputs that are pure data (huge values, deep
//! nesting), run by every runner, so each language's own hostile table keeps only what is its own
//! (wrong types, nulls, NUL bytes, invalid UTF-8, memory). Large values are written compactly with
//! `$repeat`, `$nest` and `$nest_list` (tests/vectors/README.md, "Large values"), expanded by each
//! runner. Expected codes are written by hand. Run: `cargo run -p trustcore-tools --bin
//! make_hostile_vectors`, then review the diff.

use serde_json::{json, Value};
use trustcore_core::*;
use trustcore_tools::{err, seed_hex, NextKeys, Suite};

const NOW: f64 = 1_700_000_000.0;
const MIB: usize = 1 << 20;

fn repeat(text: &str, times: usize) -> Value {
    json!({"$repeat": [text, times]})
}

fn main() {
    let issuer = IssuerKey::from_secret_hex(&seed_hex("issuer")).unwrap();
    let holder = WorkerKey::from_secret_hex(&seed_hex("worker")).unwrap();
    let next = NextKeys::new(env!("CARGO_BIN_NAME"));
    let token = mint_biscuit_reproducible(
        &issuer,
        &MintRequest {
            public_hex: holder.public_hex(),
            holder_id: "gpu-1".into(),
            facts: vec![("lane".into(), vec!["transcribe".into()])],
            revocation_id: Some("rev-1".into()),
            expires_at: NOW + 3600.0,
            root_key_id: None,
            delegation_depth: 0,
        },
        &next.next_seed(),
    )
    .unwrap();
    let request = Request::new("POST", "/lease", b"{}");
    let proof = make_proof(&holder, &token, &request, "1700000000", "n-1").unwrap();
    let authenticate = |token: Value, signature: Value, timestamp: Value, nonce: Value| {
        json!({
            "issuer_public_hex": issuer.public_hex(),
            "proof": {"token": token, "signature": signature, "timestamp": timestamp, "nonce": nonce},
            "request": {"method": "POST", "path": "/lease", "body_hex": "7b7d"},
            "now": NOW, "revoked_ids": [], "max_skew_seconds": 300.0,
        })
    };
    let (t, s, ts, n) = (json!(proof.token), json!(proof.signature), json!(proof.timestamp), json!(proof.nonce));
    let mut suite = Suite::new("hostile", env!("CARGO_BIN_NAME"));

    suite.case(
        "the same request as the rows below, unaltered, is accepted",
        "authenticate",
        authenticate(t.clone(), s.clone(), ts.clone(), n.clone()),
        json!({"identity": {"holder_id": "gpu-1", "holder_public_hex": holder.public_hex(), "revocation_id": "rev-1"}}),
    );
    suite.case(
        "a 1 MiB token is LIMIT_EXCEEDED on its size, before it is decoded",
        "authenticate",
        authenticate(repeat("A", MIB), s.clone(), ts.clone(), n.clone()),
        err("LIMIT_EXCEEDED"),
    );
    suite.case(
        "a 1 MiB token is LIMIT_EXCEEDED when inspected too",
        "inspect",
        json!({"issuer_public_hex": issuer.public_hex(), "token": repeat("A", MIB)}),
        err("LIMIT_EXCEEDED"),
    );
    suite.case(
        "a 2 MiB signature is MALFORMED_INPUT (not 128 hex digits)",
        "authenticate",
        authenticate(t.clone(), repeat("ab", MIB), ts.clone(), n.clone()),
        err("MALFORMED_INPUT"),
    );
    suite.case(
        "a 10 MiB timestamp is MALFORMED_INPUT",
        "authenticate",
        authenticate(t.clone(), s.clone(), repeat("1", 10 * MIB), n.clone()),
        err("MALFORMED_INPUT"),
    );
    suite.case(
        "a 10 MiB nonce is carried, and fails the proof it was not signed with: POP_FAILED",
        "authenticate",
        authenticate(t.clone(), s.clone(), ts.clone(), repeat("n", 10 * MIB)),
        err("POP_FAILED"),
    );
    suite.case(
        "a 1 MiB allow policy that does not parse is MALFORMED_INPUT",
        "check_policy",
        json!({"issuer_public_hex": issuer.public_hex(), "token": token, "request_facts": {},
               "allow": repeat("x", MIB), "now": NOW}),
        err("MALFORMED_INPUT"),
    );
    suite.case(
        "an allow policy nested 100,000 brackets deep is MALFORMED_INPUT before it reaches the parser",
        "check_policy",
        json!({"issuer_public_hex": issuer.public_hex(), "token": token, "request_facts": {},
               "allow": repeat("(", 100_000), "now": NOW}),
        err("MALFORMED_INPUT"),
    );
    let deep = json!({"$nest": ["a", 10_000, {"leaf": 1}]});
    suite.case(
        "a job nested 10,000 objects deep is not signed: MALFORMED_INPUT",
        "sign_job",
        json!({"issuer_seed_hex": seed_hex("issuer"), "job": {"a": deep}, "worker_id": "gpu-1"}),
        err("MALFORMED_INPUT"),
    );
    suite.case(
        "a job nested 10,000 arrays deep is not signed: MALFORMED_INPUT",
        "sign_job",
        json!({"issuer_seed_hex": seed_hex("issuer"), "job": {"a": {"$nest_list": [10_000, 1]}}, "worker_id": "gpu-1"}),
        err("MALFORMED_INPUT"),
    );
    suite.case(
        "a job nested 10,000 objects deep never verifies: JOB_INVALID",
        "verify_job",
        json!({"issuer_public_hex": issuer.public_hex(), "job": {"a": deep, "sig": "00".repeat(64)}, "worker_id": "gpu-1"}),
        err("JOB_INVALID"),
    );
    suite
        .write("hostile inputs that are pure data, huge or deep, written compactly ($repeat, $nest, $nest_list)", None);
}
