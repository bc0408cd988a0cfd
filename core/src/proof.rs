//! The per-request proof of possession and its two transports (HTTP headers, query parameters).

use crate::canonical::Request;
use crate::error::{Error, Result};
use crate::keys::WorkerKey;

/// What a holder attaches to a request: the token (base64), its signature over the canonical
/// request (hex), the timestamp and the nonce, all as sent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WorkerProof {
    pub token: String,
    pub signature: String,
    pub timestamp: String,
    pub nonce: String,
}

pub const HEADER_AUTHORIZATION: &str = "Authorization";
pub const HEADER_SIGNATURE: &str = "X-EP-Signature";
pub const HEADER_TIMESTAMP: &str = "X-EP-Timestamp";
pub const HEADER_NONCE: &str = "X-EP-Nonce";

impl WorkerProof {
    /// The four HTTP headers that carry this proof, in the order trust-core 0.1 wrote them.
    pub fn headers(&self) -> [(&'static str, String); 4] {
        [
            (HEADER_AUTHORIZATION, format!("Biscuit {}", self.token)),
            (HEADER_SIGNATURE, self.signature.clone()),
            (HEADER_TIMESTAMP, self.timestamp.clone()),
            (HEADER_NONCE, self.nonce.clone()),
        ]
    }

    /// The same proof as query parameters (`token`, `sig`, `ts`, `nonce`).
    pub fn query(&self) -> [(&'static str, String); 4] {
        [
            ("token", self.token.clone()),
            ("sig", self.signature.clone()),
            ("ts", self.timestamp.clone()),
            ("nonce", self.nonce.clone()),
        ]
    }
}

/// Sign `request` with the holder's key. The caller picks timestamp and nonce, so what is signed is
/// provably what is sent.
pub fn make_proof(
    worker: &WorkerKey,
    token: &str,
    request: &Request<'_>,
    timestamp: &str,
    nonce: &str,
) -> Result<WorkerProof> {
    let message = request.canonical(timestamp, nonce)?;
    Ok(WorkerProof {
        token: token.to_owned(),
        signature: hex::encode(worker.sign(&message)),
        timestamp: timestamp.to_owned(),
        nonce: nonce.to_owned(),
    })
}

/// Read a proof from HTTP headers. Names match case-insensitively (proxies re-case them), values are
/// trimmed, and a missing or blank header, a header given twice, or a scheme other than `Biscuit`
/// is MALFORMED_INPUT.
pub fn proof_from_headers<I, K, V>(headers: I) -> Result<WorkerProof>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let wanted = [HEADER_AUTHORIZATION, HEADER_SIGNATURE, HEADER_TIMESTAMP, HEADER_NONCE];
    let values = collect_named(headers, &wanted, |name, want| name.eq_ignore_ascii_case(want))?;
    let [authorization, signature, timestamp, nonce] = values;
    let (scheme, token) = authorization.split_once(' ').unwrap_or((authorization.as_str(), ""));
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("biscuit") || token.is_empty() {
        return Err(Error::malformed("Authorization must be 'Biscuit <token>'"));
    }
    Ok(WorkerProof { token: token.to_owned(), signature, timestamp, nonce })
}

/// Read a proof from query parameters `token`, `sig`, `ts`, `nonce` (for clients that cannot set
/// headers). Names match exactly; the same refusals as the header form.
pub fn proof_from_query<I, K, V>(query: I) -> Result<WorkerProof>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let [token, signature, timestamp, nonce] = collect_named(query, &["token", "sig", "ts", "nonce"], |n, w| n == w)?;
    Ok(WorkerProof { token, signature, timestamp, nonce })
}

fn collect_named<I, K, V>(pairs: I, wanted: &[&str; 4], matches: impl Fn(&str, &str) -> bool) -> Result<[String; 4]>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut found: [Option<String>; 4] = Default::default();
    for (name, value) in pairs {
        if let Some(i) = wanted.iter().position(|w| matches(name.as_ref(), w)) {
            if found[i].is_some() {
                return Err(Error::malformed(format!("{} given more than once", wanted[i])));
            }
            found[i] = Some(value.as_ref().trim().to_owned());
        }
    }
    let mut out: [String; 4] = Default::default();
    for i in 0..4 {
        match found[i].take() {
            Some(v) if !v.is_empty() => out[i] = v,
            _ => return Err(Error::malformed(format!("missing {}", wanted[i]))),
        }
    }
    Ok(out)
}
