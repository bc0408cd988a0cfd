/* A complete set of trustcore objects for the misuse and thread tests: fixed keys, a minted token,
 * and a signed request at a fixed time. */
#ifndef TC_TEST_FIXTURE_H
#define TC_TEST_FIXTURE_H

#include "trustcore.h"

#define FIXTURE_NOW 1700000000.0

typedef struct fixture {
    tc_issuer_key *issuer;
    tc_worker_key *worker;
    tc_issuer_keys *trusted;
    tc_bytes *token_b64;
    tc_proof *proof;
    tc_request request;
    tc_authenticate_options options;
    tc_limits limits; /* the defaults, time budget times $TRUSTCORE_TEST_TIME_SCALE (valgrind runs) */
} fixture;

/* Build it (aborts on failure: every later check depends on it). */
void fixture_init(fixture *f);
void fixture_free(fixture *f);

#endif
