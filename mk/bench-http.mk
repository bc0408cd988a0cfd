# The HTTP servers' bench (bench/README.md, "HTTP servers"): the HTTP matrix's servers
# (tests/http-matrix/README.md), each without trustcore (TRUSTCORE_MATRIX_PLAIN=1) and with its
# middleware (and plain again, paced at the protected rate), loaded by one Go program (bench/http, a module of its own taking bindings-go from the
# checkout) over a fixed number of keep-alive connections with pre-signed requests; requests per
# second and the server's CPU µs per request, into $(BENCH_OUT)/http.jsonl (target/bench). Part of `make bench`
# only, never of `make test` (about 16 s per server per round).
#   bench-http   build what each server needs, then $(TC_BUILD)/bench-http over BENCH_HTTP_SERVERS
#   bench-http-overhead   the in-process companions (bench/README.md, "Adapter cost"): the CPU the ASGI
#                and WSGI middlewares, Express 4 and 5 and Fastify's, and net/http's Middleware add to
#                the binding's own decision, printed (about 3 min)
# Knobs: BENCH_HTTP_SECONDS (timed run per mode, 3), BENCH_HTTP_WARMUP (1), BENCH_HTTP_CONNECTIONS
# (8), BENCH_HTTP_ONLY (comma-separated names, e.g. http-nethttp,http-starlette: these only).
# The variables below are read when the recipe runs: matrix.mk, go.mk and c.mk (read after this
# file) define MATRIX_PY, MATRIX_DIR, TC_GO_MATRIX_SERVER, TC_GO_ENV, TC_STAGE and TC_BUILD.

BENCH_HTTP_SECONDS ?= 3
BENCH_HTTP_WARMUP ?= 1
BENCH_HTTP_CONNECTIONS ?= 8
BENCH_HTTP_ONLY ?=
BENCH_HTTP_BIN = $(TC_BUILD)/bench-http
# name=command, as the matrix's MATRIX_SERVERS; the part after the last '-' of a name is its
# TRUSTCORE_MATRIX_FRAMEWORK. The Node server's rows only when tests/http-matrix/node/ has it.
BENCH_HTTP_NODE = $(if $(wildcard $(MATRIX_DIR)/node/server.js),$(foreach f,express4 express5 fastify,http-$(f)=node $(MATRIX_DIR)/node/server.js;))
BENCH_HTTP_SERVERS = http-starlette=$(MATRIX_PY) $(MATRIX_DIR)/python/server.py;\
http-fastapi=$(MATRIX_PY) $(MATRIX_DIR)/python/server.py;\
http-wsgi=$(MATRIX_PY) $(MATRIX_DIR)/python/server.py;\
$(BENCH_HTTP_NODE)\
http-nethttp=$(TC_GO_MATRIX_SERVER)

BENCH_TARGETS += bench-http

.PHONY: bench-http bench-http-overhead

bench-http: build-python build-node matrix-go-bin
	$(MATRIX_PY) -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
		$(PY_WHEELS)/trustcore-*.whl
	@mkdir -p $(TC_BUILD) $(BENCH_OUT)
	cd $(ROOT)/bench/http && $(TC_GO_ENV) $(GO) build -ldflags "-r $(TC_STAGE)/lib" -o $(BENCH_HTTP_BIN) .
	$(BENCH_HTTP_BIN) -policy $(MATRIX_DIR)/routes.json -seconds $(BENCH_HTTP_SECONDS) -warmup $(BENCH_HTTP_WARMUP) \
		-connections $(BENCH_HTTP_CONNECTIONS) -only "$(BENCH_HTTP_ONLY)" -servers "$(BENCH_HTTP_SERVERS)" \
		$(BENCH_OUT)/http.jsonl

bench-http-overhead: build-python build-node c-stage
	$(MATRIX_PY) -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
		$(PY_WHEELS)/trustcore-*.whl
	$(MATRIX_PY) $(ROOT)/bench/http/asgi_overhead.py $(MATRIX_DIR)/routes.json
	$(MATRIX_PY) $(ROOT)/bench/http/wsgi_overhead.py $(MATRIX_DIR)/routes.json
	node $(ROOT)/bench/http/node_overhead.js $(MATRIX_DIR)/routes.json
	@mkdir -p $(TC_BUILD)
	cd $(ROOT)/bench/http && $(TC_GO_ENV) $(GO) build -ldflags "-r $(TC_STAGE)/lib" -o $(TC_BUILD)/bench-http-overhead ./overhead
	$(TC_BUILD)/bench-http-overhead $(MATRIX_DIR)/routes.json
