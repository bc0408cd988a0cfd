//! The signer's protocol (docs/DESIGN.md §4) over wire frames: requests `{"v":1,"id":…,"op":…,"args":{…}}`,
//! answers `{"v":1,"id":…,"ok":true,"result":{…}}` or `{"v":1,"id":…,"ok":false,"error":{"code":…,"message":…}}`.

use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, Result};

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u64 = 1;

/// The signer's operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    PublicKey,
    Mint,
    SignJob,
    Health,
}

impl Op {
    pub const ALL: [Op; 4] = [Op::PublicKey, Op::Mint, Op::SignJob, Op::Health];

    pub const fn name(self) -> &'static str {
        match self {
            Op::PublicKey => "public_key",
            Op::Mint => "mint",
            Op::SignJob => "sign_job",
            Op::Health => "health",
        }
    }

    pub fn from_name(name: &str) -> Option<Op> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// A request the signer understood well enough to answer by its id.
#[derive(Clone, Debug, PartialEq)]
pub struct SignerRequest {
    pub id: Value,
    pub op: Op,
    pub args: Map<String, Value>,
}

/// The request's id if it has a usable one (a string, a number, or absent → null): an answer
/// echoes it even when the rest of the request is refused.
pub fn request_id(frame: &Map<String, Value>) -> Value {
    match frame.get("id") {
        Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
        _ => Value::Null,
    }
}

/// Read a request frame. A wrong version, a missing or unknown op, args that are not an object or
/// an unexpected key are MALFORMED_INPUT.
pub fn parse_request(frame: &Map<String, Value>) -> Result<SignerRequest> {
    for key in frame.keys() {
        if !matches!(key.as_str(), "v" | "id" | "op" | "args") {
            return Err(Error::malformed(format!("unexpected request field {key:?}")));
        }
    }
    if frame.get("v").and_then(Value::as_u64) != Some(PROTOCOL_VERSION) {
        return Err(Error::malformed("unsupported protocol version (expected \"v\": 1)"));
    }
    if !matches!(frame.get("id"), None | Some(Value::Null | Value::String(_) | Value::Number(_))) {
        return Err(Error::malformed("request id must be a string or a number"));
    }
    let op = match frame.get("op") {
        Some(Value::String(name)) => Op::from_name(name).ok_or_else(|| Error::malformed("unknown op"))?,
        _ => return Err(Error::malformed("request carries no op")),
    };
    let args = match frame.get("args") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(args)) => args.clone(),
        Some(_) => return Err(Error::malformed("request args must be an object")),
    };
    Ok(SignerRequest { id: request_id(frame), op, args })
}

/// A request frame, as a client sends it.
pub fn request_frame(id: u64, op: Op, args: Map<String, Value>) -> Map<String, Value> {
    let mut frame = Map::new();
    frame.insert("v".into(), PROTOCOL_VERSION.into());
    frame.insert("id".into(), id.into());
    frame.insert("op".into(), op.name().into());
    frame.insert("args".into(), Value::Object(args));
    frame
}

pub fn ok_response(id: Value, result: Map<String, Value>) -> Map<String, Value> {
    let mut frame = Map::new();
    frame.insert("v".into(), PROTOCOL_VERSION.into());
    frame.insert("id".into(), id);
    frame.insert("ok".into(), true.into());
    frame.insert("result".into(), Value::Object(result));
    frame
}

pub fn error_response(id: Value, error: &Error) -> Map<String, Value> {
    let mut detail = Map::new();
    detail.insert("code".into(), error.code().name().into());
    detail.insert("message".into(), error.message().into());
    let mut frame = Map::new();
    frame.insert("v".into(), PROTOCOL_VERSION.into());
    frame.insert("id".into(), id);
    frame.insert("ok".into(), false.into());
    frame.insert("error".into(), Value::Object(detail));
    frame
}

fn bad_answer(message: &str) -> Error {
    Error::new(ErrorCode::FrameInvalid, format!("signer answer: {message}"))
}

