//! RFC 8941 structured fields, read and written by the `sfv` crate (never by hand): the
//! `Signature-Input`, `Signature` and `Content-Digest` dictionaries and a signature's parameters.

use sfv::{BareItem, Dictionary, InnerList, ListEntry, ListSerializer, Parser, Version};

use crate::error::{Error, Result};

/// A structured field may not be longer than this (bytes), whatever its lines add up to.
pub const MAX_FIELD_BYTES: usize = 16 * 1024;

/// Parse a dictionary field (its lines already joined by ", "), RFC 8941 rules (RFC 9421 §4 names
/// that version: no dates, no display strings).
pub(crate) fn parse_dictionary(name: &str, text: &str) -> Result<Dictionary> {
    if text.len() > MAX_FIELD_BYTES {
        return Err(Error::malformed(format!("{name} is over {MAX_FIELD_BYTES} bytes")));
    }
    Parser::new(text)
        .with_version(Version::Rfc8941)
        .parse_dictionary()
        .map_err(|e| Error::malformed(format!("{name} is not a structured dictionary: {e}")))
}

/// The member `label` of a dictionary as an inner list (a signature's covered components).
pub(crate) fn inner_list<'d>(dictionary: &'d Dictionary, label: &str) -> Option<&'d InnerList> {
    match dictionary.get(label) {
        Some(ListEntry::InnerList(list)) => Some(list),
        _ => None,
    }
}

/// The member `label` of a dictionary as a byte sequence (a signature, a digest).
pub(crate) fn byte_sequence<'d>(dictionary: &'d Dictionary, label: &str) -> Option<&'d [u8]> {
    match dictionary.get(label) {
        Some(ListEntry::Item(item)) if item.params.is_empty() => item.bare_item.as_byte_sequence(),
        _ => None,
    }
}

/// A parameter as a string (None when absent; MALFORMED_INPUT when of another type).
pub(crate) fn string_param<'l>(list: &'l InnerList, key: &str) -> Result<Option<&'l str>> {
    match list.params.get(key) {
        None => Ok(None),
        Some(BareItem::String(value)) => Ok(Some(value.as_str())),
        Some(_) => Err(Error::malformed(format!("signature parameter {key} must be a string"))),
    }
}

/// A parameter as an integer (None when absent; MALFORMED_INPUT when of another type).
pub(crate) fn integer_param(list: &InnerList, key: &str) -> Result<Option<i64>> {
    match list.params.get(key) {
        None => Ok(None),
        Some(BareItem::Integer(value)) => Ok(Some(i64::from(*value))),
        Some(_) => Err(Error::malformed(format!("signature parameter {key} must be an integer"))),
    }
}

/// An inner list with its parameters, serialized (the `@signature-params` value, RFC 9421 §2.3).
pub(crate) fn serialize_inner_list(list: &InnerList) -> String {
    let mut out = String::new();
    serialize_inner_list_into(&mut out, list);
    out
}

/// [`serialize_inner_list`] appended to `out`.
pub(crate) fn serialize_inner_list_into(out: &mut String, list: &InnerList) {
    let mut serializer = ListSerializer::with_buffer(out);
    let mut inner = serializer.inner_list();
    inner.items(&list.items);
    let _ = inner.finish().parameters(&list.params);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_rfc_signature_input() {
        let text = r#"sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#;
        let dictionary = parse_dictionary("Signature-Input", text).unwrap();
        let list = inner_list(&dictionary, "sig-b26").unwrap();
        assert_eq!(format!("sig-b26={}", serialize_inner_list(list)), text);
        assert_eq!(integer_param(list, "created").unwrap(), Some(1618884473));
        assert_eq!(string_param(list, "keyid").unwrap(), Some("test-key-ed25519"));
        assert!(string_param(list, "created").is_err());
    }

    #[test]
    fn refuses_what_rfc_8941_refuses() {
        for text in ["a=(", "a=@1659578233", "a=%\"x\"", "A=1", "a=:not base64:"] {
            assert!(parse_dictionary("X", text).is_err(), "{text}");
        }
        assert!(parse_dictionary("X", &"a".repeat(MAX_FIELD_BYTES + 1)).is_err());
    }
}
