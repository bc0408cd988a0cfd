//! The Rust side of `make bench-c` / `make bench-go`: the per-request path (authenticate +
//! check_policy) straight on trustcore-core, with the same keys, token shape, request and loop as
//! bench/bench.c and go/cmd/trustcore-bench, so the bindings' overhead is the difference.
//!
//! usage: bench_core [ITERATIONS]   prints `bench rust per_request_median_ns N cpu_per_request_ns M`:
//! the lowest of 3 rounds' median wall time per request (the round least disturbed by other work on
//! the machine), and the process CPU time per request over all rounds.

use std::time::Instant;

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

    let once = || -> Result<()> {
        let (token, _identity) = authenticate(&trusted, &proof, &request, &revoked, &options)?;
        check_policy(&token, facts, allow, NOW, &options.limits)
    };
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
    println!("bench rust per_request_median_ns {best} cpu_per_request_ns {cpu}");
    Ok(())
}

fn process_cpu_ns() -> u64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into `t`
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}
