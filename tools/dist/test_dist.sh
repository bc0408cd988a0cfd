#!/usr/bin/env bash
# make test-dist: every artifact of dist/ installed as a user installs it, in fresh temp folders, with cargo
# and rustc off PATH and no LD_LIBRARY_PATH / PKG_CONFIG_PATH from the caller:
#   Python  a new venv, pip install the wheel (no index), the README's quick start; the sdist built into a
#           wheel in another new venv (the from-source route: it needs Rust, so it runs first, with it)
#   Node    a new npm project installs both tarballs offline; the quick start in ESM and in CommonJS
#   C       the unpacked tarball through its pkg-config file: the quick start linked shared, then static
#   Go      a new module gets the module from the file GOPROXY (fresh module cache), go build, run: no
#           pkg-config, no LD_LIBRARY_PATH, no libtrustcore.so needed
#   CLI     the unpacked binary runs `trustcore signer serve`; the wheel's SignerClient asks it for its
#           health, its key and a token; a new npm project installs trustcore-cli and its platform package
#           offline: `npx trustcore --version`, and the signer again, started through npm's launcher
#   and every shipped ELF needs no glibc symbol newer than GLIBC_FLOOR; every package says VERSION.
# Environment: TRUSTCORE_ROOT DIST GLIBC_FLOOR VERSION [PYTHON]
# (a `grep -q` that stops reading makes the writer of a pipeline fail under pipefail: every grep here reads all)
set -euo pipefail
root=${TRUSTCORE_ROOT:?} dist=${DIST:?} floor=${GLIBC_FLOOR:?} version=${VERSION:?}
python=${PYTHON:-python3}
work=$(mktemp -d /tmp/trustcore-test-dist.XXXXXX)
signer_pid=
cleanup() {
	[ -z "$signer_pid" ] || kill "$signer_pid" 2>/dev/null || true
	chmod -R u+w "$work" 2>/dev/null || true # the Go module cache is read-only
	rm -rf "$work"
}
trap cleanup EXIT
step() { echo; echo "== test-dist: $*"; }
fail() { echo "test-dist: FAILED: $*"; exit 1; }
checks=0
pass() { checks=$((checks + 1)); echo "ok: $*"; }

wheel=$(ls "$dist"/trustcore-"$version"-cp310-abi3-*manylinux_"${floor//./_}"_x86_64.whl)
sdist=$dist/trustcore-$version.tar.gz
npm_main=$dist/trustcore-$version.tgz
npm_platform=$dist/trustcore-node-linux-x64-gnu-$version.tgz
c_tarball=$dist/trustcore-$version-x86_64-linux-gnu.tar.gz
cli_tarball=$dist/trustcore-cli-$version-x86_64-linux-gnu.tar.gz
cli_npm_main=$dist/trustcore-cli-$version.tgz
cli_npm_platform=$dist/trustcore-cli-linux-x64-gnu-$version.tgz
goproxy=$dist/goproxy
for f in "$wheel" "$sdist" "$npm_main" "$npm_platform" "$c_tarball" "$cli_tarball" "$cli_npm_main" "$cli_npm_platform" \
	"$goproxy/go.trustcore.dev/trustcore/@v/v$version.zip"; do
	[ -f "$f" ] || fail "$f is missing: run make dist"
done
(cd "$dist" && sha256sum --quiet -c SHA256SUMS) && pass "dist/SHA256SUMS matches every file"

step "Python sdist: builds in a new venv (the from-source route, with Rust)"
"$python" -m venv "$work/sdist-venv"
# in the workspace's target dir, its registry dependencies are those make test-python's wheel compiled (the
# same features, profile and linker: a cold target dir of its own cost about 4 minutes of CPU in make test).
# Its own crates compile from the sdist's files: cargo hashes a path crate by its path from the workspace root
# (the same in the sdist) and the sdist's files are dated 2006 (reproducible), so the workspace's builds of
# core and the binding would count as fresh: they are cleaned first (and pip keeps no wheel it built from it)
cargo clean --quiet --release --manifest-path "$root/Cargo.toml" -p trustcore-core -p trustcore-python
CARGO_TARGET_DIR=$root/target "$work/sdist-venv/bin/pip" wheel --quiet --disable-pip-version-check --no-cache-dir \
	--no-deps -w "$work/sdist-wheel" "$sdist"
