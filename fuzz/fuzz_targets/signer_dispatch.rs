//! The signer's dispatch: any frame body, from an allowed and a refused peer. Always one answer of
//! the protocol's form; a refused peer is always SIGNER_REFUSED; nothing is signed for it.
#![no_main]

use std::collections::BTreeSet;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use trustcore_core::serde_json::Value;
use trustcore_core::signer::{Peer, SignerPolicy, SignerService};
use trustcore_core::*;

fn service() -> &'static SignerService {
    static SERVICE: OnceLock<SignerService> = OnceLock::new();
    SERVICE.get_or_init(|| {
        let policy = SignerPolicy {
            max_ttl_seconds: Some(3600.0),
            allowed_predicates: Some(BTreeSet::from(["right".to_owned(), "lane".to_owned()])),
            allowed_uids: Some(BTreeSet::from([1000])),
            allowed_job_workers: None,
            allowed_job_kinds: None,
            // delegable mints allowed up to 2, so the fuzzer reaches both sides of the ceiling
            max_delegation_depth: 2,
        };
        SignerService::new(IssuerKey::from_secret_hex(&"11".repeat(32)).unwrap(), Some(7), policy, None)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = decode_frame_body(data) else { return };
    let service = service();
    let now = 1_700_000_000.0;
    let allowed = service.answer(&frame, &Peer::Unix { uid: 1000, gid: 1000, pid: 1 }, now);
    assert!(matches!(allowed.response.get("ok"), Some(Value::Bool(_))));
    encode_frame(&allowed.response).expect("every answer encodes");
    if allowed.error.is_none() {
        assert!(allowed.response["result"].is_object());
    }
    let refused = service.answer(&frame, &Peer::Unix { uid: 0, gid: 0, pid: 1 }, now);
    assert_eq!(refused.error, Some(ErrorCode::SignerRefused));
    assert!(refused.response.get("result").is_none());
});
