//! `Limits`: the authorizer's run limits and the budget a token must fit before any of its Datalog
//! runs (core `Limits`). A field left out keeps core's default (`Limits::DEFAULT`).

use std::hash::{Hash, Hasher};

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::convert::{Count, Seconds};
use crate::error::{guarded, to_py};

/// Run limits of one authorization (time, facts, iterations) and the token budget (size, blocks,
/// facts and rules per block, atoms and operations per body, join size, appended regexes);
/// exceeding one is LIMIT_EXCEEDED.
#[pyclass(module = "trustcore.engine", frozen)]
#[derive(Clone, Copy)]
pub struct Limits {
    pub(crate) inner: trustcore_core::Limits,
}

/// Every field, in core's order: the constructor's positional order, `repr`'s, and the pickled
/// arguments'. Destructured exhaustively, so a field added to core fails to compile here.
type Fields = (f64, u64, u64, u64, u64, u64, u64, u64, u64, u64, bool);

impl Limits {
    fn fields(&self) -> Fields {
        let trustcore_core::Limits {
            max_time: _,
            max_facts,
            max_iterations,
            max_token_bytes,
            max_blocks,
            max_block_facts,
            max_block_rules,
            max_body_atoms,
            max_body_ops,
            max_join_size,
            allow_appended_regex,
        } = self.inner;
        (
            self.max_time_ms(),
            max_facts,
            max_iterations,
            max_token_bytes,
            max_blocks,
            max_block_facts,
            max_block_rules,
            max_body_atoms,
            max_body_ops,
            max_join_size,
            allow_appended_regex,
        )
    }
}

#[pymethods]
impl Limits {
    #[new]
    #[pyo3(signature = (
        max_time_ms=None, max_facts=None, max_iterations=None, max_token_bytes=None, max_blocks=None,
        max_block_facts=None, max_block_rules=None, max_body_atoms=None, max_body_ops=None, max_join_size=None,
        allow_appended_regex=None,
    ))]
    #[allow(clippy::too_many_arguments)] // keyword settings, one per field of core's Limits
    fn new(
        max_time_ms: Option<Seconds>,
        max_facts: Option<Count>,
        max_iterations: Option<Count>,
        max_token_bytes: Option<Count>,
        max_blocks: Option<Count>,
        max_block_facts: Option<Count>,
        max_block_rules: Option<Count>,
        max_body_atoms: Option<Count>,
        max_body_ops: Option<Count>,
        max_join_size: Option<Count>,
        allow_appended_regex: Option<bool>,
    ) -> PyResult<Self> {
        guarded(|| {
            let mut inner = trustcore_core::Limits::DEFAULT;
            if let Some(Seconds(ms)) = max_time_ms {
                inner.max_time = trustcore_core::duration_from_millis(ms, "max_time_ms").map_err(to_py)?;
            }
            let counts = [
                (max_facts, &mut inner.max_facts),
                (max_iterations, &mut inner.max_iterations),
                (max_token_bytes, &mut inner.max_token_bytes),
                (max_blocks, &mut inner.max_blocks),
                (max_block_facts, &mut inner.max_block_facts),
                (max_block_rules, &mut inner.max_block_rules),
                (max_body_atoms, &mut inner.max_body_atoms),
                (max_body_ops, &mut inner.max_body_ops),
                (max_join_size, &mut inner.max_join_size),
            ];
            for (given, field) in counts {
                if let Some(Count(n)) = given {
                    *field = n;
                }
            }
            if let Some(allow) = allow_appended_regex {
                inner.allow_appended_regex = allow;
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

    #[getter]
    fn max_token_bytes(&self) -> u64 {
        self.inner.max_token_bytes
    }

    #[getter]
    fn max_blocks(&self) -> u64 {
        self.inner.max_blocks
    }

    #[getter]
    fn max_block_facts(&self) -> u64 {
        self.inner.max_block_facts
    }

    #[getter]
    fn max_block_rules(&self) -> u64 {
        self.inner.max_block_rules
    }

    #[getter]
    fn max_body_atoms(&self) -> u64 {
        self.inner.max_body_atoms
    }

    #[getter]
    fn max_body_ops(&self) -> u64 {
        self.inner.max_body_ops
    }

    #[getter]
    fn max_join_size(&self) -> u64 {
        self.inner.max_join_size
    }

    #[getter]
    fn allow_appended_regex(&self) -> bool {
        self.inner.allow_appended_regex
    }

    fn __repr__(&self) -> String {
        let (
            max_time_ms,
            max_facts,
            max_iterations,
            max_token_bytes,
            max_blocks,
            max_block_facts,
            max_block_rules,
            max_body_atoms,
            max_body_ops,
            max_join_size,
            allow_appended_regex,
        ) = self.fields();
        let allow_appended_regex = if allow_appended_regex { "True" } else { "False" };
        format!(
            "Limits(max_time_ms={max_time_ms:?}, max_facts={max_facts}, max_iterations={max_iterations}, \
             max_token_bytes={max_token_bytes}, max_blocks={max_blocks}, max_block_facts={max_block_facts}, \
             max_block_rules={max_block_rules}, max_body_atoms={max_body_atoms}, max_body_ops={max_body_ops}, \
             max_join_size={max_join_size}, allow_appended_regex={allow_appended_regex})"
        )
    }

    fn __eq__(&self, other: PyRef<'_, Self>) -> bool {
        self.inner == other.inner
    }

    fn __hash__(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        // the duration itself, not the float of it: equal limits hash alike
        self.inner.max_time.hash(&mut hasher);
        let (_, counts, allow_appended_regex) = split_first(self.fields());
        (counts, allow_appended_regex).hash(&mut hasher);
        hasher.finish()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let args = slf.get().fields().into_pyobject(slf.py())?;
        PyTuple::new(slf.py(), [slf.get_type().into_any(), args.into_any()])
    }
}

/// The fields as `max_time_ms`, the counts, and the flag (the counts and the flag are hashable).
fn split_first(fields: Fields) -> (f64, [u64; 9], bool) {
    let (ms, a, b, c, d, e, f, g, h, i, regex) = fields;
    (ms, [a, b, c, d, e, f, g, h, i], regex)
}

/// `None` → core's defaults.
pub fn or_default(limits: Option<PyRef<'_, Limits>>) -> trustcore_core::Limits {
    limits.map(|l| l.inner).unwrap_or(trustcore_core::Limits::DEFAULT)
}
