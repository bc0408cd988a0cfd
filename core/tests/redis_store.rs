//! The Redis stores against a real redis-server: one nonce accepted once across verifier
//! processes, revocations seen by every verifier, and Redis going away is STORE_UNAVAILABLE for
//! every request, never a pass, until it returns.
//!
//! The "other verifier process" is this test binary run again with TRUSTCORE_REDIS_CHILD set: it
//! authenticates the requests of a file through its own Verifier and prints its tally.

#[path = "support/live_fixture.rs"]
mod live_fixture;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use live_fixture::{fx, proof, Fx, REQUEST};
use serde_json::{json, Value};
use trustcore_core::*;
use trustcore_tools::testenv::RedisServer;

const CHILD: &str = "TRUSTCORE_REDIS_CHILD";

fn store(url: &str, prefix: &str) -> RedisStore {
    let mut config = RedisConfig::new(url);
    config.key_prefix = prefix.into();
    RedisStore::new(config).unwrap()
}

fn verifier(issuer_public_hex: &str, url: &str, prefix: &str) -> Verifier {
    let mut config = VerifierConfig::new(IssuerKeys::from_hex(issuer_public_hex).unwrap());
    let mut redis = RedisConfig::new(url);
    redis.key_prefix = prefix.into();
    config.redis = Some(redis);
    Verifier::new(config).unwrap()
}

fn request() -> Request<'static> {
    Request::new("POST", "/lease", b"{}")
}

/// The child: authenticate every proof of the job file named by $TRUSTCORE_REDIS_CHILD, print its tally.
#[test]
fn child_verifier_process() {
    let Ok(job_file) = std::env::var(CHILD) else { return }; // only when run as the other process
    let job: Value = serde_json::from_str(&std::fs::read_to_string(job_file).unwrap()).unwrap();
    let verifier =
        verifier(job["issuer"].as_str().unwrap(), job["url"].as_str().unwrap(), job["prefix"].as_str().unwrap());
    let proofs: Vec<WorkerProof> = job["proofs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| WorkerProof {
            token: p["token"].as_str().unwrap().into(),
            signature: p["signature"].as_str().unwrap().into(),
            timestamp: p["timestamp"].as_str().unwrap().into(),
            nonce: p["nonce"].as_str().unwrap().into(),
        })
        .collect();
    // both processes start sending at the same instant, whatever their start-up took
    if let Some(start_at) = job["start_at"].as_f64() {
        let wait = start_at - now_seconds();
        if wait > 0.0 {
            std::thread::sleep(Duration::from_secs_f64(wait));
        }
    }
    let mut codes = std::collections::BTreeMap::<String, u64>::new();
    // the second process walks the nonces from the other end: the two meet wherever their speeds
    // put them, so both accept some however unevenly the machine schedules them
    let order: Vec<&WorkerProof> =
        if job["reverse"].as_bool() == Some(true) { proofs.iter().rev().collect() } else { proofs.iter().collect() };
    for proof in order {
        let code = match verifier.authenticate(proof, &request(), None) {
            Ok(_) => "OK".to_owned(),
            Err(e) => e.code().name().to_owned(),
        };
        *codes.entry(code).or_default() += 1;
    }
    println!("TALLY {}", json!(codes));
}

/// Run the child test in a new process of this binary, on a job written to a file.
fn spawn_child(job: &Value) -> (std::process::Child, std::path::PathBuf) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "trustcore-redis-job-{}-{}.json",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::File::create(&path).unwrap().write_all(job.to_string().as_bytes()).unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_verifier_process", "--nocapture", "--test-threads", "1"])
        .env(CHILD, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (child, path)
}

fn tally((child, job_file): (std::process::Child, std::path::PathBuf)) -> Value {
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_file(job_file);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.split_once("TALLY ").map(|(_, t)| t))
        .unwrap_or_else(|| panic!("no tally in {text}"));
    serde_json::from_str(line).unwrap()
}

fn proof_json(p: &WorkerProof) -> Value {
    json!({"token": p.token, "signature": p.signature, "timestamp": p.timestamp, "nonce": p.nonce})
}

#[test]
fn two_verifier_processes_accept_each_nonce_exactly_once() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let redis = RedisServer::start().unwrap();
    let fx = fx();
    let proofs: Vec<Value> = (0..1000).map(|i| proof_json(&proof(&fx, &format!("nonce-{i}")))).collect();
    let start_at = now_seconds() + 3.0;
    let job = json!({"url": redis.url(), "prefix": "t1:", "issuer": fx.issuer.public_hex(), "proofs": proofs, "start_at": start_at});
    // both processes get all 1000 at once
    let mut reversed = job.clone();
    reversed["reverse"] = json!(true);
    let (a, b) = (spawn_child(&job), spawn_child(&reversed));
    let (a, b) = (tally(a), tally(b));
    let count = |t: &Value, k: &str| t[k].as_u64().unwrap_or(0);
    assert_eq!(count(&a, "OK") + count(&b, "OK"), 1000, "{a} {b}");
    assert_eq!(count(&a, "REPLAYED") + count(&b, "REPLAYED"), 1000, "{a} {b}");
    assert!(count(&a, "OK") > 0 && count(&b, "OK") > 0, "both processes did work: {a} {b}");
}

