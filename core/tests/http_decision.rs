//! What a server asks core besides `Verifier::decide`: the refusal of an announced body length
//! (the decision's first step on its own) and whether a verifier's calls may wait on the network.

use trustcore_core::http::{HttpPolicy, HttpRequest};
use trustcore_core::*;

const POLICY: &str = r#"{"routes": [{"method": "POST", "path": "/lease/{lane}", "allow": "allow if true"}],
    "max_body_bytes": 16}"#;

fn verifier(redis: Option<RedisConfig>) -> Verifier {
    let issuer = IssuerKey::generate().unwrap();
    let mut config = VerifierConfig::new(IssuerKeys::one(issuer.public_key()));
    config.redis = redis;
    Verifier::new(config).unwrap()
}

#[test]
fn body_length_refusal_is_the_decisions_first_step() {
    let policy = HttpPolicy::from_json(POLICY.as_bytes()).unwrap();
    for length in [0, 1, 16] {
        assert_eq!(policy.body_length_refusal(length), None, "{length}");
    }
    let verifier = verifier(None);
    for length in [17u64, 1 << 20, u64::MAX] {
        let refusal = policy.body_length_refusal(length).expect("over the cap");
        assert!(!refusal.allowed);
        assert_eq!((refusal.status, refusal.code), (413, Some(ErrorCode::LimitExceeded)));
        assert_eq!(refusal.headers, vec![("Content-Type".to_owned(), "application/json".to_owned())]);
        assert!(refusal.body.contains("\"LIMIT_EXCEEDED\""), "{}", refusal.body);
        assert_eq!((refusal.identity, refusal.route, refusal.profile), (None, None, None));
        assert!(refusal.facts.is_empty());
        // the same decision decide gives a body of that length (no credentials: step 1 refuses first)
        let body = vec![0u8; 17];
        let decided = verifier.decide(&HttpRequest::new("POST", "/lease/a", &[], &body), &policy, &[], None).unwrap();
        assert_eq!(policy.body_length_refusal(17), Some(decided));
    }
}

#[test]
fn may_wait_on_network_only_with_redis() {
    assert!(!verifier(None).may_wait_on_network());
    // nothing connects before the first request: the port need not listen
    assert!(verifier(Some(RedisConfig::new("redis://127.0.0.1:1/"))).may_wait_on_network());
}
