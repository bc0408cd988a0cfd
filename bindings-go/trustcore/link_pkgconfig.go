//go:build trustcore_pkgconfig

package trustcore

// The library of a C install (make install, the C tarball, a distribution's package), found with
// pkg-config: the header and libtrustcore.so (or .a with `-ldflags=-extldflags=-static`) of that install.

// #cgo pkg-config: trustcore
import "C"
