//! trustcore for Node.js: a thin napi-rs projection of trustcore-core. It converts JS values and
//! errors and runs the heavy calls on the libuv pool (those that wait on Redis on a pool of its
//! own, `offload`); every rule lives in core.
//!
//! The generated `index.js`/`index.d.ts` describe these exports; `trustcore.js` adds `TrustError`.

// napi-derive registers nothing under cfg(test) (clippy --all-targets), so exports look unused there
#![cfg_attr(test, allow(dead_code))]

#[macro_use]
extern crate napi_derive;

mod authenticate;
mod convert;
mod delegation;
mod error;
mod http;
mod jobs;
mod keys;
mod mint;
mod offload;
mod policy;
mod proof;
mod shapes;
mod signer;
mod token;
mod verifier;
mod wire;

use error::{guard, Result};

// Rust's allocations in mimalloc, V8's and Node's stay in theirs. A request's authorizer is rebuilt
// from many small allocations, and glibc's malloc, whose heap Node and its libraries share, served
// them 5-8 us slower a request in a loop and 10-20 us slower inside a server (docs/performance.md,
// "The Node addon's allocator").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Every error code name (docs/DESIGN.md §5), in number order.
#[napi(catch_unwind)]
pub fn error_codes() -> Result<Vec<&'static str>> {
    guard(|| Ok(trustcore_core::ErrorCode::ALL.iter().map(|c| c.name()).collect()))
}
