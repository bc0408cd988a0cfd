//! Python values in, Rust values out. A value of the wrong type is a TypeError; a value of the right
//! type that Rust cannot hold (a str with lone surrogates, an int out of range) is MALFORMED_INPUT,
//! so bad input never surfaces as UnicodeEncodeError, OverflowError or a crash.

use std::borrow::Cow;
use std::time::Duration;

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyString};
use trustcore_core::{Error, IssuerKeys};

use crate::error::{malformed, to_py, type_error};

/// A `str`, as UTF-8.
pub struct Text(pub String);

impl<'a, 'py> FromPyObject<'a, 'py> for Text {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        text(&obj, "value").map(Text)
    }
}

pub fn text(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    let string = obj.cast::<PyString>().map_err(|_| type_error(what, "str", obj))?;
    match string.to_str() {
        Ok(s) => Ok(s.to_owned()),
        Err(_) => Err(to_py(not_utf8(what))),
    }
}

/// MALFORMED_INPUT for a str that UTF-8 cannot hold.
pub fn not_utf8(what: &str) -> Error {
    Error::malformed(format!("{what} is not valid UTF-8 (it holds a lone surrogate)"))
}

/// `bytes` (borrowed, never copied) or `bytearray` (copied, as it may change under us).
pub struct Bytes<'a>(pub Cow<'a, [u8]>);

impl<'a, 'py> FromPyObject<'a, 'py> for Bytes<'a> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(bytes) = <&'a [u8] as FromPyObject<'a, 'py>>::extract(obj) {
            return Ok(Bytes(Cow::Borrowed(bytes)));
        }
        if let Ok(array) = obj.cast::<PyByteArray>() {
            return Ok(Bytes(Cow::Owned(array.to_vec())));
        }
        Err(type_error("value", "bytes", &obj))
    }
}

/// A number of seconds (int or float). An int too large for a float is MALFORMED_INPUT.
pub struct Seconds(pub f64);

impl<'a, 'py> FromPyObject<'a, 'py> for Seconds {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        seconds_value(&obj, "value")?.map(Seconds).map_err(to_py)
    }
}

/// `Seconds`, with the value out of range kept apart from the errors that are raised (the wrong
/// type is a TypeError naming `what`): Ok(Err) is MALFORMED_INPUT, for a caller that returns it
/// rather than raises it (`Verifier.authenticate_batch`).
pub fn seconds_value(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Result<f64, Error>> {
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        return Err(type_error(what, "a number", obj));
    }
    match obj.extract::<f64>() {
        Ok(value) => Ok(Ok(value)),
        Err(err) if err.is_instance_of::<PyOverflowError>(obj.py()) => Ok(Err(out_of_range())),
        Err(err) => Err(err),
    }
}

fn out_of_range() -> Error {
    Error::malformed("number is out of range")
}

/// A non-negative int (a count, an index, a key id). Out of range is MALFORMED_INPUT.
pub struct Count(pub u64);

impl<'a, 'py> FromPyObject<'a, 'py> for Count {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        obj.extract::<u64>().map(Count).map_err(|e| overflow_to_malformed(obj.py(), e))
    }
}

impl Count {
    pub fn to_u32(&self, what: &str) -> PyResult<u32> {
        u32::try_from(self.0).map_err(|_| malformed(format!("{what} is out of range")))
    }
}

/// A number of seconds as a duration (core's rule: finite, not negative, at most a day); the
/// setting's own bounds (a timeout is not zero) are core's too.
pub fn timeout(seconds: Seconds, what: &str) -> PyResult<Duration> {
    trustcore_core::duration_from_seconds(seconds.0, what).map_err(to_py)
}

fn overflow_to_malformed(py: Python<'_>, err: PyErr) -> PyErr {
    if err.is_instance_of::<PyOverflowError>(py) {
        to_py(out_of_range())
    } else {
        err
    }
}

/// The (key, value) pairs of a dict, or of any object with `.items()` (Starlette and Werkzeug
/// headers, `MultiDict`s), in their own order.
pub fn items<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
    if let Ok(dict) = obj.cast::<PyDict>() {
        return Ok(dict.iter().collect());
    }
    let items = match obj.getattr("items") {
        Ok(method) if !obj.is_instance_of::<PyString>() => method.call0()?,
        _ => return Err(type_error(what, "a mapping", obj)),
    };
    let mut pairs = Vec::new();
    for item in items.try_iter()? {
        let item = item?;
        let pair = item
            .extract::<(Bound<'py, PyAny>, Bound<'py, PyAny>)>()
            .map_err(|_| PyTypeError::new_err(format!("{what}.items() must yield (key, value) pairs")))?;
        pairs.push(pair);
    }
    Ok(pairs)
}

/// A mapping of str to str.
pub fn string_pairs(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<(String, String)>> {
    items(obj, what)?.iter().map(|(k, v)| Ok((text(k, what)?, text(v, what)?))).collect()
}

/// Any iterable of str, except a str itself (whose characters would silently become the values).
pub fn strings(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<String>> {
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        return Err(type_error(what, "an iterable of str", obj));
    }
    let iter = obj.try_iter().map_err(|_| type_error(what, "an iterable of str", obj))?;
    iter.map(|item| text(&item?, what)).collect()
}

/// Token facts: a mapping of predicate to an iterable of str values, predicates in the mapping's
/// order (`mint_biscuit` and `SignerClient.mint`).
pub fn fact_pairs(obj: &Bound<'_, PyAny>) -> PyResult<Vec<(String, Vec<String>)>> {
    items(obj, "facts")?
        .iter()
        .map(|(predicate, values)| Ok((text(predicate, "fact predicate")?, strings(values, "fact values")?)))
        .collect()
}

/// The trusted issuer key(s): one public key as hex, or `{root_key_id: public_hex}` for rotation.
pub fn issuer_keys(obj: &Bound<'_, PyAny>) -> PyResult<IssuerKeys> {
    if obj.is_instance_of::<PyString>() {
        // core remembers the last key parsed, so a per-request call does not decompress it again
        return IssuerKeys::from_hex(&text(obj, "issuer public key")?).map_err(to_py);
    }
    if obj.is_instance_of::<PyBytes>() {
        return Err(type_error("issuer public key", "a hex str or a mapping of key id to hex str", obj));
    }
    let mut keys = Vec::new();
    for (id, hex) in items(obj, "issuer keys")? {
        keys.push((id.extract::<Count>()?.to_u32("root key id")?, text(&hex, "issuer public key")?));
    }
    IssuerKeys::from_hex_by_key_id(keys.iter().map(|(id, hex)| (*id, hex.as_str()))).map_err(to_py)
}
