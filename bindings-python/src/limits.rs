//! `Limits`: the authorizer's run limits. A field left out keeps core's default.

use std::hash::{Hash, Hasher};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::convert::{Count, Seconds};
use crate::errors::{guarded, malformed};

/// Run limits of one authorization (time, facts, iterations); exceeding one is LIMIT_EXCEEDED.
#[pyclass(module = "trustcore.engine", frozen)]
#[derive(Clone, Copy)]
pub struct Limits {
    pub(crate) inner: trustcore_core::Limits,
}

#[pymethods]
impl Limits {
    #[new]
    #[pyo3(signature = (max_time_ms=None, max_facts=None, max_iterations=None))]
    fn new(max_time_ms: Option<Seconds>, max_facts: Option<Count>, max_iterations: Option<Count>) -> PyResult<Self> {
        guarded(|| {
            let mut inner = trustcore_core::Limits::default();
            if let Some(Seconds(ms)) = max_time_ms {
                inner.max_time = Duration::try_from_secs_f64(ms / 1000.0)
                    .map_err(|_| malformed("max_time_ms must be a finite, non-negative number"))?;
            }
            if let Some(Count(n)) = max_facts {
                inner.max_facts = n;
            }
            if let Some(Count(n)) = max_iterations {
                inner.max_iterations = n;
            }
            Ok(Limits { inner })
        })
    }

    #[getter]
    fn max_time_ms(&self) -> f64 {
        self.inner.max_time.as_secs_f64() * 1000.0
    }

    #[getter]
    fn max_facts(&self) -> u64 {
        self.inner.max_facts
    }

    #[getter]
    fn max_iterations(&self) -> u64 {
        self.inner.max_iterations
    }

    fn __repr__(&self) -> String {
        format!(
            "Limits(max_time_ms={:?}, max_facts={}, max_iterations={})",
            self.max_time_ms(),
            self.inner.max_facts,
            self.inner.max_iterations
        )
    }

    fn __eq__(&self, other: PyRef<'_, Self>) -> bool {
        self.inner == other.inner
    }

    fn __hash__(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (self.inner.max_time, self.inner.max_facts, self.inner.max_iterations).hash(&mut hasher);
        hasher.finish()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let this = slf.get();
        let args = (this.max_time_ms(), this.inner.max_facts, this.inner.max_iterations).into_pyobject(slf.py())?;
        PyTuple::new(slf.py(), [slf.get_type().into_any(), args.into_any()])
    }
}

/// `None` → core's defaults.
pub fn or_default(limits: Option<PyRef<'_, Limits>>) -> trustcore_core::Limits {
    limits.map(|l| l.inner).unwrap_or_default()
}
