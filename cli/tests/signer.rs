//! The signer daemon, run as a real subprocess: end to end, hostile peers, a killed daemon,
//! permissions, shutdown, logs and the audit trail.

#[path = "signer/crash.rs"]
mod crash;
#[path = "signer/daemon.rs"]
mod daemon;
#[path = "signer/rotation.rs"]
mod rotation;

use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use daemon::{bin, key_file, mint_args, tempdir, Daemon};
use serde_json::json;
use trustcore_core::*;

const ALLOW: &str = "allow if req_right($r), right($r)";

fn request_frame(body: &str) -> Vec<u8> {
    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(body.as_bytes());
    frame
}

/// Send raw bytes on a fresh connection and read one answer's error code ("ok" on success).
fn raw_exchange(socket: &std::path::Path, bytes: &[u8]) -> String {
    let mut stream = UnixStream::connect(socket).unwrap();
    // a refused peer is answered and closed as it connects: its write may find the socket shut
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let answer = read_frame_timeout(&mut stream, Duration::from_secs(10)).unwrap();
    if answer["ok"] == json!(true) {
        "ok".into()
    } else {
        answer["error"]["code"].as_str().unwrap().to_owned()
    }
}

#[test]
fn mint_through_the_signer_then_prove_authenticate_and_authorize() {
    let dir = tempdir("e2e");
    let mut signer = Daemon::start(&dir, &["--max-ttl", "3600", "--allow-predicate", "right", "--key-id", "3"]);
    let client = signer.client();
    let (public_hex, key_id) = client.public_key().unwrap();
    assert_eq!((public_hex.as_str(), key_id), (signer.key.public_hex().as_str(), Some(3)));

    let holder = WorkerKey::generate().unwrap();
    let minted = client.mint(&mint_args(&holder, &[("right", &["lease"])], 600.0)).unwrap();
    assert_eq!(minted.revocation_id.len(), 32, "the signer picks a 128-bit revocation id");
    assert!(!format!("{minted:?}").contains(&minted.token), "Debug must not show the token");

    let body = br#"{"episode":"e1"}"#;
    let request = Request::new("POST", "/lease", body);
    let now = now_seconds();
    let proof = make_proof(&holder, &minted.token, &request, &format!("{}", now.floor()), "n-1").unwrap();
    let verifier = Verifier::new(VerifierConfig::new(
        IssuerKeys::by_key_id([(3, PublicKey::from_hex(&public_hex).unwrap())]).unwrap(),
    ))
    .unwrap();
    let verified = verifier.authenticate(&proof, &request, None).unwrap();
    assert_eq!(verified.identity.holder_id, "gpu-1");
    assert_eq!(verified.identity.revocation_id, minted.revocation_id);
    verifier.check_policy(&verified.token, [("req_right", "lease")], ALLOW, None).unwrap();
    let denied = verifier.check_policy(&verified.token, [("req_right", "admin")], ALLOW, None).unwrap_err();
    assert_eq!(denied.code(), ErrorCode::Denied);

    // the signer's own policy, whatever the app asks
    let too_long = client.mint(&mint_args(&holder, &[("right", &["lease"])], 7200.0)).unwrap_err();
    assert_eq!(too_long.code(), ErrorCode::SignerRefused);
    let ungranted = client.mint(&mint_args(&holder, &[("admin", &["yes"])], 60.0)).unwrap_err();
    assert_eq!(ungranted.code(), ErrorCode::SignerRefused);
    // one MintRequest for both ways of minting: the signer sets the root key id itself
    let keyed = MintRequest { root_key_id: Some(9), ..mint_args(&holder, &[("right", &["lease"])], 60.0) };
    assert_eq!(client.mint(&keyed).unwrap_err().code(), ErrorCode::MalformedInput);

    let job = json!({"job_id": "j-1", "steps": 3}).as_object().unwrap().clone();
    let mut signed = job.clone();
    signed.insert("sig".into(), client.sign_job(&job, "gpu-1").unwrap().into());
    verify_job(&public_hex, &signed, "gpu-1", None).unwrap();
    assert_eq!(verify_job(&public_hex, &signed, "gpu-2", None).unwrap_err().code(), ErrorCode::JobInvalid);

    assert!(signer.stop().success());
    assert!(!signer.socket.exists(), "SIGTERM removes the socket");
    let log = signer.log();
    assert!(!log.contains(&minted.token), "the log must not hold a token");
    assert!(!log.contains(signer.key.secret_hex().as_str()), "the log must not hold the key");
    assert!(log.contains("op=mint outcome=ok"), "{log}");
    assert!(log.contains("op=mint outcome=SIGNER_REFUSED"), "{log}");
}

