//! `IssuerKey` and `WorkerKey`: the seed stays in Rust (wiped on drop) and only leaves through
//! `seed` / `secret_hex`, which trust-core 0.1 had too. `repr` shows the public key only.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple, PyType};

use crate::convert::{Bytes, Text};
use crate::error::{detached, guarded, to_py};

macro_rules! key_class {
    ($name:ident, $core:ty, $doc:literal, { $($extra:tt)* }) => {
        #[doc = $doc]
        #[pyclass(module = "trustcore.keys", frozen)]
        pub struct $name {
            pub(crate) inner: $core,
        }

        #[pymethods]
        impl $name {
            /// A key from its 32-byte seed; any other length is MALFORMED_INPUT.
            #[new]
            #[pyo3(signature = (seed))]
            fn new(seed: Bytes<'_>) -> PyResult<Self> {
                guarded(|| Ok($name { inner: <$core>::from_seed(&seed.0).map_err(to_py)? }))
            }

            /// A fresh key from the operating system's random source.
            #[classmethod]
            fn generate(_cls: &Bound<'_, PyType>) -> PyResult<Self> {
                guarded(|| Ok($name { inner: <$core>::generate().map_err(to_py)? }))
            }

            /// A key from its stored hex seed; anything malformed is MALFORMED_INPUT.
            #[classmethod]
            fn from_secret_hex(_cls: &Bound<'_, PyType>, secret_hex: Text) -> PyResult<Self> {
                guarded(|| Ok($name { inner: <$core>::from_secret_hex(&secret_hex.0).map_err(to_py)? }))
            }

            /// The PRIVATE 32-byte seed. Handle with care.
            #[getter]
            fn seed<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
                PyBytes::new(py, self.inner.seed_bytes().as_ref())
            }

            /// The PRIVATE seed as hex (what a secret store holds). Handle with care.
            #[getter]
            fn secret_hex(&self) -> String {
                self.inner.secret_hex().to_string()
            }

            /// The public key as hex: not secret.
            #[getter]
            fn public_hex(&self) -> String {
                self.inner.public_hex()
            }

            /// A detached Ed25519 signature (64 bytes, deterministic) over `message`.
            fn sign<'py>(&self, py: Python<'py>, message: Bytes<'_>) -> PyResult<Bound<'py, PyBytes>> {
                let inner = &self.inner;
                let signature = detached(py, || Ok(inner.sign(&message.0)))?;
                Ok(PyBytes::new(py, &signature))
            }

            fn __repr__(&self) -> String {
                format!("{}(public_hex='{}')", stringify!($name), self.inner.public_hex())
            }

            fn __eq__(&self, other: PyRef<'_, Self>) -> bool {
                trustcore_core::constant_time_equal(
                    self.inner.seed_bytes().as_ref(),
                    other.inner.seed_bytes().as_ref(),
                )
            }

            fn __hash__(&self) -> u64 {
                // from the public key: equal seeds give equal public keys
                let public = self.inner.public_key();
                u64::from_le_bytes(public.as_bytes()[..8].try_into().unwrap_or_default())
            }

            /// Pickling carries the seed, as trust-core 0.1's dataclass did (multiprocessing).
            fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
                let seed = slf.get().seed(slf.py());
                PyTuple::new(slf.py(), [slf.get_type().into_any(), PyTuple::new(slf.py(), [seed])?.into_any()])
            }

            $($extra)*
        }
    };
}

key_class!(
    IssuerKey,
    trustcore_core::IssuerKey,
    "The issuer's Ed25519 key: the Biscuit root key and the job signer.",
    {
        /// This seed as a biscuit-python `PrivateKey` (needs `biscuit-python` installed), for code
        /// that builds Biscuits with biscuit-python directly, as trust-core 0.1 allowed.
        fn biscuit_private_key<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            let biscuit = py.import("biscuit_auth")?;
            let algorithm = biscuit.getattr("Algorithm")?.getattr("Ed25519")?;
            let seed = PyBytes::new(py, self.inner.seed_bytes().as_ref());
            biscuit.getattr("PrivateKey")?.call_method1("from_bytes", (seed, algorithm))
        }
    }
);
key_class!(
    WorkerKey,
    trustcore_core::WorkerKey,
    "A holder's Ed25519 key: signs the per-request proof of possession.",
    {}
);
