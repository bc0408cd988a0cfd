# The C ABI (libtrustcore.so / .a, include/trustcore.h); the Go package on top of it is mk/go.mk's.
#   make test-c     header freshness + Rust unit tests; the C conformance runner and misuse tests with
#                   ASan + UBSan; then both again without sanitizers under valgrind; the raw-request
#                   example (examples/raw_request.c) against requests the CLI signs, with ASan + UBSan
#                   and under valgrind (tests/raw_request.sh)
#   (it starts the real signer daemon, $(TRUSTCORE_BIN), and redis-server through the test environment,
#   $(TRUSTCORE_TESTENV), so it builds both first: signer-bin; redis-server itself is setup-redis's)
#   make test-panic-c   the panic boundary: a fault-injection build of the library (target/fault), whose
#                   core panics on a marked request; every export reaching it returns TC_INTERNAL (ASan)
#   make bench-c    the unified bench harness (bench/README.md), impl `c`: target/bench/c.jsonl
#   make install PREFIX=/usr/local [LIBDIR=$(PREFIX)/lib] [DESTDIR=]   copies what c-lib built: the .so (with
#                   SONAME links), .a, header, trustcore.pc (Libs.private: what rustc printed for the .a)

TC_DIR := $(ROOT)/bindings-c
TC_LIB := $(ROOT)/target/release
TC_STAGE := $(ROOT)/target/c-prefix
TC_BUILD := $(ROOT)/target/c-tests
TC_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' $(ROOT)/Cargo.toml | head -n1)
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
DESTDIR ?=
# the system libraries the static library needs, as rustc printed them when it linked it (c-lib)
TC_NATIVE_LIBS := $(TC_LIB)/trustcore-native-static-libs.txt
TC_CC ?= gcc
TC_CFLAGS := -std=c11 -Wall -Wextra -Werror -g -O1
TC_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# the C programs build against the staged install, through its trustcore.pc, as a user's would
TC_PKG := PKG_CONFIG_PATH=$(TC_STAGE)/lib/pkgconfig pkg-config
TC_RPATH := -Wl,-rpath,$(TC_STAGE)/lib
TC_TEST_SRC := $(TC_DIR)/tests/c
TC_CONFORMANCE_SRC := $(addprefix $(TC_TEST_SRC)/,conformance.c ops.c json_raw.c hex.c signer_daemon.c testenv.c)
TC_MISUSE_SRC := $(addprefix $(TC_TEST_SRC)/,misuse.c batch_checks.c threads.c fixture.c signer_checks.c \
	signer_daemon.c redis_checks.c redis_server.c testenv.c hostile.c http_checks.c)
# valgrind runs the authorizer ~50x slower: its run multiplies time budgets (never fact or
# iteration limits) so a 10 ms default does not turn into LIMIT_EXCEEDED; ASan runs use exact limits.
# The test environment the tests fork + exec ($(TRUSTCORE_TESTENV): redis-server and the signer daemon,
# testenv.c) runs natively: children are not traced.
TC_VALGRIND := valgrind --trace-children=no --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=1
TC_SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# install a Debian package only when missing; refresh the package lists only then
tc_apt = dpkg -s $(1) >/dev/null 2>&1 || { $(TC_SUDO) apt-get update -qq && $(TC_SUDO) apt-get install -y -qq $(1); }

SETUP_TARGETS += setup-c
TEST_TARGETS += test-c test-panic-c
BENCH_TARGETS += bench-c

.PHONY: setup-c test-c test-panic-c bench-c install c-lib c-stage c-header-test c-fault-lib

setup-c:
	@command -v $(TC_CC) >/dev/null || $(call tc_apt,gcc)
	@$(call tc_apt,libcjson-dev)
	@command -v valgrind >/dev/null || $(call tc_apt,valgrind)
	@command -v pkg-config >/dev/null || $(call tc_apt,pkgconf)
	@command -v readelf >/dev/null || $(call tc_apt,binutils)

# rustc prints the static library's system libraries only when it links it: `cargo rustc` asks, and cargo
# replays the note when the library is already fresh (tools/dist/native_static_libs.sh)
c-lib: setup-rust pgo-profile
	bash $(ROOT)/tools/dist/native_static_libs.sh $(TC_NATIVE_LIBS) \
		env $(PGO_ENV) $(CARGO) rustc --locked --release -p trustcore-c --lib -- --print native-static-libs

