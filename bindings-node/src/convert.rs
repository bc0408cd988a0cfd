//! JS values in, core types out. Only shapes are checked here; every rule (hex, key ids, limits,
//! header names) stays in core.

use std::collections::HashMap;
use std::time::Duration;

use napi::bindgen_prelude::{
    Array, Either, FromNapiValue, Function, JsObjectValue, Object, TypeName, Uint8Array, Unknown, ValidateNapiValue,
};
use napi::{sys, Env, JsString, JsStringUtf8, JsValue, Status, ValueType};
use trustcore_core::{duration_from_millis, IssuerKeys, Limits};

use crate::error::{malformed, napi_type_error, trust, type_error, Result};

/// A body as JS hands it over: bytes (Buffer is a Uint8Array) or a string, sent as its UTF-8 bytes.
pub type Body = Either<String, Uint8Array>;

pub fn body_bytes(body: &Option<Body>) -> &[u8] {
    match body {
        None => &[],
        Some(Either::A(text)) => text.as_bytes(),
        Some(Either::B(bytes)) => bytes,
    }
}

/// A body as JS holds it, not copied yet: `authenticateBatch` measures its bodies (a string's
/// UTF-8 length is asked of V8, not copied) and checks the batch's bounds before copying any.
pub type BodyRef<'env> = Either<JsString<'env>, Uint8Array>;

/// A body's length in bytes, a string's as UTF-8.
pub fn body_ref_len(body: &Option<BodyRef>) -> Result<u64> {
    Ok(match body {
        None => 0,
        Some(Either::A(text)) => text.utf8_len().map_err(napi_type_error)? as u64,
        Some(Either::B(bytes)) => bytes.len() as u64,
    })
}

/// A measured body's bytes for a call that returns before JS runs again: a string copied once
/// (as its UTF-8 bytes), a byte array read in place.
pub enum BodyBytes<'env> {
    Empty,
    Text(JsStringUtf8<'env>),
    Bytes(Uint8Array),
}

impl<'env> BodyBytes<'env> {
    pub fn read(body: Option<BodyRef<'env>>) -> Result<Self> {
        Ok(match body {
            None => BodyBytes::Empty,
            Some(Either::A(text)) => BodyBytes::Text(text.into_utf8().map_err(napi_type_error)?),
            Some(Either::B(bytes)) => BodyBytes::Bytes(bytes),
        })
    }

    pub fn as_slice(&self) -> &[u8] {
        match self {
            BodyBytes::Empty => &[],
            BodyBytes::Text(text) => text.as_slice(),
            BodyBytes::Bytes(bytes) => bytes,
        }
    }
}

/// A measured body the libuv pool can own: copied once, a string as its UTF-8 bytes (the owner of
/// a byte array may change it while the pool thread reads).
pub fn owned_body(body: Option<BodyRef>) -> Result<Vec<u8>> {
    Ok(match body {
        None => Vec::new(),
        Some(Either::A(text)) => text.into_utf8().map_err(napi_type_error)?.take(),
        Some(Either::B(bytes)) => bytes.to_vec(),
    })
}

/// The issuer key(s) a token is checked against: one public key in hex, or `{ "<root key id>": hex }`.
pub type IssuerArg = Either<String, HashMap<String, String>>;

/// Core remembers the last single issuer key parsed, so a per-request call does not decompress it again.
pub fn issuer_keys(issuer: &IssuerArg) -> Result<IssuerKeys> {
    match issuer {
        Either::A(public_hex) => IssuerKeys::from_hex(public_hex).map_err(trust),
        Either::B(by_id) => {
            let mut keys = Vec::with_capacity(by_id.len());
            for (id, public_hex) in by_id {
                keys.push((IssuerKeys::parse_key_id(id).map_err(trust)?, public_hex.as_str()));
            }
            IssuerKeys::from_hex_by_key_id(keys).map_err(trust)
        }
    }
}

/// Revocation ids as JS gives them (`revokedIds`): an array or a `Set` of strings, read one entry
/// at a time (a huge sparse array fails at its first hole instead of reserving room for all of it).
/// An entry of another type (a number, a Buffer, null) is a TypeError in either form; which strings
/// are ids, and their one spelling, is core's call (`DenyList::new`, `Verifier::new`).
pub struct RevocationIds(pub Vec<String>);

