package main

// Extra ops under impl `go-rawcgo`: per_request_uncached and per_request_cached (memory stores) with
// the fixture of bench/README.md, called straight through cgo with no Go binding in between. That is
// what any Go program pays for calling into C (the runtime's cgo transitions); the gap between these
// figures and impl `go`'s is the binding's own cost.

/*
#cgo pkg-config: trustcore
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <trustcore.h>

typedef struct raw_setup {
	tc_issuer_keys *trusted;
	tc_worker_key *worker;
	tc_proof *proof;
	tc_request request;
	tc_authenticate_options options;
} raw_setup;

static const char raw_body[] = "{}";
static const char raw_allow[] = "allow if req_operation(\"lease\"), lane(\"transcribe\")";
static const tc_pair raw_facts[] = {{"req_operation", 13, "lease", 5}};

static tc_status raw_prepare(raw_setup *s, const char *issuer_hex, const char *token, size_t token_len,
                             const char *worker_secret_hex) {
	s->request = (tc_request){"POST", 4, "/lease", 6, (const uint8_t *)raw_body, strlen(raw_body)};
	s->options = (tc_authenticate_options){1700000000.0, 300, tc_limits_default()};
	tc_status st = tc_issuer_keys_from_hex(issuer_hex, 64, &s->trusted, NULL);
	if (st == TC_OK) st = tc_worker_key_from_secret_hex(worker_secret_hex, 64, &s->worker, NULL);
	if (st == TC_OK)
		st = tc_make_proof(s->worker, token, token_len, &s->request, "1700000000", 10, "n-1", 3, &s->proof, NULL);
	return st;
}

static tc_status raw_once(const raw_setup *s) {
	tc_token *token = NULL;
	tc_identity *identity = NULL;
	tc_status st = tc_authenticate(s->trusted, s->proof, &s->request, NULL, 0, &s->options, &token, &identity, NULL);
	if (st == TC_OK)
		st = tc_check_policy(token, raw_facts, 1, raw_allow, strlen(raw_allow), 1700000000.0, &s->options.limits, NULL);
	tc_identity_free(identity);
	tc_token_free(token);
	return st;
}

static void raw_free(raw_setup *s) {
	tc_proof_free(s->proof);
	tc_worker_key_free(s->worker);
	tc_issuer_keys_free(s->trusted);
}

// the Verifier's path with the in-process stores: proofs[0] warms the token cache, then one proof a
// request, each under its own nonce
typedef struct raw_verifier {
	const raw_setup *s;
	tc_verifier *verifier;
	tc_proof **proofs;
	size_t count, next;
} raw_verifier;

static tc_status raw_verifier_once(raw_verifier *v);

static tc_status raw_verifier_prepare(raw_verifier *v, const raw_setup *s, const char *token, size_t token_len,
                                      size_t count) {
	v->s = s;
	v->count = count + 1;
	v->proofs = calloc(v->count, sizeof *v->proofs);
	if (v->proofs == NULL) return TC_INTERNAL;
	tc_status st = TC_OK;
	for (size_t i = 0; st == TC_OK && i < v->count; i++) {
		char nonce[32];
		snprintf(nonce, sizeof nonce, "raw-%zu", i);
		st = tc_make_proof(s->worker, token, token_len, &s->request, "1700000000", 10, nonce, strlen(nonce),
		                   &v->proofs[i], NULL);
	}
	tc_verifier_options options = tc_verifier_options_default();
	options.replay_capacity = v->count > 1000 ? v->count : 1000;
	// the fixture has one holder: its share is the whole store (core's default is a quarter)
	options.replay_capacity_per_holder.has = true;
	options.replay_capacity_per_holder.value = options.replay_capacity;
	if (st == TC_OK) st = tc_verifier_new(s->trusted, &options, NULL, 0, &v->verifier, NULL);
	if (st == TC_OK) st = raw_verifier_once(v);
	return st;
}

static tc_status raw_verifier_once(raw_verifier *v) {
	if (v->next >= v->count) return TC_INTERNAL; // pool exhausted: never reuse a nonce
	tc_token *token = NULL;
	tc_identity *identity = NULL;
	double now = 1700000000.0;
	tc_status st = tc_verifier_authenticate(v->verifier, v->proofs[v->next++], &v->s->request, &now, &token, &identity,
	                                        NULL);
	if (st == TC_OK)
		st = tc_verifier_check_policy(v->verifier, token, raw_facts, 1, raw_allow, strlen(raw_allow), &now, NULL);
	tc_identity_free(identity);
	tc_token_free(token);
	return st;
}

static void raw_verifier_free(raw_verifier *v) {
	if (v->proofs != NULL)
		for (size_t i = 0; i < v->count; i++) tc_proof_free(v->proofs[i]);
	free(v->proofs);
	tc_verifier_free(v->verifier);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func rawCgoOps(o *out, f *fixture) error {
	const pool = 10_000
	secret, err := f.holder.SecretHex()
	if err != nil {
		return err
	}
	s := (*C.raw_setup)(C.calloc(1, C.sizeof_raw_setup))
	defer C.free(unsafe.Pointer(s))
	ih, tk, ws := C.CString(f.issuerHex), C.CString(f.token), C.CString(secret)
	defer C.free(unsafe.Pointer(ih))
	defer C.free(unsafe.Pointer(tk))
	defer C.free(unsafe.Pointer(ws))
	defer C.raw_free(s)
	if st := C.raw_prepare(s, ih, tk, C.size_t(len(f.token)), ws); st != C.TC_OK {
		return fmt.Errorf("go-rawcgo setup: status %d", st)
	}
	C.memset(unsafe.Pointer(ws), 0, C.size_t(len(secret)))
	if _, err := o.measure("go-rawcgo", "per_request_uncached", 0, 1, func() error {
		if st := C.raw_once(s); st != C.TC_OK {
			return fmt.Errorf("status %d", st)
		}
		return nil
	}); err != nil {
		return err
	}
	v := (*C.raw_verifier)(C.calloc(1, C.sizeof_raw_verifier))
	defer C.free(unsafe.Pointer(v))
	defer C.raw_verifier_free(v)
	if st := C.raw_verifier_prepare(v, s, tk, C.size_t(len(f.token)), pool); st != C.TC_OK {
		return fmt.Errorf("go-rawcgo verifier setup: status %d", st)
	}
	_, err = o.measure("go-rawcgo", "per_request_cached", pool, 1, func() error {
		if st := C.raw_verifier_once(v); st != C.TC_OK {
			return fmt.Errorf("status %d (TC_INTERNAL here: proof pool exhausted)", st)
		}
		return nil
	})
	return err
}
