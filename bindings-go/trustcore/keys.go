package trustcore

/*
#include <trustcore.h>
*/
import "C"

import "runtime"

// IssuerKey is the issuer's private key (the Biscuit root key and the job signer). The native seed
// is wiped when the key is closed or collected.
type IssuerKey struct {
	n native[*C.tc_issuer_key]
}

// WorkerKey is a holder's private key: it signs each request's proof of possession.
type WorkerKey struct {
	n native[*C.tc_worker_key]
}

func newIssuerKey(p *C.tc_issuer_key) *IssuerKey {
	k := &IssuerKey{}
	k.n.ptr = p
	k.n.cleanup = runtime.AddCleanup(k, func(p *C.tc_issuer_key) { C.tc_issuer_key_free(p) }, p)
	return k
}

func newWorkerKey(p *C.tc_worker_key) *WorkerKey {
	k := &WorkerKey{}
	k.n.ptr = p
	k.n.cleanup = runtime.AddCleanup(k, func(p *C.tc_worker_key) { C.tc_worker_key_free(p) }, p)
	return k
}

// GenerateIssuerKey makes a fresh issuer key from the operating system's random source.
func GenerateIssuerKey() (*IssuerKey, error) {
	var out *C.tc_issuer_key
	var cerr *C.tc_error
	if err := toError(C.tc_issuer_key_generate(&out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newIssuerKey(out), nil
}

// IssuerKeyFromSecretHex reads an issuer key from its seed as 64 hex digits.
func IssuerKeyFromSecretHex(secretHex string) (*IssuerKey, error) {
	p, n := cText(secretHex)
	var out *C.tc_issuer_key
	var cerr *C.tc_error
	if err := toError(C.tc_issuer_key_from_secret_hex(p, n, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newIssuerKey(out), nil
}

// IssuerKeyFromSeed reads an issuer key from its 32-byte seed.
func IssuerKeyFromSeed(seed []byte) (*IssuerKey, error) {
	p, n := cBytes(seed)
	var out *C.tc_issuer_key
	var cerr *C.tc_error
	if err := toError(C.tc_issuer_key_from_seed(p, n, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newIssuerKey(out), nil
}

// PublicHex is the issuer public key as 64 hex digits.
func (k *IssuerKey) PublicHex() (string, error) {
	defer runtime.KeepAlive(k)
	kC, err := k.acquire()
	if err != nil {
		return "", err
	}
	defer k.release(kC)
	return buffer(C.TC_KEY_HEX_SIZE, func(b *C.char, l C.size_t, n *C.size_t, e **C.tc_error) C.tc_status {
		return C.tc_issuer_key_public_hex(kC, b, l, n, e)
	})
}

// SecretHex is the private seed as 64 hex digits. Handle with care.
func (k *IssuerKey) SecretHex() (string, error) {
	defer runtime.KeepAlive(k)
	kC, err := k.acquire()
	if err != nil {
		return "", err
	}
	defer k.release(kC)
	return buffer(C.TC_KEY_HEX_SIZE, func(b *C.char, l C.size_t, n *C.size_t, e **C.tc_error) C.tc_status {
		return C.tc_issuer_key_secret_hex(kC, b, l, n, e)
	})
}

// Close wipes and releases the key now. It may run while other goroutines use the key: calls that
// start after it fail with ErrMalformedInput ("IssuerKey is closed") without reaching the library,
// and it waits for the calls in flight to return before it frees anything. Idempotent: a second
// Close does nothing (nor does Close on a nil handle).
func (k *IssuerKey) Close() {
	if k != nil {
		k.n.close(func(p *C.tc_issuer_key) { C.tc_issuer_key_free(p) })
	}
}

// GenerateWorkerKey makes a fresh holder key from the operating system's random source.
func GenerateWorkerKey() (*WorkerKey, error) {
	var out *C.tc_worker_key
	var cerr *C.tc_error
	if err := toError(C.tc_worker_key_generate(&out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newWorkerKey(out), nil
}

// WorkerKeyFromSecretHex reads a holder key from its seed as 64 hex digits.
func WorkerKeyFromSecretHex(secretHex string) (*WorkerKey, error) {
	p, n := cText(secretHex)
	var out *C.tc_worker_key
	var cerr *C.tc_error
	if err := toError(C.tc_worker_key_from_secret_hex(p, n, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newWorkerKey(out), nil
}

// WorkerKeyFromSeed reads a holder key from its 32-byte seed.
func WorkerKeyFromSeed(seed []byte) (*WorkerKey, error) {
	p, n := cBytes(seed)
	var out *C.tc_worker_key
	var cerr *C.tc_error
	if err := toError(C.tc_worker_key_from_seed(p, n, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newWorkerKey(out), nil
}

// PublicHex is the holder public key as 64 hex digits.
func (k *WorkerKey) PublicHex() (string, error) {
	defer runtime.KeepAlive(k)
	kC, err := k.acquire()
	if err != nil {
		return "", err
	}
	defer k.release(kC)
	return buffer(C.TC_KEY_HEX_SIZE, func(b *C.char, l C.size_t, n *C.size_t, e **C.tc_error) C.tc_status {
		return C.tc_worker_key_public_hex(kC, b, l, n, e)
	})
}

// SecretHex is the private seed as 64 hex digits. Handle with care.
func (k *WorkerKey) SecretHex() (string, error) {
	defer runtime.KeepAlive(k)
	kC, err := k.acquire()
	if err != nil {
		return "", err
	}
	defer k.release(kC)
	return buffer(C.TC_KEY_HEX_SIZE, func(b *C.char, l C.size_t, n *C.size_t, e **C.tc_error) C.tc_status {
		return C.tc_worker_key_secret_hex(kC, b, l, n, e)
	})
}

// Close wipes and releases the key now (see IssuerKey.Close).
func (k *WorkerKey) Close() {
	if k != nil {
		k.n.close(func(p *C.tc_worker_key) { C.tc_worker_key_free(p) })
	}
}
