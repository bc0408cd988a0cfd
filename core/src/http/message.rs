//! One HTTP request as a server received it: method, request target, header lines in order, body.
//! Borrowed, so nothing is copied; every reading of it (a header, the authority, the path, the
//! query) is done here, once, with the refusals of docs/DESIGN.md §10.

use std::borrow::Cow;

use crate::error::{Error, Result};

/// The request target may not be longer than this (bytes): the path and query become facts.
pub const MAX_TARGET_BYTES: usize = 8 * 1024;

/// A request as received. `target` is the request target in origin form (`/path?query`), as on the
/// request line; `headers` are the header lines in the order they arrived (names in any case).
#[derive(Clone, Copy, Debug)]
pub struct HttpRequest<'a> {
    pub method: &'a str,
    pub target: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// Whether a header value holds CR, LF or NUL, which would let one line pose as two.
fn breaks_line(value: &str) -> bool {
    memchr::memchr3(b'\r', b'\n', 0, value.as_bytes()).is_some()
}

impl<'a> HttpRequest<'a> {
    pub fn new(method: &'a str, target: &'a str, headers: &'a [(&'a str, &'a str)], body: &'a [u8]) -> Self {
        HttpRequest { method, target, headers, body }
    }

    /// The values of every line named `name` (any case), in order, each trimmed of spaces and tabs.
    /// A value holding CR, LF or NUL is MALFORMED_INPUT: it would let one line pose as two.
    pub fn header_values(&self, name: &str) -> Result<Vec<&'a str>> {
        self.lines(name).collect()
    }

    /// [`header_values`](Self::header_values) one line at a time: the readers below look up a
    /// dozen fields a request, and most appear once, so nothing is collected.
    fn lines<'n>(self, name: &'n str) -> impl Iterator<Item = Result<&'a str>> + use<'a, 'n> {
        self.headers.iter().filter(move |(line_name, _)| line_name.eq_ignore_ascii_case(name)).map(move |(_, value)| {
            if breaks_line(value) {
                Err(Error::malformed(format!("header {name} holds CR, LF or NUL")))
            } else {
                Ok(value.trim_matches([' ', '\t']))
            }
        })
    }

    /// RFC 9421 §2.1: every line of the field, joined by ", "; None when there is none. A field
    /// whose lines add up to more than `cap` bytes is MALFORMED_INPUT before anything is joined.
    pub fn header_combined(&self, name: &str, cap: usize) -> Result<Option<Cow<'a, str>>> {
        let (mut first, mut count, mut joined) = (None, 0usize, 0usize);
        for value in self.lines(name) {
            let value = value?;
            joined += value.len() + if count > 0 { 2 } else { 0 };
            count += 1;
            first.get_or_insert(value);
        }
        if joined > cap {
            return Err(Error::malformed(format!("header {name} is over {cap} bytes")));
        }
        Ok(match (first, count) {
            (None, _) => None,
            // the common case, one line: borrowed, nothing copied
            (Some(one), 1) => Some(Cow::Borrowed(one)),
            _ => {
                let mut all = String::with_capacity(joined);
                for (i, value) in self.lines(name).enumerate() {
                    if i > 0 {
                        all.push_str(", ");
                    }
                    all.push_str(value?);
                }
                Some(Cow::Owned(all))
            }
        })
    }

    /// The one value of a field that must appear at most once (None when absent).
    pub fn header_single(&self, name: &str) -> Result<Option<&'a str>> {
        let mut lines = self.lines(name);
        let Some(one) = lines.next().transpose()? else { return Ok(None) };
        match lines.next().transpose()? {
            None => Ok(Some(one)),
            Some(_) => Err(Error::malformed(format!("header {name} given more than once"))),
        }
    }

    /// The authority the client addressed: the one `Host` header, normalized (RFC 9421 §2.2.3, RFC
    /// 9110 §4.2.3): lower-cased, and without `:80` or `:443`, the default ports of the two schemes.
    pub fn authority(&self) -> Result<String> {
        let host = self.header_single("host")?.ok_or_else(|| Error::malformed("missing Host header"))?;
        normalize_authority(host)
    }

    /// The path and the query (without its `?`; None when the target has no `?`).
    pub fn path_and_query(&self) -> Result<(&'a str, Option<&'a str>)> {
        check_target(self.target)?;
        Ok(match self.target.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (self.target, None),
        })
    }

    /// MALFORMED_INPUT unless every header name is an RFC 9110 token and no value holds CR, LF or
    /// NUL: a line that could be read as two is refused whether or not anything reads it.
    pub fn check_headers(&self) -> Result<()> {
        for (name, value) in self.headers {
            if name.is_empty() || !name.bytes().all(is_tchar) {
                return Err(Error::malformed("a header name is not an HTTP token"));
            }
            if breaks_line(value) {
                return Err(Error::malformed(format!("header {name} holds CR, LF or NUL")));
            }
        }
        self.check_content_length()
    }

    /// Every `Content-Length` line, when there is one, is the body's length in decimal (RFC 9110
    /// §8.6): a body that ended early or ran long is not the message that was announced, whatever
    /// the server let through (a WSGI server hands on a body cut short by the client's EOF).
    fn check_content_length(&self) -> Result<()> {
        for value in self.lines("content-length") {
            let value = value?;
            let announced = (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
                .then(|| value.parse::<u64>().ok())
                .flatten()
                .ok_or_else(|| Error::malformed("Content-Length is not a decimal length"))?;
            if announced != self.body.len() as u64 {
                return Err(Error::malformed(format!(
                    "the body is {} bytes, its Content-Length says {announced}",
                    self.body.len()
                )));
            }
        }
        Ok(())
    }

    /// The method: an RFC 9110 token, kept in the case it was sent (methods are case-sensitive).
    pub fn checked_method(&self) -> Result<&'a str> {
        if self.method.is_empty() || !self.method.bytes().all(is_tchar) {
            return Err(Error::malformed("the method is not an HTTP token"));
        }
        Ok(self.method)
    }
}