impl TypeName for RevocationIds {
    fn type_name() -> &'static str {
        "string[] | Set<string>"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ValidateNapiValue for RevocationIds {}

impl FromNapiValue for RevocationIds {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
        let wrong = |message: String| napi::Error::new(Status::InvalidArg, message);
        let string = |item: Unknown, at: &dyn Fn() -> String| {
            if item.get_type()? != ValueType::String {
                return Err(wrong(format!("{} must be a string (a revocation id)", at())));
            }
            // SAFETY: checked to be a string just above
            unsafe { item.cast::<String>() }
        };
        // SAFETY: the value napi handed over, read for its type before any cast
        let value = unsafe { Unknown::from_napi_value(env, value) }?;
        let mut ids = Vec::new();
        if value.is_array()? {
            // SAFETY: checked to be an array just above
            let array = unsafe { value.cast::<Array>() }?;
            for i in 0..array.len() {
                let item = array.get::<Unknown>(i)?.ok_or_else(|| wrong(format!("revokedIds[{i}] is missing")))?;
                ids.push(string(item, &|| format!("revokedIds[{i}]"))?);
            }
            return Ok(RevocationIds(ids));
        }
        if value.get_type()? == ValueType::Object {
            let set_class: Unknown = Env::from(env).get_global()?.get_named_property("Set")?;
            // SAFETY: checked to be an object just above
            let set = unsafe { value.cast::<Object>() }?;
            if set.instanceof(set_class)? {
                let values: Function<(), Object> = set.get_named_property("values")?;
                let iterator = values.apply(set, ())?;
                let next: Function<(), Object> = iterator.get_named_property("next")?;
                loop {
                    let step = next.apply(iterator, ())?;
                    if step.get_named_property::<Option<bool>>("done")?.unwrap_or(false) {
                        return Ok(RevocationIds(ids));
                    }
                    let item: Unknown = step.get_named_property("value")?;
                    ids.push(string(item, &|| "every entry of the revokedIds Set".to_owned())?);
                }
            }
        }
        Err(wrong("revokedIds must be an array or a Set of strings".to_owned()))
    }
}

/// Authorizer run limits, and the budget a token must fit before any of its Datalog runs
/// (exceeding any is LIMIT_EXCEEDED); a field left out keeps core's default.
#[napi(object)]
#[derive(Clone, Default)]
pub struct AuthorizerLimits {
    pub max_time_ms: Option<f64>,
    pub max_facts: Option<f64>,
    pub max_iterations: Option<f64>,
    /// Largest token accepted, in bytes of its base64 text, checked before it is decoded.
    pub max_token_bytes: Option<f64>,
    /// Blocks in a token, the authority block included.
    pub max_blocks: Option<f64>,
    /// Facts written in one block.
    pub max_block_facts: Option<f64>,
    /// Rules plus checks written in one block.
    pub max_block_rules: Option<f64>,
    /// Predicates in one rule, check or policy body.
    pub max_body_atoms: Option<f64>,
    /// Expression operations in one body.
    pub max_body_ops: Option<f64>,
    /// Core's estimate of the join work of every body of the token and the authorizer together.
    pub max_join_size: Option<f64>,
    /// Whether a block a holder appended may use a regular expression (`matches`).
    pub allow_appended_regex: Option<bool>,
}

/// A count or size JS gives as a number: a whole number, not negative.
pub fn whole(value: f64, what: &str) -> Result<u64> {
    // JS numbers are doubles: take exact integers only, up to 2^53
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= 9_007_199_254_740_992.0 {
        Ok(value as u64)
    } else {
        Err(malformed(format!("{what} must be a whole number, not negative")))
    }
}

/// A JS number that must be a u32 (a root key id).
pub fn whole_u32(value: f64, what: &str) -> Result<u32> {
    u32::try_from(whole(value, what)?).map_err(|_| malformed(format!("{what} must fit in 32 bits")))
}

