# Node.js binding (bindings-node/): napi-rs 3, npm package `trustcore`. See bindings-node/README.md.
#   setup-node   install the pinned dev tools (package-lock.json), once per lock change
#   build-node   napi build --release into target/node/, then: generated index.js / index.d.ts must
#                equal the committed ones (drift check), and the addon is copied next to them
#   test-node    node --test (conformance over the four vector sources, RFC 9421's examples among
#                them, bad input, concurrency, HTTP signing and decisions, interop both ways with the
#                npm package http-message-signatures, the middleware trustcore/express on Express 4
#                and 5 and trustcore/fastify on Fastify 5 over real loopback servers called by
#                trustcore/fetch and by curl with `trustcore proof` headers, the README's examples,
#                the HTTP matrix's Node server and client (tests/http-matrix/node/); the frameworks
#                and http-message-signatures are devDependencies pinned in package-lock.json,
#                installed by setup-node; SignerClient against the real daemon, the Verifier on memory and on
#                a real redis-server, authenticateBatch against one by one, delegation: delegate and its refusals,
#                the chain on every identity, holder_chain in a policy, the signer's --max-delegation-depth),
#                then npm pack installed into an empty project runs the quick
#                start and loads every subpath. Needs the `trustcore` binary (signer-bin, in the top Makefile), which the signer
#                tests start as a child process from $TRUSTCORE_BIN (the curl tests run its `proof`), and redis-server (setup-redis),
#                which the Verifier and middleware tests start on a free loopback port; and curl
#   bench-node   bench/README.md's harness (bench/node/bench.mjs): every op through the sync functions
#                (impl node-sync) and their Promise forms (node-async), throughput on 1 and 2 worker
#                threads, into target/bench/node.jsonl; starts its own redis-server and signer daemon
#   test-panic-node  a debug build with --features fault-injection into target/node-fault/ (never
#                bindings-node/*.node): every entry point reaching canonical_request, sync and on the
#                libuv pool, is made to panic inside core and must give INTERNAL, and the same objects
#                keep working (test/fault-injection/panic.test.js)
#   test-node-fault  (by hand, not in CI) the whole node --test suite against that debug build
#   regen-node   write the generated index.js / index.d.ts in place (then commit them)

