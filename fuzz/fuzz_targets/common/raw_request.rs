//! A fuzz input read as one HTTP request, written as on the wire: `METHOD TARGET`, then header
//! lines `Name: value`, an empty line, then the body (LF or CRLF line ends). Anything else makes no
//! request. Shared by the HTTP targets (`#[path]`-included).

pub struct RawRequest<'a> {
    pub method: &'a str,
    pub target: &'a str,
    pub headers: Vec<(&'a str, &'a str)>,
    pub body: &'a [u8],
}

impl<'a> RawRequest<'a> {
    pub fn read(data: &'a [u8]) -> Option<RawRequest<'a>> {
        let head_len = find(data, b"\n\n").or_else(|| find(data, b"\r\n\r\n"))?;
        let (head, rest) = data.split_at(head_len);
        let body = rest.strip_prefix(b"\r\n\r\n").or_else(|| rest.strip_prefix(b"\n\n"))?;
        let head = std::str::from_utf8(head).ok()?;
        let mut lines = head.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line));
        let (method, target) = lines.next()?.split_once(' ')?;
        let headers = lines.map(|line| line.split_once(':').map(|(n, v)| (n, v.trim_start()))).collect::<Option<_>>()?;
        Some(RawRequest { method, target, headers, body })
    }

    pub fn http(&self) -> trustcore_core::http::HttpRequest<'_> {
        trustcore_core::http::HttpRequest::new(self.method, self.target, &self.headers, self.body)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
