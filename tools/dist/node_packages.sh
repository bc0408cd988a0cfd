#!/usr/bin/env bash
# The npm packages of a release, napi-rs's layout: the main package `trustcore` (JavaScript, types, the
# loader index.js) naming each platform package in optionalDependencies, and the platform package
# @trustcore/node-linux-x64-gnu (the addon alone, with os/cpu/libc so npm installs only the matching one, and the
# third-party notices of the crates compiled into it).
# optionalDependencies are added here, at packing time, as `napi prepublish` does: in the repository they
# would send `npm install` after a package the registry does not have yet.
#   node_packages.sh ROOT ADDON THIRD_PARTY_LICENSES OUT_DIR      (ADDON: the built trustcore .node for linux-x64-gnu;
#   THIRD_PARTY_LICENSES `-` for none: make test's packing of a checkout's build, which make dist's notices are not for)
set -euo pipefail
root=$1 addon=$2 notices=$3 out=$4
node_dir=$root/bindings-node
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out"

platform=$node_dir/npm/linux-x64-gnu
mkdir -p "$stage/platform"
cp "$platform/package.json" "$platform/README.md" "$root/LICENSE" "$stage/platform/"
cp "$addon" "$stage/platform/trustcore.linux-x64-gnu.node"
[ "$notices" = - ] || cp "$notices" "$stage/platform/THIRD_PARTY_LICENSES.txt"

mkdir -p "$stage/main"
# the files package.json lists (npm pack applies the same list again)
(cd "$node_dir" && node -e '
	const p = require("./package.json")
	for (const f of p.files) if (!["LICENSE", "CHANGELOG.md"].includes(f)) console.log(f)
' | while read -r f; do cp $f "$stage/main/"; done)
cp "$node_dir/package.json" "$root/LICENSE" "$root/CHANGELOG.md" "$stage/main/"
node "$root/tools/dist/optional_dependencies.js" "$stage/main/package.json" "$node_dir"/npm/*/package.json

for pkg in platform main; do
	(cd "$stage/$pkg" && npm pack --silent --pack-destination "$out" >/dev/null)
done
ls "$out"/*.tgz
