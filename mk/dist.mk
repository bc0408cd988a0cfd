# Release artifacts: what a user installs without Rust or a checkout (README "Install").
#   make dist       writes dist/ (git-ignored), from one release build for the glibc floor:
#                   trustcore-<v>-cp310-abi3-manylinux_2_17_x86_64.whl and trustcore-<v>.tar.gz (Python),
#                   trustcore-<v>.tgz + trustcore-node-linux-x64-gnu-<v>.tgz (npm, napi-rs's layout),
#                   trustcore-<v>-x86_64-linux-gnu.tar.gz (C), trustcore-cli-<v>-x86_64-linux-gnu.tar.gz (the
#                   trustcore binary: CLI and signer daemon) and the same binary through npm, as esbuild ships
#                   its own: trustcore-cli-<v>.tgz + trustcore-cli-linux-x64-gnu-<v>.tgz (`npx trustcore-cli`),
#                   goproxy/ (the Go module, a GOPROXY file layout),
#                   SHA256SUMS; then `cargo publish --dry-run -p trustcore-core`
#   make test-dist  installs each of them as a user would, in fresh temp folders, with cargo and rustc off
#                   PATH (tools/dist/test_dist.sh), and reads every shipped ELF's glibc symbol versions
# Every native artifact is linked by zig (PyPI ziglang, in target/dist-venv) against GLIBC_FLOOR's symbols:
# cargo-zigbuild for the crates (target triple suffix .2.17); maturin --compatibility for the wheel, linked by
# the same zig wrappers (maturin fails rather than tag a wheel above the floor); test-dist checks the floor
# again on the files. Compiled once: the CLI's npm packages carry the binary dist-build made, the wheel's build
# reuses the core and dependencies dist-build compiled (one target dir, one linker, one RUSTFLAGS).

DIST := $(ROOT)/dist
DIST_TRIPLE := x86_64-unknown-linux-gnu
DIST_PLATFORM := x86_64-linux-gnu
DIST_GO_PLATFORM := linux_amd64
# the oldest glibc a shipped file may need: Debian 8+, Ubuntu 14.04+, RHEL/CentOS 7+, Amazon Linux 2
GLIBC_FLOOR := 2.17
DIST_VENV := $(ROOT)/target/dist-venv
# a target dir of its own: zig's linker and the floor's environment never meet the other builds' artifacts
DIST_TARGET_DIR := $(ROOT)/target/dist-build
DIST_BIN := $(DIST_TARGET_DIR)/$(DIST_TRIPLE)/release
DIST_NATIVE_LIBS := $(DIST_BIN)/trustcore-native-static-libs.txt
# zig and cargo-zigbuild from the dist venv; --print native-static-libs makes rustc name the system libraries
# of the static library (only a staticlib prints it), for the pkg-config file and the Go module. The
# checkout's and cargo's home paths are remapped, so the files are the same from any clone's folder
# (panic locations and debug names would carry them; test-dist checks no shipped binary does). Measured
# before the profile-guided build (mk/pgo.mk): two clean clones in two folders gave byte-identical files but
# for the wheel, whose CycloneDX SBOM (maturin's, PEP 770) names the checkout in its bom-refs. The profile
# is byte-identical from run to run and clone to clone (mk/pgo.mk says how), so that still holds with it.
# Expanded when used: PGO and PGO_PROFILE are set in mk/pgo.mk, read after this file
CLONE_PATHS_REMAPPED := --remap-path-prefix=$(ROOT)=trustcore --remap-path-prefix=$${CARGO_HOME:-$$HOME/.cargo}=cargo
DIST_ENV = env PATH=$(DIST_VENV)/bin:$$PATH CARGO_TARGET_DIR=$(DIST_TARGET_DIR) \
	RUSTFLAGS="--print native-static-libs $(CLONE_PATHS_REMAPPED) \
	$(if $(filter 1,$(PGO)),-Cprofile-use=$(PGO_PROFILE))"
