#!/usr/bin/env bash
# `make demo`: four languages, one trust plane, over HTTP. The signer daemon (Rust) holds the issuer
# key; a Python issuer service mints through it; a Node worker signs its requests with
# trustcore/fetch; a Go service (net/http + trustcore.Middleware) and a Python service (Starlette +
# trustcore.asgi) load one route policy file and answer them. The worker then delegates one lane to
# a second worker's key, offline. Every outcome is checked: the demo fails if one differs.
#
# Needs (make demo provides them): TRUSTCORE_BIN, DEMO_PYTHON (a Python with the trustcore wheel,
# uvicorn and Starlette), DEMO_GO_SERVICE (demo/go-service, built), and node with bindings-node built.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
: "${TRUSTCORE_BIN:?}" "${DEMO_PYTHON:?}" "${DEMO_GO_SERVICE:?}"
work=$(mktemp -d "${TMPDIR:-/tmp}/trustcore-demo.XXXXXX")
signer_pid= go_pid= py_pid=
cleanup() {
  exec 3>&- 4>&- 2>/dev/null || true
  for pid in $go_pid $py_pid $signer_pid; do
    if kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '   [signer · rust] %s\n' "$*"; }
step() { printf '\n%s\n' "$*"; }

echo "trustcore demo: one trust plane, four languages"
echo "(the issuer key lives in one process; every other party sees only public keys and tokens)"

step "1. The signer daemon starts with the issuer key: the only process that ever holds it."
issuer_public=$("$TRUSTCORE_BIN" keygen --out "$work/issuer.key")
"$TRUSTCORE_BIN" signer serve --key-file "$work/issuer.key" --socket "$work/signer.sock" \
  --audit-log "$work/audit.log" --max-ttl 3600 --allow-predicate right --allow-predicate lane --key-id 1 \
  --max-delegation-depth 1 2>"$work/signer.log" &
signer_pid=$!
for _ in $(seq 200); do [ -S "$work/signer.sock" ] && break; sleep 0.05; done
[ -S "$work/signer.sock" ] || { cat "$work/signer.log"; echo "demo failed: the signer did not start"; exit 1; }
say "trustcore signer serve --socket signer.sock (mode 0600) --audit-log audit.log"
say "its policy: at most 1 hour per token, only the predicates right and lane, root key id 1,"
say "            at most 1 delegation link per token"
say "issuer public key ${issuer_public:0:16}…"

step "2. A worker generates its own key; only the public half leaves it."
holder_public=$(node "$root/demo/worker.mjs" keygen "$work/holder.key")
printf '   [worker · node] holder public key %s…\n' "${holder_public:0:16}"

step "3. The issuer service asks the signer for a token bound to that key."
"$DEMO_PYTHON" "$root/demo/issuer.py" "$work/signer.sock" "$holder_public" "$work/token.json"

step "4. Two services start: Go and Python, each behind trustcore's middleware, one route policy file."
sed 's/^/   [routes.json] /' "$root/demo/routes.json"
mkfifo "$work/go.in" "$work/py.in"
"$DEMO_GO_SERVICE" "$work/signer.sock" "$root/demo/routes.json" "$work" <"$work/go.in" &
go_pid=$!
exec 3>"$work/go.in"
"$DEMO_PYTHON" "$root/demo/py-service.py" "$work/signer.sock" "$root/demo/routes.json" "$work" <"$work/py.in" &
py_pid=$!
exec 4>"$work/py.in"
for _ in $(seq 300); do [ -s "$work/go.port" ] && [ -s "$work/py.port" ] && break; sleep 0.05; done
[ -s "$work/go.port" ] && [ -s "$work/py.port" ] || { echo "demo failed: a service did not start"; exit 1; }
go_url="http://127.0.0.1:$(cat "$work/go.port")" py_url="http://127.0.0.1:$(cat "$work/py.port")"

step "5. The worker calls both over HTTP; each refusal below is a real HTTP response from the middleware."
node "$root/demo/worker.mjs" call "$work/holder.key" "$work/token.json" "$go_url" "$py_url" before

step "6. The worker delegates one lane to a second worker, offline: no issuer, no signer, only its token and its key."
delegate_public=$(node "$root/demo/worker.mjs" keygen "$work/delegate.key")
printf '   [worker 2 · node] a second worker generates its own key: holder public key %s…\n' "${delegate_public:0:16}"
node "$root/demo/worker.mjs" delegate "$work/holder.key" "$work/token.json" "$delegate_public" gpu-2 "$work/delegated.json"
node "$root/demo/worker.mjs" call "$work/delegate.key" "$work/delegated.json" "$go_url" "$py_url" delegated

step "7. The operator revokes the first worker's token at both services; both workers call again."
revocation_id=$("$DEMO_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["revocation_id"])' "$work/token.json")
echo "revoke $revocation_id" >&3
echo "revoke $revocation_id" >&4
for _ in $(seq 200); do [ -e "$work/go.revoked" ] && [ -e "$work/py.revoked" ] && break; sleep 0.05; done
node "$root/demo/worker.mjs" call "$work/holder.key" "$work/token.json" "$go_url" "$py_url" revoked
node "$root/demo/worker.mjs" call "$work/delegate.key" "$work/delegated.json" "$go_url" "$py_url" delegated-revoked
exec 3>&- 4>&-
wait "$go_pid" "$py_pid"
go_pid= py_pid=

step "8. The signer stops (SIGTERM: in-flight requests finish, the socket is removed) and its audit log is checked."
kill -TERM "$signer_pid"
wait "$signer_pid"
signer_pid=
[ ! -e "$work/signer.sock" ] || { echo "demo failed: the signer left its socket"; exit 1; }
say "every answer it gave is in the audit log: hash-chained, signed, no token and no key in it"
"$TRUSTCORE_BIN" audit verify "$work/audit.log" --issuer-public "$issuer_public" | sed 's/^/   [audit · rust] /'
if grep -q "$(head -c 64 "$work/issuer.key")" "$work/audit.log" "$work/signer.log"; then
  echo "demo failed: the key appears in a log"; exit 1
fi

echo
echo "Done: six requests allowed, twelve refused over HTTP, each by the check that should refuse it."
