//! Network faults between a verifier and a real Redis, through a fault proxy on loopback
//! (support/fault_proxy.rs): a delay past the command timeout, dropped connections, a black hole
//! (open connections that never answer), a reset in the middle of a reply. Under each, every request
//! answers within its request timeout (plus scheduling slack) with STORE_UNAVAILABLE or its right
//! code, a revoked token and a replayed nonce never pass, and once the proxy heals service resumes
//! by itself.

#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/live_fixture.rs"]
mod live_fixture;

use std::time::{Duration, Instant};

use fault_proxy::{Fault, FaultProxy};
use live_fixture::{fx, proof, Fx, REQUEST};
use trustcore_core::*;
use trustcore_tools::testenv::RedisServer;

const REQUEST_TIMEOUT: Duration = Duration::from_millis(400);
const RETRY_INTERVAL: Duration = Duration::from_millis(200);
/// What a request may take beyond its request timeout on a busy 2-core machine: a bound that says
/// "within its timeout", not a speed.
const SLACK: Duration = Duration::from_millis(600);

fn verifier(fx: &Fx, url: &str) -> Verifier {
    let mut redis = RedisConfig::new(url);
    redis.key_prefix = format!("faults-{}:", std::process::id());
    redis.connect_timeout = Duration::from_millis(300);
    redis.command_timeout = Duration::from_millis(300);
    redis.request_timeout = REQUEST_TIMEOUT;
    redis.retry_interval = RETRY_INTERVAL;
    let mut config = VerifierConfig::new(IssuerKeys::one(fx.issuer.public_key()));
    config.redis = Some(redis);
    Verifier::new(config).unwrap()
}

/// Authenticate, timed: the code (None when accepted), checked to end within its bound.
fn attempt(verifier: &Verifier, proof: &WorkerProof, what: &str) -> Option<ErrorCode> {
    let started = Instant::now();
    let outcome = verifier.authenticate(proof, &REQUEST, None);
    let spent = started.elapsed();
    assert!(spent < REQUEST_TIMEOUT + SLACK, "{what}: {spent:?} for a {REQUEST_TIMEOUT:?} request timeout");
    outcome.err().map(|e| e.code())
}

#[test]
fn every_network_fault_is_store_unavailable_within_the_timeout_and_never_a_pass() {
    let redis = RedisServer::start().unwrap();
    let upstream = redis.url().trim_start_matches("redis://").trim_end_matches('/').to_owned();
    let proxy = FaultProxy::start(upstream);
    let (fx, thief) = (fx(), fx());
    let verifier = verifier(&fx, &proxy.url());
    // a token revoked and a nonce used while Redis was reachable
    let revoked = {
        let other = Fx { issuer: fx.issuer.clone(), ..thief };
        verifier.revoke("rev-revoked").unwrap();
        let token = mint_biscuit(
            &other.issuer,
            &MintRequest {
                public_hex: other.holder.public_hex(),
                holder_id: "revoked".into(),
                facts: vec![],
                revocation_id: Some("rev-revoked".into()),
                expires_at: now_seconds() + 3600.0,
                root_key_id: None,
                delegation_depth: 0,
            },
        )
        .unwrap();
        Fx { token, ..other }
    };
    let used = proof(&fx, "used-before");
    assert_eq!(attempt(&verifier, &used, "before the faults"), None);

    // a short delay is only slow: its requests pass (and the revoked and the replayed are refused
    // with their own codes); every other fault is STORE_UNAVAILABLE
    let unavailable = Some(ErrorCode::StoreUnavailable);
    let faults = [
        (Fault::Delay(Duration::from_millis(50)), None),
        (Fault::Delay(Duration::from_millis(700)), unavailable),
        (Fault::Drop, unavailable),
        (Fault::BlackHole, unavailable),
        (Fault::ResetMidReply, unavailable),
    ];
    for (round, (fault, fresh)) in faults.into_iter().enumerate() {
        proxy.set(fault);
        let mut codes = Vec::new();
        for i in 0..6 {
            codes.push(attempt(&verifier, &proof(&fx, &format!("r{round}-{i}")), &format!("{fault:?}")));
            let revoked_code = attempt(&verifier, &proof(&revoked, &format!("rv{round}-{i}")), &format!("{fault:?}"));
            assert!(revoked_code.is_some(), "{fault:?}: a revoked token passed");
            let replay_code = attempt(&verifier, &used, &format!("{fault:?}"));
            assert!(replay_code.is_some(), "{fault:?}: a replayed nonce passed");
        }
        assert!(codes.iter().all(|code| *code == fresh), "{fault:?}: fresh requests must be {fresh:?}: {codes:?}");
        // healed: service resumes by itself within a few retry intervals
        proxy.set(Fault::None);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut n = 0;
        loop {
            n += 1;
            match attempt(&verifier, &proof(&fx, &format!("heal{round}-{n}")), "healing") {
                None => break,
                Some(code) => {
                    assert_eq!(code, ErrorCode::StoreUnavailable);
                    assert!(Instant::now() < deadline, "{fault:?}: service did not resume after the proxy healed");
                    std::thread::sleep(RETRY_INTERVAL / 2);
                }
            }
        }
        assert_eq!(
            attempt(&verifier, &proof(&revoked, &format!("rv-healed{round}")), "healed"),
            Some(ErrorCode::Revoked)
        );
        assert_eq!(attempt(&verifier, &used, "healed"), Some(ErrorCode::Replayed));
    }
}
