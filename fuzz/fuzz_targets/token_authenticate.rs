//! Token parse + authenticate + authorize: the input as a token (base64 text and raw bytes),
//! authenticated against a fixed issuer with a proof made for it, then authorized. A result or a
//! code from the table; never a panic, never a pass for a token the issuer did not sign.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use trustcore_core::*;

struct Fixture {
    issuer: IssuerKeys,
    holder: WorkerKey,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| Fixture {
        issuer: IssuerKeys::one(IssuerKey::from_secret_hex(&"11".repeat(32)).unwrap().public_key()),
        holder: WorkerKey::from_secret_hex(&"22".repeat(32)).unwrap(),
    })
}

fuzz_target!(|data: &[u8]| {
    let fx = fixture();
    if let Ok(token) = parse_token_bytes(&fx.issuer, data) {
        // only a token signed by the fixed issuer gets here; libFuzzer cannot forge one
        let _ = token.identity();
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let request = Request::new("POST", "/lease", b"{}");
    let Ok(proof) = make_proof(&fx.holder, text, &request, "1700000000", "n-1") else { return };
    let options = AuthenticateOptions::new(1_700_000_000.0, 300.0);
    match authenticate(&fx.issuer, &proof, &request, &Vec::<String>::new(), &options) {
        Ok((token, _)) => {
            let _ = check_policy(&token, [("req_right", "lease")], "allow if req_right($r), right($r)", options.now, &options.limits);
        }
        Err(e) => assert!(matches!(
            e.code(),
            ErrorCode::TokenInvalid | ErrorCode::TokenUnbound | ErrorCode::MalformedInput | ErrorCode::LimitExceeded
        )),
    }
    let _ = inspect_unverified(text);
});
