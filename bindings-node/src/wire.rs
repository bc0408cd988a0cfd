//! The signer's wire frames: a 4-byte big-endian length, then a JSON object as JCS.

use napi::bindgen_prelude::{Buffer, Uint8Array, Unknown};
use serde_json::{Map, Value};
use trustcore_core as core;

use crate::convert::json_object_arg;
use crate::error::{guard, trust, Result};

/// One wire frame: a 4-byte big-endian length, then the object as JCS.
#[napi(catch_unwind, ts_args_type = "object: Record<string, unknown>")]
pub fn encode_frame(object: Unknown<'_>) -> Result<Buffer> {
    guard(|| {
        Ok(core::encode_frame(&json_object_arg(object, "a frame body", core::ErrorCode::MalformedInput)?)
            .map_err(trust)?
            .into())
    })
}

/// Decode exactly one frame; FRAME_INVALID when oversize, cut short, followed by more bytes, or
/// not a JSON object.
#[napi(catch_unwind, ts_return_type = "Record<string, unknown>")]
pub fn decode_frame(frame: Uint8Array) -> Result<Map<String, Value>> {
    guard(|| core::decode_frame(&frame).map_err(trust))
}
