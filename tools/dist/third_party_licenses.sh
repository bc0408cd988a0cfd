#!/usr/bin/env bash
# THIRD_PARTY_LICENSES.txt for one shipped crate: every crate compiled into its library or binary (normal
# dependencies, for the one platform make dist builds), grouped by license, each license's text as the crate
# ships it (the copyright lines with it). The shipped code carries these crates (biscuit-auth, curve25519-dalek,
# mimalloc in the Node addon, …), and their licenses ask for their notice in a binary redistribution.
# cargo-about reads Cargo.lock and the crates' own files, offline; a license outside tools/dist/about.toml's
# list fails it.
#   third_party_licenses.sh CARGO_ABOUT CRATE_DIR OUT_FILE
set -euo pipefail
about=$1 crate=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
"$about" generate --fail --offline --locked -c "$here/about.toml" -m "$crate/Cargo.toml" \
	-o "$out" "$here/third_party_licenses.hbs"
[ -s "$out" ] || { echo "third_party_licenses: $out is empty"; exit 1; }
