//! One reading of every JSON text: objects with a duplicated key are refused, at any depth.
//!
//! serde_json keeps the last of duplicated keys; cJSON, yyjson and many others keep the first. A
//! signed job, a signer frame or an audit line that holds a key twice would say one thing to the
//! verifier and another to its reader, so every JSON text this project reads goes through here.

use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, Result};

/// Parse `text` as one JSON object, refusing a duplicated key anywhere. The error has `code`, the
/// code of the place the text came from (FRAME_INVALID for frames, JOB_INVALID for jobs, …).
pub fn parse_object(text: &[u8], code: ErrorCode) -> Result<Map<String, Value>> {
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    let value = Strict::deserialize(&mut deserializer).and_then(|v| deserializer.end().map(|_| v));
    match value {
        Ok(Strict(Value::Object(map))) => Ok(map),
        Ok(_) => Err(Error::new(code, "JSON text is not an object")),
        Err(e) if e.to_string().starts_with(DUPLICATE) => Err(Error::new(code, "JSON object with a duplicated key")),
        // serde_json's own bound on nesting is this project's (MAX_JSON_DEPTH): say so
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => {
            Err(Error::new(code, format!("JSON nested deeper than {MAX_JSON_DEPTH}")))
        }
        Err(_) => Err(Error::new(code, "not JSON")),
    }
}

const DUPLICATE: &str = "duplicated key";

/// The deepest nesting of objects and arrays a JSON value may have anywhere in this project (the
/// outer object counts one): what serde_json's reader takes from text, so a value built in memory (a
/// binding's dict, a Rust Map) is held to the same bound as one read, and nothing recursive over it
/// can exhaust the stack.
pub const MAX_JSON_DEPTH: usize = 127;

/// `code` when `object` nests objects and arrays deeper than [`MAX_JSON_DEPTH`] (the object itself
/// counts one). Walks with a stack of its own, never recursing.
pub fn check_depth(object: &Map<String, Value>, code: ErrorCode) -> Result<()> {
    let mut pending: Vec<(&Value, usize)> = object.values().map(|v| (v, 2)).collect();
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Object(map) => Box::new(map.values()),
            Value::Array(items) => Box::new(items.iter()),
            _ => continue,
        };
        if depth > MAX_JSON_DEPTH {
            return Err(Error::new(code, format!("JSON nested deeper than {MAX_JSON_DEPTH}")));
        }
        pending.extend(children.map(|child| (child, depth + 1)));
    }
    Ok(())
}

/// A serde_json Value whose objects were read without duplicated keys.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Value, E> {
        serde_json::Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("not a finite number"))
    }

    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> std::result::Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        Strict::deserialize(d).map(|s| s.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> std::result::Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(DUPLICATE));
            }
            let Strict(value) = access.next_value_seed(StrictSeed)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

struct StrictSeed;

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Strict;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Strict, D::Error> {
        Strict::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_bounded_as_the_reader_bounds_it() {
        // `levels` containers in all, the outer object included
        let nested = |levels: usize| {
            let inner = (0..levels).fold(Value::from(1), |v, _| serde_json::json!({ "a": v }));
            inner.as_object().cloned().unwrap_or_default()
        };
        assert!(check_depth(&nested(MAX_JSON_DEPTH), ErrorCode::JobInvalid).is_ok());
        assert_eq!(
            check_depth(&nested(MAX_JSON_DEPTH + 1), ErrorCode::JobInvalid).unwrap_err().code(),
            ErrorCode::JobInvalid
        );
        // the text reader agrees: it reads the one, not the other
        let text = |levels| serde_json::to_vec(&Value::Object(nested(levels))).unwrap();
        assert!(parse_object(&text(MAX_JSON_DEPTH), ErrorCode::JobInvalid).is_ok());
        let deep = parse_object(&text(MAX_JSON_DEPTH + 1), ErrorCode::JobInvalid).unwrap_err();
        assert_eq!(deep.message(), "JSON nested deeper than 127", "the message says why, not just \"not JSON\"");
    }

    #[test]
    fn duplicated_keys_are_refused_at_any_depth() {
        let code = ErrorCode::JobInvalid;
        assert!(parse_object(br#"{"a":1,"b":{"c":[1,{"d":2}]}}"#, code).is_ok());
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"cmd":"rm -rf /","id":"j","cmd":"ls"}"#,
            r#"{"a":{"b":1,"b":1}}"#,
            r#"{"a":[{"x":1,"x":1}]}"#,
            r#"{"a":1} trailing"#,
            r#"[1]"#,
            "not json",
        ] {
            assert_eq!(parse_object(text.as_bytes(), code).unwrap_err().code(), code, "{text}");
        }
        // escapes that spell the same key are the same key
        assert!(parse_object(br#"{"a":1,"\u0061":2}"#, code).is_err());
        // numbers keep serde_json's reading
        let map = parse_object(br#"{"n":3,"f":1.5,"neg":-2,"big":18446744073709551615}"#, code).unwrap();
        assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"n":3,"f":1.5,"neg":-2,"big":18446744073709551615}"#);
    }
}