#[test]
fn a_revocation_written_by_one_process_refuses_the_token_in_another() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let redis = RedisServer::start().unwrap();
    let fx = fx();
    let here = verifier(&fx.issuer.public_hex(), &redis.url(), "t2:");
    here.authenticate(&proof(&fx, "before"), &request(), None).unwrap();
    let job = |nonce: &str| json!({"url": redis.url(), "prefix": "t2:", "issuer": fx.issuer.public_hex(), "proofs": [proof_json(&proof(&fx, nonce))]});
    assert_eq!(tally(spawn_child(&job("other-1")))["OK"], 1);
    here.revoke("rev-1").unwrap();
    assert_eq!(tally(spawn_child(&job("other-2")))["REVOKED"], 1);
    // and the revoking verifier itself, though it has the token cached
    assert_eq!(here.authenticate(&proof(&fx, "after"), &request(), None).unwrap_err().code(), ErrorCode::Revoked);
    // a block's own revocation id (hex) works the same way
    let other = fx_with_new_token(&fx);
    let block_id = parse_token(&IssuerKeys::one(fx.issuer.public_key()), &other).unwrap().revocation_ids()[0].clone();
    let other_proof = make_proof(&fx.holder, &other, &request(), &format!("{}", now_seconds().floor()), "b-1").unwrap();
    let second = verifier(&fx.issuer.public_hex(), &redis.url(), "t2:");
    second.revoke(&block_id).unwrap();
    assert_eq!(here.authenticate(&other_proof, &request(), None).unwrap_err().code(), ErrorCode::Revoked);
}

fn fx_with_new_token(fx: &Fx) -> String {
    mint_biscuit(
        &fx.issuer,
        &MintRequest {
            public_hex: fx.holder.public_hex(),
            holder_id: "gpu-1".into(),
            facts: vec![],
            revocation_id: Some("rev-2".into()),
            expires_at: now_seconds() + 3600.0,
            root_key_id: None,
            delegation_depth: 0,
        },
    )
    .unwrap()
}

#[test]
fn redis_gone_is_store_unavailable_for_every_request_then_service_resumes() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let mut redis = RedisServer::start().unwrap();
    let fx = fx();
    let verifier = verifier(&fx.issuer.public_hex(), &redis.url(), "t3:");
    for i in 0..20 {
        verifier.authenticate(&proof(&fx, &format!("up-{i}")), &request(), None).unwrap();
    }
    redis.kill();
    for i in 0..50 {
        let err = verifier.authenticate(&proof(&fx, &format!("down-{i}")), &request(), None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::StoreUnavailable, "request {i}: {err}");
    }
    assert_eq!(verifier.revoke("rev-9").unwrap_err().code(), ErrorCode::StoreUnavailable);
    redis.restart().unwrap(); // empty: a restarted Redis without persistence has forgotten every nonce
                              // the breaker lets one probe through once its interval (1 s) has passed: service resumes by itself
    let resumed = (0..100).any(|i| {
        std::thread::sleep(Duration::from_millis(50));
        verifier.authenticate(&proof(&fx, &format!("probe-{i}")), &request(), None).is_ok()
    });
    assert!(resumed, "service did not resume within 5 s of Redis returning");
    for i in 0..20 {
        verifier.authenticate(&proof(&fx, &format!("back-{i}")), &request(), None).unwrap();
    }
    assert_eq!(verifier.authenticate(&proof(&fx, "back-0"), &request(), None).unwrap_err().code(), ErrorCode::Replayed);
}

#[test]
fn replay_entries_expire_with_their_window_and_keys_are_prefixed_hashes() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let redis = RedisServer::start().unwrap();
    let store = store(&redis.url(), "t4:");
    store.ping().unwrap();
    let key = ReplayKey::new(&WorkerKey::from_secret_hex(&"ab".repeat(32)).unwrap().public_key(), "n-1");
    assert!(store.record(&key, 0.0, 0.3).unwrap());
    assert!(!store.record(&key, 0.0, 0.3).unwrap());
    std::thread::sleep(Duration::from_millis(450));
    assert!(store.record(&key, 0.0, 0.3).unwrap(), "the entry expired with its window");
    // the nonce's text is not in Redis, only its hash under the prefix
    let mut con = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
    assert_eq!(keys, vec![format!("t4:replay:{}", hex::encode(key.digest()))]);
    // a bad URL is refused at once; an unreachable Redis only on use
    assert_eq!(RedisStore::new(RedisConfig::new("not a url")).unwrap_err().code(), ErrorCode::MalformedInput);
    let nowhere = RedisStore::new(RedisConfig::new("redis://127.0.0.1:1/")).unwrap();
    assert_eq!(nowhere.record(&key, 0.0, 1.0).unwrap_err().code(), ErrorCode::StoreUnavailable);
    assert!(!format!("{:?}", RedisStore::new(RedisConfig::new("redis://user:hunter2@127.0.0.1:1/")).unwrap())
        .contains("hunter2"));
}

