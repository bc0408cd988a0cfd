//! Differential: the signature base core builds for the `tc` signature of a request against one
//! written here from RFC 9421's rules alone (§2.1 fields, §2.2 derived components, §2.3
//! `@signature-params`, §2.5 the base), with the `sfv` crate parsing and serializing the structured
//! fields. Where core builds a base, this one must build the very same bytes; core may refuse more
//! (component parameters, other derived components, names not in lower case), never differ.
#![no_main]

#[path = "common/raw_request.rs"]
mod raw_request;

use libfuzzer_sys::fuzz_target;
use raw_request::RawRequest;
use sfv::{BareItem, ListEntry, Parser, Version};
use trustcore_core::http::signature_base;

/// RFC 9421 §2.1: every line of the field in order, each without leading or trailing SP and HTAB,
/// joined by ", "; none: the field is missing.
fn field(raw: &RawRequest<'_>, name: &str) -> Option<String> {
    let values: Vec<&str> = raw
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim_matches([' ', '\t']))
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// RFC 9421 §2.2.3 with RFC 9110 §4.2.3: the host in lower case, without the scheme's default port.
fn authority(raw: &RawRequest<'_>) -> Option<String> {
    let host = field(raw, "host")?.to_ascii_lowercase();
    Some(host.strip_suffix(":443").or_else(|| host.strip_suffix(":80")).unwrap_or(&host).to_owned())
}

fn independent_base(raw: &RawRequest<'_>) -> Option<Vec<u8>> {
    let text = field(raw, "signature-input")?;
    let inputs: sfv::Dictionary = Parser::new(&text).with_version(Version::Rfc8941).parse_dictionary().ok()?;
    let Some(ListEntry::InnerList(input)) = inputs.get("tc") else { return None };
    let (path, query) = match raw.target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (raw.target, None),
    };
    let mut base = String::new();
    for item in &input.items {
        let BareItem::String(name) = &item.bare_item else { return None };
        let value = match name.as_str() {
            "@method" => raw.method.to_owned(),
            "@authority" => authority(raw)?,
            "@path" => path.to_owned(),
            "@query" => format!("?{}", query.unwrap_or("")),
            "@request-target" => raw.target.to_owned(),
            name if name.starts_with('@') => return None,
            name => field(raw, name)?,
        };
        base.push_str(&format!("\"{}\": {value}\n", name.as_str()));
    }
    let mut params = String::new();
    {
        let mut serializer = sfv::ListSerializer::with_buffer(&mut params);
        let mut list = serializer.inner_list();
        list.items(&input.items);
        let _ = list.finish().parameters(&input.params);
    }
    base.push_str(&format!("\"@signature-params\": {params}"));
    Some(base.into_bytes())
}

fuzz_target!(|data: &[u8]| {
    let Some(raw) = RawRequest::read(data) else { return };
    if let Ok(ours) = signature_base(&raw.http(), "tc") {
        let theirs = independent_base(&raw).expect("core built a base the RFC's rules cannot");
        assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
    }
});
