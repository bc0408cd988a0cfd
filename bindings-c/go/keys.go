package trustcore

/*
#include <trustcore.h>
*/
import "C"

import "runtime"

// IssuerKey is the issuer's private key (the Biscuit root key and the job signer). The native seed
// is wiped when the key is closed or collected.
type IssuerKey struct {
	ptr     *C.tc_issuer_key
	cleanup runtime.Cleanup
}

// WorkerKey is a holder's private key: it signs each request's proof of possession.
type WorkerKey struct {
	ptr     *C.tc_worker_key
	cleanup runtime.Cleanup
}

func newIssuerKey(p *C.tc_issuer_key) *IssuerKey {
	k := &IssuerKey{ptr: p}
	k.cleanup = runtime.AddCleanup(k, func(p *C.tc_issuer_key) { C.tc_issuer_key_free(p) }, p)
	return k
}

func newWorkerKey(p *C.tc_worker_key) *WorkerKey {
	k := &WorkerKey{ptr: p}
	k.cleanup = runtime.AddCleanup(k, func(p *C.tc_worker_key) { C.tc_worker_key_free(p) }, p)
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
	return buffer(C.TC_KEY_HEX_SIZE, func(b *C.char, l C.size_t, n *C.size_t, e **C.tc_error) C.tc_status {
		return C.tc_issuer_key_public_hex(k.handle(), b, l, n, e)
	})
}

// SecretHex is the private seed as 64 hex digits. Handle with care.
func (k *IssuerKey) SecretHex() (string, error) {
	defer runtime.KeepAlive(k)
	return buffer(C.TC_KEY_HEX_SIZE, func(b *C.char, l C.size_t, n *C.size_t, e **C.tc_error) C.tc_status {
		return C.tc_issuer_key_secret_hex(k.handle(), b, l, n, e)
	})
}

// Close wipes and releases the key now; later calls fail with MALFORMED_INPUT. Idempotent, but it
// must not race with other use of the key.
func (k *IssuerKey) Close() {
	if k != nil && k.ptr != nil {
		k.cleanup.Stop()
		C.tc_issuer_key_free(k.ptr)
		k.ptr = nil
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
	return buffer(C.TC_KEY_HEX_SIZE, func(b *C.char, l C.size_t, n *C.size_t, e **C.tc_error) C.tc_status {
		return C.tc_worker_key_public_hex(k.handle(), b, l, n, e)
	})
}

// SecretHex is the private seed as 64 hex digits. Handle with care.
func (k *WorkerKey) SecretHex() (string, error) {
	defer runtime.KeepAlive(k)
	return buffer(C.TC_KEY_HEX_SIZE, func(b *C.char, l C.size_t, n *C.size_t, e **C.tc_error) C.tc_status {
		return C.tc_worker_key_secret_hex(k.handle(), b, l, n, e)
	})
}

// Close wipes and releases the key now (see IssuerKey.Close).
func (k *WorkerKey) Close() {
	if k != nil && k.ptr != nil {
		k.cleanup.Stop()
		C.tc_worker_key_free(k.ptr)
		k.ptr = nil
	}
}
