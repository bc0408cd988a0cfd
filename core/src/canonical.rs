//! The canonical request: the exact bytes a holder signs and a verifier re-derives.
//!
//! `METHOD "\n" PATH "\n" hex(sha256(BODY)) "\n" TIMESTAMP "\n" NONCE`, UTF-8, identical to trust-core 0.1.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// One request as the proof binds it: verb, route (with its query string) and the exact body bytes.
/// Borrowed, so a verifier never copies a large body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub body: &'a [u8],
}

impl<'a> Request<'a> {
    pub fn new(method: &'a str, path: &'a str, body: &'a [u8]) -> Self {
        Request { method, path, body }
    }

    /// The bytes the holder signs for this request at `timestamp` with `nonce`.
    pub fn canonical(&self, timestamp: &str, nonce: &str) -> Result<Vec<u8>> {
        canonical_request(self.method, self.path, &body_sha256_hex(self.body), timestamp, nonce)
    }
}

/// hex(sha256(body)): hashed once per request, so even a large body is read a single time.
pub fn body_sha256_hex(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Join the five lines. A part holding CR or LF is refused: with it two different requests
/// could produce the same signed bytes.
pub fn canonical_request(
    method: &str,
    path: &str,
    body_sha256_hex: &str,
    timestamp: &str,
    nonce: &str,
) -> Result<Vec<u8>> {
    crate::fault::on_method(method);
    for (name, value) in [("method", method), ("path", path), ("timestamp", timestamp), ("nonce", nonce)] {
        if value.bytes().any(|b| b == b'\n' || b == b'\r') {
            return Err(Error::malformed(format!("request {name} contains a line break")));
        }
    }
    let mut out = Vec::with_capacity(method.len() + path.len() + 64 + timestamp.len() + nonce.len() + 4);
    for (i, part) in [method, path, body_sha256_hex, timestamp, nonce].into_iter().enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(part.as_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_five_lines() {
        let bytes = Request::new("POST", "/lease", b"{}").canonical("1700000000", "n1").unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "POST\n/lease\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\n1700000000\nn1"
        );
    }

    #[test]
    fn refuses_line_breaks_in_every_part() {
        for (m, p, t, n) in
            [("PO\nST", "/", "1", "n"), ("GET", "/a\r", "1", "n"), ("GET", "/", "1\n", "n"), ("GET", "/", "1", "\r\n")]
        {
            let err = Request::new(m, p, b"").canonical(t, n).unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::MalformedInput);
        }
    }
}