/// A duration in milliseconds as JS gives it. Zero goes on to core (which refuses it); what no
/// duration can be (negative, NaN, infinite, too large) is MALFORMED_INPUT here.
pub fn millis(value: Option<f64>, default: Duration, what: &str) -> Result<Duration> {
    match value {
        None => Ok(default),
        Some(ms) => duration_from_millis(ms, what).map_err(trust),
    }
}

/// A count JS gives as a number (a capacity): a whole number, not negative.
pub fn whole_usize(value: f64, what: &str) -> Result<usize> {
    usize::try_from(whole(value, what)?).map_err(|_| malformed(format!("{what} is too large")))
}

pub fn limits(given: &Option<AuthorizerLimits>) -> Result<Limits> {
    let mut limits = Limits::DEFAULT;
    if let Some(given) = given {
        if let Some(ms) = given.max_time_ms {
            limits.max_time = duration_from_millis(ms, "maxTimeMs").map_err(trust)?;
        }
        let counts: [(Option<f64>, &mut u64, &str); 9] = [
            (given.max_facts, &mut limits.max_facts, "maxFacts"),
            (given.max_iterations, &mut limits.max_iterations, "maxIterations"),
            (given.max_token_bytes, &mut limits.max_token_bytes, "maxTokenBytes"),
            (given.max_blocks, &mut limits.max_blocks, "maxBlocks"),
            (given.max_block_facts, &mut limits.max_block_facts, "maxBlockFacts"),
            (given.max_block_rules, &mut limits.max_block_rules, "maxBlockRules"),
            (given.max_body_atoms, &mut limits.max_body_atoms, "maxBodyAtoms"),
            (given.max_body_ops, &mut limits.max_body_ops, "maxBodyOps"),
            (given.max_join_size, &mut limits.max_join_size, "maxJoinSize"),
        ];
        for (value, field, what) in counts {
            if let Some(n) = value {
                *field = whole(n, what)?;
            }
        }
        if let Some(allow) = given.allow_appended_regex {
            limits.allow_appended_regex = allow;
        }
    }
    Ok(limits)
}

/// Name/value pairs from what a Node server holds: `req.headers` or `req.query` (values a string
/// or a list of strings; other values are skipped), an array of `[name, value]`, or anything with
/// `entries()` (Map, Headers, URLSearchParams). Duplicates stay duplicates, for core to refuse.
pub fn string_pairs(source: &Object) -> Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    if source.is_array().map_err(napi_type_error)? {
        let length = source.get_array_length().map_err(napi_type_error)?;
        for i in 0..length {
            let pair: Object = source.get_element(i).map_err(napi_type_error)?;
            push_pair(&mut pairs, &pair)?;
        }
        return Ok(pairs);
    }
    let entries: Unknown = source.get_named_property("entries").map_err(napi_type_error)?;
    if entries.get_type().map_err(napi_type_error)? == ValueType::Function {
        // SAFETY: checked to be a function just above
        let entries: Function<(), Object> = unsafe { entries.cast() }.map_err(napi_type_error)?;
        let iterator = entries.apply(source, ()).map_err(napi_type_error)?;
        let next: Function<(), Object> = iterator.get_named_property("next").map_err(napi_type_error)?;
        loop {
            let step = next.apply(iterator, ()).map_err(napi_type_error)?;
            if step.get_named_property::<Option<bool>>("done").map_err(napi_type_error)?.unwrap_or(false) {
                return Ok(pairs);
            }
            let pair: Object = step.get_named_property("value").map_err(napi_type_error)?;
            push_pair(&mut pairs, &pair)?;
        }
    }
    for name in Object::keys(source).map_err(napi_type_error)? {
        let value: Unknown = source.get_named_property(&name).map_err(napi_type_error)?;
        push_values(&mut pairs, name, value)?;
    }
    Ok(pairs)
}

