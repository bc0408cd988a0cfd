// Package trustcore is the Go face of trustcore's Rust core, through its C ABI: the static libtrustcore.a
// shipped inside the released module for each GOOS/GOARCH (link_bundled.go), or, built with the tag
// trustcore_pkgconfig, the libtrustcore found with pkg-config (link_pkgconfig.go; how this repository's
// tests build). It converts types and errors only: every rule lives in the core.
//
// Handles (IssuerKey, WorkerKey, IssuerKeys, Token, Proof, HttpPolicy) are immutable and safe for
// concurrent use; Verifier and SignerClient lock their own state and are shared by goroutines too. Each owns
// native memory, released when the handle is garbage collected or, deterministically, by Close.
// Close may run while other goroutines use the handle: it refuses calls that start after it
// (ErrMalformedInput, "… is closed"), waits for the calls in flight to return, then frees the
// memory, once; a second Close does nothing. Errors are *Error values whose
// Code works with errors.Is: errors.Is(err, trustcore.ErrDenied).
package trustcore

/*
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

// Each handle's acquire and release (see native): a nil handle acquires NULL, which the C ABI refuses
// with MALFORMED_INPUT, so a nil *Proof (say) is an error, never a nil dereference in Go; a closed
// one acquires the closed-handle error (also ErrMalformedInput) and reaches no C at all.

func (h *IssuerKey) acquire() (*C.tc_issuer_key, error) {
	if h == nil {
		return nil, nil
	}
	return h.n.acquire("IssuerKey")
}

func (h *IssuerKey) release(p *C.tc_issuer_key) {
	if h != nil {
		h.n.release(p)
	}
}

func (h *WorkerKey) acquire() (*C.tc_worker_key, error) {
	if h == nil {
		return nil, nil
	}
	return h.n.acquire("WorkerKey")
}

func (h *WorkerKey) release(p *C.tc_worker_key) {
	if h != nil {
		h.n.release(p)
	}
}

func (h *IssuerKeys) acquire() (*C.tc_issuer_keys, error) {
	if h == nil {
		return nil, nil
	}
	return h.n.acquire("IssuerKeys")
}

func (h *IssuerKeys) release(p *C.tc_issuer_keys) {
	if h != nil {
		h.n.release(p)
	}
}

func (h *Proof) acquire() (*C.tc_proof, error) {
	if h == nil {
		return nil, nil
	}
	return h.n.acquire("Proof")
}

func (h *Proof) release(p *C.tc_proof) {
	if h != nil {
		h.n.release(p)
	}
}

func (h *Token) acquire() (*C.tc_token, error) {
	if h == nil {
		return nil, nil
	}
	return h.n.acquire("Token")
}

func (h *Token) release(p *C.tc_token) {
	if h != nil {
		h.n.release(p)
	}
}

func (h *Verifier) acquire() (*C.tc_verifier, error) {
	if h == nil {
		return nil, nil
	}
	return h.n.acquire("Verifier")
}

func (h *Verifier) release(p *C.tc_verifier) {
	if h != nil {
		h.n.release(p)
	}
}

func (h *SignerClient) acquire() (*C.tc_signer_client, error) {
	if h == nil {
		return nil, nil
	}
	return h.n.acquire("SignerClient")
}

func (h *SignerClient) release(p *C.tc_signer_client) {
	if h != nil {
		h.n.release(p)
	}
}

func (h *HttpPolicy) acquire() (*C.tc_http_policy, error) {
	if h == nil {
		return nil, nil
	}
	return h.n.acquire("HttpPolicy")
}

func (h *HttpPolicy) release(p *C.tc_http_policy) {
	if h != nil {
		h.n.release(p)
	}
}
