//! The Rust side of `make bench-c` / `make bench-go`: the per-request path (authenticate +
//! check_policy) straight on trustcore-core, with the same keys, token shape, request and loop as
//! bench/bench.c and go/cmd/trustcore-bench, so the bindings' overhead is the difference. Then the
//! stateful Verifier's per-request path (authenticate with the token from its cache, a fresh nonce
//! each request, + check_policy) with the in-process stores and with Redis stores (a redis-server
//! this program starts on a free loopback port and kills at the end).
//!
//! Between them, 64 requests through a Verifier (memory stores) one by one and as one
//! `authenticate_batch`.
//!
//! usage: bench_core [ITERATIONS]   prints one line per path, `bench NAME per_request_median_ns N
//! cpu_per_request_ns M` with NAME `rust`, `rust/verifier-memory`, `rust/batch64-one-by-one`,
//! `rust/batch64` (samples of 64 requests, figures per request), `rust/verifier-redis`: the lowest
//! of 3 rounds' median wall time per request (the round least disturbed by other work on the
//! machine), and the process CPU time per request over all rounds (this process's only: Redis's own
//! work is not in it).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use trustcore_core::*;

const NOW: f64 = 1_700_000_000.0;
const ROUNDS: usize = 3;
/// The batch the batch bench compares with as many requests one by one.
const BATCH: usize = 64;

fn main() -> Result<()> {
    let iterations: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(2000);
    let issuer = IssuerKey::from_secret_hex(&"11".repeat(32))?;
    let worker = WorkerKey::from_secret_hex(&"22".repeat(32))?;
    let token = mint_biscuit(
        &issuer,
        &MintRequest {
            public_hex: worker.public_hex(),
            holder_id: "gpu-1".into(),
            facts: vec![("lane".into(), vec!["transcribe".into(), "gpu".into()])],
            revocation_id: "rev-1".into(),
            expires_at: NOW + 3600.0,
            root_key_id: None,
        },
    )?;
    let request = Request::new("POST", "/lease", b"{\"job\":42}");
    let proof = make_proof(&worker, &token, &request, "1700000000", "n1")?;
    let trusted = IssuerKeys::one(issuer.public_key());
    let revoked: Vec<String> = Vec::new();
    let options = AuthenticateOptions::new(NOW, 300.0);
    let facts = [("operation", "lease")];
    let allow = "allow if operation(\"lease\"), lane(\"transcribe\")";

    measure("rust", iterations, || {
        let (token, _identity) = authenticate(&trusted, &proof, &request, &revoked, &options)?;
        check_policy(&token, facts, allow, NOW, &options.limits)
    })?;

    // the Verifier: every request under a nonce of its own (a repeated one is REPLAYED), signed
    // before the clock starts
    let proofs = (0..iterations / 10 + ROUNDS * iterations)
        .map(|i| make_proof(&worker, &token, &request, "1700000000", &format!("v{i}")))
        .collect::<Result<Vec<_>>>()?;
    let verifier_path = |verifier: Verifier| {
        let mut next = proofs.iter();
        move || -> Result<()> {
            let proof = next.next().expect("a proof per request");
            let verified = verifier.authenticate(proof, &request, Some(NOW))?;
            verifier.check_policy(&verified.token, facts, allow, Some(NOW))
        }
    };
    let mut config = VerifierConfig::new(trusted.clone());
    config.replay_capacity = proofs.len();
    measure("rust/verifier-memory", iterations, verifier_path(Verifier::new(config.clone())?))?;

    // 64 requests one by one, then the same 64 as one batch (one Ed25519 batch verification), each
    // on a Verifier of its own with the in-process stores; authenticate only, the token from the
    // cache. One sample is 64 requests; the figures are per request.
    let groups = (iterations / BATCH).max(10);
    let batch_proofs = (0..(groups / 10 + ROUNDS * groups) * BATCH)
        .map(|i| make_proof(&worker, &token, &request, "1700000000", &format!("b{i}")))
        .collect::<Result<Vec<_>>>()?;
    let mut batch_config = VerifierConfig::new(trusted.clone());
    batch_config.replay_capacity = batch_proofs.len();
    let one_by_one = Verifier::new(batch_config.clone())?;
    let mut next = batch_proofs.chunks(BATCH);
    measure_per("rust/batch64-one-by-one", groups, BATCH, || {
        for proof in next.next().expect("64 proofs per sample") {
            one_by_one.authenticate(proof, &request, Some(NOW))?;
        }
        Ok(())
    })?;
    let batched = Verifier::new(batch_config)?;
    let mut next = batch_proofs.chunks(BATCH);
    measure_per("rust/batch64", groups, BATCH, || {
        let batch: Vec<(&WorkerProof, Request)> =
            next.next().expect("64 proofs per sample").iter().map(|p| (p, request)).collect();
        batched.authenticate_batch(&batch, Some(NOW)).into_iter().try_for_each(|r| r.map(drop))
    })?;

    let redis = RedisServer::start();
    let mut redis_config = RedisConfig::new(redis.url());
    redis_config.key_prefix = "bench-rust:".into();
    config.redis = Some(redis_config);
    measure("rust/verifier-redis", iterations, verifier_path(Verifier::new(config)?))?;
    Ok(())
}

/// Warm up, then time each of `iterations` requests, 3 rounds; print the line.
fn measure(name: &str, iterations: usize, once: impl FnMut() -> Result<()>) -> Result<()> {
    measure_per(name, iterations, 1, once)
}

/// `measure` for samples of `per` requests each: the figures printed are per request.
fn measure_per(name: &str, iterations: usize, per: usize, mut once: impl FnMut() -> Result<()>) -> Result<()> {
    for _ in 0..iterations / 10 {
        once()?;
    }
    let mut best = u64::MAX;
    let cpu_start = process_cpu_ns();
    for _ in 0..ROUNDS {
        let mut samples = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let start = Instant::now();
            once()?;
            samples.push(start.elapsed().as_nanos() as u64);
        }
        samples.sort_unstable();
        best = best.min(samples[samples.len() / 2]);
    }
    let cpu = (process_cpu_ns() - cpu_start) / (ROUNDS * iterations * per) as u64;
    let best = best / per as u64;
    println!("bench {name} per_request_median_ns {best} cpu_per_request_ns {cpu}");
    Ok(())
}

fn process_cpu_ns() -> u64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into `t`
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// A redis-server on a free loopback port, in memory only, killed when dropped.
struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    fn start() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (Debian's package redis-server; `make setup-redis` installs it)");
        let server = RedisServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !answers_ping(port) {
            assert!(Instant::now() < deadline, "redis-server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(10));
        }
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok() && stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}
