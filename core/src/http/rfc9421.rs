//! The trustcore profile of RFC 9421 (docs/DESIGN.md §10.1): which signature on a request is ours,
//! what it must cover and which parameters it must carry. Read before the token is decoded, so a
//! request that covers too little costs nothing more.

use sfv::{BareItem, InnerList};

use crate::error::{Error, Result};
use crate::http::fields::{integer_param, string_param};
use crate::http::message::HttpRequest;
use crate::http::signature_base::{component_names, signature_base_of, signature_inputs, take_signature};

/// The `tag` parameter that marks a trustcore signature; other signatures are left alone.
pub const TRUSTCORE_TAG: &str = "trustcore";

/// The label trustcore's signer gives its signature (a verifier accepts any label).
pub const TRUSTCORE_LABEL: &str = "tc";

/// What a trustcore signature must cover, every one of them (more is allowed).
pub const REQUIRED_COMPONENTS: [&str; 6] =
    ["@method", "@authority", "@path", "@query", "authorization", "content-digest"];

/// The longest nonce accepted (bytes): it becomes a replay-store key.
pub const MAX_NONCE_BYTES: usize = 256;

/// A trustcore signature read off a request, before any key is known.
#[derive(Clone, Debug)]
pub(crate) struct HttpProof {
    pub token: String,
    pub created: i64,
    pub expires: Option<i64>,
    pub nonce: String,
    pub keyid: String,
    pub signature: [u8; 64],
    input: InnerList,
}

impl HttpProof {
    /// The bytes the holder signed: the signature base of this request.
    pub fn message(&self, request: &HttpRequest<'_>) -> Result<Vec<u8>> {
        signature_base_of(request, &self.input)
    }
}

/// The token of an `Authorization: Biscuit <token>` header (exactly one such header).
pub(crate) fn bearer_token(request: &HttpRequest<'_>) -> Result<String> {
    let authorization =
        request.header_single("authorization")?.ok_or_else(|| Error::malformed("missing Authorization header"))?;
    let (scheme, token) = authorization.split_once(' ').unwrap_or((authorization, ""));
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("biscuit") || token.is_empty() {
        return Err(Error::malformed("Authorization must be 'Biscuit <token>'"));
    }
    Ok(token.to_owned())
}

fn is_trustcore(input: &InnerList) -> bool {
    matches!(input.params.get("tag"), Some(BareItem::String(tag)) if tag.as_str() == TRUSTCORE_TAG)
}

/// The request's trustcore signature; None when no signature is tagged `trustcore`. Two tagged
/// signatures, one that covers too little, or a missing or mistyped parameter is MALFORMED_INPUT.
pub(crate) fn read_http_proof(request: &HttpRequest<'_>) -> Result<Option<HttpProof>> {
    let Some(inputs) = signature_inputs(request)? else { return Ok(None) };
    let mut tagged = inputs.values().enumerate().filter_map(|(index, entry)| match entry {
        sfv::ListEntry::InnerList(input) if is_trustcore(input) => Some(index),
        _ => None,
    });
    let Some(index) = tagged.next() else { return Ok(None) };
    if tagged.next().is_some() {
        return Err(Error::malformed("more than one signature is tagged trustcore"));
    }
    let found = take_signature(request, inputs, index)?;
    let covered = component_names(&found.input)?;
    if let Some(missing) = REQUIRED_COMPONENTS.iter().find(|name| !covered.contains(name)) {
        return Err(Error::malformed(format!("the trustcore signature does not cover {missing}")));
    }
    let input = &found.input;
    let required = |key: &str| Error::malformed(format!("the trustcore signature has no {key} parameter"));
    let created = integer_param(input, "created")?.ok_or_else(|| required("created"))?;
    let expires = integer_param(input, "expires")?;
    let nonce = string_param(input, "nonce")?.ok_or_else(|| required("nonce"))?;
    let keyid = string_param(input, "keyid")?.ok_or_else(|| required("keyid"))?;
    if let Some(alg) = string_param(input, "alg")? {
        if alg != "ed25519" {
            return Err(Error::malformed(format!("signature algorithm {alg:?} is not ed25519")));
        }
    }
    if nonce.is_empty() || nonce.len() > MAX_NONCE_BYTES {
        return Err(Error::malformed(format!("the nonce must be 1 to {MAX_NONCE_BYTES} bytes")));
    }
    if expires.is_some_and(|expires| expires < created) {
        return Err(Error::malformed("the signature expires before it was created"));
    }
    Ok(Some(HttpProof {
        token: bearer_token(request)?,
        created,
        expires,
        nonce: nonce.to_owned(),
        keyid: keyid.to_owned(),
        signature: found.signature,
        input: found.input,
    }))
}
