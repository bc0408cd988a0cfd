//! The route policy (docs/DESIGN.md §10.2): routes by method and path template, each public or
//! guarded by an allow policy, read from one JSON document that services in any language share.
//! Paths are matched on the exact bytes the holder signed; a path a router could read two ways
//! (dot segments, `//`, encoded `.`, `/`, `\` or `%`, `;`) is refused before any route is tried.

use serde_json::{Map, Value};

use crate::biscuit::check_identifier;
use crate::error::{Error, ErrorCode, Result};
use crate::policy::parse_allow_policy;

/// The body cap when the policy names none: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 1024 * 1024;
/// A policy holds at most this many routes.
pub const MAX_ROUTES: usize = 1024;
/// A policy document may not be longer than this (bytes).
pub const MAX_POLICY_BYTES: usize = 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter(String),
}

/// Who may use a route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone: no credentials are read.
    Public,
    /// Authenticated holders for whom this allow policy holds.
    Allow(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    /// The template as written (`/lease/{lane}`): the `req_route` fact.
    pub path: String,
    pub access: Access,
    segments: Vec<Segment>,
    /// The allow policy, parsed when the document was read.
    parsed: Option<biscuit_auth::builder::Policy>,
}

impl Route {
    pub(crate) fn parsed_allow(&self) -> Option<&biscuit_auth::builder::Policy> {
        self.parsed.as_ref()
    }
}

/// A route policy, checked whole when it is read: any error refuses the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpPolicy {
    routes: Vec<Route>,
    max_body_bytes: u64,
}

/// A route that matched, with its path parameters (name, raw segment) in template order.
#[derive(Debug)]
pub(crate) struct Matched<'p, 'r> {
    pub route: &'p Route,
    pub parameters: Vec<(&'p str, &'r str)>,
}