/// The header lines of an HTTP request, in order: `[name, value]` pairs, Node's `req.rawHeaders`
/// (a flat list: name, value, name, value, …), or what [`string_pairs`] reads (`req.headers`,
/// `Headers`, a `Map`). Names keep their case; duplicates stay duplicates, for core to judge.
pub fn header_lines(value: &Unknown) -> Result<Vec<(String, String)>> {
    const SHAPE: &str =
        "headers must be [name, value] pairs, a flat name, value, … list (req.rawHeaders), an object or a Headers";
    if value.get_type().map_err(napi_type_error)? != ValueType::Object {
        return Err(type_error(SHAPE));
    }
    // SAFETY: checked to be an object just above
    let object: Object = unsafe { value.cast() }.map_err(napi_type_error)?;
    if object.is_array().map_err(napi_type_error)? {
        let length = object.get_array_length().map_err(napi_type_error)?;
        let first: Option<Unknown> =
            if length > 0 { Some(object.get_element(0).map_err(napi_type_error)?) } else { None };
        if let Some(first) = first {
            if first.get_type().map_err(napi_type_error)? == ValueType::String {
                if length % 2 != 0 {
                    return Err(type_error("a flat header list (req.rawHeaders) has an even length: name, value, …"));
                }
                // read one entry at a time: a huge sparse array fails at its first hole
                let mut pairs = Vec::new();
                for i in (0..length).step_by(2) {
                    pairs.push((string_element(&object, i)?, string_element(&object, i + 1)?));
                }
                return Ok(pairs);
            }
        }
    }
    string_pairs(&object)
}

fn string_element(list: &Object, index: u32) -> Result<String> {
    let item: Unknown = list.get_element(index).map_err(napi_type_error)?;
    if item.get_type().map_err(napi_type_error)? != ValueType::String {
        return Err(type_error("every entry of a flat header list (req.rawHeaders) must be a string"));
    }
    // SAFETY: checked to be a string just above
    unsafe { item.cast() }.map_err(napi_type_error)
}

/// Name/value pairs JS gives as `{ name: value }` (in order) or, when `pairs`, `[[name, value], …]`
/// (names may repeat); null or left out is none. Every name and value must be a string: anything
/// else is a TypeError. Read straight off the JS values (through serde_json it cost a request
/// ~1.5 us: a JSON value built for each, then taken apart).
pub fn named_values(value: Option<&Unknown>, what: &str, pairs: bool) -> Result<Vec<(String, String)>> {
    let wrong = || match pairs {
        true => type_error(format!("{what} must be {{ name: value }} or [[name, value], …], every one a string")),
        false => type_error(format!("{what} must be {{ name: value }}, every value a string")),
    };
    let Some(value) = value else { return Ok(Vec::new()) };
    match value.get_type().map_err(napi_type_error)? {
        ValueType::Null | ValueType::Undefined if pairs => return Ok(Vec::new()),
        ValueType::Object => {}
        _ => return Err(wrong()),
    }
    // SAFETY: checked to be an object just above
    let object: Object = unsafe { value.cast() }.map_err(napi_type_error)?;
    let mut out = Vec::new();
    if object.is_array().map_err(napi_type_error)? {
        if !pairs {
            return Err(wrong());
        }
        for i in 0..object.get_array_length().map_err(napi_type_error)? {
            let item: Unknown = object.get_element(i).map_err(napi_type_error)?;
            if item.get_type().map_err(napi_type_error)? != ValueType::Object {
                return Err(wrong());
            }
            // SAFETY: checked to be an object just above
            let pair: Object = unsafe { item.cast() }.map_err(napi_type_error)?;
            if !pair.is_array().map_err(napi_type_error)? || pair.get_array_length().map_err(napi_type_error)? != 2 {
                return Err(wrong());
            }
            let name = string_value(pair.get_element(0).map_err(napi_type_error)?).ok_or_else(wrong)?;
            out.push((name, string_value(pair.get_element(1).map_err(napi_type_error)?).ok_or_else(wrong)?));
        }
        return Ok(out);
    }
    for name in Object::keys(&object).map_err(napi_type_error)? {
        let value = string_value(object.get_named_property(&name).map_err(napi_type_error)?).ok_or_else(wrong)?;
        out.push((name, value));
    }
    Ok(out)
}

