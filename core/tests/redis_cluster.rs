//! The Redis stores against a real Redis Cluster (3 masters, 3 replicas, redis-server processes on
//! loopback ports): every key one script touches is in one slot, revocations reach every shard,
//! MOVED is followed when slots move, a write no replica acknowledged is refused and taken back, and
//! two verifier processes never both accept a nonce, also while a master is killed and its replica
//! promoted (STORE_UNAVAILABLE meanwhile; service resumes by itself). Every call answers within its
//! deadline, also while a master is frozen (SIGSTOP: a black hole) until its replica takes over.
//!
//! The "other verifier process" is this test binary run again with TRUSTCORE_CLUSTER_CHILD set.

#[path = "support/live_fixture.rs"]
mod live_fixture;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use live_fixture::{fx, proof, Fx, REQUEST};
use serde_json::{json, Value};
use trustcore_core::*;
use trustcore_tools::testenv::RedisCluster;

const CHILD: &str = "TRUSTCORE_CLUSTER_CHILD";

fn cluster_config(seeds: &[String], prefix: &str) -> RedisConfig {
    cluster_config_with(seeds, prefix, |_| {})
}

fn cluster_config_with(seeds: &[String], prefix: &str, adjust: impl FnOnce(&mut RedisConfig)) -> RedisConfig {
    let mut redis = RedisConfig::cluster(seeds.iter().cloned());
    redis.key_prefix = prefix.into();
    adjust(&mut redis);
    redis
}

fn verifier(issuer_public_hex: &str, seeds: &[String], prefix: &str) -> Verifier {
    verifier_with(issuer_public_hex, cluster_config(seeds, prefix))
}

fn verifier_with(issuer_public_hex: &str, redis: RedisConfig) -> Verifier {
    let mut config = VerifierConfig::new(IssuerKeys::from_hex(issuer_public_hex).unwrap());
    config.redis = Some(redis);
    Verifier::new(config).unwrap()
}

/// The shard (0..16) a request's replay key falls in.
fn shard(fx: &Fx, nonce: &str) -> u8 {
    ReplayKey::new(&fx.holder.public_key(), nonce).digest()[0] % redis_shards()
}

fn redis_shards() -> u8 {
    CLUSTER_SHARDS
}

/// Nonces `<label>-<i>` until every shard has one.
fn nonces_over_every_shard(fx: &Fx, label: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut nonces = Vec::new();
    for i in 0.. {
        let nonce = format!("{label}-{i}");
        seen.insert(shard(fx, &nonce));
        nonces.push(nonce);
        if seen.len() == redis_shards() as usize {
            return nonces;
        }
    }
    unreachable!()
}

/// Every key of every master, read with plain connections.
fn all_keys(cluster: &RedisCluster) -> Vec<String> {
    let mut keys = Vec::new();
    for port in cluster.masters() {
        let mut con = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap().get_connection().unwrap();
        let found: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
        keys.extend(found);
    }
    keys
}

fn code(outcome: Result<std::sync::Arc<VerifiedToken>>) -> ErrorCode {
    outcome.map(|_| ()).unwrap_err().code()
}

