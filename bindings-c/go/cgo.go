// Package trustcore is the Go face of trustcore's Rust core, through its C ABI (libtrustcore, found
// with pkg-config). It converts types and errors only: every rule lives in the core.
//
// Handles (IssuerKey, WorkerKey, IssuerKeys, Token, Proof) are immutable and safe for concurrent
// use; Verifier and SignerClient lock their own state and are shared by goroutines too. Each owns native memory, released when the handle is garbage collected or, deterministically,
// by Close; Close must not race with other use of the same handle. Errors are *Error values whose
// Code works with errors.Is: errors.Is(err, trustcore.ErrDenied).
package trustcore

/*
#cgo pkg-config: trustcore
#include <stdlib.h>
#include <trustcore.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// cText points C at a Go string's bytes for the duration of one call (no copy). The bytes hold no
// Go pointers, so passing them directly is allowed; in structs they must be pinned (see pinText).
func cText(s string) (*C.char, C.size_t) {
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

// cTextBytes is cText for text held in a byte slice (JSON).
func cTextBytes(b []byte) (*C.char, C.size_t) {
	return (*C.char)(unsafe.Pointer(unsafe.SliceData(b))), C.size_t(len(b))
}

func cBytes(b []byte) (*C.uint8_t, C.size_t) {
	return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b))), C.size_t(len(b))
}

// pinText is cText for a string stored inside Go memory handed to C (a struct or an array): the
// pinner keeps it in place until Unpin.
func pinText(pin *runtime.Pinner, s string) (*C.char, C.size_t) {
	if len(s) == 0 {
		return nil, 0
	}
	p := unsafe.StringData(s)
	pin.Pin(p)
	return (*C.char)(unsafe.Pointer(p)), C.size_t(len(s))
}

func pinBytes(pin *runtime.Pinner, b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	p := unsafe.SliceData(b)
	pin.Pin(p)
	return (*C.uint8_t)(unsafe.Pointer(p)), C.size_t(len(b))
}

// goText copies a borrowed tc_str into a Go string.
func goText(s C.tc_str) string {
	if s.len == 0 {
		return ""
	}
	return C.GoStringN(s.ptr, C.int(s.len))
}

// takeBytes copies an owned tc_bytes into Go memory and frees it.
func takeBytes(b *C.tc_bytes) []byte {
	defer C.tc_bytes_free(b)
	n := C.tc_bytes_len(b)
	if n == 0 {
		return []byte{}
	}
	return C.GoBytes(unsafe.Pointer(C.tc_bytes_data(b)), C.int(n))
}

// buffer runs a caller-buffer function: a first call with a buffer of `guess` bytes, and, if that
// was too small (MALFORMED_INPUT with a length), one more with the exact size.
func buffer(guess int, call func(buf *C.char, bufLen C.size_t, outLen *C.size_t, err **C.tc_error) C.tc_status) (string, error) {
	buf := make([]byte, guess)
	for {
		var n C.size_t
		var cerr *C.tc_error
		status := call((*C.char)(unsafe.Pointer(unsafe.SliceData(buf))), C.size_t(len(buf)), &n, &cerr)
		if status == C.TC_OK {
			return string(buf[:n]), nil
		}
		if status == C.TC_MALFORMED_INPUT && n > 0 && int(n) >= len(buf) {
			C.tc_error_free(cerr)
			buf = make([]byte, int(n)+1)
			continue
		}
		return "", toError(status, cerr)
	}
}

// Version is the native library's version.
func Version() string { return C.GoString(C.tc_version()) }

// NowSeconds is the core's clock: seconds since the epoch, for `now` arguments.
func NowSeconds() float64 { return float64(C.tc_now_seconds()) }

// handle is the native pointer of a handle, NULL for a nil one: the C ABI refuses a NULL handle with
// MALFORMED_INPUT (as it does a closed one), so a nil *Proof (say) is an error, never a nil
// dereference in Go.
func (k *IssuerKey) handle() *C.tc_issuer_key {
	if k == nil {
		return nil
	}
	return k.ptr
}

func (k *WorkerKey) handle() *C.tc_worker_key {
	if k == nil {
		return nil
	}
	return k.ptr
}

func (k *IssuerKeys) handle() *C.tc_issuer_keys {
	if k == nil {
		return nil
	}
	return k.ptr
}

func (p *Proof) handle() *C.tc_proof {
	if p == nil {
		return nil
	}
	return p.ptr
}

func (t *Token) handle() *C.tc_token {
	if t == nil {
		return nil
	}
	return t.ptr
}

func (v *Verifier) handle() *C.tc_verifier {
	if v == nil {
		return nil
	}
	return v.ptr
}

func (c *SignerClient) handle() *C.tc_signer_client {
	if c == nil {
		return nil
	}
	return c.ptr
}
