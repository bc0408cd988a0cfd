//! The client side: the headers that carry a holder's proof on a request, in either profile.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sfv::{BareItem, InnerList, Item, Key, Parameters};

use crate::canonical::Request;
use crate::error::{Error, Result};
use crate::http::digest::content_digest;
use crate::http::message::{check_authority, check_target, normalize_authority, HttpRequest};
use crate::http::rfc9421::{REQUIRED_COMPONENTS, TRUSTCORE_LABEL, TRUSTCORE_TAG};
use crate::http::signature_base::signature_base_of;
use crate::http::thumbprint::jwk_thumbprint;
use crate::keys::WorkerKey;
use crate::proof::make_proof;
use crate::timestamp::now_seconds;

/// How a proof travels on an HTTP request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HttpProfile {
    /// RFC 9421 message signatures with an RFC 9530 Content-Digest (docs/DESIGN.md §10.1).
    Rfc9421,
    /// trust-core 0.1's `X-EP-*` headers (or query parameters) over the canonical request (§3.2).
    Legacy,
}

impl HttpProfile {
    pub const ALL: [HttpProfile; 2] = [HttpProfile::Rfc9421, HttpProfile::Legacy];

    pub const fn name(self) -> &'static str {
        match self {
            HttpProfile::Rfc9421 => "rfc9421",
            HttpProfile::Legacy => "legacy",
        }
    }

    /// The profile named `name`; MALFORMED_INPUT for any other name.
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| Error::malformed(format!("unknown HTTP profile {name:?} (rfc9421 or legacy)")))
    }
}

/// What to sign and how. `url` is a full `http(s)://host[:port]/path?query` URL, or an origin-form
/// target (`/path?query`) with the authority in a `Host` header of `headers`.
#[derive(Clone, Copy, Debug)]
pub struct SignRequest<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    pub profile: HttpProfile,
    /// Seconds since the epoch; None: now.
    pub created: Option<i64>,
    /// None: 128 random bits in hex.
    pub nonce: Option<&'a str>,
}

/// The headers to add to the request so that it carries `token` and the holder's proof, in
/// `request.profile`: `Authorization`, `Content-Digest`, `Signature-Input`, `Signature` (RFC 9421),
/// or `Authorization` and the three `X-EP-*` headers (legacy).
pub fn sign_request(key: &WorkerKey, token: &str, request: &SignRequest<'_>) -> Result<Vec<(String, String)>> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::malformed("a token is one word of visible ASCII"));
    }
    let (authority, target) = split_url(request.url, request.headers)?;
    let created = match request.created {
        Some(created) => created,
        None => now_seconds().floor() as i64,
    };
    let nonce = match request.nonce {
        Some(nonce) => nonce.to_owned(),
        None => random_nonce()?,
    };
    match request.profile {
        HttpProfile::Legacy => {
            let canonical = Request::new(request.method, &target, request.body);
            let proof = make_proof(key, token, &canonical, &created.to_string(), &nonce)?;
            Ok(proof.headers().into_iter().map(|(name, value)| (name.to_owned(), value)).collect())
        }
        HttpProfile::Rfc9421 => {
            let authority = authority.ok_or_else(|| Error::malformed("an origin-form target needs a Host header"))?;
            let authorization = format!("Biscuit {token}");
            let digest = content_digest(request.body);
            let input = signature_input(created, &nonce, &jwk_thumbprint(&key.public_key()))?;
            let signed_headers = [
                ("Host", authority.as_str()),
                ("Authorization", authorization.as_str()),
                ("Content-Digest", digest.as_str()),
            ];
            let view = HttpRequest::new(request.method, &target, &signed_headers, request.body);
            let base = signature_base_of(&view, &input)?;
            let signature = STANDARD.encode(key.sign(&base));
            Ok(vec![
                ("Authorization".to_owned(), authorization),
                ("Content-Digest".to_owned(), digest),
                (
                    "Signature-Input".to_owned(),
                    format!("{TRUSTCORE_LABEL}={}", crate::http::fields::serialize_inner_list(&input)),
                ),
                ("Signature".to_owned(), format!("{TRUSTCORE_LABEL}=:{signature}:")),
            ])
        }
    }
}

/// The covered components and parameters of a trustcore signature.
fn signature_input(created: i64, nonce: &str, keyid: &str) -> Result<InnerList> {
    let string = |value: &str| {
        sfv::String::from_string(value.to_owned())
            .map(BareItem::String)
            .map_err(|_| Error::malformed(format!("{value:?} is not a structured-field string (printable ASCII)")))
    };
    let key = |name: &str| Key::from_string(name.to_owned()).map_err(|_| Error::malformed("bad parameter name"));
    let items = REQUIRED_COMPONENTS.iter().map(|name| string(name).map(Item::new)).collect::<Result<Vec<_>>>()?;
    let created = sfv::Integer::try_from(created).map_err(|_| Error::malformed("created is out of range"))?;
    let mut params = Parameters::new();
    params.insert(key("created")?, BareItem::Integer(created));
    params.insert(key("keyid")?, string(keyid)?);
    params.insert(key("nonce")?, string(nonce)?);
    params.insert(key("tag")?, string(TRUSTCORE_TAG)?);
    Ok(InnerList::with_params(items, params))
}

/// (authority, origin-form target) of a URL or of a target plus its `Host` header. The authority
/// is lower-cased and drops a default port, as a server's `Host` would read (RFC 9110 §4.2.3).
fn split_url(url: &str, headers: &[(&str, &str)]) -> Result<(Option<String>, String)> {
    if url.starts_with('/') {
        check_target(url)?;
        let host = HttpRequest::new("GET", url, headers, b"").header_single("host")?;
        let authority = host.map(normalize_authority).transpose()?;
        return Ok((authority, url.to_owned()));
    }
    // the url crate reads the authority (host lower-cased, a default port dropped: RFC 9110 §4.2.3);
    // the path and query are signed as written, never as the WHATWG rules would rewrite them (dot
    // segments removed, quotes escaped): RFC 9421 §2.2.6-7 compare them as strings, and the client
    // sends them as given
    let parsed = url::Url::parse(url).map_err(|e| Error::malformed(format!("not a URL: {e}")))?;
    let scheme = parsed.scheme();
    let written = url.get(..scheme.len() + 3).is_some_and(|start| start.eq_ignore_ascii_case(&format!("{scheme}://")));
    if !matches!(scheme, "http" | "https") || !written || url.contains('\\') {
        return Err(Error::malformed("a URL to sign is http(s)://host[:port]/path"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::malformed("a URL to sign carries no user info"));
    }
    let host = parsed.host_str().ok_or_else(|| Error::malformed("the URL has no host"))?;
    let authority = match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    check_authority(&authority)?;
    let rest = &url[scheme.len() + 3..];
    let rest = &rest[rest.find(['/', '?', '#']).unwrap_or(rest.len())..];
    let rest = rest.split('#').next().unwrap_or_default();
    let target = if rest.starts_with('/') { rest.to_owned() } else { format!("/{rest}") };
    check_target(&target)?;
    Ok((Some(authority.to_ascii_lowercase()), target))
}

fn random_nonce() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|_| Error::new(crate::error::ErrorCode::Internal, "no randomness"))?;
    Ok(hex::encode(bytes))
}