install:
	@test -f $(TC_LIB)/libtrustcore.so -a -f $(TC_NATIVE_LIBS) || { echo "nothing to install: run make c-lib first"; exit 1; }
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(PREFIX)/include
	soname=$$(readelf -d $(TC_LIB)/libtrustcore.so | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p'); \
	test -n "$$soname"; \
	install -m 755 $(TC_LIB)/libtrustcore.so $(DESTDIR)$(LIBDIR)/libtrustcore.so.$(TC_VERSION); \
	ln -sf libtrustcore.so.$(TC_VERSION) $(DESTDIR)$(LIBDIR)/$$soname; \
	ln -sf $$soname $(DESTDIR)$(LIBDIR)/libtrustcore.so
	install -m 644 $(TC_LIB)/libtrustcore.a $(DESTDIR)$(LIBDIR)/libtrustcore.a
	install -m 644 $(ROOT)/include/trustcore.h $(DESTDIR)$(PREFIX)/include/trustcore.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@VERSION@|$(TC_VERSION)|' \
		-e "s|@LIBS_PRIVATE@|$$(cat $(TC_NATIVE_LIBS))|" $(TC_DIR)/trustcore.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/trustcore.pc

# a private install under target/, for the C and Go tests
c-stage: c-lib
	@$(MAKE) --no-print-directory -s install PREFIX=$(TC_STAGE) LIBDIR=$(TC_STAGE)/lib DESTDIR=

# include/trustcore.h is regenerated and compared; the panic boundary's unit tests run too
c-header-test: setup-rust
	$(CARGO) test --locked -p trustcore-c

test-c: setup-c setup-redis c-header-test c-stage signer-bin
	@mkdir -p $(TC_BUILD)/asan $(TC_BUILD)/plain
	@echo "== C: build with ASan + UBSan"
	$(TC_CC) $(TC_CFLAGS) $(TC_SANITIZE) $$($(TC_PKG) --cflags trustcore libcjson) $(TC_CONFORMANCE_SRC) \
		$$($(TC_PKG) --libs trustcore libcjson) $(TC_RPATH) -o $(TC_BUILD)/asan/conformance
	$(TC_CC) $(TC_CFLAGS) $(TC_SANITIZE) -I$(TC_TEST_SRC) $$($(TC_PKG) --cflags trustcore libcjson) $(TC_MISUSE_SRC) \
		$$($(TC_PKG) --libs trustcore libcjson) $(TC_RPATH) -o $(TC_BUILD)/asan/misuse
	@echo "== C: README quick start, linked through pkg-config (shared, then static)"
	$(TC_CC) $(TC_CFLAGS) $(TC_DIR)/examples/quickstart.c $$($(TC_PKG) --cflags --libs trustcore) $(TC_RPATH) \
		-o $(TC_BUILD)/plain/quickstart
	$(TC_CC) $(TC_CFLAGS) $(TC_DIR)/examples/quickstart.c $$($(TC_PKG) --cflags trustcore) \
		$(TC_STAGE)/lib/libtrustcore.a $$($(TC_PKG) --static --libs-only-l trustcore | sed 's/-ltrustcore//') \
		-o $(TC_BUILD)/plain/quickstart-static
	$(TC_BUILD)/plain/quickstart
	$(TC_BUILD)/plain/quickstart-static
	@echo "== C: the raw-request example (examples/raw_request.c) under ASan + UBSan"
	$(TC_CC) $(TC_CFLAGS) $(TC_SANITIZE) $(TC_DIR)/examples/raw_request.c $$($(TC_PKG) --cflags --libs trustcore) \
		$(TC_RPATH) -o $(TC_BUILD)/asan/raw_request
	$(TC_CC) $(TC_CFLAGS) $(TC_DIR)/examples/raw_request.c $$($(TC_PKG) --cflags --libs trustcore) $(TC_RPATH) \
		-o $(TC_BUILD)/plain/raw_request
	ASAN_OPTIONS=detect_leaks=1:exitcode=99 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99 \
		TRUSTCORE_ROOT=$(ROOT) bash $(TC_DIR)/tests/raw_request.sh $(TC_BUILD)/asan/raw_request
	@echo "== C: misuse and conformance under ASan + UBSan"
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(TC_BUILD)/asan/misuse $(ROOT)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(TC_BUILD)/asan/conformance $(ROOT)
	@echo "== C: misuse and conformance under valgrind"
	$(TC_CC) $(TC_CFLAGS) $$($(TC_PKG) --cflags trustcore libcjson) $(TC_CONFORMANCE_SRC) \
		$$($(TC_PKG) --libs trustcore libcjson) $(TC_RPATH) -o $(TC_BUILD)/plain/conformance
	$(TC_CC) $(TC_CFLAGS) -I$(TC_TEST_SRC) $$($(TC_PKG) --cflags trustcore libcjson) $(TC_MISUSE_SRC) \
		$$($(TC_PKG) --libs trustcore libcjson) $(TC_RPATH) -o $(TC_BUILD)/plain/misuse
	TRUSTCORE_TEST_TIME_SCALE=100 $(TC_VALGRIND) $(TC_BUILD)/plain/misuse $(ROOT)
	TRUSTCORE_TEST_TIME_SCALE=100 $(TC_VALGRIND) $(TC_BUILD)/plain/conformance $(ROOT)
	@# the example exits 1 when it refused a request: valgrind's own errors exit 99
	TRUSTCORE_TEST_TIME_SCALE=100 TRUSTCORE_ROOT=$(ROOT) bash $(TC_DIR)/tests/raw_request.sh \
		$(TC_BUILD)/plain/raw_request $(TC_VALGRIND) --error-exitcode=99

# the panic boundary (docs/DESIGN.md §5): a `fault-injection` build of the library (its core panics on the request
# method TRUSTCORE-INJECTED-PANIC), dev profile, in a target dir of its own so the release artifacts
# the other tests use are never touched; tests/c/panic_boundary.c calls every export that reaches
# canonical_request with that method under ASan + UBSan: TC_INTERNAL each time, then the same handles work
TC_FAULT_DIR := $(ROOT)/target/fault
# the fault-injection library staged under its SONAME (as c-stage does), for the C test and the Go helper
TC_FAULT_LIB := $(TC_BUILD)/fault-lib

c-fault-lib: setup-rust
	CARGO_TARGET_DIR=$(TC_FAULT_DIR) $(CARGO) build --locked -p trustcore-c --features fault-injection
	@rm -rf $(TC_FAULT_LIB) && mkdir -p $(TC_FAULT_LIB)
	soname=$$(readelf -d $(TC_FAULT_DIR)/debug/libtrustcore.so | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p'); \
	test -n "$$soname"; \
	cp $(TC_FAULT_DIR)/debug/libtrustcore.so $(TC_FAULT_LIB)/$$soname; \
	ln -sf $$soname $(TC_FAULT_LIB)/libtrustcore.so

test-panic-c: setup-c c-fault-lib
	@mkdir -p $(TC_BUILD)/asan
	$(TC_CC) $(TC_CFLAGS) $(TC_SANITIZE) -I$(TC_TEST_SRC) -I$(ROOT)/include $(TC_TEST_SRC)/panic_boundary.c \
		$(TC_TEST_SRC)/fixture.c -L$(TC_FAULT_LIB) -ltrustcore -Wl,-rpath,$(TC_FAULT_LIB) -o $(TC_BUILD)/asan/panic_boundary
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 RUST_BACKTRACE=0 \
		$(TC_BUILD)/asan/panic_boundary

# the unified bench harness (bench/README.md), impl `c`: one JSON line per figure in target/bench/c.jsonl;
# it starts its own redis-server and `$(TRUSTCORE_BIN) signer serve` ($(TRUSTCORE_TESTENV))
bench-c: setup-c setup-redis c-stage signer-bin
	@mkdir -p $(TC_BUILD) $(ROOT)/target/bench
	$(TC_CC) -std=c11 -Wall -Wextra -Werror -O2 -pthread -I$(TC_TEST_SRC) $$($(TC_PKG) --cflags trustcore libcjson) \
		$(ROOT)/bench/c/bench.c $(TC_TEST_SRC)/redis_server.c $(TC_TEST_SRC)/signer_daemon.c $(TC_TEST_SRC)/testenv.c \
		$$($(TC_PKG) --libs trustcore libcjson) -lm $(TC_RPATH) -o $(TC_BUILD)/bench-c
	$(TC_BUILD)/bench-c $(ROOT)/target/bench/c.jsonl
