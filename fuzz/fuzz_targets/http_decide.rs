//! The HTTP decision over arbitrary requests: the verifier and route policy of tests/vectors/
//! http.json's first case (its requests seed the corpus), a fresh verifier per input. A decision
//! whose status is the one the table gives its code, allowed only with credentials the policy's
//! issuer signed (or on a public route); never a panic.
#![no_main]

#[path = "common/raw_request.rs"]
mod raw_request;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use raw_request::RawRequest;
use serde_json::Value;
use trustcore_core::http::{status_for, Access, HttpPolicy};
use trustcore_core::*;

struct Fixture {
    config: VerifierConfig,
    policy: HttpPolicy,
    now: f64,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let vectors: Value = serde_json::from_str(include_str!("../../tests/vectors/http.json")).unwrap();
        let case = &vectors["cases"][0]["input"];
        let settings = &case["verifier"];
        let issuer = PublicKey::from_hex(settings["issuer_public_hex"].as_str().unwrap()).unwrap();
        let mut config = VerifierConfig::new(IssuerKeys::one(issuer));
        config.authorities =
            settings["authorities"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect();
        let policy = HttpPolicy::from_json(case["policy"].as_str().unwrap().as_bytes()).unwrap();
        Fixture { config, policy, now: case["steps"][0]["now"].as_f64().unwrap() }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(raw) = RawRequest::read(data) else { return };
    let fx = fixture();
    let verifier = Verifier::new(fx.config.clone()).unwrap();
    let decision = verifier.decide(&raw.http(), &fx.policy, &[], Some(fx.now)).unwrap();
    match decision.code {
        None => {
            assert!(decision.allowed && decision.status == 200);
            let template = decision.route.as_deref().expect("an allowed decision names its route");
            let public = fx.policy.routes().iter().any(|r| r.path == template && matches!(r.access, Access::Public));
            assert!(public || decision.identity.is_some(), "allowed with no identity on a route that is not public");
        }
        Some(code) => {
            assert!(!decision.allowed);
            // the table's status, except the two a code shares with another step (400, 413)
            assert!(decision.status == status_for(code) || matches!(decision.status, 400 | 413), "{decision:?}");
        }
    }
});
