#!/usr/bin/env bash
# `make demo`: four languages, one trust plane. The signer daemon (Rust) holds the issuer key; a
# Python issuer service mints through it; a Node worker signs its requests; a Go service
# authenticates and authorizes them. Every outcome is checked: the demo fails if one differs.
#
# Needs (make demo provides them): TRUSTCORE_BIN, DEMO_PYTHON (a Python with the trustcore wheel),
# DEMO_GO_SERVICE (demo/go-service, built), and node with bindings-node built.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
: "${TRUSTCORE_BIN:?}" "${DEMO_PYTHON:?}" "${DEMO_GO_SERVICE:?}"
work=$(mktemp -d "${TMPDIR:-/tmp}/trustcore-demo.XXXXXX")
signer_pid=
cleanup() {
  if [ -n "$signer_pid" ] && kill -0 "$signer_pid" 2>/dev/null; then kill "$signer_pid"; wait "$signer_pid" || true; fi
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
  2>"$work/signer.log" &
signer_pid=$!
for _ in $(seq 200); do [ -S "$work/signer.sock" ] && break; sleep 0.05; done
[ -S "$work/signer.sock" ] || { cat "$work/signer.log"; echo "demo failed: the signer did not start"; exit 1; }
say "trustcore signer serve --socket signer.sock (mode 0600) --audit-log audit.log"
say "its policy: at most 1 hour per token, only the predicates right and lane, root key id 1"
say "issuer public key ${issuer_public:0:16}…"

step "2. A worker generates its own key; only the public half leaves it."
holder_public=$(node "$root/demo/worker.mjs" keygen "$work/holder.key")
printf '   [worker · node] holder public key %s…\n' "${holder_public:0:16}"

step "3. The issuer service asks the signer for a token bound to that key."
"$DEMO_PYTHON" "$root/demo/issuer.py" "$work/signer.sock" "$holder_public" "$work/token.json"

step "4. The worker signs its requests with its key; the token alone proves nothing."
node "$root/demo/worker.mjs" sign "$work/holder.key" "$work/token.json" "$work/requests.json"

step "5. The service authenticates and authorizes each request it receives."
"$DEMO_GO_SERVICE" "$work/signer.sock" "$work/token.json" "$work/requests.json"

step "6. The signer stops (SIGTERM: in-flight requests finish, the socket is removed) and its audit log is checked."
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
echo "Done: one request allowed, six refused, each by the check that should refuse it."
