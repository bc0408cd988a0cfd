//! The Promise forms of the calls that may wait on Redis run here, on a few threads the addon owns,
//! never on the libuv pool: a Redis that is slow or gone must not hold the threads the host's own
//! `fs`, `crypto` and `dns` calls need. The Promise is settled from the worker through a
//! thread-safe function (napi's `JsDeferred`); the value, or the JS error with its `.code`, is
//! made on the JS thread as `Work::resolve` makes it. A panic in the job is INTERNAL, as on the
//! libuv pool.
//!
//! Calls that never wait (everything on the in-memory stores) stay on the libuv pool (`Work`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;

use napi::bindgen_prelude::{AsyncTask, JsError, ToNapiValue, TypeName};
use napi::{sys, Env, JsValue, ValueType};
use trustcore_core as core;

use crate::error::{internal, trust, Work};

/// Threads of the dedicated pool, shared by every verifier (and every worker_thread's addon
/// instance) of the process, started on first use. Each call in flight against a black-holed
/// Redis holds one for at most its connect and command timeouts.
pub const THREADS: usize = 4;

type Job = Box<dyn FnOnce() + Send>;

/// The queue of the dedicated pool, or None when not one thread could be started.
fn queue() -> Option<&'static Mutex<Sender<Job>>> {
    static QUEUE: OnceLock<Option<Mutex<Sender<Job>>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (sender, receiver) = channel::<Job>();
            let receiver = Arc::new(Mutex::new(receiver));
            let started = (0..THREADS)
                .filter(|i| {
                    let receiver = Arc::clone(&receiver);
                    thread::Builder::new().name(format!("trustcore-io-{i}")).spawn(move || serve(&receiver)).is_ok()
                })
                .count();
            (started > 0).then(|| Mutex::new(sender))
        })
        .as_ref()
}

fn serve(receiver: &Mutex<Receiver<Job>>) {
    loop {
        // the lock is held only while waiting for the next job, never while running one
        let job = match receiver.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        // a job catches its own panics; this keeps the thread alive whatever happens
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}

/// Queue `job`; gives it back when the pool has no thread to run it.
fn submit(job: Job) -> std::result::Result<(), Job> {
    let Some(queue) = queue() else { return Err(job) };
    let sender = queue.lock().unwrap_or_else(|p| p.into_inner());
    sender.send(job).map_err(|err| err.0)
}

type CoreJob<T> = Box<dyn FnOnce() -> core::Result<T> + Send>;
type Resolver<T> = Box<dyn FnOnce(Env) -> napi::Result<T>>;

/// The Promise of an async call: on the libuv pool (a call that never waits on the network) or on
/// the dedicated pool (a verifier whose stores are on Redis).
pub enum Async<T> {
    Pool(Work<T>),
    Dedicated(CoreJob<T>),
}

impl<T> Async<T> {
    /// `job` on the dedicated pool when `waits` (the stores are on Redis), else on the libuv pool.
    pub fn new(waits: bool, job: impl FnOnce() -> core::Result<T> + Send + 'static) -> Self {
        if waits {
            Async::Dedicated(Box::new(job))
        } else {
            Async::Pool(Work::new(job))
        }
    }
}

/// The JS error of a core error, made on the JS thread, handed to the rejection as is.
fn rejection(env: Env, err: core::Error) -> napi::Error {
    napi::Error::from(JsError::from(trust(err)).into_unknown(env))
}

impl<T: Send + 'static + ToNapiValue + TypeName> ToNapiValue for Async<T> {
    unsafe fn to_napi_value(raw_env: sys::napi_env, value: Self) -> napi::Result<sys::napi_value> {
        let job = match value {
            Async::Pool(work) => return unsafe { AsyncTask::to_napi_value(raw_env, AsyncTask::new(work)) },
            Async::Dedicated(job) => job,
        };
        let env = Env::from_raw(raw_env);
        let (deferred, promise) = env.create_deferred::<T, Resolver<T>>()?;
        let run: Job = Box::new(move || {
            let outcome = catch_unwind(AssertUnwindSafe(job)).unwrap_or_else(|_| Err(internal()));
            let resolver: Resolver<T> = Box::new(move |env| outcome.map_err(|err| rejection(env, err)));
            deferred.resolve(resolver);
        });
        if let Err(run) = submit(run) {
            // no thread to run it on: run it here rather than leave the Promise pending forever
            run();
        }
        Ok(promise.raw())
    }
}

impl<T: TypeName> TypeName for Async<T> {
    fn type_name() -> &'static str {
        "Promise"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}
