//! Delegated-token verification: a token the issuer minted for A, delegated by A to B and by B to C
//! (two links), with the input's edits applied to its bytes (pairs of offset and XOR mask), then
//! presented with C's proof. Refused with a code, or accepted with exactly the original chain: no
//! edit may change who holds the token or who delegated it; never a panic.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use trustcore_core::*;

const NOW: f64 = 1_700_000_000.0;

struct Fixture {
    verifier: Verifier,
    last: WorkerKey,
    token: Vec<u8>,
    chain: Vec<Holder>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let issuer = IssuerKey::from_secret_hex(&"11".repeat(32)).unwrap();
        let keys: Vec<WorkerKey> =
            ["22", "33", "44"].iter().map(|b| WorkerKey::from_secret_hex(&b.repeat(32)).unwrap()).collect();
        let mint = MintRequest {
            public_hex: keys[0].public_hex(),
            holder_id: "a".into(),
            facts: vec![("right".into(), vec!["lease".into()])],
            revocation_id: Some("rev-a".into()),
            expires_at: NOW + 3600.0,
            root_key_id: None,
            delegation_depth: 2,
        };
        let mut token = mint_biscuit(&issuer, &mint).unwrap();
        for (from, (to, id)) in keys.iter().zip(keys[1..].iter().zip(["b", "c"])) {
            let request = DelegateRequest {
                to_public_hex: to.public_hex(),
                to_holder_id: id.into(),
                checks: "check if right(\"lease\");".into(),
                expires_at: NOW + 1800.0,
            };
            token = delegate(&token, from, &request).unwrap();
        }
        let mut config = VerifierConfig::new(IssuerKeys::one(issuer.public_key()));
        config.replay_capacity = 1_000_000;
        config.replay_capacity_per_holder = Some(1_000_000);
        let verifier = Verifier::new(config).unwrap();
        let chain = parse_token(&IssuerKeys::one(issuer.public_key()), &token).unwrap().delegation_chain().unwrap().unwrap();
        let last = WorkerKey::from_secret_hex(&"44".repeat(32)).unwrap();
        Fixture { verifier, last, token: token.into_bytes(), chain }
    })
}

fuzz_target!(|data: &[u8]| {
    let fx = fixture();
    let mut token = fx.token.clone();
    for edit in data.chunks_exact(3) {
        let offset = u16::from_le_bytes([edit[0], edit[1]]) as usize % token.len();
        token[offset] ^= edit[2];
    }
    let Ok(text) = std::str::from_utf8(&token) else { return };
    static NONCE: AtomicU64 = AtomicU64::new(0);
    let nonce = format!("n-{}", NONCE.fetch_add(1, Ordering::Relaxed));
    let request = Request::new("POST", "/lease", b"{}");
    let Ok(proof) = make_proof(&fx.last, text, &request, "1700000000", &nonce) else { return };
    match fx.verifier.authenticate(&proof, &request, Some(NOW)) {
        Ok(verified) => {
            assert_eq!(verified.identity.holder_id, "c");
            assert_eq!(verified.identity.chain, fx.chain, "an edited token changed the chain");
        }
        Err(e) => assert!(
            matches!(
                e.code(),
                ErrorCode::TokenInvalid
                    | ErrorCode::TokenUnbound
                    | ErrorCode::MalformedInput
                    | ErrorCode::LimitExceeded
                    | ErrorCode::DelegationInvalid
                    | ErrorCode::PopFailed
            ),
            "{e:?}"
        ),
    }
});