# maturin's build runs in cargo-zigbuild's environment, written by tools/dist/zig_env.sh: cargo fingerprints
# the linker, and maturin --zig's own wrappers (another path) made each rebuild every crate the other had built
DIST_ZIG_ENV := $(DIST_TARGET_DIR)/zig-env.sh
DIST_CARGO_FLAGS := --locked --release --target $(DIST_TRIPLE).$(GLIBC_FLOOR)
DIST_TIMES := $(ROOT)/target/dist-times.txt
# the third-party notices (tools/dist/third_party_licenses.sh), one per shipped crate, by cargo-about at an exact
# version, installed once into target/ (cargo install, about 2 minutes cold)
CARGO_ABOUT_VERSION := 0.9.3
CARGO_ABOUT := $(ROOT)/target/dist-tools/bin/cargo-about
DIST_LICENSES := $(DIST_TARGET_DIR)/third-party

.PHONY: setup-dist dist dist-build dist-licenses dist-python dist-node dist-c dist-cli dist-cli-npm dist-go dist-publish-check test-dist

setup-dist: setup-rust
	$(call py_venv,$(DIST_VENV),$(ROOT)/tools/dist/requirements.txt)
	@$(CARGO_ABOUT) --version 2>/dev/null | grep -qx 'cargo-about $(CARGO_ABOUT_VERSION)' \
		|| $(CARGO) install --locked --quiet --features cli --version =$(CARGO_ABOUT_VERSION) --root $(ROOT)/target/dist-tools cargo-about

# one build of core for the C library, the CLI and the Node addon; then the environment cargo-zigbuild gives
# cargo, for maturin (dist-python)
dist-build: setup-dist pgo-profile
	bash $(ROOT)/tools/dist/native_static_libs.sh $(DIST_NATIVE_LIBS) \
		$(DIST_ENV) cargo-zigbuild zigbuild $(DIST_CARGO_FLAGS) -p trustcore-c -p trustcore-cli -p trustcore-node
	$(DIST_ENV) bash $(ROOT)/tools/dist/zig_env.sh $(DIST_ZIG_ENV) $(DIST_TRIPLE).$(GLIBC_FLOOR)

dist:
	@start=$$(date +%s); rm -rf $(DIST) && mkdir -p $(DIST); \
	$(MAKE) --no-print-directory dist-build dist-licenses dist-python dist-node dist-c dist-cli dist-cli-npm dist-go; \
	(cd $(DIST) && find . -type f ! -name SHA256SUMS | LC_ALL=C sort | xargs sha256sum > SHA256SUMS); \
	$(MAKE) --no-print-directory dist-publish-check; \
	echo "make dist: $$(( $$(date +%s) - start )) s" | tee $(DIST_TIMES); ls -la $(DIST)

