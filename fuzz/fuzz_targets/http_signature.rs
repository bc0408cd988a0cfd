//! RFC 9421 reading: structured-field parsing (Signature-Input, Signature, Content-Digest) and the
//! signature base of any request, then strict verification with a fixed key. A base or a code from
//! the table (MALFORMED_INPUT, POP_FAILED); never a panic, never a pass for a key that signed nothing.
#![no_main]

#[path = "common/raw_request.rs"]
mod raw_request;

use libfuzzer_sys::fuzz_target;
use raw_request::RawRequest;
use trustcore_core::http::{signature_base, verify_message_signature, TRUSTCORE_LABEL};
use trustcore_core::*;

fuzz_target!(|data: &[u8]| {
    let Some(raw) = RawRequest::read(data) else { return };
    let request = raw.http();
    match signature_base(&request, TRUSTCORE_LABEL) {
        Ok(base) => assert!(!base.is_empty()),
        Err(e) => assert_eq!(e.code(), ErrorCode::MalformedInput, "{e:?}"),
    }
    // a key no input can have signed with: only a refusal may come back
    let key = WorkerKey::from_secret_hex(&"33".repeat(32)).unwrap().public_key();
    let refused = verify_message_signature(&request, TRUSTCORE_LABEL, &key).unwrap_err();
    assert!(matches!(refused.code(), ErrorCode::MalformedInput | ErrorCode::PopFailed), "{refused:?}");
});