"$python" -m venv "$work/sdist-run"
"$work/sdist-run/bin/pip" install --quiet --disable-pip-version-check --no-index "$work"/sdist-wheel/trustcore-*.whl
(cd "$work" && "$work/sdist-run/bin/python" -c "import trustcore, sys; sys.exit(trustcore.__version__ != '$version')")
pass "the sdist builds and installs a trustcore $version wheel"

# from here on: no Rust, nothing of the caller's library paths
clean_path=
IFS=: read -r -a path_dirs <<<"$PATH"
for dir in "${path_dirs[@]}"; do
	[ -e "$dir/cargo" ] || [ -e "$dir/rustc" ] || clean_path+=${clean_path:+:}$dir
done
export PATH=$clean_path
unset LD_LIBRARY_PATH PKG_CONFIG_PATH CARGO_TARGET_DIR RUSTUP_TOOLCHAIN
if command -v cargo >/dev/null || command -v rustc >/dev/null; then fail "cargo or rustc is still on PATH"; fi
pass "cargo and rustc are off PATH"

step "glibc floor: no shipped ELF needs a glibc symbol newer than $floor"
mkdir -p "$work/elf/wheel" "$work/elf/npm" "$work/elf/cli-npm" "$work/elf/c" "$work/elf/cli"
"$python" -m zipfile -e "$wheel" "$work/elf/wheel"
tar -xzf "$npm_platform" -C "$work/elf/npm"
tar -xzf "$cli_npm_platform" -C "$work/elf/cli-npm"
tar -xzf "$c_tarball" -C "$work/elf/c"
tar -xzf "$cli_tarball" -C "$work/elf/cli"
elves=$(find "$work/elf" -type f \( -name '*.so' -o -name '*.so.*' -o -name '*.node' -o -path '*/bin/*' \))
[ "$(echo "$elves" | wc -l)" -ge 5 ] || fail "expected 5 shipped ELF files, found: $elves"
for elf in $elves; do
	newest=$(objdump -T "$elf" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)
	[ -n "$newest" ] || fail "$elf: no glibc symbol versions read"
	[ "$(printf '%s\n%s\n' "$newest" "$floor" | sort -V | tail -n1)" = "$floor" ] \
		|| fail "${elf#"$work"/elf/} needs GLIBC_$newest, above the floor $floor"
	pass "${elf#"$work"/elf/}: newest glibc symbol $newest"
done

step "loadable at any time: no shipped shared object needs the static TLS block"
# Node and Python dlopen the addon and the extension after start-up, when the static TLS block is
# sized already: an object built with the initial-exec TLS model (DF_STATIC_TLS; mimalloc's default,
# hence the Node addon's local_dynamic_tls) can then fail with "cannot allocate memory in static TLS block"
for elf in $elves; do
	case $elf in *.so | *.so.* | *.node) ;; *) continue ;; esac
	if readelf -d "$elf" | grep -E '\(FLAGS\).*STATIC_TLS' >/dev/null; then
		fail "${elf#"$work"/elf/} is built for the static TLS block (DF_STATIC_TLS): it may not load through dlopen"
	fi
	pass "${elf#"$work"/elf/}: no static TLS"
done

step "reproducible from any folder: no shipped binary names the checkout or cargo's home"
# (make dist remaps both: panic locations and debug names would otherwise carry this clone's path)
cargo_home=${CARGO_HOME:-$HOME/.cargo}
for bin in $elves $(find "$work/elf" -type f -name '*.a'); do
	if grep -a -q -F -e "$root/" -e "$cargo_home/" "$bin"; then
		fail "${bin#"$work"/elf/} names $root or $cargo_home"
	fi
