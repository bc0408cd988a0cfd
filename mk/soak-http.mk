# The HTTP soak (bench/README.md, "HTTP soak"): one process of each server adapter (uvicorn/ASGI,
# WSGI under gunicorn, Express, Fastify, net/http; the HTTP matrix's servers) answers
# SOAK_HTTP_REQUESTS signed requests from the Go signing client while as many spinning processes as
# CPUs keep the machine oversubscribed (bench/http/soak, in the HTTP bench's module). Any request not
# answered 200, a dead server, or resident memory grown from the middle to the end fails it; each
# server's memory at the start, middle and end goes to $(BENCH_OUT)/soak-http.jsonl.
#   soak-http       the long form: 1,000,000 requests per server (not in make test)
#   test-soak-http  50,000 per server, in make test
SOAK_HTTP_REQUESTS ?= 1000000
SOAK_HTTP_ONLY ?=
SOAK_HTTP_BIN = $(TC_BUILD)/soak-http
SOAK_HTTP_SERVERS = http-starlette=$(MATRIX_PY) $(MATRIX_DIR)/python/server.py;\
http-wsgi=$(MATRIX_PY) $(MATRIX_DIR)/python/server.py;\
http-express5=node $(MATRIX_DIR)/node/server.js;\
http-fastify=node $(MATRIX_DIR)/node/server.js;\
http-nethttp=$(TC_GO_MATRIX_SERVER)

.PHONY: soak-http test-soak-http soak-http-bin

soak-http-bin: build-python build-node matrix-go-bin
	$(MATRIX_PY) -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
		$(PY_WHEELS)/trustcore-*.whl
	@mkdir -p $(TC_BUILD) $(BENCH_OUT)
	cd $(ROOT)/bench/http && $(TC_GO_ENV) $(GO) build -ldflags "-r $(TC_STAGE)/lib" -o $(SOAK_HTTP_BIN) ./soak

soak-http: soak-http-bin
	$(SOAK_HTTP_BIN) -policy $(MATRIX_DIR)/routes.json -requests $(SOAK_HTTP_REQUESTS) -only "$(SOAK_HTTP_ONLY)" \
		-servers "$(SOAK_HTTP_SERVERS)" $(BENCH_OUT)/soak-http.jsonl

test-soak-http:
	$(MAKE) --no-print-directory soak-http SOAK_HTTP_REQUESTS=50000
