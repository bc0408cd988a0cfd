//! Per-operation medians of the Rust core (`make bench-rust`). The per-request path is
//! authenticate + check_policy; `floor/*` is the physical floor it is compared with.

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use serde_json::{json, Map, Value};
use trustcore_core::*;

use trustcore_tools::testenv::RedisServer;

const NOW: f64 = 1_700_000_000.0;
const ALLOW: &str = "allow if req_right($r), right($r)";

struct Fixture {
    issuer: IssuerKey,
    issuer_keys: IssuerKeys,
    worker: WorkerKey,
    token: String,
    mint: MintRequest,
}

fn fixture() -> Fixture {
    let issuer = IssuerKey::from_secret_hex(&"11".repeat(32)).unwrap();
    let worker = WorkerKey::from_secret_hex(&"22".repeat(32)).unwrap();
    let mint = MintRequest {
        public_hex: worker.public_hex(),
        holder_id: "gpu-1".into(),
        facts: vec![("right".into(), vec!["lease".into()]), ("lane".into(), vec!["transcribe".into()])],
        revocation_id: Some("rev-1".into()),
        expires_at: NOW + 3600.0,
        root_key_id: None,
        delegation_depth: 0,
    };
    let token = mint_biscuit(&issuer, &mint).unwrap();
    Fixture { issuer_keys: IssuerKeys::one(issuer.public_key()), issuer, worker, token, mint }
}

fn benches(c: &mut Criterion) {
    let fx = fixture();
    let revoked: Vec<String> = Vec::new();
    let options = AuthenticateOptions::new(NOW, 300.0);

    c.bench_function("mint", |b| b.iter(|| mint_biscuit(&fx.issuer, black_box(&fx.mint)).unwrap()));

    let small = b"{}".to_vec();
    c.bench_function("make_proof", |b| {
        let request = Request::new("POST", "/lease", &small);
        b.iter(|| make_proof(&fx.worker, &fx.token, black_box(&request), "1700000000", "n1").unwrap())
    });

    let mut group = c.benchmark_group("authenticate");
    for (label, size) in [("2B", 2usize), ("1KiB", 1024), ("1MiB", 1 << 20)] {
        let body = vec![b'a'; size];
        let request = Request::new("POST", "/lease", &body);
        let proof = make_proof(&fx.worker, &fx.token, &request, "1700000000", "n1").unwrap();
        group.bench_with_input(BenchmarkId::from_parameter(label), &proof, |b, proof| {
            b.iter(|| authenticate(&fx.issuer_keys, black_box(proof), &request, &revoked, &options).unwrap())
        });
    }
    group.finish();

    let request = Request::new("POST", "/lease", &small);
    let proof = make_proof(&fx.worker, &fx.token, &request, "1700000000", "n1").unwrap();
    let (token, _) = authenticate(&fx.issuer_keys, &proof, &request, &revoked, &options).unwrap();
    c.bench_function("check_policy", |b| {
        b.iter(|| check_policy(black_box(&token), [("req_right", "lease")], ALLOW, NOW, &options.limits).unwrap())
    });
    c.bench_function("authenticate+check_policy", |b| {
        b.iter(|| {
            let (token, _) = authenticate(&fx.issuer_keys, black_box(&proof), &request, &revoked, &options).unwrap();
            check_policy(&token, [("req_right", "lease")], ALLOW, NOW, &options.limits).unwrap()
        })
    });
    // the stateful verifier: the token is cached, so a request pays one signature check
    let mut config = VerifierConfig::new(fx.issuer_keys.clone());
    config.replay_capacity = 50_000_000;
    config.replay_capacity_per_holder = Some(50_000_000);
    let verifier = Verifier::new(config).unwrap();
    let mut nonce = 0u64;
    let mut next_proof = || {
        nonce += 1;
        make_proof(&fx.worker, &fx.token, &request, "1700000000", &nonce.to_string()).unwrap()
    };
    c.bench_function("verifier/authenticate+check_policy (cached)", |b| {
        b.iter_batched(
            &mut next_proof,
            |proof| {
                let verified = verifier.authenticate(&proof, &request, Some(NOW)).unwrap();
                verifier.check_policy(&verified.token, [("req_right", "lease")], ALLOW, Some(NOW)).unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    // 64 requests: one by one, then as one batch (Ed25519 batch verification); both timings are
    // for all 64, so the ratio is the batch's throughput gain (goal >= 1.6x)
    let mut next_64 = || (0..64).map(|_| next_proof()).collect::<Vec<_>>();
    c.bench_function("verifier/64 requests one by one", |b| {
        b.iter_batched(
            &mut next_64,
            |proofs| {
                for proof in &proofs {
                    verifier.authenticate(proof, &request, Some(NOW)).unwrap();
                }
            },
            BatchSize::SmallInput,
        )
    });
    c.bench_function("verifier/64 requests as one batch", |b| {
        b.iter_batched(
            &mut next_64,
            |proofs| {
                let batch: Vec<(&WorkerProof, Request)> = proofs.iter().map(|p| (p, request)).collect();
                assert!(verifier.authenticate_batch(&batch, Some(NOW)).unwrap().iter().all(|r| r.is_ok()));
            },
            BatchSize::SmallInput,
        )
    });
    // the same with the stores on Redis (a real redis-server on loopback): two round trips a request
    let redis = RedisServer::start().expect("redis-server");
    let mut config = VerifierConfig::new(fx.issuer_keys.clone());
    config.redis = Some(RedisConfig::new(redis.url()));
    let shared = Verifier::new(config).unwrap();
    c.bench_function("verifier_redis/authenticate+check_policy (cached)", |b| {
        b.iter_batched(
            &mut next_proof,
            |proof| {
                let verified = shared.authenticate(&proof, &request, Some(NOW)).unwrap();
                shared.check_policy(&verified.token, [("req_right", "lease")], ALLOW, Some(NOW)).unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    drop(redis);
    c.bench_function("parse_token", |b| b.iter(|| parse_token(&fx.issuer_keys, black_box(&fx.token)).unwrap()));

    // the floor: one strict signature check plus one authorization over an already-parsed token
    let message = request.canonical("1700000000", "n1").unwrap();
    let signature: [u8; 64] = hex::decode(&proof.signature).unwrap().try_into().unwrap();
    let holder = fx.worker.public_key();
    c.bench_function("floor/verify_strict", |b| {
        b.iter(|| assert!(holder.verify_strict(black_box(&message), &signature)))
    });

    let job: Map<String, Value> =
        json!({"request_id": "r1", "op": "transcribe", "episode_id": "e1"}).as_object().unwrap().clone();
    c.bench_function("sign_job", |b| b.iter(|| sign_job(&fx.issuer, black_box(&job), "w1").unwrap()));
    let mut signed = job.clone();
    signed.insert("sig".into(), Value::String(sign_job(&fx.issuer, &job, "w1").unwrap()));
    let issuer_hex = fx.issuer.public_hex();
    c.bench_function("verify_job", |b| b.iter(|| verify_job(&issuer_hex, black_box(&signed), "w1", None).unwrap()));

    let frame = encode_frame(
        json!({"v": 1, "id": 7, "op": "mint", "args": {"holder_id": "gpu-1", "facts": {"right": ["lease"]}}})
            .as_object()
            .unwrap(),
    )
    .unwrap();
    c.bench_function("frame_decode", |b| b.iter(|| decode_frame(black_box(&frame)).unwrap()));
}

criterion_group! {
    name = core;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2)).sample_size(30);
    targets = benches
}
criterion_main!(core);