#[test]
fn a_cluster_serves_each_nonce_once_revokes_on_every_shard_and_follows_moved_slots() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let cluster = RedisCluster::start(3).unwrap();
    let fx = fx();
    // one seed is enough to learn the layout
    let verifier = verifier(&fx.issuer.public_hex(), &cluster.urls()[..1], "c1:");
    let nonces = nonces_over_every_shard(&fx, "n");
    for nonce in &nonces {
        verifier.authenticate(&proof(&fx, nonce), &REQUEST, None).unwrap();
    }
    for nonce in &nonces {
        assert_eq!(code(verifier.authenticate(&proof(&fx, nonce), &REQUEST, None)), ErrorCode::Replayed);
    }
    // a batch: one pipeline per node, and a nonce used twice in it is a replay
    let proofs: Vec<WorkerProof> = (0..40).map(|i| proof(&fx, &format!("b-{}", i % 39))).collect();
    let batch: Vec<(&WorkerProof, Request)> = proofs.iter().map(|p| (p, REQUEST)).collect();
    let outcomes = verifier.authenticate_batch(&batch, None).unwrap();
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 39);
    assert_eq!(code(outcomes.into_iter().last().unwrap()), ErrorCode::Replayed);
    for outcome in verifier.authenticate_batch(&batch, None).unwrap() {
        assert_eq!(code(outcome), ErrorCode::Replayed);
    }
    // each replay key carries its shard's tag, so its script's two keys share a slot
    let keys = all_keys(&cluster);
    for nonce in &nonces {
        let digest = hex::encode(ReplayKey::new(&fx.holder.public_key(), nonce).digest());
        let expected = format!("c1:{{s{:02}}}replay:{digest}", shard(&fx, nonce));
        assert!(keys.contains(&expected), "{expected} not in {keys:?}");
    }
    // a revocation reaches every shard's copy of the set: refused whatever shard a nonce falls in
    verifier.revoke("rev-1").unwrap();
    let copies: Vec<String> = all_keys(&cluster).into_iter().filter(|k| k.ends_with("revoked")).collect();
    assert_eq!(copies.len(), redis_shards() as usize, "{copies:?}");
    for nonce in nonces_over_every_shard(&fx, "r") {
        assert_eq!(code(verifier.authenticate(&proof(&fx, &nonce), &REQUEST, None)), ErrorCode::Revoked);
    }
    // a forged request with the revoked token is REVOKED too, as with the in-memory stores
    let mut forged = proof(&fx, "forged");
    forged.signature = "00".repeat(64);
    assert_eq!(code(verifier.authenticate(&forged, &REQUEST, None)), ErrorCode::Revoked);
}

