//! RFC 9421 §2: the signature base of a request for one signature's covered components, and the
//! verification of a signature made with an Ed25519 key (§3.3.6). Generic: the trustcore profile's
//! own rules (which components, which parameters) are in `rfc9421.rs`.

use sfv::{BareItem, InnerList, ListEntry};

use crate::error::{Error, Result};
use crate::http::fields::{byte_sequence, inner_list, parse_dictionary, serialize_inner_list_into, MAX_FIELD_BYTES};
use crate::http::message::HttpRequest;
use crate::keys::PublicKey;

/// At most this many covered components in one signature.
pub const MAX_COMPONENTS: usize = 32;

/// A covered header field may be at most this long (bytes), all its lines together: room for any
/// token a verifier would take in `authorization` (32 KiB by default), a bound on the signature
/// base whatever a server lets through.
pub const MAX_COVERED_FIELD_BYTES: usize = 1024 * 1024;

/// One signature found on a request: its covered components with their parameters (as written in
/// `Signature-Input`) and its signature bytes.
#[derive(Clone, Debug)]
pub(crate) struct FoundSignature {
    pub input: InnerList,
    pub signature: [u8; 64],
}

/// The `Signature-Input` dictionary of a request (None when the request has none).
pub(crate) fn signature_inputs(request: &HttpRequest<'_>) -> Result<Option<sfv::Dictionary>> {
    match request.header_combined("signature-input", MAX_FIELD_BYTES)? {
        None => Ok(None),
        Some(text) => parse_dictionary("Signature-Input", &text).map(Some),
    }
}

/// The signature at `index` of `inputs`, taken out of it (its input is moved, not copied: the
/// dictionary is not needed after), with its 64 signature bytes from `Signature`.
pub(crate) fn take_signature(
    request: &HttpRequest<'_>,
    mut inputs: sfv::Dictionary,
    index: usize,
) -> Result<FoundSignature> {
    let (label, input) = match inputs.swap_remove_index(index) {
        Some((label, ListEntry::InnerList(input))) => (label, input),
        Some((label, _)) => {
            return Err(Error::malformed(format!("Signature-Input has no signature labelled {:?}", label.as_str())))
        }
        None => return Err(Error::malformed("Signature-Input has no such signature")),
    };
    let signatures = request
        .header_combined("signature", MAX_FIELD_BYTES)?
        .ok_or_else(|| Error::malformed("missing Signature header"))?;
    let signatures = parse_dictionary("Signature", &signatures)?;
    let bytes = byte_sequence(&signatures, label.as_str())
        .ok_or_else(|| Error::malformed(format!("Signature has no byte sequence labelled {:?}", label.as_str())))?;
    let signature: [u8; 64] = bytes.try_into().map_err(|_| Error::malformed("an Ed25519 signature is 64 bytes"))?;
    Ok(FoundSignature { input, signature })
}

/// The names of the covered components, in order: strings without parameters (component
/// parameters such as `;sf` or `;req` are not supported), each at most once.
pub(crate) fn component_names(input: &InnerList) -> Result<Vec<&str>> {
    if input.items.len() > MAX_COMPONENTS {
        return Err(Error::malformed(format!("a signature covers at most {MAX_COMPONENTS} components")));
    }
    let mut names: Vec<&str> = Vec::with_capacity(input.items.len());
    for item in &input.items {
        let name = match (&item.bare_item, item.params.is_empty()) {
            (BareItem::String(name), true) => name.as_str(),
            (BareItem::String(_), false) => {
                return Err(Error::malformed("component parameters (;sf, ;key, ;req, …) are not supported"))
            }
            _ => return Err(Error::malformed("a covered component must be a string")),
        };
        if names.contains(&name) {
            return Err(Error::malformed(format!("component {name:?} covered twice")));
        }
        names.push(name);
    }
    Ok(names)
}

/// Append the value of one component for this request (RFC 9421 §2.1, §2.2) to `base`.
fn push_component_value(base: &mut String, request: &HttpRequest<'_>, name: &str) -> Result<()> {
    match name {
        "@method" => base.push_str(request.checked_method()?),
        "@authority" => base.push_str(&request.authority()?),
        "@path" => base.push_str(request.path_and_query()?.0),
        "@query" => {
            base.push('?');
            base.push_str(request.path_and_query()?.1.unwrap_or(""));
        }
        "@request-target" => base.push_str(request.path_and_query().map(|_| request.target)?),
        derived if derived.starts_with('@') => {
            return Err(Error::malformed(format!("derived component {derived:?} is not supported")))
        }
        field => {
            if field.is_empty() || field.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii_graphic()) {
                return Err(Error::malformed(format!("component name {field:?} is not a lower-case field name")));
            }
            let value = request
                .header_combined(field, MAX_COVERED_FIELD_BYTES)?
                .ok_or_else(|| Error::malformed(format!("covered field {field:?} is missing from the request")))?;
            base.push_str(&value);
        }
    }
    Ok(())
}

/// The signature base: one line per covered component, then the `@signature-params` line, LF
/// between lines, none at the end.
pub fn signature_base_of(request: &HttpRequest<'_>, input: &InnerList) -> Result<Vec<u8>> {
    let mut base = String::with_capacity(1024);
    for name in component_names(input)? {
        base.push('"');
        base.push_str(name);
        base.push_str("\": ");
        push_component_value(&mut base, request, name)?;
        base.push('\n');
    }
    base.push_str("\"@signature-params\": ");
    serialize_inner_list_into(&mut base, input);
    Ok(base.into_bytes())
}

/// The signature base of the signature labelled `label` on `request` (for debugging a client, and
/// for the RFC's own test vectors).
pub fn signature_base(request: &HttpRequest<'_>, label: &str) -> Result<Vec<u8>> {
    let inputs = signature_inputs(request)?.ok_or_else(|| Error::malformed("missing Signature-Input header"))?;
    let input = inner_list(&inputs, label)
        .ok_or_else(|| Error::malformed(format!("Signature-Input has no signature labelled {label:?}")))?;
    signature_base_of(request, input)
}

/// Verify the signature labelled `label` with `key`, strictly, and nothing else: no profile, no
/// clock, no replay (RFC 9421 §3.2 steps 1–7 with the key known). POP_FAILED when it does not
/// verify, MALFORMED_INPUT when the request cannot be read.
pub fn verify_message_signature(request: &HttpRequest<'_>, label: &str, key: &PublicKey) -> Result<()> {
    let inputs = signature_inputs(request)?.ok_or_else(|| Error::malformed("missing Signature-Input header"))?;
    let index = inputs
        .get_index_of(label)
        .ok_or_else(|| Error::malformed(format!("Signature-Input has no signature labelled {label:?}")))?;
    let found = take_signature(request, inputs, index)?;
    let base = signature_base_of(request, &found.input)?;
    if key.verify_strict(&base, &found.signature) {
        Ok(())
    } else {
        Err(Error::new(crate::error::ErrorCode::PopFailed, "HTTP message signature failed"))
    }
}
