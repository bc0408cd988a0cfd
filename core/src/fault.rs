//! Fault injection for the bindings' panic-boundary tests. Only a build with the cargo feature
//! `fault-injection` (test builds, never a release) panics, and only on a request whose method is
//! [`PANIC_METHOD`]: every binding reaches it through its ordinary functions (make_proof,
//! canonical_request, authenticate, the Verifier, its async and batch forms) and must turn the
//! panic into INTERNAL, leaving the process and the objects it holds usable.

/// The request method that makes a `fault-injection` build panic inside core.
pub const PANIC_METHOD: &str = "TRUSTCORE-INJECTED-PANIC";

/// Whether this build panics on [`PANIC_METHOD`].
pub const ENABLED: bool = cfg!(feature = "fault-injection");

#[inline]
pub(crate) fn on_method(method: &str) {
    if ENABLED && method == PANIC_METHOD {
        panic!("injected panic (a fault-injection build)");
    }
}
