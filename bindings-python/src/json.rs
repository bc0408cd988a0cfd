//! Python objects to JSON values and back, for jobs and wire frames (what `json` would accept:
//! dict with str keys, list, tuple, str, int, float, bool, None).
//!
//! A type JSON has no form for is a TypeError, as with `json.dumps`. A value of a JSON type that
//! JSON cannot carry (NaN, an int beyond 64 bits, absurd nesting) is a TrustError with the
//! caller's code: the job or frame cannot be encoded.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use trustcore_core::serde_json::{Map, Number, Value};
use trustcore_core::{Error, ErrorCode};

use crate::convert::items;
use crate::error::{to_py, type_error};

/// Core's depth bound: deeper is refused (core refuses it too); it also bounds the recursion here on
/// self-referencing containers.
const MAX_DEPTH: usize = trustcore_core::MAX_JSON_DEPTH;

/// A mapping (dict, or anything with `.items()`) as a JSON object.
pub fn to_object(obj: &Bound<'_, PyAny>, code: ErrorCode, what: &str) -> PyResult<Map<String, Value>> {
    let mut map = Map::new();
    for (key, value) in items(obj, what)? {
        map.insert(key_text(&key, code)?, to_value(&value, code, 1)?);
    }
    Ok(map)
}

fn key_text(key: &Bound<'_, PyAny>, code: ErrorCode) -> PyResult<String> {
    let key = key.cast::<PyString>().map_err(|_| type_error("a JSON object key", "str", key))?;
    key.to_str().map(str::to_owned).map_err(|_| cannot_encode(code, "a key is not valid UTF-8"))
}

fn cannot_encode(code: ErrorCode, why: &str) -> PyErr {
    to_py(Error::new(code, format!("value cannot be encoded as JSON: {why}")))
}

fn to_value(obj: &Bound<'_, PyAny>, code: ErrorCode, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(cannot_encode(code, "nested too deeply"));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_str().map_err(|_| cannot_encode(code, "a string is not valid UTF-8"))?;
        return Ok(Value::String(s.to_owned()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(n) = obj.extract::<i64>() {
            return Ok(Value::Number(n.into()));
        }
        if let Ok(n) = obj.extract::<u64>() {
            return Ok(Value::Number(n.into()));
        }
        return Err(cannot_encode(code, "an integer does not fit in 64 bits"));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let number = Number::from_f64(f.value()).ok_or_else(|| cannot_encode(code, "a float is not finite"))?;
        return Ok(Value::Number(number));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (key, value) in dict.iter() {
            map.insert(key_text(&key, code)?, to_value(&value, code, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        return list.iter().map(|v| to_value(&v, code, depth + 1)).collect::<PyResult<_>>().map(Value::Array);
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        return tuple.iter().map(|v| to_value(&v, code, depth + 1)).collect::<PyResult<_>>().map(Value::Array);
    }
    Err(type_error("a JSON value", "dict, list, tuple, str, int, float, bool or None", obj))
}

/// A JSON value as Python objects (objects keep their key order).
pub fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(values) => {
            let list = PyList::empty(py);
            for v in values {
                list.append(to_python(py, v)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => object_to_python(py, map)?.into_any(),
    })
}

pub fn object_to_python<'py>(py: Python<'py>, map: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in map {
        dict.set_item(k, to_python(py, v)?)?;
    }
    Ok(dict)
}