/// A request target this module reads: origin form only (`/…`), visible ASCII, no fragment, within
/// [`MAX_TARGET_BYTES`]. Absolute form and asterisk form are MALFORMED_INPUT: a server hands its
/// application the origin form.
pub(crate) fn check_target(target: &str) -> Result<()> {
    if target.len() > MAX_TARGET_BYTES {
        return Err(Error::malformed(format!("the request target is over {MAX_TARGET_BYTES} bytes")));
    }
    if !target.starts_with('/') {
        return Err(Error::malformed("the request target must be in origin form (start with '/')"));
    }
    if !target.bytes().all(|b| b.is_ascii_graphic()) || target.contains('#') {
        return Err(Error::malformed("the request target holds a byte outside visible ASCII, or a fragment"));
    }
    Ok(())
}

/// An authority lower-cased, a default port (`:80`, `:443`) dropped. The request does not say its
/// scheme, so either default is dropped whatever the scheme: a service on port 80 over TLS, or 443
/// in clear text, is not supported.
pub(crate) fn normalize_authority(authority: &str) -> Result<String> {
    check_authority(authority)?;
    let mut host = authority.to_ascii_lowercase();
    if let Some(kept) = host.strip_suffix(":443").or_else(|| host.strip_suffix(":80")).map(str::len) {
        host.truncate(kept);
    }
    Ok(host)
}

/// host[:port] as an authority: letters, digits, `.`, `-`, `:`, `[`, `]` (IPv6), nothing else (no
/// user info, no spaces), at most 255 bytes.
pub(crate) fn check_authority(authority: &str) -> Result<()> {
    let ok = !authority.is_empty()
        && authority.len() <= 255
        && authority.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if ok {
        Ok(())
    } else {
        Err(Error::malformed(format!("{authority:?} is not a host[:port] authority")))
    }
}

/// RFC 9110 §5.6.2 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_content_length_must_be_the_body_length() {
        let check = |value: &str, body: &[u8]| {
            let headers = [("Host", "a.example"), ("Content-Length", value)];
            HttpRequest::new("POST", "/", &headers, body).check_headers().map_err(|e| e.code())
        };
        assert_eq!(check("2", b"{}"), Ok(()));
        for (value, body) in
            [("3", &b"{}"[..]), ("1", b"{}"), ("", b""), ("+2", b"{}"), ("0x2", b"{}"), ("2, 3", b"{}")]
        {
            assert_eq!(check(value, body), Err(crate::ErrorCode::MalformedInput), "{value:?}");
        }
        let none: [(&str, &str); 0] = [];
        assert!(
            HttpRequest::new("POST", "/", &none, b"{}").check_headers().is_ok(),
            "none announced: nothing to check"
        );
    }

    #[test]
    fn reads_headers_in_any_case_and_joins_lines() {
        let headers = [("Accept", " a "), ("host", "Example.COM:8443"), ("ACCEPT", "b")];
        let request = HttpRequest::new("GET", "/x?y=1", &headers, b"");
        assert_eq!(request.header_combined("accept", 16).unwrap().as_deref(), Some("a, b"));
        // the lines' total is judged before they are joined: "a, b" is 4 bytes
        assert_eq!(request.header_combined("accept", 4).unwrap().as_deref(), Some("a, b"));
        assert_eq!(request.header_combined("accept", 3).unwrap_err().code(), crate::ErrorCode::MalformedInput);
        assert_eq!(request.authority().unwrap(), "example.com:8443");
        for (host, authority) in [("A.example:443", "a.example"), ("a.example:80", "a.example"), ("[::1]:443", "[::1]")]
        {
            let headers = [("Host", host)];
            assert_eq!(HttpRequest::new("GET", "/", &headers, b"").authority().unwrap(), authority);
        }
        assert_eq!(request.path_and_query().unwrap(), ("/x", Some("y=1")));
        assert!(request.header_single("accept").is_err());
    }

    #[test]
    fn refuses_odd_targets_and_values() {
        for target in ["*", "http://a/b", "/a b", "/a#f", ""] {
            assert!(HttpRequest::new("GET", target, &[], b"").path_and_query().is_err(), "{target}");
        }
        let headers = [("X", "a\r\nInjected: 1")];
        assert!(HttpRequest::new("GET", "/", &headers, b"").header_values("x").is_err());
        assert!(HttpRequest::new("G ET", "/", &[], b"").checked_method().is_err());
        let headers = [("Host", "user@evil")];
        assert!(HttpRequest::new("GET", "/", &headers, b"").authority().is_err());
    }
}