impl HttpPolicy {
    /// Read a policy document: `{"routes": [{"method", "path", "allow" | "public": true}, …],
    /// "max_body_bytes": n}`. Unknown keys, a bad template, an allow policy that does not parse, a
    /// route given twice: MALFORMED_INPUT.
    pub fn from_json(text: &[u8]) -> Result<Self> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(Error::malformed(format!("a route policy is at most {MAX_POLICY_BYTES} bytes")));
        }
        let document = crate::json::parse_object(text, ErrorCode::MalformedInput)?;
        check_keys(&document, &["routes", "max_body_bytes"], "route policy")?;
        let max_body_bytes = match document.get("max_body_bytes") {
            None => DEFAULT_MAX_BODY_BYTES,
            Some(value) => value.as_u64().ok_or_else(|| Error::malformed("max_body_bytes must be a whole number"))?,
        };
        let routes = document
            .get("routes")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::malformed("a route policy needs a \"routes\" array"))?;
        if routes.len() > MAX_ROUTES {
            return Err(Error::malformed(format!("a route policy holds at most {MAX_ROUTES} routes")));
        }
        let mut parsed: Vec<Route> = Vec::with_capacity(routes.len());
        for (index, route) in routes.iter().enumerate() {
            let route = read_route(route).map_err(|e| Error::malformed(format!("route {index}: {}", e.message())))?;
            if parsed.iter().any(|other| other.method == route.method && same_shape(&other.segments, &route.segments)) {
                return Err(Error::malformed(format!("route {index}: {} {} is given twice", route.method, route.path)));
            }
            parsed.push(route);
        }
        Ok(HttpPolicy { routes: parsed, max_body_bytes })
    }

    /// Read a policy file (see [`HttpPolicy::from_json`]).
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self> {
        use std::io::Read;
        let file = std::fs::File::open(path.as_ref())
            .map_err(|e| Error::malformed(format!("cannot read route policy {}: {e}", path.as_ref().display())))?;
        let mut text = Vec::new();
        file.take(MAX_POLICY_BYTES as u64 + 1)
            .read_to_end(&mut text)
            .map_err(|e| Error::malformed(format!("cannot read route policy: {e}")))?;
        Self::from_json(&text)
    }

    /// The largest body a request may carry (LIMIT_EXCEEDED, status 413, past it); a server reads
    /// no more than this.
    pub fn max_body_bytes(&self) -> u64 {
        self.max_body_bytes
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The first route, in document order, whose method is `method` (exactly: methods are
    /// case-sensitive) and whose template matches `path` segment by segment.
    pub(crate) fn route<'p, 'r>(&'p self, method: &str, path: &'r str) -> Option<Matched<'p, 'r>> {
        let segments: Vec<&str> = split_path(path);
        self.routes.iter().filter(|route| route.method == method).find_map(|route| {
            if route.segments.len() != segments.len() {
                return None;
            }
            let mut parameters = Vec::new();
            for (template, segment) in route.segments.iter().zip(&segments) {
                match template {
                    Segment::Literal(literal) if literal == segment => {}
                    Segment::Literal(_) => return None,
                    Segment::Parameter(name) => parameters.push((name.as_str(), *segment)),
                }
            }
            Some(Matched { route, parameters })
        })
    }
}

/// Two templates that match the same paths (parameter names aside).
fn same_shape(left: &[Segment], right: &[Segment]) -> bool {
    left.len() == right.len()
        && left.iter().zip(right).all(|pair| match pair {
            (Segment::Literal(l), Segment::Literal(r)) => l == r,
            (Segment::Parameter(_), Segment::Parameter(_)) => true,
            _ => false,
        })
}

fn check_keys(object: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<()> {
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => Err(Error::malformed(format!("unknown key {key:?} in a {what}"))),
        None => Ok(()),
    }
}

fn read_route(value: &Value) -> Result<Route> {
    let object = value.as_object().ok_or_else(|| Error::malformed("a route is an object"))?;
    check_keys(object, &["method", "path", "allow", "public"], "route")?;
    let method = object.get("method").and_then(Value::as_str).ok_or_else(|| Error::malformed("no method"))?;
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Error::malformed(format!("method {method:?} must be upper-case letters")));
    }
    let path = object.get("path").and_then(Value::as_str).ok_or_else(|| Error::malformed("no path"))?;
    let segments = read_template(path)?;
    let (access, parsed) = match (object.get("allow"), object.get("public")) {
        (Some(Value::String(allow)), None) => (Access::Allow(allow.clone()), Some(parse_allow_policy(allow)?)),
        (None, Some(Value::Bool(true))) => (Access::Public, None),
        _ => return Err(Error::malformed("a route has either an \"allow\" policy or \"public\": true")),
    };
    Ok(Route { method: method.to_owned(), path: path.to_owned(), access, segments, parsed })
}

fn read_template(path: &str) -> Result<Vec<Segment>> {
    check_path(path).map_err(|e| Error::malformed(format!("template {path:?}: {}", e.message())))?;
    let mut names: Vec<&str> = Vec::new();
    split_path(path)
        .into_iter()
        .map(|segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                check_identifier(name, "path parameter name")?;
                if name.len() > 64 || names.contains(&name) {
                    return Err(Error::malformed(format!("path parameter {name:?} is too long or given twice")));
                }
                names.push(name);
                Ok(Segment::Parameter(name.to_owned()))
            }
            None if segment.contains(['{', '}']) => {
                Err(Error::malformed(format!("segment {segment:?}: a parameter takes a whole segment")))
            }
            None => Ok(Segment::Literal(segment.to_owned())),
        })
        .collect()
}

/// The segments of a checked path (`/` has none).
fn split_path(path: &str) -> Vec<&str> {
    if path == "/" {
        Vec::new()
    } else {
        path[1..].split('/').collect()
    }
}

