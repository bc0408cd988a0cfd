# The C ABI (libtrustcore.so / .a, include/trustcore.h) and the Go package (bindings-c/go).
#   make test-c     header freshness + Rust unit tests; the C conformance runner and misuse tests with
#                   ASan + UBSan; then both again without sanitizers under valgrind
#   make test-go    go vet, go test and go test -race over the same vectors
#   (both start the real signer daemon, $(TRUSTCORE_BIN), so they build it first: signer-bin)
#   (and the Verifier's Redis tests start their own redis-server on a free loopback port: setup-redis)
#   make bench-c / bench-go   the per-request path through C / Go against the Rust core, same run, and
#                   the Verifier's cached path with memory and Redis stores; 64 requests one by one
#                   against one authenticate_batch
#   make install PREFIX=/usr/local [DESTDIR=]   the .so (with SONAME links), .a, header, trustcore.pc

TC_DIR := $(ROOT)/bindings-c
TC_LIB := $(ROOT)/target/release
TC_STAGE := $(ROOT)/target/c-prefix
TC_BUILD := $(ROOT)/target/c-tests
TC_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' $(ROOT)/Cargo.toml | head -n1)
PREFIX ?= /usr/local
DESTDIR ?=
TC_CC ?= gcc
GO ?= go
TC_CFLAGS := -std=c11 -Wall -Wextra -Werror -g -O1
TC_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# the C programs build against the staged install, through its trustcore.pc, as a user's would
TC_PKG := PKG_CONFIG_PATH=$(TC_STAGE)/lib/pkgconfig pkg-config
TC_RPATH := -Wl,-rpath,$(TC_STAGE)/lib
TC_TEST_SRC := $(TC_DIR)/tests/c
TC_CONFORMANCE_SRC := $(addprefix $(TC_TEST_SRC)/,conformance.c ops.c json_raw.c hex.c signer_daemon.c)
TC_MISUSE_SRC := $(addprefix $(TC_TEST_SRC)/,misuse.c batch_checks.c threads.c fixture.c signer_checks.c \
	signer_daemon.c redis_checks.c redis_server.c)
# valgrind runs the authorizer ~50x slower: its run multiplies time budgets (never fact or
# iteration limits) so a 10 ms default does not turn into LIMIT_EXCEEDED; ASan runs use exact limits.
# The signer daemon the tests fork + exec ($(TRUSTCORE_BIN)) runs natively: children are not traced.
TC_VALGRIND := valgrind --trace-children=no --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=1
TC_GO_ENV := GOTOOLCHAIN=local CGO_ENABLED=1 PKG_CONFIG_PATH=$(TC_STAGE)/lib/pkgconfig \
	LD_LIBRARY_PATH=$(TC_STAGE)/lib TRUSTCORE_ROOT=$(ROOT)
TC_SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# install a Debian package only when missing; refresh the package lists only then
tc_apt = dpkg -s $(1) >/dev/null 2>&1 || { $(TC_SUDO) apt-get update -qq && $(TC_SUDO) apt-get install -y -qq $(1); }

SETUP_TARGETS += setup-c
TEST_TARGETS += test-c test-go
BENCH_TARGETS += bench-c bench-go

.PHONY: setup-c test-c test-go bench-c bench-go install c-lib c-stage c-header-test c-bench-rust

setup-c:
	@command -v $(TC_CC) >/dev/null || $(call tc_apt,gcc)
	@$(call tc_apt,libcjson-dev)
	@command -v valgrind >/dev/null || $(call tc_apt,valgrind)
	@command -v pkg-config >/dev/null || $(call tc_apt,pkgconf)
	@command -v readelf >/dev/null || $(call tc_apt,binutils)
	@command -v $(GO) >/dev/null || { echo "go not found: install Go 1.24 or newer"; exit 1; }

c-lib: setup-rust
	$(CARGO) build --locked --release -p trustcore-c