# THIRD_PARTY_LICENSES.txt of each shipped crate: the C library's (its tarball and the Go module), the Node
# addon's, the Python extension's and the CLI's (its tarball and npm package). cargo-about reads offline, and
# cargo metadata wants every platform's crates, which a Linux build never downloads: fetched first. About 20 s
# of two cores each: written again only when the lock file, a manifest or the settings change
DIST_NOTICES_INPUTS := $(ROOT)/Cargo.lock $(wildcard $(ROOT)/*/Cargo.toml) $(ROOT)/Cargo.toml \
	$(addprefix $(ROOT)/tools/dist/,about.toml third_party_licenses.hbs third_party_licenses.sh)
define dist_notices
$(DIST_LICENSES)/$(1).txt: $(DIST_NOTICES_INPUTS) | setup-dist
	$(CARGO) fetch --locked --quiet
	@mkdir -p $(DIST_LICENSES)
	bash $(ROOT)/tools/dist/third_party_licenses.sh $(CARGO_ABOUT) $(ROOT)/$(2) $$@
endef
$(eval $(call dist_notices,c,bindings-c))
$(eval $(call dist_notices,node,bindings-node))
$(eval $(call dist_notices,python,bindings-python))
$(eval $(call dist_notices,cli,cli))
dist-licenses: $(addprefix $(DIST_LICENSES)/,c.txt node.txt python.txt cli.txt)

# the abi3 wheel for the glibc floor (its zip entries dated by the commit: SOURCE_DATE_EPOCH) (maturin refuses to tag it lower than its symbols need) and the sdist;
# auditwheel and abi3audit read the wheel: its platform tag, and only the stable ABI of CPython 3.10.
# In dist-build's target dir, environment and RUSTFLAGS: only pyo3, the crates whose features it changes
# (syn's) and the binding itself are compiled here
dist-python: dist-build dist-licenses
	install -m 644 $(DIST_LICENSES)/python.txt $(PY_DIR)/THIRD_PARTY_LICENSES.txt
	cd $(PY_DIR) && source $(DIST_ZIG_ENV) && SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct) $(DIST_ENV) maturin build --release --locked --quiet \
		--target $(DIST_TRIPLE) --compatibility manylinux_$(subst .,_,$(GLIBC_FLOOR)) \
		--interpreter $(DIST_VENV)/bin/python --out $(DIST)
	cd $(PY_DIR) && $(DIST_ENV) maturin sdist --out $(DIST)
	rm -f $(PY_DIR)/THIRD_PARTY_LICENSES.txt
	$(DIST_VENV)/bin/auditwheel show $(DIST)/trustcore-*.whl
	$(DIST_VENV)/bin/auditwheel show $(DIST)/trustcore-*.whl | tr -s ' \n' ' ' \
		| grep 'is consistent with the following platform tag: "manylinux_$(subst .,_,$(GLIBC_FLOOR))_x86_64"' >/dev/null
	$(DIST_VENV)/bin/abi3audit --strict --verbose $(DIST)/trustcore-*.whl

dist-node:
	bash $(ROOT)/tools/dist/node_packages.sh $(ROOT) $(DIST_BIN)/libtrustcore_node.so $(DIST_LICENSES)/node.txt $(DIST)

dist-c:
	bash $(ROOT)/tools/dist/c_tarball.sh $(ROOT) $(DIST_BIN) $(TC_VERSION) $(DIST_PLATFORM) "$$(cat $(DIST_NATIVE_LIBS))" \
		$(DIST_LICENSES)/c.txt $(DIST)

# the trustcore binary (the CLI and `trustcore signer serve`) with the license, the third-party notices and the
# changelog
dist-cli:
	@stage=$$(mktemp -d) && name=trustcore-cli-$(TC_VERSION)-$(DIST_PLATFORM) && \
	install -d $$stage/$$name/bin && install -m 755 $(DIST_BIN)/trustcore $$stage/$$name/bin/trustcore && \
	install -m 644 $(ROOT)/LICENSE $(ROOT)/CHANGELOG.md $$stage/$$name/ && \
	install -m 644 $(DIST_LICENSES)/cli.txt $$stage/$$name/THIRD_PARTY_LICENSES.txt && \
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="$$(git -C $(ROOT) log -1 --format=%cI)" \
		-C $$stage -cf - $$name | gzip -n -9 > $(DIST)/$$name.tar.gz && rm -rf $$stage && echo "$(DIST)/$$name.tar.gz"

# the binary through a language package manager, the pattern esbuild uses: the npm package trustcore-cli (a
# launcher) and @trustcore/cli-linux-x64-gnu (this binary, os/cpu/libc) from its optionalDependencies
dist-cli-npm:
	bash $(ROOT)/tools/dist/cli_npm_packages.sh $(ROOT) $(DIST_BIN)/trustcore $(DIST_LICENSES)/cli.txt $(DIST)

dist-go: setup-go
	bash $(ROOT)/tools/dist/go_module.sh $(ROOT) $(TC_VERSION) $(DIST_GO_PLATFORM) $(DIST_BIN)/libtrustcore.a \
		"$$(cat $(DIST_NATIVE_LIBS))" $(DIST_LICENSES)/c.txt $(DIST)/goproxy

# crates.io's checks on core without uploading (metadata, a version on every path dependency, it builds
# from the packaged files alone, sharing the dependencies' debug build with make test's: measured cold in
# make test, 20 crates whose features differ and core, about 40 s of CPU)
dist-publish-check: setup-rust
	$(CARGO) publish --dry-run --locked -p trustcore-core

# the artifacts as a user installs them: make dist first (make test runs both)
test-dist: dist setup-c setup-go
	@start=$$(date +%s); \
	$(PGO_ENV) TRUSTCORE_ROOT=$(ROOT) DIST=$(DIST) GLIBC_FLOOR=$(GLIBC_FLOOR) VERSION=$(TC_VERSION) PYTHON=$(PY_PYTHON) \
		bash $(ROOT)/tools/dist/test_dist.sh; \
	echo "make test-dist (after make dist): $$(( $$(date +%s) - start )) s; $$(cat $(DIST_TIMES))"