NODE_DIR := $(ROOT)/bindings-node
NODE_OUT := $(ROOT)/target/node
NODE_STAMP := $(NODE_DIR)/node_modules/.trustcore-setup
NAPI := $(NODE_DIR)/node_modules/.bin/napi
# put the built addon(s) in bindings-node/ by rename, never by copying over: a node process that
# has the old addon mapped (a test run, a server in this checkout) would die of SIGBUS mid-run
define install-addon
	for f in $(NODE_OUT)/napi/*.node; do \
		cp "$$f" "$(NODE_DIR)/.$$(basename "$$f").tmp" && mv -f "$(NODE_DIR)/.$$(basename "$$f").tmp" "$(NODE_DIR)/$$(basename "$$f")"; \
	done
endef

SETUP_TARGETS += setup-node
TEST_TARGETS += test-node test-panic-node
BENCH_TARGETS += bench-node

.PHONY: setup-node build-node regen-node test-node pack-test-node bench-node build-node-fault test-panic-node test-node-fault

setup-node: $(NODE_STAMP)

$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@command -v node >/dev/null || { echo "node not found: install Node.js 20 or newer"; exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
		|| { echo "Node.js 20 or newer is needed (found $$(node --version))"; exit 1; }
	@# `npm install` from the committed lock, not `npm ci`: the registry here lacks some optional
	@# platform packages of napi-rs's cross-compile helpers, which npm ci insists on finding in the lock
	cd $(NODE_DIR) && npm install --no-save --no-audit --no-fund --loglevel=error
	touch $@

build-node: setup-node setup-rust pgo-profile
	rm -rf $(NODE_OUT)/napi && mkdir -p $(NODE_OUT)/napi
	cd $(NODE_DIR) && $(PGO_ENV) $(NAPI) build --platform --release --output-dir $(NODE_OUT)/napi -- --locked
	@for f in index.js index.d.ts; do \
		diff -u $(NODE_DIR)/$$f $(NODE_OUT)/napi/$$f >/dev/null || { \
			diff -u $(NODE_DIR)/$$f $(NODE_OUT)/napi/$$f | head -40; \
			echo "bindings-node/$$f is stale (it no longer matches src/): run 'make regen-node' and commit it"; exit 1; }; \
	done
	@echo "bindings-node/index.js and index.d.ts match the code"
	$(install-addon)

regen-node: setup-node pgo-profile
	rm -rf $(NODE_OUT)/napi && mkdir -p $(NODE_OUT)/napi
	cd $(NODE_DIR) && $(PGO_ENV) $(NAPI) build --platform --release --output-dir $(NODE_OUT)/napi -- --locked
	cp $(NODE_OUT)/napi/index.js $(NODE_OUT)/napi/index.d.ts $(NODE_DIR)/
	$(install-addon)

test-node: build-node signer-bin setup-redis
	cd $(NODE_DIR) && node --test --test-reporter=spec test/*.test.js
	$(MAKE) --no-print-directory pack-test-node

# the tarballs a user would install (the main package and this platform's, as make dist packs them, with
# this build's addon, without make dist's third-party notices), in a fresh project with nothing else: CommonJS,
# ESM, quick start
pack-test-node:
	rm -rf $(NODE_OUT)/pack && mkdir -p $(NODE_OUT)/pack/app
	bash $(ROOT)/tools/dist/node_packages.sh $(ROOT) $(NODE_OUT)/napi/trustcore.linux-x64-gnu.node - $(NODE_OUT)/pack >/dev/null
	cd $(NODE_OUT)/pack/app && echo '{"name":"app","private":true}' > package.json \
		&& npm install --offline --no-audit --no-fund --loglevel=error ../trustcore-*.tgz
	cp $(NODE_DIR)/examples/quickstart.mjs $(NODE_OUT)/pack/app/
	cd $(NODE_OUT)/pack/app && node quickstart.mjs \
		&& node -e 'const t = require("trustcore"); if (!(new t.TrustError("DENIED", "x") instanceof Error)) process.exit(1)' \
		&& node -e 'for (const s of ["express", "fastify", "fetch"]) if (typeof require(`trustcore/$${s}`) !== "function") process.exit(1)' \
		&& node --input-type=module -e 'import signedFetch from "trustcore/fetch"; import trustcore from "trustcore/express"; if (typeof signedFetch !== "function" || typeof trustcore !== "function") process.exit(1)'
	@echo "pack-test-node: $$(cd $(NODE_OUT)/pack && ls trustcore-*.tgz) installs into an empty project, runs the quick start and loads trustcore/express, /fastify, /fetch"

bench-node: build-node signer-bin setup-redis
	mkdir -p $(ROOT)/target/bench
	node $(ROOT)/bench/node/bench.mjs $(ROOT)/target/bench/node.jsonl

# the fault-injection build: debug, its own output dir, loaded from there by the package's JS entry
# copied next to it, with package.json (it reads its version) (the addon in bindings-node/ stays the
# release one the other tests load)
NODE_FAULT := $(ROOT)/target/node-fault
build-node-fault: setup-node setup-rust
	rm -rf $(NODE_FAULT) && mkdir -p $(NODE_FAULT)
	cd $(NODE_DIR) && $(NAPI) build --platform --output-dir $(NODE_FAULT) --features fault-injection -- --locked
	cp $(NODE_DIR)/trustcore.js $(NODE_DIR)/trustcore.mjs $(NODE_DIR)/package.json $(NODE_FAULT)/

test-panic-node: build-node-fault signer-bin setup-redis
	@# RUST_BACKTRACE=0: each injected panic still logs its one line, not a backtrace
	cd $(NODE_DIR) && RUST_BACKTRACE=0 TRUSTCORE_NODE_FAULT_DIR=$(NODE_FAULT) node --test --test-reporter=spec test/fault-injection/panic.test.js

# every test file with `require('trustcore')` resolved to the fault-injection build (a preload that
# redirects the package name; NODE_OPTIONS reaches node --test's per-file child processes)
test-node-fault: build-node-fault signer-bin setup-redis
	cd $(NODE_DIR) && RUST_BACKTRACE=0 TRUSTCORE_NODE_FAULT_DIR=$(NODE_FAULT) NODE_OPTIONS="--require $(NODE_DIR)/test/fault-injection/use-fault-build.js" \
		node --test --test-reporter=spec test/*.test.js test/fault-injection/panic.test.js
