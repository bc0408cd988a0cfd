# trustcore: the one entry point. `make demo` and `make test` are all a newcomer needs.
# Each binding adds its own targets in mk/<binding>.mk (TEST_TARGETS += test-x, BENCH_TARGETS += bench-x).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

export TRUSTCORE_SHARED ?= $(abspath ../shared)
export CARGO_TERM_COLOR ?= never
CARGO ?= cargo
ROOT := $(abspath .)
# the signer daemon the bindings' tests start as a subprocess, and the test environment that starts
# it and redis-server for them (tools/src/bin/testenv.rs); make signer-bin builds both
export TRUSTCORE_BIN ?= $(ROOT)/target/release/trustcore
export TRUSTCORE_TESTENV ?= $(ROOT)/target/release/testenv

SETUP_TARGETS := setup-rust setup-redis
TEST_TARGETS := check-version test-rust
BENCH_TARGETS := bench-rust

-include mk/*.mk

# after every language's own suites: the HTTP matrix of all of them (mk/matrix.mk); the demo is a
# test too: it checks every outcome it narrates; so are a short soak and a short HTTP soak (mk/soak-http.mk);
# last, the release artifacts installed as a user installs them (mk/dist.mk: make dist, then make test-dist)
TEST_TARGETS += test-matrix test-demo test-soak test-soak-http test-dist

.PHONY: setup setup-rust setup-redis build signer-bin check-version test test-rust test-demo test-soak soak drill-crash vectors vectors-check lint demo demo-rust bench bench-report bench-rust bench-criterion fuzz clean

setup: $(SETUP_TARGETS)

setup-rust:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs)"; exit 1; }
	@rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy

# the Redis stores' tests start their own redis-server on a free loopback port (Debian's package)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
setup-redis:
	@command -v redis-server >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq redis-server; }

build: setup-rust pgo-profile
	$(PGO_ENV) $(CARGO) build --locked --release -p trustcore-core -p trustcore-cli

signer-bin: setup-rust pgo-profile
	$(PGO_ENV) $(CARGO) build --locked --release -p trustcore-cli -p trustcore-tools --bin trustcore --bin testenv

lint: setup-rust
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	@# the fuzz targets live outside the workspace: checked here so an API change cannot rot them unseen
	$(CARGO) check --quiet --manifest-path fuzz/Cargo.toml --bins

# every package of the release says the same version (the crates, pyproject, npm, the C header, Go)
check-version:
	$(PY_PYTHON) $(ROOT)/tools/check_version.py

# every suite in turn, then a table of each one's seconds (also in target/test-times.md)
TEST_TIMES := $(ROOT)/target/test-times.md
test:
	@mkdir -p $(ROOT)/target && printf '| suite | seconds |\n|---|---:|\n' > $(TEST_TIMES)
	@status=0; all=$$(date +%s); for suite in $(TEST_TARGETS); do \
		start=$$(date +%s); \
		$(MAKE) --no-print-directory $$suite || status=$$?; \
		printf '| %s | %s |\n' "$$suite$$([ $$status -eq 0 ] || echo ' (FAILED)')" "$$(( $$(date +%s) - start ))" >> $(TEST_TIMES); \
		[ $$status -eq 0 ] || break; \
	done; \
	printf '| total | %s |\n' "$$(( $$(date +%s) - all ))" >> $(TEST_TIMES); \
	echo; cat $(TEST_TIMES); exit $$status

test-rust: lint signer-bin setup-redis vectors-check
	$(CARGO) test --locked -p trustcore-core -p trustcore-cli

# the cross-language demo (demo/run.sh): the signer (Rust), an issuer service (Python), a worker
# (Node) and a service (Go); `make demo-rust` is the same story in one Rust process
demo: signer-bin build-python build-node c-stage
	@$(PY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
		$(PY_WHEELS)/trustcore-*.whl
	@cd $(ROOT)/demo/go-service && $(TC_GO_ENV) $(GO) build -o $(TC_BUILD)/demo-service .
	@DEMO_PYTHON=$(PY_VENV)/bin/python DEMO_GO_SERVICE=$(TC_BUILD)/demo-service LD_LIBRARY_PATH=$(TC_STAGE)/lib \
		bash demo/run.sh

test-demo: demo

# valid requests through the Verifier from 2 processes while a third keeps both cores busy: any
# refusal fails it (tools/src/bin/soak.rs); `make soak` is the long run (not in make test)
SOAK_REQUESTS ?= 100000
soak: setup-rust pgo-profile
	$(PGO_ENV) $(CARGO) run --locked --quiet --release -p trustcore-tools --bin soak -- --requests $(SOAK_REQUESTS)

test-soak: setup-rust pgo-profile
	$(PGO_ENV) $(CARGO) run --locked --quiet --release -p trustcore-tools --bin soak -- --requests 10000

# the audit trail's crash drill, long form (make test runs 200 kills in test-rust):
# cli/tests/signer/crash.rs, CRASH_RUNS signers under load killed with SIGKILL at random moments
CRASH_RUNS ?= 2000
drill-crash: setup-rust
	TRUSTCORE_CRASH_RUNS=$(CRASH_RUNS) $(CARGO) test --locked -p trustcore-cli --test signer \
		the_audit_log_survives_sigkill_under_load -- --nocapture

# regenerate tests/vectors/*.json from the generators in tools/ (review the diff before committing);
# every generator is reproducible (named seeds), so vectors-check regenerates them all into a scratch
# folder and fails if any differs from what is committed: a vector edited by hand, or a generator
# changed without its file
VECTOR_GENERATORS := make_vectors make_verifier_vectors make_signer_vectors make_cost_vectors make_hostile_vectors \
	make_identifier_vectors make_job_vectors make_http_vectors make_delegation_vectors
vectors: setup-rust
	for generator in $(VECTOR_GENERATORS); do \
		$(CARGO) run --locked --quiet -p trustcore-tools --bin $$generator; \
	done

vectors-check: setup-rust
	rm -rf $(ROOT)/target/vectors-check
	$(MAKE) --no-print-directory vectors TRUSTCORE_VECTORS_OUT=$(ROOT)/target/vectors-check >/dev/null
	diff -r --exclude=README.md $(ROOT)/target/vectors-check $(ROOT)/tests/vectors \
		|| { echo "tests/vectors differs from what tools/ generates: run make vectors and review"; exit 1; }

demo-rust: setup-rust pgo-profile
	@$(PGO_ENV) $(CARGO) run --locked --quiet --release -p trustcore-cli -- demo

# one run, one report (bench/README.md): every harness writes target/bench/<impl>.jsonl, in turn so
# none disturbs another, BENCH_ROUNDS times, the rounds interleaved (each round's files moved to
# round-N/): the report computes every ratio within each round and shows the median of the rounds
# with its min-max (this VM's speed drifts by 10 % over minutes; a round's drift moves both figures
# of its ratios together). The HTTP servers' bench (about 2 min a round) runs in the first
# BENCH_HTTP_ROUNDS rounds only: its goal is paired with the core's figure of each of those rounds,
# and one round of it moved by up to 0.5 between runs. Then bench/report.py writes
# bench/results.{md,json,svg} and prints the tables
BENCH_OUT := $(ROOT)/target/bench
BENCH_VENV := $(ROOT)/target/bench-venv
BENCH_ROUNDS ?= 5
BENCH_HTTP_ROUNDS ?= 3
bench:
	rm -rf $(BENCH_OUT) && mkdir -p $(BENCH_OUT)
	for round in $$(seq $(BENCH_ROUNDS)); do \
		targets="$(filter-out bench-http,$(BENCH_TARGETS))"; \
		[ $$round -gt $(BENCH_HTTP_ROUNDS) ] || targets="$$targets $(filter bench-http,$(BENCH_TARGETS))"; \
		$(MAKE) --no-print-directory $$targets; \
		mkdir -p $(BENCH_OUT)/round-$$round && mv $(BENCH_OUT)/*.jsonl $(BENCH_OUT)/round-$$round/; \
	done
	$(MAKE) --no-print-directory bench-report

bench-report:
	@$(BENCH_VENV)/bin/python -c 'import matplotlib' 2>/dev/null || { rm -rf $(BENCH_VENV) && python3 -m venv $(BENCH_VENV) \
		&& $(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(ROOT)/bench/requirements.txt; }
	BENCH_PYTHON=$(BENCH_VENV)/bin/python $(BENCH_VENV)/bin/python $(ROOT)/bench/report.py

# the Rust core's harness (bench/rust/src/main.rs): the figures every binding is compared with
bench-rust: setup-rust setup-redis signer-bin pgo-profile
	@mkdir -p $(BENCH_OUT)
	$(PGO_ENV) $(CARGO) build --locked --quiet --release -p trustcore-bench --bin trustcore-bench
	$(ROOT)/target/release/trustcore-bench $(BENCH_OUT)/rust.jsonl

# the detailed criterion benches of the core and the signer (bench/rust/benches; not part of make
# bench), and the replay store's memory per entry (tools/src/bin/memory_per_entry.rs)
bench-criterion: setup-rust setup-redis signer-bin pgo-profile
	$(PGO_ENV) $(CARGO) bench --locked -p trustcore-bench --bench core -- --noplot
	$(PGO_ENV) $(CARGO) run --locked --quiet --release -p trustcore-tools --bin memory_per_entry
	$(PGO_ENV) $(CARGO) bench --locked -p trustcore-bench --bench signer -- --noplot
	@# again on one CPU: this VM's cross-CPU wake-ups (~60 us a round trip) hide the protocol's own cost
	command -v taskset >/dev/null && TRUSTCORE_BENCH_GROUP=signer_one_cpu taskset -c 0 \
		$(PGO_ENV) $(CARGO) bench --locked -p trustcore-bench --bench signer -- --noplot

clean:
	$(CARGO) clean