#[test]
fn hostile_peers_do_not_stall_a_good_client() {
    let dir = tempdir("hostile");
    // every connection here is this test's own uid, the good client's too: its per-peer cap is
    // lifted (one peer's own connections are its own business; hostility across peers is
    // many_hostile_peers_cannot_starve_an_allowed_one)
    let signer =
        Daemon::start(&dir, &["--read-timeout", "2", "--idle-timeout", "30", "--max-connections-per-peer", "1000"]);
    let socket = signer.socket.clone();

    // each kind of bad frame gets its code, and the daemon keeps serving
    assert_eq!(raw_exchange(&socket, &((2u32 << 20).to_be_bytes())), "FRAME_INVALID");
    assert_eq!(raw_exchange(&socket, &request_frame("{\"v\":1,")[..8]), "FRAME_INVALID");
    assert_eq!(raw_exchange(&socket, &request_frame("not json at all")), "FRAME_INVALID");
    assert_eq!(raw_exchange(&socket, &request_frame("[1,2,3]")), "FRAME_INVALID");
    assert_eq!(raw_exchange(&socket, &request_frame(r#"{"v":1,"id":1,"op":"steal_key"}"#)), "MALFORMED_INPUT");
    assert_eq!(raw_exchange(&socket, &request_frame(r#"{"v":1,"id":1,"op":"health"}"#)), "ok");

    let stop = Arc::new(AtomicBool::new(false));
    let mut hostiles = Vec::new();
    // 100 connections at once: silent, half a header, or a header announcing 1 MiB that never comes
    let mut idle: Vec<UnixStream> = Vec::new();
    for i in 0..100 {
        let mut stream = UnixStream::connect(&socket).unwrap();
        match i % 3 {
            0 => {}
            1 => stream.write_all(&[0, 0]).unwrap(),
            _ => stream.write_all(&(1u32 << 20).to_be_bytes()).unwrap(),
        }
        idle.push(stream);
    }
    // one byte a second, a valid frame in the end
    {
        let socket = socket.clone();
        let stop = stop.clone();
        hostiles.push(std::thread::spawn(move || {
            let mut stream = UnixStream::connect(&socket).unwrap();
            for byte in request_frame(r#"{"v":1,"id":1,"op":"health"}"#) {
                if stop.load(Ordering::SeqCst) || stream.write_all(&[byte]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }));
    }
    // a flood of garbage from another peer
    {
        let socket = socket.clone();
        let stop = stop.clone();
        hostiles.push(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                if let Ok(mut stream) = UnixStream::connect(&socket) {
                    let _ = stream.write_all(&request_frame("}}}garbage{{{"));
                    let mut sink = Vec::new();
                    let _ = stream.read_to_end(&mut sink);
                }
            }
        }));
    }

    // the good client: every request answered well within a bound while all of that goes on
    let client = signer.client_with(SignerClientOptions {
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(2),
    });
    let holder = WorkerKey::generate().unwrap();
    let started = Instant::now();
    let mut served = 0;
    while started.elapsed() < Duration::from_secs(3) {
        let begun = Instant::now();
        client.mint(&mint_args(&holder, &[("right", &["lease"])], 60.0)).unwrap();
        assert!(begun.elapsed() < Duration::from_secs(1), "a good request waited {:?}", begun.elapsed());
        served += 1;
    }
    assert!(served > 10, "only {served} requests served in 3 s");

    // the drip was cut off at the read timeout: its connection is closed with FRAME_INVALID
    stop.store(true, Ordering::SeqCst);
    for h in hostiles {
        h.join().unwrap();
    }
    drop(idle);
    assert!(signer.log().contains("outcome=FRAME_INVALID"));
}

#[test]
fn past_the_connection_limit_a_peer_is_told_busy_not_left_waiting() {
    let dir = tempdir("busy");
    let signer = Daemon::start(&dir, &["--max-connections", "4"]);
    // four connections, each proven admitted by one answered request (a slot still held by the
    // start-up probe's closing connection would otherwise make one of them the busy one)
    let mut held: Vec<UnixStream> = Vec::new();
    while held.len() < 4 {
        let mut stream = UnixStream::connect(&signer.socket).unwrap();
        stream.write_all(&request_frame(r#"{"v":1,"id":1,"op":"health"}"#)).unwrap();
        let answer = read_frame_timeout(&mut stream, Duration::from_secs(5)).unwrap();
        if answer["ok"] == json!(true) {
            held.push(stream);
        } else {
            assert_eq!(answer["error"]["code"], "SIGNER_UNAVAILABLE");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let client = signer.client();
    let err = client.health().unwrap_err();
    assert_eq!(err.code(), ErrorCode::SignerUnavailable, "{err}");
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    while client.health().is_err() {
        assert!(Instant::now() < deadline, "the slots were never freed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_signer_killed_mid_request_is_signer_unavailable_within_the_timeout() {
    let dir = tempdir("kill");
    let mut signer = Daemon::start(&dir, &[]);
    let client = Arc::new(signer.client_with(SignerClientOptions {
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(3),
    }));
    client.health().unwrap(); // a pooled connection now exists

    // stop the daemon so the next request is surely in flight, then kill it
    signer.pause();
    let in_flight = {
        let client = client.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            (client.health(), started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    signer.signal(libc::SIGKILL);
    let (outcome, took) = in_flight.join().unwrap();
    assert_eq!(outcome.unwrap_err().code(), ErrorCode::SignerUnavailable);
    assert!(took < Duration::from_secs(3) + Duration::from_millis(500), "took {took:?}");
    signer.wait(Duration::from_secs(5));

    // gone for good: refused at once, not after the timeout
    let started = Instant::now();
    assert_eq!(client.health().unwrap_err().code(), ErrorCode::SignerUnavailable);
    assert!(started.elapsed() < Duration::from_secs(1));

    // a new daemon on the same path (the stale socket replaced) serves the same client object
    let key = signer.key.clone();
    let restarted = Daemon::start_with_key(&dir, key, &dir.join("issuer.key"), &[]);
    assert_eq!(client.health().unwrap()["status"], "ok");
    drop(restarted);
}

#[test]
fn a_peer_that_never_answers_times_out() {
    let dir = tempdir("silent");
    let path = dir.join("silent.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let holder = std::thread::spawn(move || listener.accept().map(|(s, _)| s)); // accepts, never answers
    let client = SignerClient::new(
        SignerAddress::unix(&path).unwrap(),
        SignerClientOptions { connect_timeout: Duration::from_secs(1), request_timeout: Duration::from_millis(500) },
    )
    .unwrap();
    let started = Instant::now();
    assert_eq!(client.health().unwrap_err().code(), ErrorCode::SignerUnavailable);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(450) && took < Duration::from_secs(2), "took {took:?}");
    drop(holder.join());
}

#[test]
fn permissions_are_checked_before_serving() {
    let dir = tempdir("perms");
    // a key file group or others can read: refused, nothing listens
    let loose = dir.join("loose.key");
    key_file(&loose, 0o640);
    let out = Command::new(bin())
        .args([
            "signer",
            "serve",
            "--key-file",
            loose.to_str().unwrap(),
            "--socket",
            dir.join("x.sock").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("readable by group or others"));
    assert!(!dir.join("x.sock").exists());

    // the socket is 0600; a second signer on a live socket is refused
    let signer = Daemon::start(&dir, &[]);
    assert_eq!(std::fs::metadata(&signer.socket).unwrap().permissions().mode() & 0o777, 0o600);
    let second = Command::new(bin())
        .args(["signer", "serve", "--key-file", dir.join("issuer.key").to_str().unwrap()])
        .args(["--socket", signer.socket.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("already listening"));
    assert_eq!(signer.client().health().unwrap()["status"], "ok", "the first signer is untouched");
    drop(signer);

    // something that is not a socket is never replaced
    let file = dir.join("not-a-socket");
    std::fs::write(&file, "data").unwrap();
    let out = Command::new(bin())
        .args(["signer", "serve", "--key-file", dir.join("issuer.key").to_str().unwrap()])
        .args(["--socket", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "data");

    // non-loopback TCP is refused; --allow-uid needs a Unix socket; TCP (no peer credentials) must
    // be asked for as such
    for args in [
        vec!["--tcp", "0.0.0.0:0", "--tcp-without-peer-check"],
        vec!["--tcp", "127.0.0.1:0", "--tcp-without-peer-check", "--allow-uid", "0"],
        vec!["--tcp", "127.0.0.1:0"],
    ] {
        let out = Command::new(bin())
            .args(["signer", "serve", "--key-file", dir.join("issuer.key").to_str().unwrap()])
            .args(&args)
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(0), "{args:?} was accepted");
    }
}

#[test]
fn a_group_socket_is_0660_and_only_allowed_uids_are_served() {
    let dir = tempdir("uids");
    // SAFETY: getuid/getgid cannot fail
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let gid_text = gid.to_string();
    let uid_text = uid.to_string();
    let signer = Daemon::start(&dir, &["--group", &gid_text, "--allow-uid", &uid_text]);
    let meta = std::fs::metadata(&signer.socket).unwrap();
    assert_eq!((meta.permissions().mode() & 0o777, meta.gid()), (0o660, gid));
    assert_eq!(signer.client().health().unwrap()["status"], "ok", "our uid is allowed");
    drop(signer);

    let other = (uid + 12345).to_string();
    let signer = Daemon::start(&dir, &["--allow-uid", &other]);
    let client = signer.client();
    let err = client.health().unwrap_err();
    assert_eq!(err.code(), ErrorCode::SignerRefused);
    let holder = WorkerKey::generate().unwrap();
    // the refused connection was closed; the same client is refused again on a new one
    assert_eq!(client.mint(&mint_args(&holder, &[], 60.0)).unwrap_err().code(), ErrorCode::SignerRefused);
    // refused before the request is even read: a malformed one is refused the same way
    assert_eq!(raw_exchange(&signer.socket, &request_frame(r#"{"v":9}"#)), "SIGNER_REFUSED");
    assert!(signer.log().contains(&format!("uid={uid}")), "the refused peer is logged by uid");
}

#[test]
fn sigterm_lets_every_request_finish_or_fail_cleanly() {
    let dir = tempdir("drain");
    let mut signer = Daemon::start(&dir, &[]);
    let holder = Arc::new(WorkerKey::generate().unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let client = signer.client();
            let (holder, stop) = (holder.clone(), stop.clone());
            std::thread::spawn(move || {
                let (mut ok, mut unavailable) = (0, 0);
                while !stop.load(Ordering::SeqCst) {
                    match client.mint(&mint_args(&holder, &[("right", &["lease"])], 60.0)) {
                        Ok(_) => ok += 1,
                        Err(e) if e.code() == ErrorCode::SignerUnavailable => unavailable += 1,
                        Err(e) => panic!("a request failed with {e} during shutdown"),
                    }
                }
                (ok, unavailable)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let status = signer.stop();
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::SeqCst);
    let results: Vec<(u32, u32)> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    assert!(status.success(), "exit status {status}");
    assert!(!signer.socket.exists());
    assert!(results.iter().all(|(ok, unavailable)| *ok > 0 && *unavailable > 0), "{results:?}");
    assert!(signer.log().contains("signer stopped"));
}

#[test]
fn json_logs_one_object_per_request_and_tcp_on_loopback() {
    let dir = tempdir("json");
    let key_path = dir.join("issuer.key");
    let key = key_file(&key_path, 0o600);
    let log_path = dir.join("signer.log");
    let mut child = Command::new(bin())
        .args(["signer", "serve", "--key-file", key_path.to_str().unwrap(), "--tcp", "127.0.0.1:0"])
        .args(["--tcp-without-peer-check", "--log-format", "json"])
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    // the chosen port is in the first log line
    let deadline = Instant::now() + Duration::from_secs(10);
    let address = loop {
        let text = std::fs::read_to_string(&log_path).unwrap();
        if let Some(line) = text.lines().next() {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(event["event"], "listening");
            break event["address"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    };
    let client = SignerClient::new(SignerAddress::parse(&address).unwrap(), SignerClientOptions::default()).unwrap();
    assert_eq!(client.public_key().unwrap().0, key.public_hex());
    let holder = WorkerKey::generate().unwrap();
    let minted = client.mint(&mint_args(&holder, &[("right", &["lease"])], 60.0)).unwrap();
    // SAFETY: kill(2) on our own child
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(child.wait().unwrap().success());
    let text = std::fs::read_to_string(&log_path).unwrap();
    let requests: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"] == "request")
        .collect();
    assert_eq!(requests.len(), 2, "{text}");
    assert_eq!(requests[1]["op"], "mint");
    assert_eq!(requests[1]["outcome"], "ok");
    assert!(requests[1]["peer"].as_str().unwrap().starts_with("tcp=127.0.0.1:"));
    assert!(!text.contains(&minted.token));
}

#[test]
fn the_audit_log_records_every_answer_and_audit_verify_finds_tampering() {
    let dir = tempdir("audit");
    let audit = dir.join("audit.log");
    let audit_arg = audit.to_str().unwrap().to_owned();
    let mut signer = Daemon::start(&dir, &["--audit-log", &audit_arg, "--allow-predicate", "right"]);
    let client = signer.client();
    let holder = WorkerKey::generate().unwrap();
    let minted = client.mint(&mint_args(&holder, &[("right", &["lease"])], 60.0)).unwrap();
    client.mint(&mint_args(&holder, &[("admin", &["x"])], 60.0)).unwrap_err();
    client.sign_job(json!({"job_id": "j"}).as_object().unwrap(), "gpu-1").unwrap();
    let head = client.health().unwrap()["audit"]["head"].as_str().unwrap().to_owned();
    assert_eq!(std::fs::metadata(&audit).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(signer.stop().success());

    let public = signer.key.public_hex();
    let verify = |extra: &[&str]| {
        let out = Command::new(bin())
            .args(["audit", "verify", &audit_arg, "--issuer-public", &public])
            .args(extra)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let (code, report) = verify(&[]);
    assert_eq!(code, Some(0), "{report}");
    assert!(report.starts_with("OK: 4 entries, head "), "{report}");
    // health answered before its own entry was written: the head it reported is the third entry's
    assert_eq!(verify(&["--expect-head", &head]).0, Some(0));
    let text = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let entry: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!((entry["op"].as_str(), entry["outcome"].as_str()), (Some("mint"), Some("ok")));
    assert_eq!(entry["revocation_id"].as_str(), Some(minted.revocation_id.as_str()));
    assert_eq!(entry["signed_sha256"].as_str().unwrap(), hex::encode(sha2_digest(minted.token.as_bytes())));
    assert_eq!(serde_json::from_str::<serde_json::Value>(lines[1]).unwrap()["outcome"], "SIGNER_REFUSED");
    assert!(!text.contains(&minted.token) && !text.contains(signer.key.secret_hex().as_str()));

    // a restarted signer continues the chain
    let key = signer.key.clone();
    let restarted = Daemon::start_with_key(&dir, key, &dir.join("issuer.key"), &["--audit-log", &audit_arg]);
    restarted.client().health().unwrap();
    drop(restarted);
    assert!(verify(&[]).1.starts_with("OK: 5 entries"), "{:?}", verify(&[]));

    let whole = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<String> = whole.lines().map(str::to_owned).collect();
    let write =
        |lines: &[String]| std::fs::write(&audit, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let mut edited = lines.clone();
    edited[1] = edited[1].replace("SIGNER_REFUSED", "ok");
    write(&edited);
    assert_eq!(verify(&[]), (Some(1), "BROKEN: entry 2: does not match its hash (it was edited)".into()));
    let mut deleted = lines.clone();
    deleted.remove(2);
    write(&deleted);
    assert!(verify(&[]).1.starts_with("BROKEN: entry 3:"), "{:?}", verify(&[]));
    let mut reordered = lines.clone();
    reordered.swap(0, 1);
    write(&reordered);
    assert!(verify(&[]).1.starts_with("BROKEN: entry 1:"), "{:?}", verify(&[]));
    // a last entry cut mid-write (a crash) is reported, not a break: its answer never left
    std::fs::write(&audit, &whole[..whole.len() - 7]).unwrap();
    let (code, report) = verify(&[]);
    assert!(code == Some(0) && report.contains("end mid-entry"), "{report}");
    write(&lines[..2]);
    assert_eq!(
        verify(&["--expect-head", &head]).0,
        Some(1),
        "whole entries cut off are caught against a recorded head"
    );
    // a signer refuses to continue a log whose last entry is whole but broken (edited)
    let mut edited_last = lines.clone();
    let last = edited_last.len() - 1;
    edited_last[last] = edited_last[last].replace("\"outcome\":\"ok\"", "\"outcome\":\"DENIED\"");
    assert_ne!(edited_last, lines);
    write(&edited_last);
    let out = Command::new(bin())
        .args(["signer", "serve", "--key-file", dir.join("issuer.key").to_str().unwrap()])
        .args(["--socket", dir.join("again.sock").to_str().unwrap(), "--audit-log", &audit_arg])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("last entry"), "{}", String::from_utf8_lossy(&out.stderr));
}

fn sha2_digest(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

#[test]
fn a_full_disk_for_the_audit_log_means_no_signature_leaves_unaudited() {
    let dir = tempdir("full");
    let key_path = dir.join("issuer.key");
    let key = key_file(&key_path, 0o600);
    let audit = dir.join("audit.log");
    let socket = dir.join("signer.sock");
    // RLIMIT_FSIZE stands in for a full disk: past 8 KiB every write fails (EFBIG; SIGXFSZ ignored),
    // exactly as ENOSPC would, on the same code path
    let mut child = Command::new("bash")
        .args(["-c", r#"ulimit -f 8; trap "" XFSZ; exec "$0" "$@""#, bin()])
        .args(["signer", "serve", "--key-file", key_path.to_str().unwrap(), "--socket", socket.to_str().unwrap()])
        .args(["--audit-log", audit.to_str().unwrap()])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while UnixStream::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "the signer did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    let client = SignerClient::new(SignerAddress::unix(&socket).unwrap(), SignerClientOptions::default()).unwrap();
    let holder = WorkerKey::generate().unwrap();
    let outcomes: Vec<std::result::Result<MintedToken, ErrorCode>> = (0..40)
        .map(|_| client.mint(&mint_args(&holder, &[("right", &["lease"])], 60.0)).map_err(|e| e.code()))
        .collect();
    let minted = outcomes.iter().take_while(|o| o.is_ok()).count();
    assert!(minted > 3 && minted < 40, "{minted} mints fit in 8 KiB");
    assert!(
        outcomes[minted..].iter().all(|o| *o == Err(ErrorCode::SignerUnavailable)),
        "once the log is full every answer is SIGNER_UNAVAILABLE: {outcomes:?}"
    );
    // SAFETY: kill(2) on our own child
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    child.wait().unwrap();
    // the log holds every token that left, whole, and nothing else: failed writes were cut back
    let out = Command::new(bin())
        .args(["audit", "verify", audit.to_str().unwrap(), "--issuer-public", &key.public_hex()])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim().split(',').next().unwrap(), format!("OK: {minted} entries"));
    let text = std::fs::read_to_string(&audit).unwrap();
    for token in outcomes.iter().filter_map(|o| o.as_ref().ok()) {
        let digest = hex::encode(sha2_digest(token.token.as_bytes()));
        assert!(text.contains(&digest), "a token left without its audit entry");
    }
}

#[test]
fn a_removed_socket_makes_the_signer_unreachable_not_a_hang() {
    let dir = tempdir("unlinked");
    let mut signer = Daemon::start(&dir, &[]);
    let client = signer.client();
    client.health().unwrap();
    std::fs::remove_file(&signer.socket).unwrap();
    // the pooled connection still reaches the daemon; a new one cannot
    client.health().unwrap();
    let fresh = signer.client();
    let started = Instant::now();
    assert_eq!(fresh.health().unwrap_err().code(), ErrorCode::SignerUnavailable);
    assert!(started.elapsed() < Duration::from_secs(1));
    // and a new daemon can take the path over (no stale socket to clear), while the old one drains
    assert!(signer.stop().success());
}

/// Hostile connections from other local users, held by a small Python program run under their uid.
const HOSTILE_PEER: &str = r#"
import socket, struct, sys, time
path, kind, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
held, refused = [], 0
for i in range(count):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        if kind == "slow":
            s.send(b"\x00")
        elif kind == "oversized":
            body = b'{"v":1,"id":1,"op":"mint","args":{"x":[' + b"0," * 30000 + b'0]}}'
            s.send(struct.pack(">I", len(body)) + body)
        held.append(s)
    except OSError:
        refused += 1
print(len(held), refused, flush=True)
sys.stdin.read()
"#;

#[test]
fn many_hostile_peers_cannot_starve_an_allowed_one() {
    // SAFETY: getuid cannot fail
    if unsafe { libc::getuid() } != 0 || Command::new("python3").arg("-c").arg("1").status().is_err() {
        eprintln!("skipped: needs root (to run peers under other uids) and python3");
        return;
    }
    let dir = tempdir("peers");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    // this test (uid 0) is the good client; uid 65534 is allowed but hostile; uid 65533 is refused
    let signer = Daemon::start(
        &dir,
        &["--group", "65534", "--allow-uid", "0", "--allow-uid", "65534", "--max-connections-per-peer", "32"],
    );
    let client = signer.client_with(SignerClientOptions {
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(2),
    });
    let holder = WorkerKey::generate().unwrap();
    let mint = || {
        let begun = Instant::now();
        client.mint(&mint_args(&holder, &[("right", &["lease"])], 60.0)).unwrap();
        begun.elapsed()
    };
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let quiet = median((0..30).map(|_| mint()).collect());

    use std::os::unix::process::CommandExt;
    let attack = |uid: u32, kind: &str, count: usize| {
        let mut child = Command::new("python3")
            .args(["-c", HOSTILE_PEER, signer.socket.to_str().unwrap(), kind, &count.to_string()])
            .uid(uid)
            .gid(65534)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.as_mut().unwrap()), &mut line).unwrap();
        (child, line.trim().to_owned())
    };
    // 256 hostile connections: refused peers, and an allowed one silent, slow and oversized
    let attackers = [
        attack(65533, "silent", 128),
        attack(65534, "silent", 64),
        attack(65534, "slow", 32),
        attack(65534, "oversized", 32),
    ];
    let during = median((0..30).map(|_| mint()).collect());
    let status = std::fs::read_to_string(format!("/proc/{}/status", signer.pid())).unwrap();
    let rss_kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap();
    eprintln!(
        "signer under 256 hostile connections: mint median {quiet:?} quiet, {during:?} during; RSS {rss_kib} KiB"
    );
    for (_, held) in &attackers {
        eprintln!("hostile peer: held / refused at connect: {held}");
    }
    // every request of the allowed client was served (mint() unwraps), and memory stayed bounded
    assert!(rss_kib < 256 * 1024, "the signer grew to {rss_kib} KiB");
    drop(attackers);
    let log = signer.log();
    assert!(log.contains("uid=65533"), "the refused peer is logged: {log}");
    assert!(log.contains("busy_peer"), "the hostile peer met its cap: {log}");
    // refused peers leave no audit entry and do not count: the good client still mints
    mint();
}

/// Where `needle` occurs in the daemon's readable memory: (address, the mapping's VmFlags).
fn occurrences_in_memory(pid: i32, needle: &[u8]) -> Vec<(u64, String)> {
    use std::io::{Seek, SeekFrom};
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap();
    let mut regions: Vec<(u64, u64, bool, String)> = Vec::new();
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((start, end)) = first
            .split_once('-')
            .filter(|(a, b)| a.chars().all(|c| c.is_ascii_hexdigit()) && b.chars().all(|c| c.is_ascii_hexdigit()))
        {
            let readable = line.split_whitespace().nth(1).is_some_and(|p| p.starts_with('r'));
            regions.push((
                u64::from_str_radix(start, 16).unwrap(),
                u64::from_str_radix(end, 16).unwrap(),
                readable,
                String::new(),
            ));
        } else if let Some(flags) = line.strip_prefix("VmFlags:") {
            if let Some(last) = regions.last_mut() {
                last.3 = flags.trim().to_owned();
            }
        }
    }
    let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    let mut found = Vec::new();
    for (start, end, readable, flags) in regions {
        if !readable || flags.split(' ').any(|f| f == "io") {
            continue;
        }
        let mut buf = vec![0u8; (end - start) as usize];
        if mem.seek(SeekFrom::Start(start)).is_err() || mem.read_exact(&mut buf).is_err() {
            continue; // [vvar] and the like
        }
        for (i, window) in buf.windows(needle.len()).enumerate() {
            if window == needle {
                found.push((start + i as u64, flags.clone()));
            }
        }
    }
    found
}

#[test]
fn the_issuer_seed_is_locked_out_of_dumps_and_not_copied_around() {
    let dir = tempdir("seed");
    let signer = Daemon::start(&dir, &["--allow-predicate", "right"]);
    let client = signer.client();
    let holder = WorkerKey::generate().unwrap();
    for _ in 0..20 {
        client.mint(&mint_args(&holder, &[("right", &["lease"])], 60.0)).unwrap();
    }
    client.sign_job(&serde_json::Map::new(), "gpu-1").unwrap();
    let pid = signer.pid();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let core = limits.lines().find(|l| l.starts_with("Max core file size")).unwrap();
    assert_eq!(core.split_whitespace().skip(4).take(2).collect::<Vec<_>>(), ["0", "0"], "{core}");
    assert!(signer.log().contains("dumpable=false"), "{}", signer.log());
    let seed = signer.key.seed_bytes();
    let found = occurrences_in_memory(pid, seed.as_ref());
    eprintln!("the seed in the signer's memory after 20 mints and a job: {found:?}");
    assert!(!found.is_empty(), "the scan must find the key where it is kept");
    // in the locked mapping left out of dumps (VmFlags: lo = locked, dd = no dump)
    for (address, flags) in &found {
        let flags: Vec<&str> = flags.split(' ').collect();
        assert!(flags.contains(&"dd") && flags.contains(&"lo"), "a copy of the seed at {address:#x} ({flags:?})");
    }
    // exactly once: minting, signing jobs and audit entries leave no copy behind
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn the_signer_policy_covers_jobs_too() {
    let dir = tempdir("jobs");
    let signer = Daemon::start(&dir, &["--allow-job-worker", "gpu-1", "--allow-job-kind", "transcribe"]);
    let client = signer.client();
    let job = |kind: Option<&str>| {
        let mut job = serde_json::Map::new();
        job.insert("id".into(), "job-1".into());
        if let Some(kind) = kind {
            job.insert("kind".into(), kind.into());
        }
        job
    };
    let sig = client.sign_job(&job(Some("transcribe")), "gpu-1").unwrap();
    let mut signed = job(Some("transcribe"));
    signed.insert("sig".into(), sig.into());
    verify_job(&signer.key.public_hex(), &signed, "gpu-1", None).unwrap();
    for (job, worker) in [(job(Some("transcribe")), "gpu-2"), (job(Some("mine-coins")), "gpu-1"), (job(None), "gpu-1")]
    {
        assert_eq!(client.sign_job(&job, worker).unwrap_err().code(), ErrorCode::SignerRefused, "{job:?} for {worker}");
    }
}