/// `value` when it is a JS string.
fn string_value(value: Unknown) -> Option<String> {
    match value.get_type() {
        // SAFETY: checked to be a string
        Ok(ValueType::String) => unsafe { value.cast() }.ok(),
        _ => None,
    }
}

/// A JS number that must be a whole number of seconds (a signature's `created`), either sign.
pub fn integer(value: f64, what: &str) -> Result<i64> {
    if value.is_finite() && value.fract() == 0.0 && value.abs() <= 9_007_199_254_740_992.0 {
        Ok(value as i64)
    } else {
        Err(malformed(format!("{what} must be a whole number")))
    }
}

fn push_pair(pairs: &mut Vec<(String, String)>, pair: &Object) -> Result<()> {
    if !pair.is_array().map_err(napi_type_error)? || pair.get_array_length().map_err(napi_type_error)? != 2 {
        return Err(type_error("each entry must be a [name, value] pair"));
    }
    let name: Unknown = pair.get_element(0).map_err(napi_type_error)?;
    if name.get_type().map_err(napi_type_error)? != ValueType::String {
        return Err(type_error("a header or parameter name must be a string"));
    }
    // SAFETY: checked to be a string just above
    let name: String = unsafe { name.cast() }.map_err(napi_type_error)?;
    push_values(pairs, name, pair.get_element(1).map_err(napi_type_error)?)
}

fn push_values(pairs: &mut Vec<(String, String)>, name: String, value: Unknown) -> Result<()> {
    match value.get_type().map_err(napi_type_error)? {
        // SAFETY: each cast follows its type check
        ValueType::String => pairs.push((name, unsafe { value.cast() }.map_err(napi_type_error)?)),
        ValueType::Object => {
            let list: Object = unsafe { value.cast() }.map_err(napi_type_error)?;
            if list.is_array().map_err(napi_type_error)? {
                for i in 0..list.get_array_length().map_err(napi_type_error)? {
                    let item: Unknown = list.get_element(i).map_err(napi_type_error)?;
                    if item.get_type().map_err(napi_type_error)? == ValueType::String {
                        pairs.push((name.clone(), unsafe { item.cast() }.map_err(napi_type_error)?));
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// A JSON object from a JS argument (a job, a frame body), converted here rather than before the
/// call: napi's conversion refuses nesting deeper than 128 (and more than a million values) with
/// an error that would reach JS as a TypeError; too deep is core's rule (MAX_JSON_DEPTH), so it is
/// `code`, the code core gives the same value, in every language.
pub fn json_object_arg(
    value: Unknown<'_>,
    what: &str,
    code: trustcore_core::ErrorCode,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let raw = value.value();
    // SAFETY: the env and value of a live argument of the current call
    let json = unsafe { <serde_json::Value as FromNapiValue>::from_napi_value(raw.env, raw.value) }.map_err(|e| {
        if e.reason.contains("nesting depth") {
            trust(trustcore_core::Error::new(code, format!("{what} is nested too deeply")))
        } else {
            type_error(format!("{what} must be a plain object of JSON values"))
        }
    })?;
    json_object(json, what)
}

/// A JSON object from JS, already converted (napi's conversion bounds depth and size).
pub fn json_object(value: serde_json::Value, what: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    match value {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err(type_error(format!("{what} must be a plain object"))),
    }
}

/// App facts as JS gives them, `{ predicate: [value, …] }`, predicates in the order given (a
/// missing or null `facts` is none). Whether a predicate or value is acceptable is core's call.
pub fn fact_lists(facts: Option<serde_json::Value>) -> Result<Vec<(String, Vec<String>)>> {
    use serde_json::Value;
    let mut lists = Vec::new();
    match facts {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (predicate, values) in map {
                let values = match values {
                    Value::Array(items) => items
                        .into_iter()
                        .map(|v| match v {
                            Value::String(s) => Ok(s),
                            _ => Err(type_error("fact values must be strings")),
                        })
                        .collect::<Result<Vec<String>>>()?,
                    _ => return Err(type_error("facts must map each predicate to a list of strings")),
                };
                lists.push((predicate, values));
            }
        }
        Some(_) => return Err(type_error("facts must be an object")),
    }
    Ok(lists)
}
