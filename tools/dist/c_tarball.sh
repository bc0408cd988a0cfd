#!/usr/bin/env bash
# The C release: trustcore-<version>-<triple>.tar.gz with lib/ (the .so under its SONAME, the links a linker
# and ldconfig expect, the .a), include/trustcore.h, a relocatable lib/pkgconfig/trustcore.pc (its prefix is
# found from the .pc file's own place, so the tree works wherever it is unpacked) and share/doc/trustcore (the
# license, the third-party notices of the crates compiled into the library, the changelog, the README).
#   c_tarball.sh ROOT BUILD_DIR VERSION TRIPLE NATIVE_STATIC_LIBS THIRD_PARTY_LICENSES OUT_DIR
# NATIVE_STATIC_LIBS is what rustc printed for the static library (--print native-static-libs): Libs.private.
set -euo pipefail
root=$1 build=$2 version=$3 triple=$4 native_libs=$5 notices=$6 out=$7

name=trustcore-$version-$triple
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
tree=$stage/$name
install -d "$tree/lib/pkgconfig" "$tree/include" "$tree/share/doc/trustcore"

soname=$(readelf -d "$build/libtrustcore.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ -n "$soname" ] || { echo "c_tarball: $build/libtrustcore.so has no SONAME"; exit 1; }
install -m 755 "$build/libtrustcore.so" "$tree/lib/libtrustcore.so.$version"
[ "$soname" = "libtrustcore.so.$version" ] || ln -s "libtrustcore.so.$version" "$tree/lib/$soname"
ln -s "$soname" "$tree/lib/libtrustcore.so"
install -m 644 "$build/libtrustcore.a" "$tree/lib/libtrustcore.a"
install -m 644 "$root/include/trustcore.h" "$tree/include/trustcore.h"
install -m 644 "$root/LICENSE" "$root/CHANGELOG.md" "$tree/share/doc/trustcore/"
install -m 644 "$notices" "$tree/share/doc/trustcore/THIRD_PARTY_LICENSES.txt"
install -m 644 "$root/bindings-c/README.md" "$tree/share/doc/trustcore/README.md"

# ${pcfiledir} is pkg-config's (and pkgconf's) own variable: the directory this .pc file is in
sed -e 's|@PREFIX@|${pcfiledir}/../..|' -e 's|@LIBDIR@|${exec_prefix}/lib|' -e "s|@VERSION@|$version|" -e "s|@LIBS_PRIVATE@|$native_libs|" \
	"$root/bindings-c/trustcore.pc.in" > "$tree/lib/pkgconfig/trustcore.pc"

mkdir -p "$out"
# reproducible: sorted names, one owner, the commit's time
mtime=$(git -C "$root" log -1 --format=%cI 2>/dev/null || echo 1970-01-01T00:00:00Z)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="$mtime" -C "$stage" -cf - "$name" \
	| gzip -n -9 > "$out/$name.tar.gz"
echo "$out/$name.tar.gz (SONAME $soname)"
