//! The Rust core's per-request path, timed the way bench.mjs times Node: the same token, request
//! and policy, medians of rounds. Prints one JSON object (nanoseconds per operation) for bench.mjs.

use std::hint::black_box;
use std::time::Instant;

use trustcore_core::*;

const NOW: f64 = 1_700_000_000.0;
const ALLOW: &str = "allow if right($op), operation($op)";
const ROUNDS: usize = 15;
const PER_ROUND: usize = 400;

fn median_ns(mut op: impl FnMut()) -> f64 {
    for _ in 0..PER_ROUND {
        op(); // warm up
    }
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..PER_ROUND {
                op();
            }
            start.elapsed().as_nanos() as f64 / PER_ROUND as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

fn main() -> Result<()> {
    let issuer = IssuerKey::from_secret_hex(&"11".repeat(32))?;
    let worker = WorkerKey::from_secret_hex(&"22".repeat(32))?;
    let token = mint_biscuit(
        &issuer,
        &MintRequest {
            public_hex: worker.public_hex(),
            holder_id: "worker-1".into(),
            facts: vec![("right".into(), vec!["lease".into(), "report".into()])],
            revocation_id: "rev-1".into(),
            expires_at: NOW + 3600.0,
            root_key_id: None,
        },
    )?;
    let body = vec![b'x'; 256];
    let request = Request::new("POST", "/lease?pool=gpu", &body);
    let proof = make_proof(&worker, &token, &request, "1700000000", "nonce-1")?;
    let keys = IssuerKeys::from_hex(&issuer.public_hex())?;
    let revoked: Vec<String> = Vec::new();
    let options = AuthenticateOptions::new(NOW, 300.0);
    let limits = Limits::default();
    let policy = |token: &Token| check_policy(token, [("operation", "lease")], ALLOW, NOW, &limits);

    let (parsed, _) = authenticate(&keys, &proof, &request, &revoked, &options)?;
    policy(&parsed)?;

    let authenticate_ns = median_ns(|| {
        black_box(authenticate(&keys, &proof, &request, &revoked, &options).unwrap());
    });
    let check_policy_ns = median_ns(|| policy(black_box(&parsed)).unwrap());
    let per_request_ns = median_ns(|| {
        let (token, identity) = authenticate(&keys, &proof, &request, &revoked, &options).unwrap();
        policy(&token).unwrap();
        black_box(identity);
    });
    println!(
        "{{\"authenticate\":{authenticate_ns:.0},\"check_policy\":{check_policy_ns:.0},\"per_request\":{per_request_ns:.0}}}"
    );
    Ok(())
}
