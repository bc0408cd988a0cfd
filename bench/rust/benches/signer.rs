//! The signer over its socket against the same work in process, in one run (`make bench-rust`):
//! what a request pays for the key living in another process. Goal: at most 50 µs added.
//!
//! `in_process/*` calls the core directly; `service/*` runs the daemon's dispatch without a socket;
//! `socket/*` goes through a real `trustcore signer serve` (no audit log, then with one: the audit
//! entry's fsync is the price of the trail, shown apart); `floor/round_trip` is 8 bytes to a thread
//! and back over a Unix socket pair, what any answer from another process costs at the least.
//! `make bench-rust` runs it twice: as scheduled, then with everything on one CPU
//! (TRUSTCORE_BENCH_GROUP=signer_one_cpu under taskset), where no cross-CPU wake-up is paid.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use trustcore_core::signer::{Op, Peer, SignerPolicy, SignerService};
use trustcore_core::*;

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The signer binary: $TRUSTCORE_BIN, else the workspace's release build (`make bench-criterion`
/// builds it first).
fn trustcore_binary() -> std::path::PathBuf {
    std::env::var_os("TRUSTCORE_BIN").map(std::path::PathBuf::from).unwrap_or_else(|| {
        let release = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/trustcore");
        assert!(release.is_file(), "no signer binary: cargo build --release -p trustcore-cli, or set TRUSTCORE_BIN");
        release
    })
}

fn start(dir: &std::path::Path, name: &str, key_hex: &str, extra: &[&str]) -> (Daemon, SignerClient) {
    let key_file = dir.join(format!("{name}.key"));
    std::fs::write(&key_file, key_hex).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let socket = dir.join(format!("{name}.sock"));
    let child = Command::new(trustcore_binary())
        .args(["signer", "serve", "--key-file", key_file.to_str().unwrap(), "--socket", socket.to_str().unwrap()])
        .args(extra)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while UnixStream::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "the signer did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    let client = SignerClient::new(SignerAddress::unix(&socket).unwrap(), SignerClientOptions::default()).unwrap();
    (Daemon(child), client)
}

fn benches(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("trustcore-bench-signer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let issuer = IssuerKey::from_secret_hex(&"11".repeat(32)).unwrap();
    let holder = WorkerKey::from_secret_hex(&"22".repeat(32)).unwrap();
    let facts =
        vec![("right".to_owned(), vec!["lease".to_owned()]), ("lane".to_owned(), vec!["transcribe".to_owned()])];
    let expires_at = now_seconds() + 3600.0;
    let mint_request = MintRequest {
        public_hex: holder.public_hex(),
        holder_id: "gpu-1".into(),
        facts: facts.clone(),
        revocation_id: Some("rev-1".into()),
        expires_at,
        root_key_id: None,
        delegation_depth: 0,
    };
    let mint_args = MintRequest {
        public_hex: holder.public_hex(),
        holder_id: "gpu-1".into(),
        facts: facts.clone(),
        revocation_id: Some("rev-1".into()),
        root_key_id: None,
        expires_at,
        delegation_depth: 0,
    };
    let job = json!({"job_id": "j-1", "episode": "e1", "steps": 3}).as_object().unwrap().clone();

    let service = SignerService::new(issuer.clone(), None, SignerPolicy::default(), None);
    let mint_frame = trustcore_core::signer::protocol::request_frame(
        1,
        Op::Mint,
        json!({"public_hex": holder.public_hex(), "holder_id": "gpu-1", "facts": [["right", ["lease"]], ["lane", ["transcribe"]]],
               "revocation_id": "rev-1", "expires_at": expires_at})
        .as_object()
        .unwrap()
        .clone(),
    );
    let key_hex = issuer.secret_hex();
    let (_plain, client) = start(&dir, "plain", key_hex.as_str(), &[]);
    let audit = dir.join("audit.log");
    let (_audited, audited_client) =
        start(&dir, "audited", key_hex.as_str(), &["--audit-log", audit.to_str().unwrap()]);

    let group_name = std::env::var("TRUSTCORE_BENCH_GROUP").unwrap_or_else(|_| "signer".into());
    let mut group = c.benchmark_group(group_name);
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("in_process/mint", |b| b.iter(|| mint_biscuit(&issuer, &mint_request).unwrap()));
    group.bench_function("service/mint", |b| {
        b.iter(|| {
            let answer = service.answer(&mint_frame, &Peer::InProcess, now_seconds());
            assert_eq!(answer.error, None);
            answer
        })
    });
    group.bench_function("socket/mint", |b| b.iter(|| client.mint(&mint_args).unwrap()));
    group.bench_function("socket_audited/mint", |b| b.iter(|| audited_client.mint(&mint_args).unwrap()));
    group.bench_function("in_process/sign_job", |b| b.iter(|| sign_job(&issuer, &job, "gpu-1").unwrap()));
    group.bench_function("socket/sign_job", |b| b.iter(|| client.sign_job(&job, "gpu-1").unwrap()));
    group.bench_function("socket/health", |b| b.iter(|| client.health().unwrap()));
    {
        let (mut near, mut far) = UnixStream::pair().unwrap();
        let echo = std::thread::spawn(move || {
            let mut buf = [0u8; 8];
            while far.read_exact(&mut buf).is_ok() && far.write_all(&buf).is_ok() {}
        });
        let mut buf = [0u8; 8];
        group.bench_function("floor/round_trip", |b| {
            b.iter(|| {
                near.write_all(b"12345678").unwrap();
                near.read_exact(&mut buf).unwrap();
            })
        });
        drop(near);
        echo.join().unwrap();
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(signer, benches);
criterion_main!(signer);
