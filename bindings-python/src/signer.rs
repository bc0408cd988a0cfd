//! `SignerClient`: core's client of the signer daemon (`trustcore signer serve`), for
//! `trustcore.SignerClient` (Python) to wrap. Core connects, pools connections, bounds every
//! request in time and maps the signer's answers to codes; this file converts values and lets go
//! of the GIL for every request, so other threads run while one waits on the signer.

use std::net::{IpAddr, SocketAddr};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};
use trustcore_core::{ErrorCode, MintRequest, SignerAddress, SignerClientOptions};

use crate::convert::{fact_pairs, text, timeout, Count, Seconds, Text};
use crate::error::{detached, guarded, malformed, to_py, type_error};
use crate::json::{object_to_python, to_object};

/// Where the signer listens: a str as core's `SignerAddress::parse` reads it (a socket path,
/// `unix:PATH`, `tcp:IP:PORT`), or a `(host, port)` tuple of a loopback IP.
fn address(obj: &Bound<'_, PyAny>) -> PyResult<SignerAddress> {
    if obj.is_instance_of::<PyString>() {
        return SignerAddress::parse(&text(obj, "address")?).map_err(to_py);
    }
    let Ok(pair) = obj.cast::<PyTuple>() else {
        return Err(type_error("address", "a str (socket path) or a (host, port) tuple", obj));
    };
    if pair.len() != 2 {
        return Err(PyTypeError::new_err(format!("address must be a (host, port) tuple, not a {}-tuple", pair.len())));
    }
    let host = text(&pair.get_item(0)?, "address host")?;
    let port = pair.get_item(1)?;
    if !port.is_instance_of::<pyo3::types::PyInt>() || port.is_instance_of::<pyo3::types::PyBool>() {
        return Err(type_error("address port", "int", &port));
    }
    let port: u16 = port.extract().map_err(|_| malformed("address port must be in 0..=65535"))?;
    // an IP, never a name: resolving one could lead off the machine (frames are not encrypted)
    let ip: IpAddr = host
        .parse()
        .map_err(|_| malformed(format!("address host {host:?} is not an IP address (a loopback IP is needed)")))?;
    SignerAddress::tcp(SocketAddr::new(ip, port)).map_err(to_py)
}

#[pyclass(module = "trustcore._trustcore", frozen)]
pub struct NativeSignerClient {
    inner: trustcore_core::SignerClient,
    options: SignerClientOptions,
}

#[pymethods]
impl NativeSignerClient {
    /// Nothing is connected here: the first request connects (core's lazy connect).
    #[new]
    /// The timeouts' defaults (1 s, 5 s) are the package's `SignerClient`'s.
    #[pyo3(signature = (address, *, connect_timeout, request_timeout))]
    fn new(address: &Bound<'_, PyAny>, connect_timeout: Seconds, request_timeout: Seconds) -> PyResult<Self> {
        guarded(|| {
            let address = self::address(address)?;
            let options = SignerClientOptions {
                connect_timeout: timeout(connect_timeout, "connect_timeout")?,
                request_timeout: timeout(request_timeout, "request_timeout")?,
            };
            let inner = trustcore_core::SignerClient::new(address, options).map_err(to_py)?;
            Ok(NativeSignerClient { inner, options })
        })
    }

    /// The address as core prints it (`unix:PATH` or `tcp:IP:PORT`).
    #[getter]
    fn address(&self) -> String {
        self.inner.address().to_string()
    }

    #[getter]
    fn connect_timeout(&self) -> f64 {
        self.options.connect_timeout.as_secs_f64()
    }

    #[getter]
    fn request_timeout(&self) -> f64 {
        self.options.request_timeout.as_secs_f64()
    }

    /// `(public_hex, key_id)`: the issuer's public key and the signer's root key id (or None).
    fn public_key(&self, py: Python<'_>) -> PyResult<(String, Option<u32>)> {
        guarded(|| {
            let client = &self.inner;
            detached(py, || client.public_key())
        })
    }

    /// `(token, revocation_id, expires_at)`: what the signer minted (a delegable token only up to
    /// the signer's `--max-delegation-depth`).
    #[pyo3(
        signature = (public_hex, holder_id, facts, *, expires_at, revocation_id=None, delegation_depth=Count(0)),
        text_signature = "($self, public_hex, holder_id, facts, *, expires_at, revocation_id=None, delegation_depth=0)"
    )]
    #[allow(clippy::too_many_arguments)] // the protocol's arguments, one each
    fn mint(
        &self,
        py: Python<'_>,
        public_hex: Text,
        holder_id: Text,
        facts: &Bound<'_, PyAny>,
        expires_at: Seconds,
        revocation_id: Option<Text>,
        delegation_depth: Count,
    ) -> PyResult<(String, String, u64)> {
        guarded(|| {
            let args = MintRequest {
                public_hex: public_hex.0,
                holder_id: holder_id.0,
                facts: fact_pairs(facts)?,
                revocation_id: revocation_id.map(|id| id.0),
                root_key_id: None,
                expires_at: expires_at.0,
                delegation_depth: delegation_depth.to_u32("delegation_depth")?,
            };
            let client = &self.inner;
            let minted = detached(py, || client.mint(&args))?;
            Ok((minted.token, minted.revocation_id, minted.expires_at))
        })
    }

    /// The signature (hex) for `job["sig"]`, made by the signer for `worker_id`.
    fn sign_job(&self, py: Python<'_>, job: &Bound<'_, PyAny>, worker_id: Text) -> PyResult<String> {
        guarded(|| {
            let job = to_object(job, ErrorCode::MalformedInput, "job")?;
            let client = &self.inner;
            detached(py, || client.sign_job(&job, &worker_id.0))
        })
    }

    /// The signer's health report, as it sent it.
    fn health<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        guarded(|| {
            let client = &self.inner;
            let report = detached(py, || client.health())?;
            object_to_python(py, &report)
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "SignerClient(address='{}', connect_timeout={:?}, request_timeout={:?})",
            self.inner.address(),
            self.options.connect_timeout.as_secs_f64(),
            self.options.request_timeout.as_secs_f64()
        )
    }
}
