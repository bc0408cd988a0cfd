#!/usr/bin/env bash
# examples/raw_request.c against raw HTTP/1.1 requests signed by the CLI ($TRUSTCORE_BIN proof, both
# profiles), under the matrix's route policy (tests/http-matrix/routes.json): one stream of requests
# (allowed, replayed, forged, ungranted, public, a path trick, no proof, then a Content-Length of 1 GB
# with 3 bytes sent), each with its expected decision; then one allowed request alone (exit 0).
#   raw_request.sh EXAMPLE [WRAPPER...]     e.g. raw_request.sh target/c-tests/plain/raw_request valgrind …
# (TRUSTCORE_TEST_TIME_SCALE, when set, multiplies the authorizer's 10 ms budget: for valgrind)
set -euo pipefail
example=$1
shift
root=${TRUSTCORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${TRUSTCORE_BIN:?TRUSTCORE_BIN is not set: run through make (make signer-bin builds it)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

issuer_hex=$("$bin" keygen --out issuer.key)
holder_hex=$("$bin" keygen --out holder.key)
token=$("$bin" mint --key-file issuer.key --holder-public "$holder_hex" --holder-id gpu-1 \
    --fact right=lease --fact lane=a --ttl 600)
authority=api.example.com

# request METHOD TARGET BODY [PROFILE|none [SIGNED_BODY]]: the raw request, its proof headers from the CLI
request() {
    local method=$1 target=$2 body=$3 profile=${4:-rfc9421} signed_body=${5:-$3}
    printf '%s %s HTTP/1.1\r\nHost: %s\r\n' "$method" "$target" "$authority"
    if [ "$profile" != none ]; then
        "$bin" proof --key-file holder.key --token "$token" --method "$method" \
            --url "http://$authority$target" --body "$signed_body" \
            $([ "$profile" = rfc9421 ] && echo --rfc9421) | sed 's/$/\r/'
    fi
    [ -z "$body" ] || printf 'Content-Type: application/json\r\nContent-Length: %d\r\n' "${#body}"
    printf '\r\n%s' "$body"
}

first=$(request POST /lease/a '{"episode":"e1"}')
{
    printf '%s' "$first"
    printf '%s' "$first"                                              # the very same again
    request POST /lease/a '{"episode":"e2"}' legacy
    request POST /lease/a '{"episode":"e3"}' rfc9421 '{"episode":"e0"}' # signed for another body
    request GET /admin '' legacy
    request GET /health '' none
    request GET /health/../admin '' none
    request POST /lease/a '{"episode":"e4"}' none
    printf 'POST /lease/a HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000000000\r\n\r\nabc' "$authority"
    request GET /health '' none                                       # never read: the body before it was not
} > stream.http

args=(--issuer-public "$issuer_hex" --policy "$root/tests/http-matrix/routes.json" --authority "$authority")
# under valgrind (make sets TRUSTCORE_TEST_TIME_SCALE there) the authorizer runs ~50x slower: its
# time budget is scaled as the other C tests scale it, never a fact or iteration limit
if [ -n "${TRUSTCORE_TEST_TIME_SCALE:-}" ]; then
    args+=(--authorizer-ms $((10 * TRUSTCORE_TEST_TIME_SCALE)))
fi
status=0
"$@" "$example" "${args[@]}" stream.http > out.txt || status=$?
# the decisions, each refusal's operator message cut off
sed -n 's/^\(decision: .*, route [^:]*\).*/\1/p' out.txt > got.txt
cat > want.txt <<'WANT'
decision: allowed, route /lease/{lane}, profile rfc9421, holder gpu-1
decision: refused, 401 REPLAYED, route /lease/{lane}
decision: allowed, route /lease/{lane}, profile legacy, holder gpu-1
decision: refused, 401 POP_FAILED, route /lease/{lane}
decision: refused, 403 DENIED, route /admin
decision: allowed, route /health, profile -, holder -
decision: refused, 400 MALFORMED_INPUT, route -
decision: refused, 401 MALFORMED_INPUT, route /lease/{lane}
decision: refused, 413 LIMIT_EXCEEDED, route -
WANT
if ! diff -u want.txt got.txt || [ "$status" != 1 ]; then
    echo "raw_request: unexpected decisions (exit $status); its output:" >&2
    cat out.txt >&2
    exit 1
fi
# the refusals are answered as core decided them
grep -q '^WWW-Authenticate: Biscuit error="REPLAYED"' out.txt
grep -q '^HTTP/1.1 413 Content Too Large' out.txt
grep -q '^fact: req_authority = api.example.com' out.txt

# one allowed request alone: exit 0
request POST /lease/a '{"episode":"e5"}' > one.http
"$@" "$example" "${args[@]}" < one.http > one.txt || { echo "raw_request: allowed request refused" >&2; cat one.txt >&2; exit 1; }
grep -q '^decision: allowed, route /lease/{lane}, profile rfc9421, holder gpu-1' one.txt
echo "raw_request: 10 decisions as expected"
