//! IssuerKey and WorkerKey: a 32-byte Ed25519 seed each, held in Rust. JS sees the public half; the
//! secret only through an explicit `secretHex()` call, never through inspect, toString or JSON.

use napi::bindgen_prelude::{Buffer, Either, Uint8Array};
use trustcore_core as core;

use crate::error::{guard, trust, Result};

/// Bytes to sign or compare: a Buffer/Uint8Array, or a string taken as UTF-8.
pub type Bytes = Either<String, Uint8Array>;

pub fn bytes_of(value: &Bytes) -> &[u8] {
    match value {
        Either::A(text) => text.as_bytes(),
        Either::B(bytes) => bytes,
    }
}

macro_rules! key_class {
    ($name:ident, $js:literal) => {
        #[napi]
        pub struct $name {
            pub(crate) inner: core::$name,
        }

        #[napi]
        impl $name {
            /// A fresh key from the operating system's random source.
            #[napi(factory, catch_unwind, configurable = true)]
            pub fn generate() -> Result<$name> {
                guard(|| Ok($name { inner: core::$name::generate().map_err(trust)? }))
            }

            /// A key from its 32-byte seed in hex.
            #[napi(factory, catch_unwind, configurable = true)]
            pub fn from_secret_hex(secret_hex: String) -> Result<$name> {
                guard(|| Ok($name { inner: core::$name::from_secret_hex(&secret_hex).map_err(trust)? }))
            }

            /// The public key, hex.
            #[napi(getter, catch_unwind)]
            pub fn public_hex(&self) -> Result<String> {
                guard(|| Ok(self.inner.public_hex()))
            }

            /// The private seed, hex. Handle with care: it is the key.
            #[napi(catch_unwind)]
            pub fn secret_hex(&self) -> Result<String> {
                guard(|| Ok(self.inner.secret_hex().to_string()))
            }

            /// A detached Ed25519 signature (64 bytes) over `message`.
            #[napi(catch_unwind, ts_args_type = "message: Buffer | Uint8Array | string")]
            pub fn sign(&self, message: Bytes) -> Result<Buffer> {
                guard(|| Ok(self.inner.sign(bytes_of(&message)).to_vec().into()))
            }

            /// The public half only, so a key printed by mistake leaks nothing.
            #[napi(js_name = "toString", catch_unwind)]
            pub fn to_display(&self) -> Result<String> {
                guard(|| Ok(format!(concat!($js, "({})"), self.inner.public_hex())))
            }

            #[napi(js_name = "toJSON", catch_unwind)]
            pub fn to_json(&self) -> Result<String> {
                self.to_display()
            }
        }
    };
}

key_class!(IssuerKey, "IssuerKey");
key_class!(WorkerKey, "WorkerKey");

/// Whether `value` is exactly 64 hex digits (a 32-byte key in hex).
#[napi(catch_unwind)]
pub fn is_hex_key(value: String) -> Result<bool> {
    guard(|| Ok(core::is_hex_key(&value)))
}

/// Equality whose time depends on the lengths only.
#[napi(catch_unwind, ts_args_type = "left: Buffer | Uint8Array | string, right: Buffer | Uint8Array | string")]
pub fn constant_time_equal(left: Bytes, right: Bytes) -> Result<bool> {
    guard(|| Ok(core::constant_time_equal(bytes_of(&left), bytes_of(&right))))
}
