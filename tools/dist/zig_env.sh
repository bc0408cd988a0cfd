#!/usr/bin/env bash
# The environment cargo-zigbuild gives cargo for a target (its zig wrappers as the target's linker and C
# compiler, target-applies-to-host), written to OUT_FILE as `declare -x` lines for `source`. make dist runs
# maturin (without --zig) in it, in cargo-zigbuild's target dir: cargo fingerprints the linker, and maturin's
# own zig wrappers (another path) made each build redo every crate the other had built.
#   zig_env.sh OUT_FILE TARGET        (cargo-zigbuild on PATH; TARGET as cargo-zigbuild takes it: triple.glibc)
set -euo pipefail
if [ -n "${ZIG_ENV_DUMP:-}" ]; then
	# called by cargo-zigbuild as its cargo: the environment it prepared, instead of a build
	export -p > "$ZIG_ENV_DUMP"
	exit 0
fi
out=$1 target=$2
before=$(mktemp) after=$(mktemp)
trap 'rm -f "$before" "$after"' EXIT
export -p > "$before"
ZIG_ENV_DUMP=$after CARGO=$(readlink -f "$0") cargo-zigbuild zigbuild --target "$target" >/dev/null
grep -vxF -f "$before" "$after" | grep -v -e '^declare -x ZIG_ENV_DUMP=' -e '^declare -x CARGO=' -e '^declare -x _=' -e '^declare -x SHLVL=' > "$out.tmp"
grep '^declare -x CARGO_TARGET_.*_LINKER=' "$out.tmp" >/dev/null || { echo "zig_env: cargo-zigbuild set no linker"; exit 1; }
mv "$out.tmp" "$out"
