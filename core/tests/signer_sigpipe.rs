//! A signer that hangs up must give the client an error, not kill its host process: C and Go hosts
//! keep SIGPIPE's default action, so this test restores it (alone in its own test binary) first.

use std::os::unix::net::UnixListener;
use std::time::Duration;

use trustcore_core::*;

#[test]
fn a_peer_that_hangs_up_is_signer_unavailable_even_with_sigpipe_default() {
    // SAFETY: resetting one signal's disposition in this single-test process
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let dir = std::env::temp_dir().join(format!("trustcore-sigpipe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hangup.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let hangup = std::thread::spawn(move || {
        for _ in 0..2 {
            let (stream, _) = listener.accept().unwrap();
            drop(stream); // close before reading anything
        }
    });
    let client = SignerClient::new(
        SignerAddress::unix(&path).unwrap(),
        SignerClientOptions { connect_timeout: Duration::from_secs(1), request_timeout: Duration::from_secs(2) },
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    // a large request makes the write outlast the peer's close
    let job = serde_json::json!({"blob": "x".repeat(512 * 1024)}).as_object().unwrap().clone();
    for _ in 0..2 {
        assert_eq!(client.sign_job(&job, "w").unwrap_err().code(), ErrorCode::SignerUnavailable);
    }
    hangup.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
