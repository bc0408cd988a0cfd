//! `tc_signer_client`: core's `SignerClient`, how an app asks the signer daemon (docs/DESIGN.md §4) to mint
//! tokens and sign jobs. The signer's refusals keep their codes (SIGNER_REFUSED, MALFORMED_INPUT, …);
//! a signer that cannot be reached, or does not answer in time, is SIGNER_UNAVAILABLE.
//!
//! Every call is a round trip with effects on the signer's side (an audit entry, a token minted), so
//! results come back as owned `tc_bytes`, never in caller buffers: a size query would be a second
//! request.

use std::ffi::c_char;
use std::time::Duration;

use trustcore_core::{Error, ErrorCode, SignerAddress, SignerClient, SignerClientOptions};

use crate::boundary::{clear, free, prepare_out, put, put_optional, run};
use crate::error::{tc_error, tc_status};
use crate::input::{handle, json_object, malformed_error, text};
use crate::mint::{mint_request, tc_mint_request};
use crate::output::tc_bytes;

/// A client of the signer daemon. Thread-safe: one client serves every thread of a process (it keeps
/// a few connections open between requests and locks that pool itself). Freeing it must not race
/// with a call in flight.
#[allow(non_camel_case_types)]
pub struct tc_signer_client {
    client: SignerClient,
}

/// A client of the signer at `address`: a socket path (anything holding a `/`), `unix:PATH`, or
/// `tcp:IP:PORT` / `IP:PORT` with a loopback IP (frames are not encrypted, so any other address is
/// MALFORMED_INPUT). `connect_timeout_ms` bounds opening a connection and `request_timeout_ms` each
/// request from sending it to the whole answer; both must be positive (core's defaults are 1000 and
/// 5000). Nothing is connected yet: the first request connects, and is SIGNER_UNAVAILABLE if no
/// signer listens.
///
/// # Safety
/// `address` is NULL (length 0) or readable for `address_len` bytes; `out` is writable; `err` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_signer_client_new(
    address: *const c_char,
    address_len: usize,
    connect_timeout_ms: u32,
    request_timeout_ms: u32,
    out: *mut *mut tc_signer_client,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        prepare_out(out)?;
        let address = SignerAddress::parse(text(address, address_len, "address")?)?;
        let options = SignerClientOptions {
            // core refuses 0 (and more than a day)
            connect_timeout: Duration::from_millis(u64::from(connect_timeout_ms)),
            request_timeout: Duration::from_millis(u64::from(request_timeout_ms)),
        };
        put(out, tc_signer_client { client: SignerClient::new(address, options)? })
    })
}

/// The issuer's public key (64 hex digits, as an owned buffer) and the signer's root key id: when
/// the signer has one, `*has_key_id_out` is true and `*key_id_out` holds it; otherwise false and 0.
/// Both of those may be NULL when not wanted.
///
/// # Safety
/// `client` is a live handle; `public_hex_out` is writable; `has_key_id_out`, `key_id_out` and `err`
/// are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_signer_client_public_key(
    client: *const tc_signer_client,
    public_hex_out: *mut *mut tc_bytes,
    has_key_id_out: *mut bool,
    key_id_out: *mut u32,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(public_hex_out);
        if !has_key_id_out.is_null() {
            has_key_id_out.write(false);
        }
        if !key_id_out.is_null() {
            key_id_out.write(0);
        }
        let client = &handle(client, "client")?.client;
        if public_hex_out.is_null() {
            return Err(malformed_error("public_hex_out is NULL"));
        }
        let (public_hex, key_id) = client.public_key()?;
        if !has_key_id_out.is_null() {
            has_key_id_out.write(key_id.is_some());
        }
        if !key_id_out.is_null() {
            key_id_out.write(key_id.unwrap_or(0));
        }
        put(public_hex_out, tc_bytes::new(public_hex))
    })
}

