//! Header and query parsing: the input split into lines of `name: value` (headers) and
//! `name=value` (query). A proof or MALFORMED_INPUT, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustcore_core::{parse_timestamp, proof_from_headers, proof_from_query, ErrorCode};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let headers: Vec<(&str, &str)> = text.lines().filter_map(|l| l.split_once(':')).collect();
    let query: Vec<(&str, &str)> = text.split('&').filter_map(|p| p.split_once('=')).collect();
    for outcome in [proof_from_headers(headers), proof_from_query(query)] {
        match outcome {
            Ok(proof) => {
                assert!(!proof.token.is_empty() && !proof.signature.is_empty());
                assert!(!proof.timestamp.is_empty() && !proof.nonce.is_empty());
            }
            Err(e) => assert_eq!(e.code(), ErrorCode::MalformedInput),
        }
    }
    if let Ok(t) = parse_timestamp(text) {
        assert!(t.is_finite());
    }
});
