#!/usr/bin/env bash
# Runs a cargo command that builds libtrustcore.a with rustc's `--print native-static-libs` (in RUSTFLAGS, or
# after `--` of `cargo rustc`) and writes the system libraries rustc names for it to OUT_FILE (the pkg-config
# file's Libs.private, the Go module's link flags): generated from the compiler, never a hand-kept list.
# When cargo finds the library fresh and prints no line, the one kept from when it was linked stands.
#   native_static_libs.sh OUT_FILE CARGO_COMMAND...
set -euo pipefail
out=$1; shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
"$@" 2>"$log" || status=$?
grep -v -e '^note: ' -e '^$' "$log" >&2 || true
[ "$status" -eq 0 ] || exit "$status"
libs=$(sed -n 's/^note: native-static-libs: //p' "$log" | tail -n1)
if [ -z "$libs" ] && [ -s "$out" ]; then
	# no line and an earlier one kept: the library was not linked again (cargo found it fresh)
	echo "native-static-libs (unchanged): $(cat "$out")"
	exit 0
fi
[ -n "$libs" ] || { echo "native_static_libs: rustc printed no native-static-libs line"; exit 1; }
printf '%s\n' "$libs" > "$out"
echo "native-static-libs: $libs"