#[test]
fn a_quick_redis_restart_costs_no_request() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let mut redis = RedisServer::start().unwrap();
    let fx = fx();
    let verifier = verifier(&fx.issuer.public_hex(), &redis.url(), "t5:");
    // several threads at once leave several idle connections in the pool
    std::thread::scope(|s| {
        for t in 0..4 {
            let (verifier, fx) = (&verifier, &fx);
            s.spawn(move || {
                for i in 0..10 {
                    verifier.authenticate(&proof(fx, &format!("t{t}-{i}")), &request(), None).unwrap();
                }
            });
        }
    });
    redis.kill();
    redis.restart().unwrap();
    // every pooled connection is dead; the revocation check retries on a fresh one and the pool is
    // emptied, so the very next request is served
    verifier.authenticate(&proof(&fx, "after-restart"), &request(), None).unwrap();
    verifier.authenticate(&proof(&fx, "after-restart-2"), &request(), None).unwrap();
}

extern "C" fn ignore_signal(_: libc::c_int) {}

#[test]
fn signals_arriving_mid_command_do_not_fail_requests() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let redis = RedisServer::start().unwrap();
    let fx = fx();
    let verifier = verifier(&fx.issuer.public_hex(), &redis.url(), "t6:");
    // a handled signal (as Go's SIGURG or a profiler's SIGPROF) interrupts a socket read that has a
    // timeout even with SA_RESTART; held back around the Redis call, it cannot fail one
    // SAFETY: installs a no-op handler for SIGUSR1, which nothing else in this binary uses
    unsafe { libc::signal(libc::SIGUSR1, ignore_signal as *const () as usize) };
    let (tx, rx) = std::sync::mpsc::channel();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    std::thread::scope(|s| {
        let worker = s.spawn(|| {
            // SAFETY: pthread_self cannot fail
            tx.send(unsafe { libc::pthread_self() } as usize).unwrap();
            let failures = (0..400)
                .filter(|i| verifier.authenticate(&proof(&fx, &format!("sig-{i}")), &request(), None).is_err())
                .count();
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            failures
        });
        let target = rx.recv().unwrap() as libc::pthread_t;
        let mut sent = 0;
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            // SAFETY: the target thread is alive until `stop` is set
            unsafe { libc::pthread_kill(target, libc::SIGUSR1) };
            sent += 1;
            std::thread::sleep(Duration::from_micros(50));
        }
        assert_eq!(worker.join().unwrap(), 0, "requests failed while {sent} signals arrived");
    });
}

#[test]
fn a_single_use_job_is_accepted_once_across_verifiers_sharing_redis() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let redis = RedisServer::start().unwrap();
    let fx = fx();
    let (a, b) = (
        verifier(&fx.issuer.public_hex(), &redis.url(), "t-jobs:"),
        verifier(&fx.issuer.public_hex(), &redis.url(), "t-jobs:"),
    );
    let mut job = json!({"kind": "transcribe", "expires_at": now_seconds() as i64 + 60, "nonce": "job-1"})
        .as_object()
        .unwrap()
        .clone();
    job.insert("sig".into(), json!(sign_job(&fx.issuer, &job, "gpu-1").unwrap()));
    // a forged copy burns nothing, on either verifier
    let mut forged = job.clone();
    forged.insert("sig".into(), json!("00".repeat(64)));
    assert_eq!(b.verify_job(&forged, "gpu-1", None).unwrap_err().code(), ErrorCode::JobInvalid);
    a.verify_job(&job, "gpu-1", None).unwrap();
    assert_eq!(b.verify_job(&job, "gpu-1", None).unwrap_err().code(), ErrorCode::Replayed);
    assert_eq!(a.verify_job(&job, "gpu-1", None).unwrap_err().code(), ErrorCode::Replayed);
    // a verifier of another deployment (prefix) keeps its own nonces
    verifier(&fx.issuer.public_hex(), &redis.url(), "t-other:").verify_job(&job, "gpu-1", None).unwrap();
}

