//! The canonical request: five parts cut from the input. Either the five lines joined (and no part
//! holds CR or LF) or MALFORMED_INPUT.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustcore_core::{body_sha256_hex, canonical_request, ErrorCode};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(5, '\u{1f}');
    let (Some(method), Some(path), Some(timestamp), Some(nonce)) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let body = parts.next().unwrap_or("").as_bytes();
    let hash = body_sha256_hex(body);
    match canonical_request(method, path, &hash, timestamp, nonce) {
        Ok(bytes) => {
            assert!(![method, path, timestamp, nonce].iter().any(|p| p.contains(['\r', '\n'])));
            assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 4);
        }
        Err(e) => assert_eq!(e.code(), ErrorCode::MalformedInput),
    }
});
