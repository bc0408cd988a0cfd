//! The `trustcore` binary, run as a subprocess the way a user runs it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn trustcore(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trustcore")).args(args).output().expect("run trustcore")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("trustcore-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn keygen(path: &Path) -> String {
    let out = trustcore(&["keygen", "--out", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_owned()
}

#[test]
fn demo_narrates_the_accepted_request_and_five_refusals() {
    let out = trustcore(&["demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("allowed: holder gpu-1"), "{text}");
    assert_eq!(text.matches("refused: POP_FAILED").count(), 2, "{text}");
    assert_eq!(text.matches("refused: REVOKED").count(), 1, "{text}");
    assert_eq!(text.matches("refused: DENIED").count(), 1, "{text}");
    assert_eq!(text.matches("refused: TOKEN_INVALID").count(), 1, "{text}");
}

#[test]
fn keygen_writes_a_private_file_and_keeps_an_existing_one() {
    let dir = tempdir("keygen");
    let path = dir.join("issuer.key");
    let public = keygen(&path);
    assert_eq!(public.len(), 64);
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let again = trustcore(&["keygen", "--out", path.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("cannot create key file"), "{}", stderr(&again));
    // --force writes a new file and renames it over the old one: a reader that had the old file
    // open (even when it was readable by others) keeps reading the old seed
    use std::io::Read;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let old_inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&path).unwrap());
    let mut reader = std::fs::File::open(&path).unwrap();
    let forced = trustcore(&["keygen", "--out", path.to_str().unwrap(), "--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_ne!(stdout(&forced).trim(), public);
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_ne!(std::os::unix::fs::MetadataExt::ino(&meta), old_inode);
    let mut old_text = String::new();
    reader.read_to_string(&mut old_text).unwrap();
    assert!(!old_text.contains(&std::fs::read_to_string(&path).unwrap().trim().to_string()));
    // no temporary file is left beside it
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    // a symlink planted at the path is replaced, not followed
    let target = dir.join("elsewhere");
    std::fs::write(&target, "keep").unwrap();
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(&target, &path).unwrap();
    assert!(trustcore(&["keygen", "--out", path.to_str().unwrap(), "--force"]).status.success());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    assert!(!std::fs::symlink_metadata(&path).unwrap().file_type().is_symlink());
}

#[test]
fn mint_inspect_proof_verify_round_trip() {
    let dir = tempdir("flow");
    let issuer_file = dir.join("issuer.key");
    let holder_file = dir.join("holder.key");
    let issuer = keygen(&issuer_file);
    let holder = keygen(&holder_file);
    let minted = trustcore(&[
        "mint",
        "--key-file",
        issuer_file.to_str().unwrap(),
        "--holder-public",
        &holder,
        "--holder-id",
        "w1",
        "--fact",
        "right=lease",
        "--fact",
        "right=abort",
        "--ttl",
        "600",
        "--revocation-id",
        "rev-9",
    ]);
    assert!(minted.status.success(), "{}", stderr(&minted));
    let token = stdout(&minted).trim().to_owned();

    let inspected = trustcore(&["inspect", &token, "--issuer-public", &issuer]);
    let text = stdout(&inspected);
    assert!(text.contains("signatures: verified"), "{text}");
    assert!(text.contains("right(\"abort\");\n  0| right(\"lease\");"), "{text}");
    assert!(text.contains("block 0 (authority, written by the issuer)"), "{text}");
    assert!(text.contains("revocation(\"rev-9\")"), "{text}");
    let unverified = trustcore(&["inspect", &token]);
    assert!(stdout(&unverified).contains("NOT verified"));
    let wrong_issuer = trustcore(&["inspect", &token, "--issuer-public", &holder]);
    assert_eq!(wrong_issuer.status.code(), Some(1));
    assert!(stderr(&wrong_issuer).contains("TOKEN_INVALID"));

    let proof = trustcore(&[
        "proof",
        "--key-file",
        holder_file.to_str().unwrap(),
        "--token",
        &token,
        "--method",
        "POST",
        "--path",
        "/lease",
        "--body",
        "{}",
    ]);
    assert!(proof.status.success(), "{}", stderr(&proof));
    let headers: Vec<String> = stdout(&proof).lines().map(str::to_owned).collect();
    assert_eq!(headers.len(), 4);
    let verify = |allow: &str, body: &str| {
        let mut args =
            vec!["verify", "--issuer-public", &issuer, "--method", "POST", "--path", "/lease", "--body", body];
        for h in &headers {
            args.extend(["-H", h.as_str()]);
        }
        args.extend(["--allow", allow, "--fact", "req_right=lease"]);
        trustcore(&args)
    };
    let ok = verify("allow if req_right($r), right($r)", "{}");
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).starts_with("OK profile=legacy holder_id=w1"), "{}", stdout(&ok));
    let denied = verify("allow if right(\"admin\")", "{}");
    assert_eq!(denied.status.code(), Some(1));
    assert!(stderr(&denied).contains("DENIED"), "{}", stderr(&denied));
    let tampered = verify("allow if req_right($r), right($r)", "{\"x\":1}");
    assert!(stderr(&tampered).contains("POP_FAILED"), "{}", stderr(&tampered));
}

#[test]
fn a_key_file_others_can_read_is_refused() {
    let dir = tempdir("perm");
    let path = dir.join("issuer.key");
    let holder = keygen(&dir.join("holder.key"));
    keygen(&path);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out =
        trustcore(&["mint", "--key-file", path.to_str().unwrap(), "--holder-public", &holder, "--holder-id", "w"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("readable by group or others"), "{}", stderr(&out));
}

#[test]
fn bad_arguments_get_one_line_and_no_trace() {
    for args in [
        vec!["mint"],
        vec!["nonsense"],
        vec!["verify", "--issuer-public", "zz", "--method", "GET", "--path", "/", "--allow", "allow if true"],
        vec!["mint", "--key-file", "/nonexistent", "--holder-public", "00", "--holder-id", "x"],
        vec!["inspect", "not-a-token"],
    ] {
        let out = trustcore(&args);
        assert!(!out.status.success(), "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("trustcore: "), "{err}");
        assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    }
}

/// A holder signs with `proof --rfc9421 --curl`; the printed command is run by a real curl against
/// a one-request HTTP server on loopback, which decides what it received with a route policy.
#[test]
fn an_rfc9421_request_signed_for_curl_is_decided_by_a_server() {
    use std::io::{BufRead, BufReader, Read as _, Write as _};
    use trustcore_core::http::{HttpPolicy, HttpRequest};
    use trustcore_core::{IssuerKeys, Verifier, VerifierConfig};

    let dir = tempdir("rfc9421");
    let (issuer_file, holder_file) = (dir.join("issuer.key"), dir.join("holder.key"));
    let issuer = keygen(&issuer_file);
    let holder = keygen(&holder_file);
    let minted = trustcore(&[
        "mint",
        "--key-file",
        issuer_file.to_str().unwrap(),
        "--holder-public",
        &holder,
        "--holder-id",
        "w1",
        "--fact",
        "lane=a",
    ]);
    assert!(minted.status.success(), "{}", stderr(&minted));
    let token = stdout(&minted).trim().to_owned();

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let authority = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let url = format!("http://{authority}/lease/a?x=1");
    let policy_text = r#"{"routes": [{"method": "POST", "path": "/lease/{lane}", "allow": "allow if req_param_lane($l), lane($l)"}]}"#;
    let policy = HttpPolicy::from_json(policy_text.as_bytes()).unwrap();
    let mut config = VerifierConfig::new(IssuerKeys::from_hex(&issuer).unwrap());
    config.authorities = vec![authority.clone()];
    let verifier = Verifier::new(config).unwrap();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let mut start = line.split_whitespace();
        let (method, target) = (start.next().unwrap().to_owned(), start.next().unwrap().to_owned());
        let mut headers: Vec<(String, String)> = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).unwrap();
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let decision = verifier.decide(&HttpRequest::new(&method, &target, &pairs, &body), &policy, &[], None).unwrap();
        let answer = format!("{} {}", decision.status, decision.code.map_or("ALLOWED", |c| c.name()));
        let mut stream = stream;
        write!(stream, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}", answer.len())
            .unwrap();
    });

    let command = trustcore(&[
        "proof",
        "--rfc9421",
        "--key-file",
        holder_file.to_str().unwrap(),
        "--token",
        &token,
        "--method",
        "POST",
        "--url",
        &url,
        "--body",
        "{\"episode\":\"e1\"}",
        "--curl",
    ]);
    assert!(command.status.success(), "{}", stderr(&command));
    let command = stdout(&command);
    assert!(command.starts_with("curl -X 'POST' -H 'Authorization: Biscuit "), "{command}");
    let curl = Command::new("sh").arg("-c").arg(format!("{} --silent --show-error", command.trim())).output().unwrap();
    assert!(curl.status.success(), "{}", stderr(&curl));
    assert_eq!(stdout(&curl), "200 ALLOWED");
    server.join().unwrap();

    // the same headers through `trustcore verify`: allowed for this authority, not for another
    let headers = trustcore(&[
        "proof",
        "--rfc9421",
        "--key-file",
        holder_file.to_str().unwrap(),
        "--token",
        &token,
        "--method",
        "POST",
        "--url",
        &url,
        "--body",
        "{}",
    ]);
    let mut args =
        vec!["verify", "--issuer-public", &issuer, "--method", "POST", "--path", "/lease/a?x=1", "--body", "{}"];
    let host = format!("Host: {authority}");
    let lines: Vec<String> = stdout(&headers).lines().map(str::to_owned).collect();
    args.extend(["-H", &host]);
    for line in &lines {
        args.extend(["-H", line.as_str()]);
    }
    args.extend(["--allow", "allow if lane(\"a\")"]);
    let mut ours = args.clone();
    ours.extend(["--authority", &authority]);
    let ok = trustcore(&ours);
    assert!(stdout(&ok).starts_with("OK profile=rfc9421 holder_id=w1"), "{}{}", stdout(&ok), stderr(&ok));
    let elsewhere = trustcore(&[args.as_slice(), &["--authority", "billing.example.com"]].concat());
    assert_eq!(elsewhere.status.code(), Some(1));
    assert!(stderr(&elsewhere).contains("WRONG_AUDIENCE"), "{}", stderr(&elsewhere));
}
