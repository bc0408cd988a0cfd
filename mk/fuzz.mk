# Fuzzing (not in make test): cargo-fuzz targets in fuzz/ (their own workspace, nightly Rust),
# corpora seeded from the vectors read in place (fuzz/seed_corpora.py; fuzz/corpus is git-ignored).
#   make fuzz                     every target for FUZZ_SECONDS (default 600) each, one after another
#   make fuzz FUZZ_TARGETS=jcs_jobs FUZZ_SECONDS=60
# Cost counts as a crash: an input that takes over 1 s (-timeout=1) or 1 GiB stops the run too.
# A crash or leak stops the run; libFuzzer leaves the input in fuzz/artifacts/<target>/. Every fixed
# finding is kept as a regression test in the tests of the crate it was found in.

FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= frame_decode proof_parse token_authenticate canonical_request jcs_jobs signer_dispatch \
	http_signature http_route_policy http_decide delegated_token signature_base_differential
FUZZ_LOG := $(ROOT)/target/fuzz-summary.txt

.PHONY: setup-fuzz fuzz

setup-fuzz:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@command -v cargo-fuzz >/dev/null || $(CARGO) install --locked cargo-fuzz

fuzz: setup-fuzz
	python3 $(ROOT)/fuzz/seed_corpora.py $(ROOT) $(TRUSTCORE_SHARED)
	@mkdir -p $(ROOT)/target && : > $(FUZZ_LOG)
	cd $(ROOT)/fuzz && for target in $(FUZZ_TARGETS); do \
		cargo +nightly fuzz run $$target corpus/$$target -- -max_total_time=$(FUZZ_SECONDS) \
			-rss_limit_mb=1024 -timeout=1 -max_len=65536 -print_final_stats=1 2>&1 \
			| tee $(ROOT)/target/fuzz-$$target.log | grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)' ; \
		status=$${PIPESTATUS[0]}; \
		echo "$$target: $$(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' $(ROOT)/target/fuzz-$$target.log | grep -o '[0-9]*$$') executions in $(FUZZ_SECONDS) s, exit $$status" | tee -a $(FUZZ_LOG); \
		[ $$status -eq 0 ] || exit $$status; \
	done
	@cat $(FUZZ_LOG)
