//! Route policy files and path matching: the input is a policy (JSON) and, after a NUL, a request
//! line `METHOD TARGET`, decided with no credentials. A policy loads or is MALFORMED_INPUT; the
//! request is allowed only by a public route of that method, on a path `check_path` accepts (no dot
//! segments, no empty segment, no encoded slash or dot), and refused otherwise; never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use trustcore_core::http::{check_path, Access, HttpPolicy, HttpRequest};
use trustcore_core::*;

fn verifier() -> &'static Verifier {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        let issuer = IssuerKey::from_secret_hex(&"11".repeat(32)).unwrap();
        let mut config = VerifierConfig::new(IssuerKeys::one(issuer.public_key()));
        config.authorities = vec!["api.example.com".into()];
        Verifier::new(config).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let (policy_text, line) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"GET /"[..]),
    };
    let policy = match HttpPolicy::from_json(policy_text) {
        Ok(policy) => policy,
        Err(e) => return assert_eq!(e.code(), ErrorCode::MalformedInput, "{e:?}"),
    };
    let Ok(line) = std::str::from_utf8(line) else { return };
    let Some((method, target)) = line.split_once(' ') else { return };
    let headers = [("Host", "api.example.com")];
    let decision = verifier().decide(&HttpRequest::new(method, target, &headers, b""), &policy, &[], Some(1.7e9)).unwrap();
    if decision.allowed {
        let path = target.split_once('?').map_or(target, |(path, _)| path);
        assert!(check_path(path).is_ok(), "allowed on a path check_path refuses: {path:?}");
        let template = decision.route.as_deref().expect("an allowed decision names its route");
        assert!(
            policy.routes().iter().any(|r| r.path == template && r.method == method && matches!(r.access, Access::Public)),
            "allowed without credentials by {method} {template}, which is not a public route"
        );
    } else {
        assert!(decision.code.is_some());
    }
});
