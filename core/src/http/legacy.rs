//! trust-core 0.1's proof on an HTTP request (docs/DESIGN.md §3.3): the `X-EP-*` headers, or the
//! `token`, `sig`, `ts`, `nonce` query parameters.

use percent_encoding::percent_decode_str;

use crate::error::{Error, Result};
use crate::http::message::HttpRequest;
use crate::proof::{proof_from_headers, proof_from_query, WorkerProof, HEADER_SIGNATURE};

/// The query parameters that carry a proof: taken out of the path the holder signed.
const PROOF_PARAMETERS: [&str; 4] = ["token", "sig", "ts", "nonce"];

/// A legacy proof and the PATH it signs (docs/DESIGN.md §3.2).
#[derive(Clone, Debug)]
pub(crate) struct LegacyProof {
    pub proof: WorkerProof,
    pub path: String,
}

/// The request's legacy proof: from the headers when `X-EP-Signature` is present, else from the
/// query when it has a `sig` parameter (its four values percent-decoded); None when neither.
pub(crate) fn read_legacy_proof(request: &HttpRequest<'_>) -> Result<Option<LegacyProof>> {
    if !request.header_values(HEADER_SIGNATURE)?.is_empty() {
        let proof = proof_from_headers(request.headers.iter().copied())?;
        return Ok(Some(LegacyProof { proof, path: request.target.to_owned() }));
    }
    let (path, query) = request.path_and_query()?;
    let Some(query) = query else { return Ok(None) };
    let pairs = query_pairs(query);
    if !pairs.iter().any(|(name, _)| *name == "sig") {
        return Ok(None);
    }
    let mut decoded = Vec::with_capacity(pairs.len());
    for (name, value) in pairs.iter().filter(|(name, _)| PROOF_PARAMETERS.contains(name)) {
        let value = percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| Error::malformed(format!("query parameter {name} is not UTF-8 once decoded")))?;
        decoded.push((*name, value));
    }
    let proof = proof_from_query(decoded)?;
    // the holder signed the target without its proof: the other parameters, in order
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !PROOF_PARAMETERS.contains(&pair.split_once('=').map_or(*pair, |(name, _)| name)))
        .collect();
    let path = if kept.is_empty() { path.to_owned() } else { format!("{path}?{}", kept.join("&")) };
    Ok(Some(LegacyProof { proof, path }))
}

/// `name=value` pairs of a query, as sent (not percent-decoded); a pair without `=` has an empty value.
pub(crate) fn query_pairs(query: &str) -> Vec<(&str, &str)> {
    query.split('&').filter(|pair| !pair.is_empty()).map(|pair| pair.split_once('=').unwrap_or((pair, ""))).collect()
}
