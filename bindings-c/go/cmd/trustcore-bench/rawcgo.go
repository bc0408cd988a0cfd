package main

// The same per-request path called straight through cgo, with no Go binding in between: what any
// Go program pays for calling into C (the runtime's cgo transitions, glibc malloc in a threaded
// process). The gap between this line and the binding's is the binding's own cost.

/*
#cgo pkg-config: trustcore
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <trustcore.h>

typedef struct raw_setup {
	tc_issuer_keys *trusted;
	tc_proof *proof;
	tc_request request;
	tc_authenticate_options options;
} raw_setup;

static const char raw_body[] = "{\"job\":42}";
static const char raw_allow[] = "allow if operation(\"lease\"), lane(\"transcribe\")";
static const tc_pair raw_facts[] = {{"operation", 9, "lease", 5}};

static tc_status raw_prepare(raw_setup *s, const char *issuer_hex, const char *token, size_t token_len,
                             const char *worker_secret_hex) {
	s->request = (tc_request){"POST", 4, "/lease", 6, (const uint8_t *)raw_body, strlen(raw_body)};
	s->options = (tc_authenticate_options){1700000000.0, 300, tc_limits_default()};
	tc_worker_key *worker = NULL;
	tc_status st = tc_issuer_keys_from_hex(issuer_hex, 64, &s->trusted, NULL);
	if (st == TC_OK) st = tc_worker_key_from_secret_hex(worker_secret_hex, 64, &worker, NULL);
	if (st == TC_OK)
		st = tc_make_proof(worker, token, token_len, &s->request, "1700000000", 10, "n1", 2, &s->proof, NULL);
	tc_worker_key_free(worker);
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
	tc_issuer_keys_free(s->trusted);
}

// the Verifier's path with the in-process stores: a proof per request, each under its own nonce
typedef struct raw_verifier {
	const raw_setup *s;
	tc_verifier *verifier;
	tc_proof **proofs;
	size_t count, next;
} raw_verifier;

static tc_status raw_verifier_prepare(raw_verifier *v, const raw_setup *s, const char *token, size_t token_len,
                                      const char *worker_secret_hex, size_t count) {
	v->s = s;
	v->count = count;
	v->proofs = calloc(count, sizeof *v->proofs);
	tc_worker_key *worker = NULL;
	tc_status st = tc_worker_key_from_secret_hex(worker_secret_hex, 64, &worker, NULL);
	for (size_t i = 0; st == TC_OK && i < count; i++) {
		char nonce[32];
		snprintf(nonce, sizeof nonce, "v%zu", i);
		st = tc_make_proof(worker, token, token_len, &s->request, "1700000000", 10, nonce, strlen(nonce), &v->proofs[i],
		                   NULL);
	}
	tc_worker_key_free(worker);
	tc_verifier_options options = tc_verifier_options_default();
	options.replay_capacity = count;
	if (st == TC_OK) st = tc_verifier_new(s->trusted, &options, NULL, 0, &v->verifier, NULL);
	return st;
}

static tc_status raw_verifier_once(raw_verifier *v) {
	if (v->next >= v->count) return TC_INTERNAL;
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

// rawCgo prepares the C-side state from C copies of the inputs and returns the per-request function,
// the Verifier's per-request function (in-process stores, `count` requests at most) and a cleanup.
func rawCgo(issuerHex, token, workerSecretHex string, count int) (func() error, func() error, func(), error) {
	s := (*C.raw_setup)(C.calloc(1, C.sizeof_raw_setup))
	ih, tk, ws := C.CString(issuerHex), C.CString(token), C.CString(workerSecretHex)
	defer C.free(unsafe.Pointer(ih))
	defer C.free(unsafe.Pointer(tk))
	defer C.free(unsafe.Pointer(ws))
	if st := C.raw_prepare(s, ih, tk, C.size_t(len(token)), ws); st != C.TC_OK {
		C.free(unsafe.Pointer(s))
		return nil, nil, nil, fmt.Errorf("raw setup: status %d", st)
	}
	v := (*C.raw_verifier)(C.calloc(1, C.sizeof_raw_verifier))
	free := func() {
		C.raw_verifier_free(v)
		C.free(unsafe.Pointer(v))
		C.raw_free(s)
		C.free(unsafe.Pointer(s))
	}
	if st := C.raw_verifier_prepare(v, s, tk, C.size_t(len(token)), ws, C.size_t(count)); st != C.TC_OK {
		free()
		return nil, nil, nil, fmt.Errorf("raw verifier setup: status %d", st)
	}
	once := func() error {
		if st := C.raw_once(s); st != C.TC_OK {
			return fmt.Errorf("raw request: status %d", st)
		}
		return nil
	}
	verifierOnce := func() error {
		if st := C.raw_verifier_once(v); st != C.TC_OK {
			return fmt.Errorf("raw verifier request: status %d", st)
		}
		return nil
	}
	return once, verifierOnce, free, nil
}