install: c-lib
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	soname=$$(readelf -d $(TC_LIB)/libtrustcore.so | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p'); \
	test -n "$$soname"; \
	install -m 755 $(TC_LIB)/libtrustcore.so $(DESTDIR)$(PREFIX)/lib/libtrustcore.so.$(TC_VERSION); \
	ln -sf libtrustcore.so.$(TC_VERSION) $(DESTDIR)$(PREFIX)/lib/$$soname; \
	ln -sf $$soname $(DESTDIR)$(PREFIX)/lib/libtrustcore.so
	install -m 644 $(TC_LIB)/libtrustcore.a $(DESTDIR)$(PREFIX)/lib/libtrustcore.a
	install -m 644 $(ROOT)/include/trustcore.h $(DESTDIR)$(PREFIX)/include/trustcore.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(TC_VERSION)|' $(TC_DIR)/trustcore.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/trustcore.pc

# a private install under target/, for the C and Go tests
c-stage: c-lib
	@$(MAKE) --no-print-directory -s install PREFIX=$(TC_STAGE) DESTDIR=

# include/trustcore.h is regenerated and compared; the panic boundary's unit tests run too
c-header-test: setup-rust
	$(CARGO) test --locked -p trustcore-c

test-c: setup-c setup-redis c-header-test c-stage signer-bin
	@mkdir -p $(TC_BUILD)/asan $(TC_BUILD)/plain
	@echo "== C: build with ASan + UBSan"
	$(TC_CC) $(TC_CFLAGS) $(TC_SANITIZE) $$($(TC_PKG) --cflags trustcore libcjson) $(TC_CONFORMANCE_SRC) \
		$$($(TC_PKG) --libs trustcore libcjson) $(TC_RPATH) -o $(TC_BUILD)/asan/conformance
	$(TC_CC) $(TC_CFLAGS) $(TC_SANITIZE) -I$(TC_TEST_SRC) $$($(TC_PKG) --cflags trustcore) $(TC_MISUSE_SRC) \
		$$($(TC_PKG) --libs trustcore) $(TC_RPATH) -o $(TC_BUILD)/asan/misuse
	@echo "== C: README quick start, linked through pkg-config (shared, then static)"
	$(TC_CC) $(TC_CFLAGS) $(TC_DIR)/examples/quickstart.c $$($(TC_PKG) --cflags --libs trustcore) $(TC_RPATH) \
		-o $(TC_BUILD)/plain/quickstart
	$(TC_CC) $(TC_CFLAGS) $(TC_DIR)/examples/quickstart.c $$($(TC_PKG) --cflags trustcore) \
		$(TC_STAGE)/lib/libtrustcore.a $$($(TC_PKG) --static --libs-only-l trustcore | sed 's/-ltrustcore//') \
		-o $(TC_BUILD)/plain/quickstart-static
	$(TC_BUILD)/plain/quickstart
	$(TC_BUILD)/plain/quickstart-static
	@echo "== C: misuse and conformance under ASan + UBSan"
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(TC_BUILD)/asan/misuse $(ROOT)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(TC_BUILD)/asan/conformance $(ROOT)
	@echo "== C: misuse and conformance under valgrind"
	$(TC_CC) $(TC_CFLAGS) $$($(TC_PKG) --cflags trustcore libcjson) $(TC_CONFORMANCE_SRC) \
		$$($(TC_PKG) --libs trustcore libcjson) $(TC_RPATH) -o $(TC_BUILD)/plain/conformance
	$(TC_CC) $(TC_CFLAGS) -I$(TC_TEST_SRC) $$($(TC_PKG) --cflags trustcore) $(TC_MISUSE_SRC) \
		$$($(TC_PKG) --libs trustcore) $(TC_RPATH) -o $(TC_BUILD)/plain/misuse
	TRUSTCORE_TEST_TIME_SCALE=100 $(TC_VALGRIND) $(TC_BUILD)/plain/misuse $(ROOT)
	TRUSTCORE_TEST_TIME_SCALE=100 $(TC_VALGRIND) $(TC_BUILD)/plain/conformance $(ROOT)

test-go: setup-c setup-redis c-stage signer-bin
	cd $(TC_DIR)/go && $(TC_GO_ENV) $(GO) vet ./...
	cd $(TC_DIR)/go && $(TC_GO_ENV) $(GO) test -count=1 -v .
	cd $(TC_DIR)/go && $(TC_GO_ENV) $(GO) test -race -count=1 -v .

# The Rust core's example and the C / Go programs run in turns, three times each, and the lowest
# figures count: the machine is shared, and a burst of other work should not decide the ratio.
TC_BENCH_TURNS := 1 2 3
TC_BENCH_RUST := $(ROOT)/target/release/examples/bench_core

c-bench-rust: setup-rust
	@mkdir -p $(TC_BUILD)
	$(CARGO) build --locked --quiet --release -p trustcore-c --example bench_core

# one line per measured binding and path: its best medians against the Rust core's on the same path
# (names `LANG` for the stateless path, `LANG/verifier-memory` and `LANG/verifier-redis` for the
# Verifier's cached path with each store), and, for Go, against the same calls made through plain
# cgo, which shows what cgo itself costs; and per language, 64 requests through a Verifier one by one
# against the same 64 as one batch (`LANG/batch64-one-by-one`, `LANG/batch64`, per request)
tc_ratio = awk '{ if (!($$2 in n) || $$4 < n[$$2]) n[$$2]=$$4; if (!($$2 in c) || $$6 < c[$$2]) c[$$2]=$$6 } END { \
	split("|/verifier-memory|/verifier-redis", paths, "|"); \
	split("per-request (authenticate + check_policy)|verifier, memory stores (cached token, authenticate + check_policy)|verifier, redis stores (cached token, authenticate + check_policy)", labels, "|"); \
	for (p = 1; p <= 3; p++) for (k in n) { \
		slash = index(k, "/"); lang = slash ? substr(k, 1, slash - 1) : k; path = slash ? substr(k, slash) : ""; \
		base = "rust" path; \
		if (path != paths[p] || lang == "rust" || !(base in n)) continue; \
		printf "%s %s: median %.1f us, CPU %.1f us; rust %.1f us, CPU %.1f us: x%.3f wall, x%.3f CPU (goal <= x1.05)\n", \
			labels[p], lang, n[k]/1000, c[k]/1000, n[base]/1000, c[base]/1000, n[k]/n[base], c[k]/c[base] } \
	for (p = 1; p <= 3; p++) if (("go" paths[p]) in n && ("gocgo" paths[p]) in n) \
		printf "go binding vs the same calls through plain cgo%s: x%.3f wall, x%.3f CPU\n", paths[p] == "" ? "" : " (" substr(paths[p], 2) ")", \
			n["go" paths[p]]/n["gocgo" paths[p]], c["go" paths[p]]/c["gocgo" paths[p]]; \
	split("rust c go", langs, " "); \
	for (l = 1; l <= 3; l++) { one = langs[l] "/batch64-one-by-one"; b = langs[l] "/batch64"; \
		if (!(one in n) || !(b in n)) continue; \
		printf "64 requests one by one vs as one batch (verifier, memory stores, authenticate) %s: %.1f vs %.1f us a request, %.0f vs %.0f requests/s: x%.2f wall, x%.2f CPU (goal >= x1.6)", \
			langs[l], n[one]/1000, n[b]/1000, 1e9/n[one], 1e9/n[b], n[one]/n[b], c[one]/c[b]; \
		if (langs[l] != "rust" && ("rust/batch64" in n)) printf "; batch vs rust batch x%.3f wall", n[b]/n["rust/batch64"]; \
		printf "\n" } }' $(1)

bench-c: setup-c setup-redis c-stage c-bench-rust
	$(TC_CC) -std=c11 -Wall -Wextra -Werror -O2 -I$(TC_TEST_SRC) $(TC_DIR)/bench/bench.c $(TC_TEST_SRC)/redis_server.c \
		$$($(TC_PKG) --cflags --libs trustcore) $(TC_RPATH) -o $(TC_BUILD)/bench-c
	@rm -f $(TC_BUILD)/bench-c.txt
	for turn in $(TC_BENCH_TURNS); do $(TC_BENCH_RUST); $(TC_BUILD)/bench-c; done | tee $(TC_BUILD)/bench-c.txt
	@$(call tc_ratio,$(TC_BUILD)/bench-c.txt)

bench-go: setup-c setup-redis c-stage c-bench-rust
	cd $(TC_DIR)/go && $(TC_GO_ENV) $(GO) build -o $(TC_BUILD)/bench-go ./cmd/trustcore-bench
	for turn in $(TC_BENCH_TURNS); do $(TC_BENCH_RUST); LD_LIBRARY_PATH=$(TC_STAGE)/lib $(TC_BUILD)/bench-go; done \
		| tee $(TC_BUILD)/bench-go.txt
	@$(call tc_ratio,$(TC_BUILD)/bench-go.txt)
