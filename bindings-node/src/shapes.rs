//! The per-request result objects JS receives (`Identity`, `Authenticated`, `Decision`), made by
//! three small JS functions compiled once per environment. Native code makes every value; the
//! functions only arrange them. Why: V8 makes an object literal in nanoseconds, while napi adds
//! each property of a native-made object through the engine's slow path (the key looked up in
//! the string table, a map transition): about 2 us an identity and 6 us a decision, 3-8 % of a
//! request (perf on bench/node's loops). The shapes, and their TypeScript types, are the structs'.

use std::cell::RefCell;
use std::ptr;

use napi::bindgen_prelude::{Env, ToNapiValue};
use napi::{check_status, sys, Error, JsValue, Result, Status};

use crate::authenticate::{Authenticated, Holder, Identity};
use crate::http::Decision;

/// The three functions. A chain is `null` for a token never delegated (its one holder is the
/// identity's own, made here), else the holders as napi made them; a decision's facts come as one
/// flat list, name, value, name, value, …; its identity as its four fields (`holderId` null: none).
/// Literals and indexing only: no method a program could have replaced on a prototype is called.
const SOURCE: &str = r#"(function () {
  'use strict'
  function identity(holderId, holderPublicHex, revocationId, chain) {
    return { holderId, holderPublicHex, revocationId, chain: chain === null ? [{ holderId, holderPublicHex }] : chain }
  }
  function authenticated(token, holderId, holderPublicHex, revocationId, chain) {
    return { token, identity: identity(holderId, holderPublicHex, revocationId, chain) }
  }
  function decision(allowed, status, code, message, headers, body, holderId, holderPublicHex, revocationId, chain, facts, route, profile) {
    const pairs = new Array(facts.length / 2)
    for (let i = 0; i < pairs.length; i++) pairs[i] = [facts[2 * i], facts[2 * i + 1]]
    return {
      allowed, status, code, message, headers, body,
      identity: holderId === null ? null : identity(holderId, holderPublicHex, revocationId, chain),
      facts: pairs, route, profile,
    }
  }
  return [identity, authenticated, decision]
})()"#;

const IDENTITY: usize = 0;
const AUTHENTICATED: usize = 1;
const DECISION: usize = 2;

/// The functions of the environment that runs on this thread (the main thread's, or a worker's),
/// as persistent references; dropped by the environment's cleanup hook, so a later environment on
/// the same thread compiles its own.
struct Shapes {
    env: usize,
    functions: [sys::napi_ref; 3],
}

thread_local! {
    static SHAPES: RefCell<Option<Shapes>> = const { RefCell::new(None) };
}

/// Calls function `which` of this environment with `args`.
unsafe fn call(env: sys::napi_env, which: usize, args: &[sys::napi_value]) -> Result<sys::napi_value> {
    let function = unsafe { function(env, which)? };
    let mut undefined = ptr::null_mut();
    let mut result = ptr::null_mut();
    unsafe {
        check_status!(sys::napi_get_undefined(env, &mut undefined))?;
        check_status!(sys::napi_call_function(env, undefined, function, args.len(), args.as_ptr(), &mut result))?;
    }
    Ok(result)
}

unsafe fn function(env: sys::napi_env, which: usize) -> Result<sys::napi_value> {
    let known =
        SHAPES.with_borrow(|shapes| shapes.as_ref().filter(|s| s.env == env as usize).map(|s| s.functions[which]));
    let reference = match known {
        Some(reference) => reference,
        None => (unsafe { compile(env)? })[which],
    };
    let mut value = ptr::null_mut();
    unsafe { check_status!(sys::napi_get_reference_value(env, reference, &mut value))? };
    Ok(value)
}

unsafe fn compile(env: sys::napi_env) -> Result<[sys::napi_ref; 3]> {
    let handle = Env::from_raw(env);
    let list: napi::bindgen_prelude::Array = handle.run_script(SOURCE)?;
    let mut functions = [ptr::null_mut(); 3];
    for (i, slot) in functions.iter_mut().enumerate() {
        let function: napi::bindgen_prelude::Unknown = list
            .get(i as u32)?
            .ok_or_else(|| Error::new(Status::GenericFailure, "the result shapes did not compile"))?;
        unsafe { check_status!(sys::napi_create_reference(env, function.raw(), 1, slot))? };
    }
    SHAPES.with_borrow_mut(|shapes| *shapes = Some(Shapes { env: env as usize, functions }));
    // the references die with the environment: forget them then, so nothing uses them after
    let key = env as usize;
    handle.add_env_cleanup_hook(key, |key| {
        SHAPES.with_borrow_mut(|shapes| {
            if shapes.as_ref().is_some_and(|s| s.env == key) {
                *shapes = None;
            }
        })
    })?;
    Ok(functions)
}

/// An identity's four arguments: the chain `null` when it is the holder alone.
unsafe fn identity_args(env: sys::napi_env, identity: Identity) -> Result<[sys::napi_value; 4]> {
    let Identity { holder_id, holder_public_hex, revocation_id, chain } = identity;
    let alone = matches!(chain.as_slice(), [only] if only.holder_id == holder_id && only.holder_public_hex == holder_public_hex);
    let chain = if alone { None } else { Some(chain) };
    unsafe {
        Ok([
            String::to_napi_value(env, holder_id)?,
            String::to_napi_value(env, holder_public_hex)?,
            String::to_napi_value(env, revocation_id)?,
            Option::<Vec<Holder>>::to_napi_value(env, chain)?,
        ])
    }
}

impl ToNapiValue for Identity {
    unsafe fn to_napi_value(env: sys::napi_env, identity: Self) -> Result<sys::napi_value> {
        unsafe { call(env, IDENTITY, &identity_args(env, identity)?) }
    }
}

impl ToNapiValue for Authenticated {
    unsafe fn to_napi_value(env: sys::napi_env, value: Self) -> Result<sys::napi_value> {
        let Authenticated { token, identity } = value;
        let [a, b, c, d] = unsafe { identity_args(env, identity)? };
        unsafe { call(env, AUTHENTICATED, &[ToNapiValue::to_napi_value(env, token)?, a, b, c, d]) }
    }
}

impl ToNapiValue for Decision {
    unsafe fn to_napi_value(env: sys::napi_env, value: Self) -> Result<sys::napi_value> {
        let Decision { allowed, status, code, message, headers, body, identity, facts, route, profile } = value;
        let mut null = ptr::null_mut();
        unsafe { check_status!(sys::napi_get_null(env, &mut null))? };
        let who = match identity {
            Some(identity) => unsafe { identity_args(env, identity)? },
            None => [null; 4],
        };
        let flat: Vec<String> = facts.into_iter().flatten().collect();
        unsafe {
            call(
                env,
                DECISION,
                &[
                    bool::to_napi_value(env, allowed)?,
                    u32::to_napi_value(env, status)?,
                    Option::<&str>::to_napi_value(env, code)?,
                    String::to_napi_value(env, message)?,
                    ToNapiValue::to_napi_value(env, headers)?,
                    String::to_napi_value(env, body)?,
                    who[0],
                    who[1],
                    who[2],
                    who[3],
                    Vec::<String>::to_napi_value(env, flat)?,
                    Option::<String>::to_napi_value(env, route)?,
                    Option::<&str>::to_napi_value(env, profile)?,
                ],
            )
        }
    }
}
