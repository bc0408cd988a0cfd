//! `make soak` (and a short run in `make test`): many valid requests through the Verifier from
//! several processes while other processes keep every core busy. Every request is valid, so every
//! refusal is wrong: the run fails on the first. Reports throughput, resident memory at start and
//! end, and the replay store's size (bounded: simulated time runs at 100 requests a second per
//! process, so entries expire as they would in a long run).
//!
//! usage: soak [--requests N] [--processes P] [--burners B]     (defaults 100000, 2, 1)

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};
use trustcore_core::*;

const T0: f64 = 1_700_000_000.0;
const SKEW: f64 = 30.0;
const ALLOW: &str = "allow if req_right($r), right($r), req_lane($l), lane($l)";

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn rss_kb() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4
}

/// One verifier process: `requests` valid requests from 64 holders, each request authenticated and
/// authorized. Prints one JSON line.
fn worker(index: usize, requests: usize) -> i32 {
    let issuer = IssuerKey::from_secret_hex(&"11".repeat(32)).unwrap();
    let holders: Vec<(WorkerKey, String)> = (0..64)
        .map(|h| {
            let key = WorkerKey::generate().unwrap();
            let token = mint_biscuit(
                &issuer,
                &MintRequest {
                    public_hex: key.public_hex(),
                    holder_id: format!("p{index}-h{h}"),
                    facts: vec![("right".into(), vec!["lease".into()]), ("lane".into(), vec!["transcribe".into()])],
                    revocation_id: Some(format!("rev-{index}-{h}")),
                    expires_at: T0 + 1e7,
                    root_key_id: None,
                    delegation_depth: 0,
                },
            )
            .unwrap();
            (key, token)
        })
        .collect();
    let replay = Arc::new(MemoryReplayStore::new(20_000));
    let mut config = VerifierConfig::new(IssuerKeys::one(issuer.public_key()));
    config.max_skew_seconds = SKEW;
    let verifier = Verifier::with_stores(config, Box::new(replay.clone()), Box::new(MemoryRevocationStore::default()));
    let body = br#"{"episode":"e1","steps":3}"#;
    let request = Request::new("POST", "/lease", body);
    let mut refused: std::collections::BTreeMap<String, u64> = Default::default();
    let (mut rss_start, mut peak_entries) = (0, 0);
    let started = Instant::now();
    for i in 0..requests {
        if i == requests / 10 {
            rss_start = rss_kb(); // after warm-up: every token parsed and cached, the store filled
        }
        let now = T0 + i as f64 * 0.01;
        let (key, token) = &holders[i % holders.len()];
        let proof = make_proof(key, token, &request, &format!("{now}"), &format!("{index}-{i}")).unwrap();
        let outcome = verifier.authenticate(&proof, &request, Some(now)).and_then(|v| {
            verifier.check_policy(&v.token, [("req_right", "lease"), ("req_lane", "transcribe")], ALLOW, Some(now))
        });
        if let Err(e) = outcome {
            *refused.entry(e.code().name().to_owned()).or_default() += 1;
        }
        peak_entries = peak_entries.max(replay.len());
    }
    let seconds = started.elapsed().as_secs_f64();
    let report = json!({
        "process": index, "requests": requests, "refused": refused, "seconds": seconds,
        "requests_per_second": requests as f64 / seconds, "rss_start_kb": rss_start, "rss_end_kb": rss_kb(),
        "replay_entries_end": replay.len(), "replay_entries_peak": peak_entries,
        "cache": {"hits": verifier.cache_stats().hits, "misses": verifier.cache_stats().misses},
    });
    println!("{report}");
    if refused.is_empty() {
        0
    } else {
        1
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--worker") {
        let index: usize = args[i + 1].parse().unwrap();
        std::process::exit(worker(index, arg("--requests", 100_000)));
    }
    if args.iter().any(|a| a == "--burn") {
        let mut x = 0u64;
        loop {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
    let (requests, processes, burners) = (arg("--requests", 100_000), arg("--processes", 2), arg("--burners", 1));
    let me = std::env::current_exe().unwrap();
    let mut burning: Vec<_> =
        (0..burners).map(|_| Command::new(&me).arg("--burn").stdout(Stdio::null()).spawn().unwrap()).collect();
    let per_process = requests.div_ceil(processes);
    let workers: Vec<_> = (0..processes)
        .map(|p| {
            Command::new(&me)
                .args(["--worker", &p.to_string(), "--requests", &per_process.to_string()])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let reports: Vec<(bool, Value)> = workers
        .into_iter()
        .map(|w| {
            let out = w.wait_with_output().unwrap();
            (out.status.success(), serde_json::from_slice(&out.stdout).unwrap_or(Value::Null))
        })
        .collect();
    for b in &mut burning {
        let _ = b.kill();
        let _ = b.wait();
    }
    println!(
        "soak: {} valid requests from {processes} processes, {burners} burner process(es) keeping the cores busy",
        per_process * processes
    );
    let mut failed = false;
    for (ok, report) in &reports {
        println!(
            "  process {}: {:.0} req/s, refused {}, RSS {} -> {} KiB, replay store {} entries at the end ({} at most), cache {}",
            report["process"], report["requests_per_second"].as_f64().unwrap_or(0.0), report["refused"],
            report["rss_start_kb"], report["rss_end_kb"], report["replay_entries_end"], report["replay_entries_peak"],
            report["cache"]
        );
        failed |= !ok;
    }
    if failed {
        println!("soak FAILED: valid requests were refused");
        std::process::exit(1);
    }
    println!("soak: zero wrongly refused");
}