/// Read an answer to request `id`: its result, or the signer's error with the same code. An answer
/// that is not of the protocol's form, or answers another request, is FRAME_INVALID; a code this
/// crate does not know is INTERNAL (never a success).
pub fn parse_response(frame: &Map<String, Value>, id: u64) -> Result<Map<String, Value>> {
    if frame.get("v").and_then(Value::as_u64) != Some(PROTOCOL_VERSION) {
        return Err(bad_answer("unsupported protocol version"));
    }
    let answered = frame.get("id").unwrap_or(&Value::Null);
    match frame.get("ok") {
        Some(Value::Bool(true)) => {
            if answered.as_u64() != Some(id) {
                return Err(bad_answer("it answers another request"));
            }
            match frame.get("result") {
                Some(Value::Object(result)) => Ok(result.clone()),
                _ => Err(bad_answer("no result")),
            }
        }
        Some(Value::Bool(false)) => {
            // a refusal sent before the request was read (id null) still counts
            if !answered.is_null() && answered.as_u64() != Some(id) {
                return Err(bad_answer("it answers another request"));
            }
            let detail = frame.get("error").and_then(Value::as_object).ok_or_else(|| bad_answer("no error"))?;
            let message = detail.get("message").and_then(Value::as_str).unwrap_or("signer refused the request");
            let code = detail
                .get("code")
                .and_then(Value::as_str)
                .and_then(ErrorCode::from_name)
                .unwrap_or(ErrorCode::Internal);
            Err(Error::new(code, message))
        }
        _ => Err(bad_answer("no ok field")),
    }
}

/// The largest request frame the daemon reads (a `sign_job` with its job); refused on its length.
pub const MAX_REQUEST_FRAME: usize = 64 * 1024;

/// The largest request frame of each op: what that op needs (a mint is a few hundred bytes).
pub const fn max_request_frame(op: Op) -> usize {
    match op {
        Op::PublicKey | Op::Health => 1024,
        Op::Mint => 16 * 1024,
        Op::SignJob => MAX_REQUEST_FRAME,
    }
}

/// Deepest nesting and most values a request frame may hold, checked on the raw bytes before any
/// tree is built: `[0,0,0,…]` would otherwise grow 8 to 16 times in memory.
pub const MAX_REQUEST_DEPTH: usize = 16;
pub const MAX_REQUEST_VALUES: usize = 4096;

/// Check a request frame's body on its raw bytes: at most [`MAX_REQUEST_DEPTH`] levels and
/// [`MAX_REQUEST_VALUES`] values (counted by their separators), FRAME_INVALID otherwise.
pub fn check_request_shape(body: &[u8]) -> Result<()> {
    let invalid = |why: &str| Err(Error::new(ErrorCode::FrameInvalid, format!("signer frame {why}")));
    let (mut depth, mut values, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                values += 1;
                if depth > MAX_REQUEST_DEPTH {
                    return invalid("is nested too deeply");
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' | b':' => values += 1,
            _ => {}
        }
        if values > MAX_REQUEST_VALUES {
            return invalid("holds too many values");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn requests_are_read_strictly() {
        let good = object(json!({"v": 1, "id": 7, "op": "health"}));
        assert_eq!(parse_request(&good).unwrap(), SignerRequest { id: json!(7), op: Op::Health, args: Map::new() });
        for bad in [
            json!({"id": 1, "op": "health"}),
            json!({"v": 2, "id": 1, "op": "health"}),
            json!({"v": 1, "id": 1, "op": "format_disk"}),
            json!({"v": 1, "id": 1}),
            json!({"v": 1, "id": 1, "op": "mint", "args": [1]}),
            json!({"v": 1, "id": [1], "op": "health"}),
            json!({"v": 1, "id": 1, "op": "health", "extra": true}),
        ] {
            assert_eq!(parse_request(&object(bad.clone())).unwrap_err().code(), ErrorCode::MalformedInput, "{bad}");
        }
        assert_eq!(request_id(&object(json!({"id": "a"}))), json!("a"));
        assert_eq!(request_id(&object(json!({"id": {}}))), Value::Null);
    }

    #[test]
    fn answers_map_back_to_codes() {
        let refused = error_response(json!(3), &Error::new(ErrorCode::SignerRefused, "ttl over the signer's limit"));
        let err = parse_response(&refused, 3).unwrap_err();
        assert_eq!((err.code(), err.message()), (ErrorCode::SignerRefused, "ttl over the signer's limit"));
        let early = error_response(Value::Null, &Error::new(ErrorCode::SignerRefused, "peer not allowed"));
        assert_eq!(parse_response(&early, 3).unwrap_err().code(), ErrorCode::SignerRefused);
        let ok = ok_response(json!(3), object(json!({"sig": "ab"})));
        assert_eq!(parse_response(&ok, 3).unwrap(), object(json!({"sig": "ab"})));
        assert_eq!(parse_response(&ok, 4).unwrap_err().code(), ErrorCode::FrameInvalid);
        let unknown = object(json!({"v": 1, "id": 3, "ok": false, "error": {"code": "NEW_CODE", "message": "?"}}));
        assert_eq!(parse_response(&unknown, 3).unwrap_err().code(), ErrorCode::Internal);
        assert_eq!(parse_response(&object(json!({"v": 1, "id": 3})), 3).unwrap_err().code(), ErrorCode::FrameInvalid);
    }
}
