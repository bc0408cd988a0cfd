# Profile-guided optimization (docs/performance.md, "Profile-guided optimization"): every release build
# of the core (the C library, the Python and Node extensions, the CLI, the soak and bench harnesses, and
# make dist) is optimized with the counts of a training run, tools/src/bin/pgo_train.rs: the code a
# request takes is laid out together and inlined for it. Measured on this VM: a request costs 10-15 %
# less in a loop and 15-40 % less CPU inside a server.
#   pgo-profile   the profile, made again when core, the training run or the lock file changes: the
#                 training binary built instrumented (target/pgo/build), run, its counts merged by
#                 Debian's llvm-profdata-19 (it reads the raw profiles of this rustc's LLVM)
#   PGO_ENV       the environment of every release build: RUSTFLAGS with -Cprofile-use. Every release
#                 build takes it, so none rebuilds what another compiled with other flags
#   PGO=0         release builds without the profile (a comparison; every release crate is built again)
# cargo names a crate's symbols (and so the profile's records) after its build: the host's or an
# explicit --target (make dist), and the features the other crates of the same cargo command ask of
# core's dependencies (the Node and Python macros ask more of syn than the C library does). So the
# training binary is built once with each release build's own package selection (trustcore-tools adds
# no feature to core's dependencies) and run from each; all the counts go into the one profile.
# The runs are made the same on every clone, so that make dist stays reproducible: no address-space
# randomization (foldhash seeds hash maps from addresses), an empty environment, paths relative to
# target/pgo, and tools/pgo/fixed_clock_and_random.c preloaded (std seeds hash maps from getrandom;
# biscuit and core time every authorization). The addresses are the training binary's own, so it is
# built the same in every clone's folder too: the clone's and cargo's paths remapped (as make dist
# does), and a relative default file for the counts (LLVM_PROFILE_FILE sends the build scripts' to
# scratch/). Two runs, and two clones, give byte-identical profiles.

PGO ?= 1
PGO_DIR := $(ROOT)/target/pgo
PGO_PROFILE := $(PGO_DIR)/trustcore.profdata
PGO_PROFDATA := llvm-profdata-19
PGO_FIXED := $(PGO_DIR)/fixed_clock_and_random.so
PGO_INPUTS := $(ROOT)/Cargo.lock $(ROOT)/Cargo.toml $(ROOT)/core/Cargo.toml $(ROOT)/tools/src/bin/pgo_train.rs \
	$(ROOT)/tools/pgo/fixed_clock_and_random.c $(ROOT)/mk/pgo.mk \
	$(shell find $(ROOT)/core/src -name '*.rs')
PGO_ENV = RUSTFLAGS="$(if $(filter 1,$(PGO)),-Cprofile-use=$(PGO_PROFILE))"

.PHONY: setup-pgo pgo-profile

setup-pgo:
	@command -v $(PGO_PROFDATA) >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends llvm-19; }

pgo-profile: $(if $(filter 1,$(PGO)),$(PGO_PROFILE))

# host or target (make dist's --target, DIST_TRIPLE in mk/dist.mk), then the packages of one kind of
# release build
PGO_BUILDS := host:trustcore-c host:trustcore-node host:trustcore-python \
	target:trustcore-c,trustcore-cli,trustcore-node target:trustcore-python

$(PGO_FIXED): $(ROOT)/tools/pgo/fixed_clock_and_random.c
	@mkdir -p $(PGO_DIR)
	$(TC_CC) -shared -fPIC -O2 -Wall -Wextra -Werror -o $@ $<

# train BIN PROFRAW: one training run, the same on every clone (above), from target/pgo. Its counts are
# written to one name, then moved: the environment's size moves the stack, and foldhash's seed with it
PGO_TRAIN = (cd $(PGO_DIR) && env -i LD_PRELOAD=./$(notdir $(PGO_FIXED)) LLVM_PROFILE_FILE=run.profraw \
	setarch -R $$1 && mv run.profraw $$2)

# the builds' own build scripts (instrumented too) leave their counts in scratch/, never merged. The
# last build's run is made twice and must count the same: a profile that changes from run to run would
# make every release build differ (make dist is reproducible)
$(PGO_PROFILE): $(PGO_INPUTS) $(PGO_FIXED) | setup-rust setup-pgo
	rm -rf $(PGO_DIR)/raw $(PGO_DIR)/scratch $(PGO_DIR)/*.profraw && mkdir -p $(PGO_DIR)/raw
	@set -e; train() { $(PGO_TRAIN); }; for build in $(PGO_BUILDS); do \
		kind=$${build%%:*}; packages=$$(echo $${build#*:} | sed 's/,/ -p /g'); \
		target=$$([ $$kind = host ] || echo "--target $(DIST_TRIPLE)"); \
		echo "pgo: training in the build of -p $$packages $$target"; \
		LLVM_PROFILE_FILE=$(PGO_DIR)/scratch/%m-%p.profraw RUSTFLAGS="-Cprofile-generate=scratch $(CLONE_PATHS_REMAPPED)" \
			$(CARGO) build --locked --quiet --release \
			--target-dir $(PGO_DIR)/build $$target -p $$packages -p trustcore-tools --bin pgo_train; \
		bin=build/$$([ $$kind = host ] || echo $(DIST_TRIPLE)/)release/pgo_train; \
		raw=raw/$$(echo $$build | tr ':,' '--').profraw; \
		train $$bin $$raw; \
	done; \
	train $$bin again.profraw >/dev/null; \
	cmp -s $(PGO_DIR)/$$raw $(PGO_DIR)/again.profraw || { \
		echo "pgo: two training runs counted differently ($$raw, again.profraw): the profile would not be reproducible" >&2; exit 1; }
	$(PGO_PROFDATA) merge -o $@.tmp $(PGO_DIR)/raw/*.profraw
	mv $@.tmp $@
