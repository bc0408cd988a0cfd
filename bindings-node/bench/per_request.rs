//! The Rust core's per-request path, timed the way bench.mjs times Node: the same token, request
//! and policy, medians of rounds. Prints one JSON object (nanoseconds per operation) for bench.mjs.
//! Also the stateful Verifier's cached per-request path (authenticate + check_policy), on its
//! memory stores and, given a Redis URL as the one argument, on Redis: every request a fresh
//! nonce, each proof made before the timing starts, and a fresh verifier (or key prefix) per timing.
//! And 64 requests through the Verifier (memory) one by one, then as one `authenticate_batch`.

use std::hint::black_box;
use std::time::Instant;

use trustcore_core::*;

const NOW: f64 = 1_700_000_000.0;
const ALLOW: &str = "allow if right($op), operation($op)";
const ROUNDS: usize = 15;
const PER_ROUND: usize = 400;

/// Requests in one batch, and batches in one round, of the batch timings.
const BATCH: usize = 64;
const BATCHES_PER_ROUND: usize = 10;

fn median_ns(op: impl FnMut()) -> f64 {
    median_ns_per(PER_ROUND, op)
}

/// The median over ROUNDS rounds of `per_round` calls (after one round of warm-up), per call.
fn median_ns_per(per_round: usize, mut op: impl FnMut()) -> f64 {
    for _ in 0..per_round {
        op(); // warm up
    }
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_round {
                op();
            }
            start.elapsed().as_nanos() as f64 / per_round as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

/// Time `op(i)` for i = 0, 1, …: the warm-up and every round, PROOFS calls in all.
fn median_ns_indexed(mut op: impl FnMut(usize)) -> f64 {
    let mut i = 0;
    median_ns(|| {
        op(i);
        i += 1;
    })
}

/// Every call `median_ns` makes (the warm-up round and ROUNDS more), or every request of the batch
/// timings, whichever is more.
const PROOFS: usize = max(PER_ROUND, BATCH * BATCHES_PER_ROUND) * (ROUNDS + 1);

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
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

    // the Verifier: token cached after the first request, one proof check and one replay record each
    let proofs: Vec<WorkerProof> = (0..PROOFS)
        .map(|i| make_proof(&worker, &token, &request, "1700000000", &format!("bench-{i}")))
        .collect::<Result<_>>()?;
    let verifier_ns = |redis: Option<RedisConfig>| -> Result<f64> {
        let mut config = VerifierConfig::new(keys.clone());
        config.redis = redis;
        let verifier = Verifier::new(config)?;
        Ok(median_ns_indexed(|i| {
            let verified = verifier.authenticate(&proofs[i], &request, Some(NOW)).unwrap();
            verifier.check_policy(&verified.token, [("operation", "lease")], ALLOW, Some(NOW)).unwrap();
        }))
    };
    let verifier_memory_ns = verifier_ns(None)?;
    // 64 requests (authenticate only, memory store) one by one, then as one batch: ns per request
    let batch_ns = |batched: bool| -> Result<f64> {
        let verifier = Verifier::new(VerifierConfig::new(keys.clone()))?;
        let mut groups = proofs.chunks_exact(BATCH);
        Ok(median_ns_per(BATCHES_PER_ROUND, || {
            let group = groups.next().expect("enough proofs");
            if batched {
                let batch: Vec<(&WorkerProof, Request)> = group.iter().map(|p| (p, request)).collect();
                for outcome in verifier.authenticate_batch(&batch, Some(NOW)) {
                    black_box(outcome.unwrap());
                }
            } else {
                for proof in group {
                    black_box(verifier.authenticate(proof, &request, Some(NOW)).unwrap());
                }
            }
        }) / BATCH as f64)
    };
    let (one_by_one_ns, batch_64_ns) = (batch_ns(false)?, batch_ns(true)?);
    let mut json = format!(
        "{{\"authenticate\":{authenticate_ns:.0},\"check_policy\":{check_policy_ns:.0},\"per_request\":{per_request_ns:.0},\"verifier_memory\":{verifier_memory_ns:.0},\"verifier_64_one_by_one\":{one_by_one_ns:.0},\"verifier_64_batch\":{batch_64_ns:.0}"
    );
    if let Some(url) = std::env::args().nth(1) {
        let mut redis = RedisConfig::new(url);
        // a prefix of its own per run: the proofs' nonces are the same every run
        redis.key_prefix = format!("bench-rust-{}-{}:", std::process::id(), now_seconds());
        json.push_str(&format!(",\"verifier_redis\":{:.0}", verifier_ns(Some(redis))?));
    }
    println!("{json}}}");
    Ok(())
}