done
pass "no shipped binary names $root or $cargo_home"

step "licenses: every artifact carries LICENSE"
for archive in "$sdist" "$npm_main" "$npm_platform" "$c_tarball" "$cli_tarball" "$cli_npm_main" "$cli_npm_platform"; do
	tar -tzf "$archive" | grep '/LICENSE$' >/dev/null || fail "$(basename "$archive") has no LICENSE"
done
"$python" -m zipfile -l "$wheel" | grep 'dist-info/licenses/LICENSE' >/dev/null || fail "$(basename "$wheel") has no LICENSE"
"$python" -m zipfile -l "$goproxy/go.trustcore.dev/trustcore/@v/v$version.zip" | grep "@v$version/LICENSE " >/dev/null \
	|| fail "the Go module has no LICENSE"
pass "LICENSE in the wheel, the sdist, the four npm packages, the C and CLI tarballs and the Go module"
# the changelog goes where a user reads a release: the sdist, the two main npm packages, the
# tarballs, the Go module (a wheel and a platform package link it instead: metadata, the main package)
for archive in "$sdist" "$npm_main" "$c_tarball" "$cli_tarball" "$cli_npm_main"; do
	tar -tzf "$archive" | grep '/CHANGELOG.md$' >/dev/null || fail "$(basename "$archive") has no CHANGELOG.md"
done
"$python" -m zipfile -l "$goproxy/go.trustcore.dev/trustcore/@v/v$version.zip" | grep "@v$version/CHANGELOG.md " >/dev/null \
	|| fail "the Go module has no CHANGELOG.md"
pass "CHANGELOG.md in the sdist, the two main npm packages, the C and CLI tarballs and the Go module"

