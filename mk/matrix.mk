# The HTTP matrix (tests/http-matrix/README.md): every language's protected server against every
# signing client (Python, Node, Go, curl), one route policy file, one Redis (stopped at the end: every server answers 503),
# then what only a raw socket sends (a replay, path tricks, a 1 GB announced body).
#   test-matrix  build what each side needs, then tests/http-matrix/driver.py (about 30 s)

MATRIX_DIR := $(ROOT)/tests/http-matrix
MATRIX_PY = $(PY_VENV)/bin/python
# name=command; the part after the last '-' of a server's name is its TRUSTCORE_MATRIX_FRAMEWORK
MATRIX_SERVERS = python-starlette=$(MATRIX_PY) $(MATRIX_DIR)/python/server.py;\
python-fastapi=$(MATRIX_PY) $(MATRIX_DIR)/python/server.py;\
python-wsgi=$(MATRIX_PY) $(MATRIX_DIR)/python/server.py;\
node-express4=node $(MATRIX_DIR)/node/server.js;\
node-express5=node $(MATRIX_DIR)/node/server.js;\
node-fastify=node $(MATRIX_DIR)/node/server.js;\
go-nethttp=$(TC_GO_MATRIX_SERVER)
MATRIX_CLIENTS = python-httpx=$(MATRIX_PY) $(MATRIX_DIR)/python/client.py;\
python-requests=$(MATRIX_PY) $(MATRIX_DIR)/python/client.py --requests;\
node-fetch=node $(MATRIX_DIR)/node/client.js;\
go-http=$(TC_GO_MATRIX_CLIENT);\
curl=$(MATRIX_PY) $(MATRIX_DIR)/curl_client.py

.PHONY: test-matrix

test-matrix: build-python build-node signer-bin setup-redis matrix-go-bin
	$(PY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
		$(PY_WHEELS)/trustcore-*.whl
	MATRIX_SERVERS="$(MATRIX_SERVERS)" MATRIX_CLIENTS="$(MATRIX_CLIENTS)" $(MATRIX_PY) $(MATRIX_DIR)/driver.py