/// Ask the signer to mint a token bound to the holder key. On TC_OK, `*token_out` is the token
/// (URL-safe base64, an owned buffer), `*revocation_id_out` (when not NULL) the revocation id the
/// token carries (the one asked for, or the signer's pick) and `*expires_at_out` (when not NULL) its
/// expiry in whole seconds since the epoch. On failure they are NULL and 0.
///
/// # Safety
/// `client` is a live handle; `request` is readable, with strings and arrays as documented on
/// `tc_mint_request`; `token_out` is writable; `revocation_id_out`, `expires_at_out` and `err`
/// are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_signer_client_mint(
    client: *const tc_signer_client,
    request: *const tc_mint_request,
    token_out: *mut *mut tc_bytes,
    revocation_id_out: *mut *mut tc_bytes,
    expires_at_out: *mut u64,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(token_out);
        clear(revocation_id_out);
        if !expires_at_out.is_null() {
            expires_at_out.write(0);
        }
        let client = &handle(client, "client")?.client;
        let args = mint_request(request)?;
        if token_out.is_null() {
            return Err(malformed_error("token_out is NULL"));
        }
        let minted = client.mint(&args)?;
        if !expires_at_out.is_null() {
            expires_at_out.write(minted.expires_at);
        }
        put_optional(revocation_id_out, tc_bytes::new(minted.revocation_id));
        put(token_out, tc_bytes::new(minted.token))
    })
}

/// Ask the signer to sign `job` (UTF-8 JSON text of an object, as `tc_sign_job` takes it; a `sig`
/// member is ignored) for `worker_id`. On TC_OK, `*sig_out` is the signature (128 hex digits, an
/// owned buffer) to store as the job's `sig`. MALFORMED_INPUT when `job` is not a JSON object or holds
/// a key twice (at any depth), before anything is sent.
///
/// # Safety
/// `client` is a live handle; strings are NULL (length 0) or readable; `sig_out` is writable; `err`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_signer_client_sign_job(
    client: *const tc_signer_client,
    job_json: *const c_char,
    job_json_len: usize,
    worker_id: *const c_char,
    worker_id_len: usize,
    sig_out: *mut *mut tc_bytes,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(sig_out);
        let client = &handle(client, "client")?.client;
        let job = json_object(text(job_json, job_json_len, "job")?, ErrorCode::MalformedInput)?;
        let worker_id = text(worker_id, worker_id_len, "worker_id")?;
        if sig_out.is_null() {
            return Err(malformed_error("sig_out is NULL"));
        }
        let sig = client.sign_job(&job, worker_id)?;
        put(sig_out, tc_bytes::new(sig))
    })
}

/// The signer's health report as UTF-8 JSON text of an object (an owned buffer): `status` ("ok"),
/// `public_key`, `key_id` (null without one), `version`, and `audit` ({"entries", "head"}, or null
/// without an audit log).
///
/// # Safety
/// `client` is a live handle; `json_out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tc_signer_client_health(
    client: *const tc_signer_client,
    json_out: *mut *mut tc_bytes,
    err: *mut *mut tc_error,
) -> tc_status {
    run(err, || unsafe {
        clear(json_out);
        let client = &handle(client, "client")?.client;
        if json_out.is_null() {
            return Err(malformed_error("json_out is NULL"));
        }
        let report = client.health()?;
        let json = serde_json::to_vec(&report)
            .map_err(|_| Error::new(ErrorCode::Internal, "health report cannot be written as JSON"))?;
        put(json_out, tc_bytes::new(json))
    })
}

/// Release a client and the connections it keeps. NULL is accepted and ignored.
///
/// # Safety
/// `client` is NULL or a handle not yet freed, used by no other thread; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tc_signer_client_free(client: *mut tc_signer_client) {
    unsafe { free(client) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_addresses_and_timeouts_are_malformed() {
        let mut client: *mut tc_signer_client = std::ptr::null_mut();
        for (address, connect, req) in
            [("tcp:10.0.0.1:9", 1000, 1000), ("nowhere", 1000, 1000), ("", 1000, 1000), ("/tmp/s", 0, 1000)]
        {
            // SAFETY: valid pointers for the call
            let status = unsafe {
                tc_signer_client_new(
                    address.as_ptr().cast(),
                    address.len(),
                    connect,
                    req,
                    &mut client,
                    std::ptr::null_mut(),
                )
            };
            assert_eq!(status, tc_status::TC_MALFORMED_INPUT, "{address}");
            assert!(client.is_null());
        }
    }
}