step "third-party notices: every artifact with compiled code carries those of the crates compiled into it"
# THIRD_PARTY_LICENSES.txt (make dist, tools/dist/third_party_licenses.sh): each shipped binary links biscuit-auth
# (Apache-2.0) and the dalek crates (BSD-3-Clause, whose copyright line a binary redistribution must carry);
# each artifact's own extras too: pyo3 in the wheel, napi and mimalloc (with its C library's notice) in the
# Node addon, clap in the CLI
notices=$work/notices
mkdir -p "$notices"
# one member of a zip archive (the wheel, the Go module's zip) on stdout
zip_member() { "$python" -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' "$1" "$2"; }
zip_member "$wheel" "trustcore-$version.dist-info/licenses/THIRD_PARTY_LICENSES.txt" > "$notices/wheel.txt" \
	|| fail "$(basename "$wheel") has no .dist-info/licenses/THIRD_PARTY_LICENSES.txt"
tar -xzOf "$npm_platform" package/THIRD_PARTY_LICENSES.txt > "$notices/node.txt" || fail "$(basename "$npm_platform") has no THIRD_PARTY_LICENSES.txt"
tar -xzOf "$cli_npm_platform" package/THIRD_PARTY_LICENSES.txt > "$notices/cli-npm.txt" || fail "$(basename "$cli_npm_platform") has no THIRD_PARTY_LICENSES.txt"
tar -xzOf "$c_tarball" "trustcore-$version-x86_64-linux-gnu/share/doc/trustcore/THIRD_PARTY_LICENSES.txt" > "$notices/c.txt" \
	|| fail "$(basename "$c_tarball") has no share/doc/trustcore/THIRD_PARTY_LICENSES.txt"
tar -xzOf "$cli_tarball" "trustcore-cli-$version-x86_64-linux-gnu/THIRD_PARTY_LICENSES.txt" > "$notices/cli.txt" \
	|| fail "$(basename "$cli_tarball") has no THIRD_PARTY_LICENSES.txt"
zip_member "$goproxy/go.trustcore.dev/trustcore/@v/v$version.zip" "go.trustcore.dev/trustcore@v$version/THIRD_PARTY_LICENSES.txt" \
	> "$notices/go.txt" || fail "the Go module has no THIRD_PARTY_LICENSES.txt"
names() { grep -o '^  - [^ ]*' "$1" | sed 's/^  - //' | LC_ALL=C sort -u; }
for shipped in wheel:pyo3 node:napi node:mimalloc node:libmimalloc-sys c: go: cli:clap cli-npm:clap; do
	file=$notices/${shipped%%:*}.txt
	for crate in biscuit-auth curve25519-dalek ed25519-dalek ${shipped#*:}; do
		names "$file" | grep -x -- "$crate" >/dev/null || fail "${shipped%%:*}'s THIRD_PARTY_LICENSES.txt does not name $crate"
	done
	# curve25519-dalek's file as it ships (tools/dist/about.toml): its authors', then the Go code's it derives from
	grep 'Copyright (c) 2012 The Go Authors' "$file" >/dev/null \
		|| fail "${shipped%%:*}'s THIRD_PARTY_LICENSES.txt lacks curve25519-dalek's license file"
done
# the mimalloc C library's own notice, beside its Rust wrapper's
grep 'Microsoft Corporation, Daan Leijen' "$notices/node.txt" >/dev/null \
	|| fail "the Node addon's THIRD_PARTY_LICENSES.txt lacks mimalloc's copyright line"
pass "THIRD_PARTY_LICENSES.txt in the wheel, the Node and CLI platform packages, the C and CLI tarballs and the Go module, naming what each links"

step "versions: every package says $version"
"$python" "$root/tools/check_version.py" --root "$root" --binary "$work/elf/cli/trustcore-cli-$version-x86_64-linux-gnu/bin/trustcore"
pass "tools/check_version.py, with the shipped binary's --version"

step "Python: pip install the wheel into a new venv, run the README's quick start"
"$python" -m venv "$work/py"
"$work/py/bin/pip" install --quiet --disable-pip-version-check --no-index "$wheel"
mkdir -p "$work/py-example/tests"
cp "$root/bindings-python/README.md" "$work/py-example/"
cp "$root/bindings-python/tests/readme_example.py" "$work/py-example/tests/"
(cd "$work/py-example" && "$work/py/bin/python" tests/readme_example.py)
"$work/py/bin/python" -c "import trustcore, sys; sys.exit(trustcore.__version__ != '$version')"
site=$("$work/py/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
ls "$site"/trustcore-"$version".dist-info/licenses/LICENSE >/dev/null || fail "the wheel carries no LICENSE"
pass "the wheel installs with no index and runs the quick start (LICENSE in its dist-info)"

step "Node: a new project installs both tarballs offline; the quick start in ESM and CommonJS"
mkdir -p "$work/node-app"
(cd "$work/node-app" && echo '{"name":"app","private":true}' > package.json &&
	npm install --offline --no-audit --no-fund --loglevel=error "$npm_platform" "$npm_main")
[ -f "$work/node-app/node_modules/@trustcore/node-linux-x64-gnu/trustcore.linux-x64-gnu.node" ] \
	|| fail "the platform package was not installed"
ls "$work/node-app/node_modules/trustcore/"*.node 2>/dev/null && fail "the main package carries an addon"
cp "$root/bindings-node/examples/quickstart.mjs" "$work/node-app/"
# the same quick start as CommonJS: its import statement as a require
sed -e 's/^import {$/const {/' -e "s/^} from 'trustcore'$/} = require('trustcore')/" \
	"$root/bindings-node/examples/quickstart.mjs" > "$work/node-app/quickstart.cjs"
(cd "$work/node-app" && node quickstart.mjs && node quickstart.cjs)
(cd "$work/node-app" && node -e "
	const t = require('trustcore')
	if (t.version !== '$version') throw new Error('version ' + t.version)
	for (const s of ['express', 'fastify', 'fetch']) if (typeof require('trustcore/' + s) !== 'function') throw new Error(s)
	if (!require.resolve('@trustcore/node-linux-x64-gnu')) throw new Error('platform package')
" && node --input-type=module -e "
	import { version } from 'trustcore'
	if (version !== '$version') throw new Error('version ' + version)
")
pass "npm install --offline of trustcore + @trustcore/node-linux-x64-gnu; quick start in ESM and CJS; version $version"

step "C: the quick start against the unpacked tarball, through pkg-config (shared, then static)"
mkdir -p "$work/c-user"
tar -xzf "$c_tarball" -C "$work/c-user"
prefix=$work/c-user/trustcore-$version-x86_64-linux-gnu
pc="env PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config"
[ "$($pc --modversion trustcore)" = "$version" ] || fail "trustcore.pc says $($pc --modversion trustcore)"
libdir=$($pc --variable=libdir trustcore)
[ "$(readlink -f "$libdir")" = "$(readlink -f "$prefix/lib")" ] || fail "trustcore.pc's libdir is $libdir, not the unpacked lib/"
soname=$(readelf -d "$prefix/lib/libtrustcore.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ -n "$soname" ] && [ -e "$prefix/lib/$soname" ] || fail "no SONAME link in lib/"
cc -std=c11 -Wall -Wextra -Werror "$root/bindings-c/examples/quickstart.c" $($pc --cflags --libs trustcore) \
	-Wl,-rpath,"$libdir" -o "$work/c-user/quickstart-shared"
readelf -d "$work/c-user/quickstart-shared" | grep "NEEDED.*\[$soname\]" >/dev/null || fail "the shared build does not need $soname"
"$work/c-user/quickstart-shared"
# static: the archive itself, then the system libraries pkg-config lists for a static link (Libs.private)
cc -std=c11 -Wall -Wextra -Werror "$root/bindings-c/examples/quickstart.c" $($pc --cflags trustcore) \
	"$libdir/libtrustcore.a" $($pc --static --libs-only-l trustcore | sed 's/-ltrustcore//') -o "$work/c-user/quickstart-static"
readelf -d "$work/c-user/quickstart-static" | grep "libtrustcore" >/dev/null && fail "the static build still needs libtrustcore.so"
"$work/c-user/quickstart-static"
pass "pkg-config --modversion $version, SONAME $soname; the quick start runs linked shared and static"

step "Go: a new module gets go.trustcore.dev/trustcore@v$version from the file GOPROXY, builds and runs"
mkdir -p "$work/go-app"
cp "$root/tools/dist/user/go_main.go" "$work/go-app/main.go"
# the README's quick start handler, word for word, under the imports it names
{
	printf 'package main\n\nimport (\n\t"errors"\n\t"fmt"\n\t"io"\n\t"net/http"\n\n\t"go.trustcore.dev/trustcore"\n)\n'
	awk '/^## Quick start/ { in_section = 1; next } in_section && /^## / { exit }
		in_section && /^```go$/ { in_block = 1; next } in_block && /^```$/ { exit } in_block' "$root/bindings-go/README.md" \
		| grep -v '^import "go.trustcore.dev/trustcore"$'
} > "$work/go-app/quickstart.go"
# a fresh module cache (the build cache is Go's content-addressed one: it only saves compiling the standard
# library again); the dist's file GOPROXY alone (no network); the checksum database is not asked about a
# module it cannot know yet; no pkg-config to find
(cd "$work/go-app" &&
	export GOTOOLCHAIN=local GOFLAGS= GOMODCACHE="$work/gomodcache" \
		GOPROXY="file://$goproxy" GONOSUMDB=go.trustcore.dev PKG_CONFIG=/bin/false CGO_ENABLED=1 &&
	go mod init example.com/app >/dev/null 2>&1 &&
	go get "go.trustcore.dev/trustcore@v$version" &&
	go build -o app . &&
	./app)
readelf -d "$work/go-app/app" | grep "libtrustcore" >/dev/null && fail "the Go program needs libtrustcore.so"
pass "go get from file://dist/goproxy, go build with no pkg-config, the program runs with no LD_LIBRARY_PATH"

step "CLI: the binary tarball runs trustcore signer serve; the wheel's SignerClient uses it"
cli=$work/elf/cli/trustcore-cli-$version-x86_64-linux-gnu/bin/trustcore
[ "$("$cli" --version)" = "trustcore $version" ] || fail "trustcore --version: $("$cli" --version)"
mkdir -m 700 "$work/signer"
issuer_seed=$("$work/py/bin/python" -c 'import secrets; print(secrets.token_hex(32))')
(umask 077 && printf '%s\n' "$issuer_seed" > "$work/signer/issuer.key")
issuer_public=$("$work/py/bin/python" -c "import trustcore; print(trustcore.IssuerKey.from_secret_hex('$issuer_seed').public_hex)")
"$cli" signer serve --key-file "$work/signer/issuer.key" --socket "$work/signer/signer.sock" \
	--max-ttl 3600 --allow-predicate right > "$work/signer/log" 2>&1 &
signer_pid=$!
for _ in $(seq 100); do [ -S "$work/signer/signer.sock" ] && break; sleep 0.05; done
[ -S "$work/signer/signer.sock" ] || { cat "$work/signer/log"; fail "the signer did not listen"; }
"$work/py/bin/python" "$root/tools/dist/user/signer_check.py" "$work/signer/signer.sock" "$issuer_public"
kill "$signer_pid" && wait "$signer_pid" || true
signer_pid=
pass "trustcore signer serve from the tarball: health, public key and a minted token"

step "CLI through npm: a new project installs trustcore-cli offline; npx trustcore, and the signer through it"
mkdir -p "$work/cli-npm-app"
(cd "$work/cli-npm-app" && echo '{"name":"cli-app","private":true}' > package.json &&
	npm install --offline --no-audit --no-fund --loglevel=error "$cli_npm_platform" "$cli_npm_main")
[ -x "$work/cli-npm-app/node_modules/@trustcore/cli-linux-x64-gnu/bin/trustcore" ] \
	|| fail "the platform package's binary was not installed (or not executable)"
[ "$(cd "$work/cli-npm-app" && npx --offline trustcore --version)" = "trustcore $version" ] || fail "npx trustcore --version"
(cd "$work/cli-npm-app" && npx --offline trustcore keygen --help >/dev/null)
# the daemon through npm's launcher: it passes SIGTERM on, so stopping the launcher stops the signer
mkdir -m 700 "$work/signer-npm"
"$work/cli-npm-app/node_modules/.bin/trustcore" signer serve --key-file "$work/signer/issuer.key" \
	--socket "$work/signer-npm/signer.sock" --max-ttl 3600 --allow-predicate right > "$work/signer-npm/log" 2>&1 &
signer_pid=$!
for _ in $(seq 100); do [ -S "$work/signer-npm/signer.sock" ] && break; sleep 0.05; done
[ -S "$work/signer-npm/signer.sock" ] || { cat "$work/signer-npm/log"; fail "the signer did not listen (npm)"; }
"$work/py/bin/python" "$root/tools/dist/user/signer_check.py" "$work/signer-npm/signer.sock" "$issuer_public"
kill "$signer_pid"
for _ in $(seq 100); do kill -0 "$signer_pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$signer_pid" 2>/dev/null && fail "npm's launcher did not stop on SIGTERM"
wait "$signer_pid" || true
signer_pid=
[ -z "$(ps -eo args | grep -F -- "--socket $work/signer-npm/signer.sock" | grep -v grep || true)" ] \
	|| fail "the signer outlived npm's launcher"
pass "npm install trustcore-cli: npx trustcore $version; trustcore signer serve through it, stopped with it"

echo
echo "test-dist: $checks passed, 0 failed"
