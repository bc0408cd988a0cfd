//go:build !trustcore_pkgconfig

package trustcore

// The released module carries the header in include/ and, per platform, lib/<GOOS>_<GOARCH>/libtrustcore.a
// with a generated link_bundled_<GOOS>_<GOARCH>.go naming it and the system libraries it needs (make dist,
// tools/dist/go_module.sh): `go build` alone links it statically, no .so needed at run time. In this
// repository neither is there: build with -tags trustcore_pkgconfig (mk/go.mk does).

// #cgo CFLAGS: -I${SRCDIR}/include
import "C"
