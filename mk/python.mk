# The Python binding (bindings-python/): PyO3 + maturin, the package `trustcore` over the native
# module trustcore._trustcore. Venvs live in bindings-python/.venv* (git-ignored); the wheel in
# target/python-wheels/. Only PyPI and crates.io are reached.
#   setup-python  the test venv: maturin, pytest, mypy, biscuit-python 0.4, trust-core 0.1,
#                 http-message-signatures 3.0.0 (the RFC 9421 interop partner, tests/test_http_interop.py),
#                 and the HTTP adapters' servers, frameworks and clients (uvicorn, Starlette, FastAPI,
#                 gunicorn, waitress, Flask, httpx, requests; types-requests for mypy)
#   test-python   build the abi3 wheel, install it, stubtest + mypy, pytest (conformance included, the
#                 RFC 9421 examples read in place as a fourth source; the
#                 signer tests start target/release/trustcore, built by signer-bin; the Verifier's
#                 Redis tests start their own redis-server on a free loopback port, from setup-redis;
#                 the HTTP adapters' tests serve over loopback, through tests/http-matrix/python/ and
#                 curl with `trustcore proof`),
#                 then the README example in a venv that holds nothing but the package
#   test-panic-python  the panic boundary (docs/DESIGN.md §5): a debug wheel built with the feature
#                 `fault-injection` (core panics on the method TRUSTCORE-INJECTED-PANIC) into
#                 target/python-wheels-fault, installed in its own venv (.venv-fault), and
#                 tests/panic_boundary/ (outside the default collection): every entry point reaching
#                 the canonical request raises trustcore.Internal, and the same objects work after
#   bench-python  bench/README.md's harness (bench/python/bench.py): this binding (`python`) and trust-core
#                 0.1 from PyPI (`trust-core-0.1`) in one run, written to target/bench/python.jsonl
#                 (its own redis-server and signer daemon; about 30 s)

PY_DIR := $(ROOT)/bindings-python
PY_PYTHON ?= python3
PY_VENV := $(PY_DIR)/.venv
PY_BENCH_VENV := $(PY_DIR)/.venv-bench
PY_CLEAN_VENV := $(PY_DIR)/.venv-clean
PY_WHEELS := $(ROOT)/target/python-wheels
PY_FAULT_VENV := $(PY_DIR)/.venv-fault
PY_FAULT_WHEELS := $(ROOT)/target/python-wheels-fault

.PHONY: setup-python build-python test-python test-panic-python bench-python

# a venv for $(PY_PYTHON) (>= 3.10) at $(1), with the requirements file $(2) installed; redone when
# the file changes or the venv no longer runs (a removed interpreter)
define py_venv
	@$(PY_PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "Python >= 3.10 is needed; $(PY_PYTHON) is $$($(PY_PYTHON) --version 2>&1)"; exit 1; }
	@$(1)/bin/python -c 'import sys' 2>/dev/null || { rm -rf $(1) && $(PY_PYTHON) -m venv $(1); }
	@if [ ! -f $(1)/.installed ] || [ $(2) -nt $(1)/.installed ]; then \
		$(1)/bin/python -m pip install --quiet --disable-pip-version-check -r $(2) && touch $(1)/.installed; fi
endef

# the HTTP adapters' tests run curl as a client too (Debian's package)
setup-python:
	$(call py_venv,$(PY_VENV),$(PY_DIR)/requirements-dev.txt)
	@command -v curl >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq curl; }

# one abi3 manylinux wheel for CPython >= 3.10
build-python: setup-python pgo-profile
	rm -rf $(PY_WHEELS)
	cd $(PY_DIR) && $(PGO_ENV) $(PY_VENV)/bin/maturin build --release --locked --quiet \
		--interpreter $(PY_VENV)/bin/python --out $(PY_WHEELS)

test-python: build-python signer-bin setup-redis
	$(PY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
		$(PY_WHEELS)/trustcore-*.whl
	cd $(PY_DIR) && $(PY_VENV)/bin/python -m mypy.stubtest trustcore
	cd $(PY_DIR) && $(PY_VENV)/bin/python -m mypy --strict python/trustcore
	cd $(PY_DIR) && $(PY_VENV)/bin/python -m pytest -q
	@# make bench's report: its paired ratios (bench/report.py); its types too (matplotlib has no stubs)
	$(PY_VENV)/bin/python -m pytest -q -p no:cacheprovider $(ROOT)/bench/test_report.py
	$(PY_VENV)/bin/python -m mypy --strict --ignore-missing-imports $(ROOT)/bench/report.py $(ROOT)/bench/test_report.py
	rm -rf $(PY_CLEAN_VENV) && $(PY_PYTHON) -m venv $(PY_CLEAN_VENV)
	$(PY_CLEAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps $(PY_WHEELS)/trustcore-*.whl
	$(PY_CLEAN_VENV)/bin/python $(PY_DIR)/tests/readme_example.py

# a debug build (the dev profile, target/debug) in a directory of its own: the release wheel the
# other targets install is never touched
test-panic-python: setup-python
	$(call py_venv,$(PY_FAULT_VENV),$(PY_DIR)/requirements-fault.txt)
	rm -rf $(PY_FAULT_WHEELS)
	cd $(PY_DIR) && $(PY_VENV)/bin/maturin build --locked --quiet --features fault-injection \
		--interpreter $(PY_FAULT_VENV)/bin/python --out $(PY_FAULT_WHEELS)
	$(PY_FAULT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
		$(PY_FAULT_WHEELS)/trustcore-*.whl
	cd $(PY_DIR) && $(PY_FAULT_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/panic_boundary

bench-python: build-python signer-bin setup-redis
	$(call py_venv,$(PY_BENCH_VENV),$(ROOT)/bench/python/requirements.txt)
	$(PY_BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
		$(PY_WHEELS)/trustcore-*.whl
	mkdir -p $(ROOT)/target/bench
	$(PY_BENCH_VENV)/bin/python $(ROOT)/bench/python/bench.py $(ROOT)/target/bench/python.jsonl

SETUP_TARGETS += setup-python
TEST_TARGETS += test-python test-panic-python
BENCH_TARGETS += bench-python