/// A path that every router reads one way: starts with `/`, visible ASCII, no empty segment (`//`,
/// a trailing `/`), no `.` or `..` segment, no `\` or `;`, and a `%` only as an escape of a byte
/// other than `.`, `/`, `\`, `%`, NUL or a control character. Else MALFORMED_INPUT.
pub fn check_path(path: &str) -> Result<()> {
    if !path.starts_with('/') || !path.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::malformed("a path starts with '/' and holds visible ASCII only"));
    }
    if path == "/" {
        return Ok(());
    }
    for segment in path[1..].split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(Error::malformed("a path may not hold an empty, '.' or '..' segment"));
        }
    }
    if path.contains(['\\', ';']) {
        return Err(Error::malformed("a path may not hold '\\' or ';'"));
    }
    let bytes = path.as_bytes();
    for (i, _) in path.match_indices('%') {
        let escaped = bytes
            .get(i + 1..i + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .ok_or_else(|| Error::malformed("a '%' in a path must start an escape of two hex digits"))?;
        if matches!(escaped, b'.' | b'/' | b'\\' | b'%') || escaped < 0x20 || escaped == 0x7f {
            return Err(Error::malformed("a path may not escape '.', '/', '\\', '%' or a control character"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(routes: &str) -> Result<HttpPolicy> {
        HttpPolicy::from_json(format!(r#"{{"routes": {routes}}}"#).as_bytes())
    }

    #[test]
    fn matches_templates_in_order() {
        let p = policy(
            r#"[{"method": "GET", "path": "/lease/{lane}", "allow": "allow if true"},
                {"method": "GET", "path": "/lease/all", "public": true},
                {"method": "GET", "path": "/", "public": true}]"#,
        )
        .unwrap();
        let m = p.route("GET", "/lease/a%20b").unwrap();
        assert_eq!((m.route.path.as_str(), m.parameters), ("/lease/{lane}", vec![("lane", "a%20b")]));
        assert_eq!(p.route("GET", "/lease/all").unwrap().route.path, "/lease/{lane}");
        assert_eq!(p.route("GET", "/").unwrap().route.access, Access::Public);
        assert!(p.route("get", "/lease/a").is_none());
        assert!(p.route("GET", "/lease").is_none());
        assert!(p.route("GET", "/lease/a/b").is_none());
    }

    #[test]
    fn refuses_bad_documents() {
        for routes in [
            r#"[{"method": "GET", "path": "/a", "alow": "allow if true"}]"#,
            r#"[{"method": "GET", "path": "/a"}]"#,
            r#"[{"method": "GET", "path": "/a", "public": true, "allow": "allow if true"}]"#,
            r#"[{"method": "GET", "path": "/a", "public": false}]"#,
            r#"[{"method": "get", "path": "/a", "public": true}]"#,
            r#"[{"method": "GET", "path": "/a/{x}/{x}", "public": true}]"#,
            r#"[{"method": "GET", "path": "/a/x{y}", "public": true}]"#,
            r#"[{"method": "GET", "path": "/a/../b", "public": true}]"#,
            r#"[{"method": "GET", "path": "/a", "allow": "deny if true"}]"#,
            r#"[{"method": "GET", "path": "/a", "allow": "allow if ("}]"#,
            r#"[{"method": "GET", "path": "/a", "public": true}, {"method": "GET", "path": "/a", "public": true}]"#,
        ] {
            assert_eq!(policy(routes).unwrap_err().code(), ErrorCode::MalformedInput, "{routes}");
        }
        assert!(HttpPolicy::from_json(br#"{"routes": [], "extra": 1}"#).is_err());
    }

    #[test]
    fn refuses_paths_two_routers_could_read_apart() {
        for path in [
            "/lease/../admin",
            "/lease/./a",
            "//admin",
            "/a//b",
            "/a/",
            "/%2e%2e/admin",
            "/a%2Fb",
            "/a%5cb",
            "/a\\b",
            "/a;b",
            "/a%00",
            "/a%252e",
            "/a%zz",
            "/a%2",
            "a",
            "/a b",
        ] {
            assert!(check_path(path).is_err(), "{path}");
        }
        for path in ["/", "/lease/a", "/a%20b", "/caf%C3%A9", "/a.b/c..d", "/~x"] {
            assert!(check_path(path).is_ok(), "{path}");
        }
    }
}