/// One code per input, whatever the stores: the in-memory verifier (revocation looked up before
/// the proof) and the Redis one (revocation in the script after the proof; a refused request's
/// lookup) answer the same sequence of requests alike, one by one and in a batch.
#[test]
fn memory_and_redis_stores_give_one_code_for_each_input() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let redis = RedisServer::start().unwrap();
    let fx = fx();
    let memory = {
        let config = VerifierConfig::new(IssuerKeys::one(fx.issuer.public_key()));
        Verifier::new(config).unwrap()
    };
    let shared = verifier(&fx.issuer.public_hex(), &redis.url(), "t7:");
    let forged = |nonce: &str| WorkerProof { signature: "00".repeat(64), ..proof(&fx, nonce) };
    let stale = |nonce: &str| WorkerProof { timestamp: "1000".into(), ..proof(&fx, nonce) };
    // (proof, revoke the token before it?)
    let steps: Vec<(WorkerProof, bool)> = vec![
        (proof(&fx, "a"), false),
        (proof(&fx, "a"), false), // a replay
        (forged("b"), false),     // POP_FAILED, and burns nothing:
        (proof(&fx, "b"), false), // the genuine request with that nonce passes
        (stale("c"), false),      // STALE_REQUEST
        (forged("d"), true),      // revoked: REVOKED however the request is refused otherwise
        (stale("e"), true),
        (proof(&fx, "f"), true),
        (proof(&fx, "a"), true), // revoked and a replay: REVOKED
    ];
    let code = |v: &Verifier, p: &WorkerProof| match v.authenticate(p, &REQUEST, None) {
        Ok(_) => "OK".to_owned(),
        Err(e) => e.code().name().to_owned(),
    };
    let mut seen = Vec::new();
    for (p, revoke) in &steps {
        if *revoke {
            memory.revoke("rev-1").unwrap();
            shared.revoke("rev-1").unwrap();
        }
        let (m, r) = (code(&memory, p), code(&shared, p));
        assert_eq!(m, r, "nonce {}", p.nonce);
        seen.push(r);
    }
    assert_eq!(
        seen,
        ["OK", "REPLAYED", "POP_FAILED", "OK", "STALE_REQUEST", "REVOKED", "REVOKED", "REVOKED", "REVOKED"]
    );
    // the same in batches, on fresh prefixes and a fresh memory verifier: a batch of the
    // not-revoked steps, then of all of them after the revocation
    let memory = Verifier::new(VerifierConfig::new(IssuerKeys::one(fx.issuer.public_key()))).unwrap();
    let shared = verifier(&fx.issuer.public_hex(), &redis.url(), "t8:");
    let batch_codes = |v: &Verifier, proofs: &[&WorkerProof]| -> Vec<String> {
        let batch: Vec<(&WorkerProof, Request)> = proofs.iter().map(|p| (*p, REQUEST)).collect();
        v.authenticate_batch(&batch, None)
            .unwrap()
            .into_iter()
            .map(|o| o.map(|_| "OK".to_owned()).unwrap_or_else(|e| e.code().name().to_owned()))
            .collect()
    };
    let before: Vec<&WorkerProof> = steps.iter().filter(|(_, revoke)| !revoke).map(|(p, _)| p).collect();
    assert_eq!(batch_codes(&memory, &before), batch_codes(&shared, &before));
    assert_eq!(batch_codes(&shared, &before[..1]), ["REPLAYED"]);
    memory.revoke("rev-1").unwrap();
    shared.revoke("rev-1").unwrap();
    let all: Vec<&WorkerProof> = steps.iter().map(|(p, _)| p).collect();
    let codes = batch_codes(&shared, &all);
    assert_eq!(batch_codes(&memory, &all), codes);
    // a nonce met again inside one batch is REPLAYED before anything else (a, b, a again); every
    // other request is REVOKED
    let expected =
        ["REVOKED", "REPLAYED", "REVOKED", "REPLAYED", "REVOKED", "REVOKED", "REVOKED", "REVOKED", "REPLAYED"];
    assert_eq!(codes, expected);
}

#[test]
fn a_flushed_script_cache_is_met_by_sending_the_script_again() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let redis = RedisServer::start().unwrap();
    let fx = fx();
    let verifier = verifier(&fx.issuer.public_hex(), &redis.url(), "t9:");
    verifier.authenticate(&proof(&fx, "before"), &request(), None).unwrap();
    let mut con = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut con).unwrap();
    verifier.authenticate(&proof(&fx, "after"), &request(), None).unwrap();
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut con).unwrap();
    let proofs: Vec<WorkerProof> = (0..8).map(|i| proof(&fx, &format!("batch-{i}"))).collect();
    let batch: Vec<(&WorkerProof, Request)> = proofs.iter().map(|p| (p, request())).collect();
    for outcome in verifier.authenticate_batch(&batch, None).unwrap() {
        outcome.unwrap();
    }
    assert_eq!(verifier.authenticate(&proof(&fx, "after"), &request(), None).unwrap_err().code(), ErrorCode::Replayed);
}
