//! The audit trail survives crashes: a signer under load is killed with SIGKILL at random moments;
//! after each kill the log verifies, a restarted signer continues its chain, and every token a
//! client received is in the log (nothing signed leaves unaudited). `TRUSTCORE_CRASH_RUNS` sets the
//! number of kills (200 in `make test`; `make drill-crash` runs the long form).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use trustcore_core::*;

use super::daemon::{bin, key_file, mint_args, tempdir, Daemon};
use super::sha2_digest;

/// Runs that share one log (each continues the chain the killed one left); then a fresh log, so
/// the verification after each kill reads a log of bounded length.
const RUNS_PER_LOG: usize = 20;
const CLIENTS: usize = 3;

fn runs() -> usize {
    std::env::var("TRUSTCORE_CRASH_RUNS").ok().and_then(|n| n.parse().ok()).unwrap_or(200)
}

/// A random number below `bound` (std's per-process random hash keys; no generator crate needed).
fn random_below(bound: u64) -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos());
    hasher.finish() % bound.max(1)
}

/// `trustcore audit verify` on `log`: the number of entries it reports and whether the log ends in
/// an entry cut mid-write (a SIGKILL between two pages of a write: never answered, cut off by the
/// next start), or its whole report when it does not answer OK.
fn verified_entries(log: &std::path::Path, public_hex: &str) -> std::result::Result<(u64, bool), String> {
    let out = Command::new(bin())
        .args(["audit", "verify", log.to_str().unwrap(), "--issuer-public", public_hex])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    match (out.status.code(), report.strip_prefix("OK: ").and_then(|rest| rest.split(' ').next())) {
        (Some(0), Some(n)) => n.parse().map(|n| (n, report.contains("end mid-entry"))).map_err(|_| report.clone()),
        _ => Err(format!("{report} {}", String::from_utf8_lossy(&out.stderr))),
    }
}

#[test]
fn the_audit_log_survives_sigkill_under_load() {
    let dir = tempdir("crash");
    let key_path = dir.join("issuer.key");
    let key = key_file(&key_path, 0o600);
    let public = key.public_hex();
    let holder = WorkerKey::generate().unwrap();
    let (mut kills, mut tokens_seen, mut torn) = (0, 0usize, 0usize);
    let mut entries_by_log: Vec<u64> = Vec::new();
    for run in 0..runs() {
        let log = dir.join(format!("audit-{}.log", run / RUNS_PER_LOG));
        let log_arg = log.to_str().unwrap().to_owned();
        // a restart onto the log the last kill left: start_with_key fails the test if the signer
        // refuses it (a broken last entry would make it refuse: the chain must not fork)
        let signer = Daemon::start_with_key(&dir, key.clone(), &key_path, &["--audit-log", &log_arg]);
        let received: Arc<Mutex<Vec<String>>> = Arc::default();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (client, received, request) = (signer.client(), received.clone(), mint_args(&holder, &[], 60.0));
                std::thread::spawn(move || {
                    // mint until the signer is gone; every token that arrived is kept
                    while let Ok(minted) = client.mint(&request) {
                        received.lock().unwrap().push(minted.token);
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_micros(1000 + random_below(30_000)));
        signer.signal(libc::SIGKILL);
        for client in clients {
            client.join().unwrap();
        }
        drop(signer);
        kills += 1;
        let (entries, torn_tail) =
            verified_entries(&log, &public).unwrap_or_else(|report| panic!("run {run}: {report}"));
        torn += usize::from(torn_tail);
        let text = std::fs::read_to_string(&log).unwrap();
        let received = received.lock().unwrap();
        for token in received.iter() {
            let digest = hex::encode(sha2_digest(token.as_bytes()));
            assert!(text.contains(&digest), "run {run}: a token left the signer without its audit entry");
        }
        // an answer may be logged and then lost with the process, never the other way round
        assert!(entries as usize >= received.len(), "run {run}: {entries} entries, {} tokens", received.len());
        // the restarted signer continued the chain: every entry before the kill is still there
        match entries_by_log.get_mut(run / RUNS_PER_LOG) {
            Some(before) => {
                assert!(entries >= *before, "run {run}: the log shrank from {before} to {entries} entries");
                *before = entries;
            }
            None => entries_by_log.push(entries),
        }
        tokens_seen += received.len();
    }
    assert_eq!(kills, runs());
    assert!(tokens_seen > 0, "no run minted anything before its kill: the drill tested nothing");
    let entries: u64 = entries_by_log.iter().sum();
    eprintln!(
        "crash drill: {kills} SIGKILLs, {tokens_seen} tokens received, every one audited ({entries} entries in {} \
         logs; {torn} kills left an entry cut mid-write, cut off by the restart)",
        entries_by_log.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `chattr` on the audit log (as root, on a file system with inode flags: ext4 here).
fn chattr(flag: &str, path: &std::path::Path) {
    let out = Command::new("chattr").arg(flag).arg(path).output().expect("chattr (e2fsprogs) is needed");
    assert!(out.status.success(), "chattr {flag}: {} (needs root and ext4)", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_log_made_read_only_mid_run_stops_every_answer_until_it_is_writable_again() {
    let dir = tempdir("read-only");
    let log = dir.join("audit.log");
    let log_arg = log.to_str().unwrap().to_owned();
    let mut signer = Daemon::start(&dir, &["--audit-log", &log_arg]);
    let client = signer.client();
    let holder = WorkerKey::generate().unwrap();
    let request = mint_args(&holder, &[], 60.0);
    let mut received: Vec<String> = (0..3).map(|_| client.mint(&request).unwrap().token).collect();
    // immutable: the signer's open descriptor can no longer write (EPERM), as on a file system
    // remounted read-only
    chattr("+i", &log);
    let refused: Vec<_> = (0..3).map(|_| client.mint(&request).map(|_| ()).map_err(|e| e.code())).collect();
    chattr("-i", &log);
    assert_eq!(refused, vec![Err(ErrorCode::SignerUnavailable); 3], "no token leaves while the log refuses it");
    // nothing partial was written, so the signer resumes by itself
    received.push(client.mint(&request).unwrap().token);
    assert!(signer.stop().success());
    assert_eq!(verified_entries(&log, &signer.key.public_hex()), Ok((4, false)), "the three refusals left no entry");
    let text = std::fs::read_to_string(&log).unwrap();
    for token in &received {
        assert!(text.contains(&hex::encode(sha2_digest(token.as_bytes()))), "a token left without its entry");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
