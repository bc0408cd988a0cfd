//! RFC 9530 `Content-Digest`: sha-256 or sha-512 of the body, as a structured dictionary.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256, Sha512};

use crate::error::{Error, ErrorCode, Result};
use crate::http::fields::{parse_dictionary, MAX_FIELD_BYTES};
use crate::http::message::HttpRequest;
use crate::keys::constant_time_equal;

/// The `Content-Digest` value a signer sends for `body`: its SHA-256.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)))
}

/// Check the request's `Content-Digest` against its body. Every sha-256 and sha-512 member must
/// match, other algorithms are ignored (RFC 9530 §2) and at least one of the two must be there.
/// A missing or unreadable field is MALFORMED_INPUT; a digest that does not match is POP_FAILED:
/// the body is not the one the holder signed.
pub(crate) fn check_content_digest(request: &HttpRequest<'_>) -> Result<()> {
    let text = request
        .header_combined("content-digest", MAX_FIELD_BYTES)?
        .ok_or_else(|| Error::malformed("missing Content-Digest"))?;
    let members = parse_dictionary("Content-Digest", &text)?;
    let mut checked = 0;
    for (algorithm, member) in &members {
        let expected: Vec<u8> = match algorithm.as_str() {
            "sha-256" => Sha256::digest(request.body).to_vec(),
            "sha-512" => Sha512::digest(request.body).to_vec(),
            _ => continue,
        };
        let sent = match member {
            sfv::ListEntry::Item(item) => item.bare_item.as_byte_sequence(),
            sfv::ListEntry::InnerList(_) => None,
        }
        .ok_or_else(|| Error::malformed(format!("Content-Digest {algorithm} is not a byte sequence")))?;
        if !constant_time_equal(sent, &expected) {
            return Err(Error::new(ErrorCode::PopFailed, "the body does not match its Content-Digest"));
        }
        checked += 1;
    }
    if checked == 0 {
        return Err(Error::malformed("Content-Digest has no sha-256 or sha-512 member"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc_9530_samples() {
        // RFC 9530 Appendix D: {"hello": "world"}
        assert_eq!(content_digest(br#"{"hello": "world"}"#), "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
        let check = |digest: &str, body: &[u8]| {
            let headers = [("Content-Digest", digest)];
            check_content_digest(&HttpRequest::new("POST", "/", &headers, body)).map_err(|e| e.code())
        };
        let sha512 =
            "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:";
        assert_eq!(check(sha512, br#"{"hello": "world"}"#), Ok(()));
        assert_eq!(check(sha512, b"{}"), Err(ErrorCode::PopFailed));
        assert_eq!(check("md5=:AAAA:", b""), Err(ErrorCode::MalformedInput));
        assert_eq!(check("sha-256=1", b""), Err(ErrorCode::MalformedInput));
    }
}
