//! The issuer key rotation drill (docs/verifier.md, "Rotating the issuer key"): under steady load
//! from several holders, a second signer with a new key and root key id takes over, the verifier
//! trusts both, tokens of the old key are used until they expire, then the old key is retired. No
//! valid request is refused at any point, and a token of the retired key is refused from that moment.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use trustcore_core::*;

use super::daemon::{key_file, mint_args, tempdir, Daemon};
use super::ALLOW;

const HOLDERS: usize = 3;
/// Tokens live this long; a holder mints its next one when less than half of it is left.
const TTL: f64 = 2.0;

/// One holder's steady requests, each with a fresh nonce, through the verifier, until `stop`.
/// Returns the refusals it met (none is expected: every request is valid).
fn holder_load(
    signer: Arc<Mutex<SignerClient>>,
    verifier: Arc<Verifier>,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    name: usize,
) -> Vec<String> {
    let holder = WorkerKey::generate().unwrap();
    let request = Request::new("POST", "/lease", b"{}");
    let mut refusals = Vec::new();
    let mut token: Option<(String, f64)> = None;
    for n in 0.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let now = now_seconds();
        if token.as_ref().is_none_or(|(_, expires_at)| expires_at - now < TTL / 2.0) {
            let mint = mint_args(&holder, &[("right", &["lease"])], TTL);
            let minted = signer.lock().unwrap().mint(&mint).unwrap();
            token = Some((minted.token, mint.expires_at));
        }
        let text = &token.as_ref().unwrap().0;
        let proof = make_proof(&holder, text, &request, &format!("{}", now.floor()), &format!("h{name}-{n}")).unwrap();
        let outcome = verifier
            .authenticate(&proof, &request, None)
            .and_then(|verified| verifier.check_policy(&verified.token, [("req_right", "lease")], ALLOW, None));
        match outcome {
            Ok(()) => {
                accepted.fetch_add(1, Ordering::SeqCst);
            }
            Err(error) => refusals.push(format!("{:?}: {}", error.code(), error.message())),
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    refusals
}

#[test]
fn rotating_the_issuer_key_refuses_no_valid_request() {
    let dir = tempdir("rotation");
    let (old_path, new_path) = (dir.join("old.key"), dir.join("new.key"));
    let (old_key, new_key) = (key_file(&old_path, 0o600), key_file(&new_path, 0o600));
    let old_log = dir.join("audit-1.log").to_str().unwrap().to_owned();
    let old_signer =
        Daemon::start_with_key(&dir, old_key.clone(), &old_path, &["--key-id", "1", "--audit-log", &old_log]);
    let trusted = |keys: &[(u32, &IssuerKey)]| {
        IssuerKeys::by_key_id(keys.iter().map(|(id, key)| (*id, key.public_key()))).unwrap()
    };
    let verifier = Arc::new(Verifier::new(VerifierConfig::new(trusted(&[(1, &old_key)]))).unwrap());
    let client = Arc::new(Mutex::new(old_signer.client()));
    let (stop, accepted) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let load: Vec<_> = (0..HOLDERS)
        .map(|name| {
            let (client, verifier, stop, accepted) = (client.clone(), verifier.clone(), stop.clone(), accepted.clone());
            std::thread::spawn(move || holder_load(client, verifier, stop, accepted, name))
        })
        .collect();
    // a holder of the old key whose token outlives the rotation (it expires in a minute)
    let straggler = WorkerKey::generate().unwrap();
    let long_lived = old_signer.client().mint(&mint_args(&straggler, &[("right", &["lease"])], 60.0)).unwrap().token;
    let straggler_request = |n: &str| {
        let request = Request::new("POST", "/lease", b"{}");
        let proof = make_proof(&straggler, &long_lived, &request, &format!("{}", now_seconds().floor()), n).unwrap();
        verifier.authenticate(&proof, &request, None).map(|_| ()).map_err(|e| e.code())
    };
    std::thread::sleep(Duration::from_millis(500));

    // 1. verifiers trust both keys before any token of the new one exists
    verifier.set_issuer(trusted(&[(1, &old_key), (2, &new_key)]));
    // 2. the new signer (its own socket and audit log: the log is signed by the key that writes
    //    it) takes over; holders mint from it as their old tokens run out
    let new_dir = dir.join("new");
    std::fs::create_dir_all(&new_dir).unwrap();
    let new_log = new_dir.join("audit-2.log").to_str().unwrap().to_owned();
    let new_signer =
        Daemon::start_with_key(&new_dir, new_key.clone(), &new_path, &["--key-id", "2", "--audit-log", &new_log]);
    *client.lock().unwrap() = new_signer.client();
    drop(old_signer);
    // 3. every token of the old key the holders use has expired (and been replaced)
    std::thread::sleep(Duration::from_secs_f64(TTL + 1.0));
    assert_eq!(straggler_request("before-retirement"), Ok(()), "the old key is still trusted");
    // 4. the old key is retired: the straggler's token, cached a moment ago, is refused at once
    verifier.set_issuer(trusted(&[(2, &new_key)]));
    assert_eq!(straggler_request("after-retirement"), Err(ErrorCode::TokenInvalid));
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::SeqCst);
    let refusals: Vec<String> = load.into_iter().flat_map(|holder| holder.join().unwrap()).collect();
    assert!(refusals.is_empty(), "valid requests refused during the rotation: {refusals:?}");
    let accepted = accepted.load(Ordering::SeqCst);
    assert!(accepted > 100, "the load was too light to show anything: {accepted} requests");
    eprintln!("rotation drill: {accepted} requests from {HOLDERS} holders accepted across the rotation, none refused");
    drop(new_signer);
    let _ = std::fs::remove_dir_all(&dir);
}