#[test]
fn slots_moved_to_another_master_are_followed_and_keep_their_nonces() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let cluster = RedisCluster::start(3).unwrap();
    let fx = fx();
    let verifier = verifier(&fx.issuer.public_hex(), &cluster.urls(), "c2:");
    let nonces = nonces_over_every_shard(&fx, "m");
    for nonce in &nonces {
        verifier.authenticate(&proof(&fx, nonce), &REQUEST, None).unwrap();
    }
    // every slot of one master moves to another, keys and all, while the verifier keeps its
    // connections and their slot map: its next commands meet MOVED (and ASK while slots move)
    let masters = cluster.masters();
    let id = |port: u16| -> String {
        let mut con = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap().get_connection().unwrap();
        redis::cmd("CLUSTER").arg("MYID").query(&mut con).unwrap()
    };
    let out = Command::new("redis-cli")
        .args(["--cluster", "reshard", &format!("127.0.0.1:{}", masters[0])])
        .args(["--cluster-from", &id(masters[0]), "--cluster-to", &id(masters[1])])
        .args(["--cluster-slots", "16384", "--cluster-yes"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(out.success(), "redis-cli --cluster reshard failed");
    for nonce in &nonces {
        assert_eq!(code(verifier.authenticate(&proof(&fx, nonce), &REQUEST, None)), ErrorCode::Replayed);
    }
    for nonce in nonces_over_every_shard(&fx, "after") {
        verifier.authenticate(&proof(&fx, &nonce), &REQUEST, None).unwrap();
    }
}

#[test]
fn cluster_settings_are_checked_in_core() {
    let malformed = |config: RedisConfig| RedisStore::new(config).unwrap_err().code();
    let seeds = ["redis://127.0.0.1:7000".to_owned()];
    let mut both = cluster_config(&seeds, "p:");
    both.url = "redis://127.0.0.1:6379/".into();
    assert_eq!(malformed(both), ErrorCode::MalformedInput);
    assert_eq!(malformed(cluster_config(&seeds, "{p}:")), ErrorCode::MalformedInput);
    for seed in ["redis+unix:///tmp/r.sock", "redis://127.0.0.1:7000/3", "not a url"] {
        assert_eq!(malformed(cluster_config(&[seed.to_owned()], "p:")), ErrorCode::MalformedInput, "{seed}");
    }
    let credentials = ["redis://:a@127.0.0.1:7000".to_owned(), "redis://:b@127.0.0.1:7001".to_owned()];
    assert_eq!(malformed(cluster_config(&credentials, "p:")), ErrorCode::MalformedInput);
    // nothing reached yet: a cluster that is not there is STORE_UNAVAILABLE on use, not at start
    let nowhere = RedisStore::new(cluster_config(&["redis://127.0.0.1:1".to_owned()], "p:")).unwrap();
    assert_eq!(nowhere.ping().unwrap_err().code(), ErrorCode::StoreUnavailable);
    assert!(!format!("{:?}", cluster_config(&["redis://:hunter2@127.0.0.1:1".to_owned()], "p:")).contains("hunter2"));
}

/// The child: authenticate every proof of the job file, retrying one that was STORE_UNAVAILABLE
/// (as a client would) until it gets an answer; print the final codes, the nonces it accepted and
/// the refusals met.
#[test]
fn child_verifier_process() {
    let Ok(job_file) = std::env::var(CHILD) else { return };
    let job: Value = serde_json::from_str(&std::fs::read_to_string(job_file).unwrap()).unwrap();
    let seeds: Vec<String> = serde_json::from_value(job["seeds"].clone()).unwrap();
    let verifier = verifier(job["issuer"].as_str().unwrap(), &seeds, job["prefix"].as_str().unwrap());
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
    let wait = job["start_at"].as_f64().unwrap() - now_seconds();
    if wait > 0.0 {
        std::thread::sleep(Duration::from_secs_f64(wait));
    }
    let mut codes = std::collections::BTreeMap::<String, u64>::new();
    let mut accepted = Vec::new();
    let order: Vec<&WorkerProof> =
        if job["reverse"].as_bool() == Some(true) { proofs.iter().rev().collect() } else { proofs.iter().collect() };
    // one budget for all retries: a cluster that never recovers fails the test, not hangs it
    let give_up = Instant::now() + Duration::from_secs(60);
    for proof in order {
        let code = loop {
            let began = Instant::now();
            let outcome = verifier.authenticate(proof, &REQUEST, None);
            let took = began.elapsed().as_millis() as u64;
            let slowest = codes.entry("slowest_ms".into()).or_default();
            *slowest = (*slowest).max(took);
            match outcome {
                Ok(_) => break "OK".to_owned(),
                Err(e) if e.code() == ErrorCode::StoreUnavailable && Instant::now() < give_up => {
                    *codes.entry("unavailable_attempts".into()).or_default() += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => break e.code().name().to_owned(),
            }
        };
        if code == "OK" {
            accepted.push(proof.nonce.clone());
        }
        *codes.entry(code).or_default() += 1;
        // paced, so the run spans the failover (600 requests: 3 s at least): unpaced, both
        // processes could finish before the master is killed, on a quiet machine
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut tally = json!(codes);
    tally["accepted"] = json!(accepted);
    println!("TALLY {tally}");
}

fn spawn_child(job: &Value) -> (std::process::Child, std::path::PathBuf) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "trustcore-cluster-job-{}-{}.json",
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

#[test]
fn two_verifier_processes_accept_each_nonce_exactly_once_through_a_failover() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let mut cluster = RedisCluster::start(3).unwrap();
    let fx = fx();
    const N: u64 = 600;
    let proofs: Vec<Value> = (0..N)
        .map(|i| {
            let p = proof(&fx, &format!("nonce-{i}"));
            json!({"token": p.token, "signature": p.signature, "timestamp": p.timestamp, "nonce": p.nonce})
        })
        .collect();
    let start_at = now_seconds() + 3.0;
    let job = json!({"seeds": cluster.urls(), "prefix": "c3:", "issuer": fx.issuer.public_hex(), "proofs": proofs,
                     "start_at": start_at});
    let mut reversed = job.clone();
    reversed["reverse"] = json!(true);
    let (a, b) = (spawn_child(&job), spawn_child(&reversed));
    // a master dies while both send: its replica takes over once the others see it gone
    let wait = start_at + 0.5 - now_seconds();
    std::thread::sleep(Duration::from_secs_f64(wait.max(0.0)));
    let master = cluster.masters()[0];
    cluster.kill(master);
    let (mut a, mut b) = (tally(a), tally(b));
    let nonces = |t: &mut Value| -> std::collections::HashSet<String> {
        serde_json::from_value(t.as_object_mut().unwrap().remove("accepted").unwrap()).unwrap()
    };
    let (accepted_a, accepted_b) = (nonces(&mut a), nonces(&mut b));
    eprintln!("the two processes' tallies: {a} {b}");
    let count = |t: &Value, k: &str| t[k].as_u64().unwrap_or(0);
    // 0 double accepts: a nonce is answered OK only once a replica holds it (WAIT), so the promoted
    // replica knows every nonce the killed master accepted (an asynchronous write lost at the kill
    // let one pass twice before: 601 for 600, seen once in CI)
    let twice: Vec<_> = accepted_a.intersection(&accepted_b).collect();
    assert!(twice.is_empty(), "accepted by both processes: {twice:?} ({a} {b})");
    assert_eq!(count(&a, "OK") as usize, accepted_a.len(), "a process accepted a nonce twice: {a}");
    assert_eq!(count(&b, "OK") as usize, accepted_b.len(), "a process accepted a nonce twice: {b}");
    // Every nonce accepted, but for one whose reply died with the master after its replica took the
    // write: its requester, told STORE_UNAVAILABLE, retries and is REPLAYED (the safe side: one
    // request per process in flight at the kill, so at most two; docs/verifier.md).
    let accepted = (accepted_a.len() + accepted_b.len()) as u64;
    assert!((N - 2..=N).contains(&accepted), "{accepted} accepted for {N} nonces: {a} {b}");
    assert_eq!(accepted + count(&a, "REPLAYED") + count(&b, "REPLAYED"), 2 * N, "{a} {b}");
    assert!(count(&a, "OK") > 0 && count(&b, "OK") > 0, "both processes did work: {a} {b}");
    // the failover was met (requests refused meanwhile, then served again by the promoted replica)
    assert!(count(&a, "unavailable_attempts") + count(&b, "unavailable_attempts") > 0, "{a} {b}");
    // and every call answered within its deadline (the request timeout, 1 s by default), the
    // failover's included: a dead master costs a refusal, never a hang (the margin is this 2-CPU
    // VM's scheduling under two busy processes)
    let deadline_ms = RedisConfig::DEFAULT_REQUEST_TIMEOUT.as_millis() as u64;
    for t in [&a, &b] {
        assert!(count(t, "slowest_ms") <= deadline_ms + 500, "a call took longer than its deadline: {t}");
    }
    cluster.wait_healthy().unwrap();
    assert!(!cluster.masters().contains(&master));
}

/// While no replica acknowledges (each master's replica frozen for less than the node timeout, so
/// the cluster still counts it), a request is refused (STORE_UNAVAILABLE) and its write taken back:
/// once the replicas answer again the same request is accepted, not called its own replay. A
/// revocation is refused too (the caller retries it), and goes through once they answer.
#[test]
fn a_write_no_replica_acknowledged_is_refused_and_taken_back() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let cluster = RedisCluster::start(3).unwrap();
    let fx = fx();
    // short waits, so the replicas stay frozen well under the cluster's 1 s node timeout; no
    // breaker interval between the calls
    let redis = cluster_config_with(&cluster.urls(), "acks:", |r| {
        r.command_timeout = Duration::from_millis(200);
        r.retry_interval = Duration::from_millis(1);
    });
    let verifier = verifier_with(&fx.issuer.public_hex(), redis);
    verifier.authenticate(&proof(&fx, "warm"), &REQUEST, None).unwrap();
    let replicas: Vec<u16> = cluster.masters().into_iter().map(|m| cluster.replica_of(m).unwrap()).collect();
    for replica in &replicas {
        cluster.pause(*replica);
    }
    let refused = code(verifier.authenticate(&proof(&fx, "unacked"), &REQUEST, None));
    let revoke = verifier.revoke("rev-unacked").map_err(|e| e.code());
    for replica in &replicas {
        cluster.resume(*replica);
    }
    assert_eq!(refused, ErrorCode::StoreUnavailable);
    assert_eq!(revoke, Err(ErrorCode::StoreUnavailable));
    let digest = hex::encode(ReplayKey::new(&fx.holder.public_key(), "unacked").digest());
    assert!(!all_keys(&cluster).iter().any(|k| k.ends_with(&digest)), "the refused write was taken back");
    // the replicas answer again (give them a moment to reconnect and acknowledge)
    let give_up = Instant::now() + Duration::from_secs(10);
    let accepted = loop {
        match verifier.authenticate(&proof(&fx, "unacked"), &REQUEST, None).map_err(|e| e.code()) {
            Err(ErrorCode::StoreUnavailable) if Instant::now() < give_up => {
                std::thread::sleep(Duration::from_millis(50))
            }
            other => break other.map(|_| ()),
        }
    };
    assert_eq!(accepted, Ok(()), "the refused request, sent again, is accepted");
    assert_eq!(code(verifier.authenticate(&proof(&fx, "unacked"), &REQUEST, None)), ErrorCode::Replayed);
    verifier.revoke("rev-unacked").unwrap();
}

/// The longest a thread sleeping 5 ms at a time woke late while it watched: how far this machine's
/// scheduling alone can stretch a call.
struct SchedulingLateness {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl SchedulingLateness {
    fn watch() -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut worst = Duration::ZERO;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let began = Instant::now();
                std::thread::sleep(Duration::from_millis(5));
                worst = worst.max(began.elapsed().saturating_sub(Duration::from_millis(5)));
            }
            worst.as_millis() as u64
        });
        SchedulingLateness { stop, thread }
    }

    fn stop(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// A master frozen (SIGSTOP: its connections accepted, nothing answered, as behind a black hole)
/// while requests flow: each call answers within its deadline (the request timeout, 1 s by
/// default, plus this VM's scheduling margin) with OK or STORE_UNAVAILABLE, never hangs; once its
/// replica is promoted, service resumes by itself, every nonce is accepted exactly once (sent again:
/// REPLAYED), and the frozen master, thawed, rejoins as a replica without un-doing any of it.
#[test]
fn a_frozen_master_costs_refusals_within_the_deadline_never_a_hang_or_a_double_accept() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let cluster = RedisCluster::start(3).unwrap();
    let fx = fx();
    let verifier = verifier(&fx.issuer.public_hex(), &cluster.urls(), "frozen:");
    // paced (10 ms), so the run spans the freeze and the failover (a node timeout of 1 s, then the
    // election)
    let nonces: Vec<String> = (0..400).map(|i| format!("frozen-{i}")).collect();
    let master = cluster.masters()[0];
    let deadline_ms = RedisConfig::DEFAULT_REQUEST_TIMEOUT.as_millis() as u64;
    let (mut slowest, mut unavailable) = (0u64, 0u64);
    let give_up = Instant::now() + Duration::from_secs(60);
    let lateness = SchedulingLateness::watch();
    for (i, nonce) in nonces.iter().enumerate() {
        if i == nonces.len() / 4 {
            cluster.pause(master);
        }
        let proof = proof(&fx, nonce);
        loop {
            let began = Instant::now();
            let outcome = verifier.authenticate(&proof, &REQUEST, None);
            slowest = slowest.max(began.elapsed().as_millis() as u64);
            match outcome.map_err(|e| e.code()) {
                Ok(_) => break,
                Err(ErrorCode::StoreUnavailable) if Instant::now() < give_up => {
                    unavailable += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(other) => panic!("nonce {nonce}: {other:?} (slowest call so far {slowest} ms)"),
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!(
        "frozen master: {} nonces, {unavailable} STORE_UNAVAILABLE meanwhile, slowest call {slowest} ms",
        nonces.len()
    );
    assert!(unavailable > 0, "the frozen master was met");
    // Within the deadline: every wait on a socket is bounded by what is left of it (with the redis
    // crate's cluster client one call took up to 2.07 s, then 1.7 s: it reconnected inside its
    // retries with the timeouts it was built with). The margin is what this machine's scheduling
    // alone added meanwhile (a sleeping thread's longest lateness), plus 250 ms for a loaded 2-CPU
    // VM to run the call's own code past its last timeout.
    let late_ms = lateness.stop();
    assert!(
        slowest <= deadline_ms + late_ms + 250,
        "a call took {slowest} ms against its {deadline_ms} ms deadline (scheduling lateness seen: {late_ms} ms)"
    );
    cluster.resume(master);
    cluster.wait_healthy().unwrap();
    for nonce in &nonces {
        assert_eq!(code(verifier.authenticate(&proof(&fx, nonce), &REQUEST, None)), ErrorCode::Replayed, "{nonce}");
    }
}
