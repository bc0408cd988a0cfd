//! Errors across the boundary: core codes keep their names, type mistakes stay type mistakes, and a
//! panic never unwinds into Node (it becomes INTERNAL).

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::{JsError, ToNapiValue, TypeName};
use napi::{Env, Task};
use trustcore_core::{Error as CoreError, ErrorCode};

/// The JS `code` of a thrown error: a docs/DESIGN.md §5 name, or `InvalidArg` for a value of the wrong type
/// (the JS layer turns that one into a `TypeError`, as it does napi's own conversion failures).
pub struct Code(&'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

pub type Failure = napi::Error<Code>;
pub type Result<T> = std::result::Result<T, Failure>;

const INVALID_ARG: &str = "InvalidArg";
const PANIC_MESSAGE: &str = "internal error (a panic was caught at the Node boundary)";

/// A core error, code and message as core made them.
pub fn trust(err: CoreError) -> Failure {
    napi::Error::new(Code(err.code().name()), err.message())
}

/// A value of the wrong JS type or shape: a `TypeError` in JS.
pub fn type_error(message: impl Into<String>) -> Failure {
    napi::Error::new(Code(INVALID_ARG), message.into())
}

/// A napi conversion failure, kept as a type error (its reason names the type, never the value).
pub fn napi_type_error(err: napi::Error) -> Failure {
    type_error(err.reason)
}

/// A value JS can hold but core cannot take (a negative limit, a root key id that is not a
/// number): MALFORMED_INPUT, the code core gives any other malformed input.
pub fn malformed(message: impl Into<String>) -> Failure {
    napi::Error::new(Code(ErrorCode::MalformedInput.name()), message.into())
}

/// What a caught panic becomes.
pub fn internal() -> CoreError {
    CoreError::new(ErrorCode::Internal, PANIC_MESSAGE)
}

/// Run one export's body; a panic becomes INTERNAL instead of crossing the FFI boundary.
pub fn guard<T>(body: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| Err(trust(internal())))
}

/// Work for the libuv thread pool: `compute` runs the core call off the JS thread, `resolve` maps a
/// core error to a JS error carrying its code (on the JS thread, where errors can be made).
pub struct Work<T> {
    job: Option<Box<dyn FnOnce() -> trustcore_core::Result<T> + Send>>,
}

impl<T> Work<T> {
    pub fn new(job: impl FnOnce() -> trustcore_core::Result<T> + Send + 'static) -> Self {
        Work { job: Some(Box::new(job)) }
    }
}

impl<T: Send + 'static + ToNapiValue + TypeName> Task for Work<T> {
    type Output = trustcore_core::Result<T>;
    type JsValue = T;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let job = self.job.take();
        Ok(catch_unwind(AssertUnwindSafe(move || match job {
            Some(job) => job(),
            None => Err(internal()),
        }))
        .unwrap_or_else(|_| Err(internal())))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<T> {
        output.map_err(|err| {
            // a JS error object with `.code`, handed to the rejection as is
            let js = JsError::from(trust(err)).into_unknown(env);
            napi::Error::from(js)
        })
    }
}
