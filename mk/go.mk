# The Go package (bindings-go/trustcore, the module go.trustcore.dev/trustcore), cgo on top of the C ABI: here
# it builds with the tag trustcore_pkgconfig against mk/c.mk's staged install (c-stage) and uses its TC_* variables, so c.mk must be read first (mk/*.mk
# is included in name order).
#   make test-go    go vet (this module, bench/go, bench/http, demo/go-service, tests/http-matrix/go), go test and
#                   go test -race over the same vectors, with the RFC 9421 interop against httpsig-go (both
#                   ways, net/http on loopback) and the Middleware and Transport against real servers and
#                   clients on loopback (http.Client, curl with `$(TRUSTCORE_BIN) proof`, raw net.Conn);
#                   then the matrix's Go server and client (tests/http-matrix/go) built and run once
#   (it starts the real signer daemon, $(TRUSTCORE_BIN), and redis-server through the test environment,
#   $(TRUSTCORE_TESTENV), so it builds both first: signer-bin; redis-server itself is setup-redis's)
#   make test-panic-go  the panic boundary through Go: a build-tagged go test (also under -race) loads
#                   c.mk's fault-injection library; every Go entry point reaching it returns an error
#                   matching errors.Is(err, ErrInternal)
#   make bench-go   the unified bench harness (bench/go), impl `go` (and `go-rawcgo`): target/bench/go.jsonl
#   make matrix-go-bin  the HTTP matrix's Go server and client (tests/http-matrix/go), built to
#                   $(TC_GO_MATRIX_SERVER) and $(TC_GO_MATRIX_CLIENT), runnable as they are (run path set)
# bench/go, bench/http, demo/go-service and tests/http-matrix/go are modules of their own that take this one from
# the checkout (replace).

ifeq ($(filter test-c,$(TEST_TARGETS)),)
$(error mk/go.mk needs mk/c.mk read first)
endif

GO ?= go
TC_GO_DIR := $(ROOT)/bindings-go/trustcore
TC_GO_PKG := $(TC_GO_DIR)
TC_GO_MATRIX := $(ROOT)/tests/http-matrix/go
TC_GO_MATRIX_SERVER := $(TC_BUILD)/http-matrix-go/server
TC_GO_MATRIX_CLIENT := $(TC_BUILD)/http-matrix-go/client
# GOTOOLCHAIN=local: the installed go, never a toolchain download. The package itself imports only the
# standard library; its interop tests take github.com/remitly-oss/httpsig-go at exactly the version
# bindings-go/trustcore/go.mod pins (go.sum holds its hashes), fetched through the module proxy on first use.
# The tag trustcore_pkgconfig links the staged library through pkg-config (the released module links the
# static library it carries instead: mk/dist.mk)
TC_GO_TAGS := trustcore_pkgconfig
TC_GO_ENV := GOTOOLCHAIN=local CGO_ENABLED=1 GOFLAGS=-tags=$(TC_GO_TAGS) PKG_CONFIG_PATH=$(TC_STAGE)/lib/pkgconfig \
	LD_LIBRARY_PATH=$(TC_STAGE)/lib TRUSTCORE_ROOT=$(ROOT)

SETUP_TARGETS += setup-go
# each right after its C counterpart, the order make test had before the Go targets left c.mk
TEST_TARGETS := $(patsubst test-c,test-c test-go,$(patsubst test-panic-c,test-panic-c test-panic-go,$(TEST_TARGETS)))
BENCH_TARGETS += bench-go

.PHONY: setup-go test-go test-panic-go bench-go matrix-go-bin

# cgo needs c.mk's C compiler and pkg-config; the middleware tests run curl as a client
setup-go: setup-c
	@command -v $(GO) >/dev/null || { echo "go not found: install Go 1.24 or newer"; exit 1; }
	@command -v curl >/dev/null || $(call tc_apt,curl)

# the bench and the demo service are vetted here, as when they were packages of this module
test-go: setup-go setup-redis c-stage signer-bin
	cd $(TC_GO_DIR) && $(TC_GO_ENV) $(GO) vet ./...
	cd $(ROOT)/bench/go && $(TC_GO_ENV) $(GO) vet ./...
	cd $(ROOT)/bench/http && $(TC_GO_ENV) $(GO) vet ./...
	cd $(ROOT)/demo/go-service && $(TC_GO_ENV) $(GO) vet ./...
	cd $(TC_GO_MATRIX) && $(TC_GO_ENV) $(GO) vet ./...
	cd $(TC_GO_PKG) && $(TC_GO_ENV) $(GO) test -count=1 -v .
	cd $(TC_GO_PKG) && $(TC_GO_ENV) $(GO) test -race -count=1 -v .
	cd $(TC_GO_MATRIX) && $(TC_GO_ENV) $(GO) test -count=1 -v .

# the panic boundary through Go (panic_boundary_test.go, build tag faultinjection): built against the
# staged header and library as usual, run with the fault-injection library (c-fault-lib) loaded in
# its place; without that library the test fails (the marked requests would pass), never skips
TC_GO_FAULT_TEST := $(GO) test -tags faultinjection,$(TC_GO_TAGS) -count=1 -run '^TestPanicBoundary' -v .
test-panic-go: setup-go c-stage c-fault-lib
	cd $(TC_GO_PKG) && $(TC_GO_ENV) $(GO) vet -tags faultinjection,$(TC_GO_TAGS) .
	cd $(TC_GO_PKG) && $(TC_GO_ENV) LD_LIBRARY_PATH=$(TC_FAULT_LIB) RUST_BACKTRACE=0 $(TC_GO_FAULT_TEST)
	cd $(TC_GO_PKG) && $(TC_GO_ENV) LD_LIBRARY_PATH=$(TC_FAULT_LIB) RUST_BACKTRACE=0 $(TC_GO_FAULT_TEST) -race

# the unified bench harness (bench/README.md), impl `go`, plus the same per-request calls through plain
# cgo as impl `go-rawcgo`: one JSON line per figure in target/bench/go.jsonl; it starts its own
# redis-server and `$(TRUSTCORE_BIN) signer serve` ($(TRUSTCORE_TESTENV)); GOMAXPROCS is left at its default
bench-go: setup-go setup-redis c-stage signer-bin
	@mkdir -p $(TC_BUILD) $(ROOT)/target/bench
	cd $(ROOT)/bench/go && $(TC_GO_ENV) $(GO) build -o $(TC_BUILD)/bench-go .
	LD_LIBRARY_PATH=$(TC_STAGE)/lib $(TC_BUILD)/bench-go $(ROOT)/target/bench/go.jsonl

# the HTTP matrix's Go programs (tests/http-matrix/README.md) for its driver: the staged library's
# directory is their run path (-r), so they need no LD_LIBRARY_PATH
matrix-go-bin: setup-go c-stage
	cd $(TC_GO_MATRIX) && $(TC_GO_ENV) $(GO) build -ldflags "-r $(TC_STAGE)/lib" -o $(TC_GO_MATRIX_SERVER) ./server
	cd $(TC_GO_MATRIX) && $(TC_GO_ENV) $(GO) build -ldflags "-r $(TC_STAGE)/lib" -o $(TC_GO_MATRIX_CLIENT) ./client
