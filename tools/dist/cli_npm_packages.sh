#!/usr/bin/env bash
# The trustcore binary through npm, the pattern esbuild and Biome use (and the Node addon's napi-rs layout):
# the main package `trustcore-cli` (a launcher, bin/trustcore.js, installed as the `trustcore` command) names
# each platform package in optionalDependencies; @trustcore/cli-linux-x64-gnu carries the binary make dist
# already built for the glibc floor (and the third-party notices of the crates compiled into it), with os/cpu/libc
# so npm installs only the matching one. Nothing is
# compiled here. optionalDependencies are added at packing time, as for the Node addon (node_packages.sh).
#   cli_npm_packages.sh ROOT BINARY THIRD_PARTY_LICENSES OUT_DIR      (BINARY: the built trustcore for linux-x64-gnu)
set -euo pipefail
root=$1 binary=$2 notices=$3 out=$4
npm_dir=$root/cli/npm
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out"

platform=$npm_dir/linux-x64-gnu
mkdir -p "$stage/platform/bin"
cp "$platform/package.json" "$platform/README.md" "$root/LICENSE" "$stage/platform/"
install -m 755 "$binary" "$stage/platform/bin/trustcore"
cp "$notices" "$stage/platform/THIRD_PARTY_LICENSES.txt"

mkdir -p "$stage/main/bin"
cp "$npm_dir/package.json" "$npm_dir/README.md" "$root/LICENSE" "$root/CHANGELOG.md" "$stage/main/"
install -m 755 "$npm_dir/bin/trustcore.js" "$stage/main/bin/trustcore.js"
node "$root/tools/dist/optional_dependencies.js" "$stage/main/package.json" "$npm_dir"/*/package.json

for pkg in platform main; do
	(cd "$stage/$pkg" && npm pack --silent --pack-destination "$out" >/dev/null)
done
ls "$out"/trustcore-cli-*.tgz
