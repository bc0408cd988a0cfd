//! The Rust side of `make bench-c` / `make bench-go`: the per-request path (authenticate +
//! check_policy) straight on trustcore-core, with the same keys, token shape, request and loop as
//! bench/bench.c and go/cmd/trustcore-bench, so the bindings' overhead is the difference. Then the
//! stateful Verifier's per-request path (authenticate with the token from its cache, a fresh nonce
//! each request, + check_policy) with the in-process stores and with Redis stores (a redis-server
//! this program starts on a free loopback port and kills at the end).
//!
//! usage: bench_core [ITERATIONS]   prints one line per path, `bench NAME per_request_median_ns N
//! cpu_per_request_ns M` with NAME `rust`, `rust/verifier-memory`, `rust/verifier-redis`: the lowest
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

    let redis = RedisServer::start();
    let mut redis_config = RedisConfig::new(redis.url());
    redis_config.key_prefix = "bench-rust:".into();
    config.redis = Some(redis_config);
    measure("rust/verifier-redis", iterations, verifier_path(Verifier::new(config)?))?;
    Ok(())
}

/// Warm up, then time each of `iterations` requests, 3 rounds; print the line.
fn measure(name: &str, iterations: usize, mut once: impl FnMut() -> Result<()>) -> Result<()> {
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
    let cpu = (process_cpu_ns() - cpu_start) / (ROUNDS * iterations) as u64;
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
