/* tc_verifier_authenticate_batch and tc_batch_result: a mixed batch gives each request the status
 * (and message) a second verifier gives it one by one; 64 valid requests pass, then all replay; the
 * misuse of the call (NULL arrays with a count, count 0, NULL out) and of the result's getters; the
 * batch bounds (max_batch_requests, max_batch_body_bytes) and a (token, nonce) repeated in a batch. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"

#define BATCH_EXPECT(want, call)                                                                                       \
    do {                                                                                                               \
        tc_error *err = NULL;                                                                                          \
        tc_status got_ = (call);                                                                                       \
        if (got_ != (want) || err == NULL || tc_error_code(err) != (want) || !*tc_error_message(err)) {                \
            checks_failed++;                                                                                           \
            fprintf(stderr, "batch_checks.c:%d: expected %s, got %s (%s)\n", __LINE__, tc_status_name(want),           \
                    tc_status_name(got_), tc_error_message(err));                                                      \
        } else {                                                                                                       \
            checks_passed++;                                                                                           \
        }                                                                                                              \
        tc_error_free(err);                                                                                            \
    } while (0)

static tc_proof *sign(const tc_worker_key *worker, const tc_bytes *token, const tc_request *request, const char *ts,
                      const char *nonce) {
    tc_proof *proof = NULL;
    CHECK(tc_make_proof(worker, (const char *)tc_bytes_data(token), tc_bytes_len(token), request, S(ts), S(nonce),
                        &proof, NULL) == TC_OK);
    return proof;
}

static tc_verifier *verifier_of(const fixture *f) {
    tc_verifier_options options = tc_verifier_options_default();
    options.limits = f->limits;
    tc_verifier *v = NULL;
    CHECK(tc_verifier_new(f->trusted, &options, NULL, 0, &v, NULL) == TC_OK);
    return v;
}

enum { MIXED = 11 };

/* Every kind of refusal in one batch, and two holders among the accepted. */
static void mixed_batch(const fixture *f) {
    /* a second holder, with a token of its own */
    tc_worker_key *other = NULL;
    tc_bytes *other_token = NULL;
    char other_hex[TC_KEY_HEX_SIZE];
    size_t len = 0;
    CHECK(tc_worker_key_from_secret_hex(S("3333333333333333333333333333333333333333333333333333333333333333"), &other,
                                        NULL) == TC_OK);
    CHECK(tc_worker_key_public_hex(other, other_hex, sizeof other_hex, &len, NULL) == TC_OK);
    tc_mint_request mint = {.public_hex = other_hex,
                            .public_hex_len = len,
                            .holder_id = "cpu-7",
                            .holder_id_len = 5,
                            .revocation_id = {true, "rev-7", 5},
                            .expires_at = FIXTURE_NOW + 3600};
    CHECK(tc_mint_biscuit(f->issuer, &mint, &other_token, NULL) == TC_OK);

    const tc_request bad_path = {S("POST"), "/\xff", 2, f->request.body, f->request.body_len};
    char zeros[129];
    memset(zeros, '0', 128);
    zeros[128] = '\0';
    const char *token = (const char *)tc_bytes_data(f->token_b64);
    tc_proof *valid = sign(f->worker, f->token_b64, &f->request, "1700000000", "b-1");
    tc_proof *second = sign(other, other_token, &f->request, "1700000000", "b-2");
    tc_proof *stale = sign(f->worker, f->token_b64, &f->request, "1699999000", "b-3");
    tc_proof *last = sign(f->worker, f->token_b64, &f->request, "1700000000", "b-9");
    tc_proof *forged = NULL, *unparsable = NULL, *malformed = NULL;
    CHECK(tc_proof_new(token, strlen(token), S(zeros), S("1700000000"), S("b-4"), &forged, NULL) == TC_OK);
    CHECK(tc_proof_new(S("not-a-token"), tc_proof_signature(valid).ptr, tc_proof_signature(valid).len,
                       S("1700000000"), S("b-5"), &unparsable, NULL) == TC_OK);
    CHECK(tc_proof_new(token, strlen(token), S("abc"), S("1700000000"), S("b-6"), &malformed, NULL) == TC_OK);

    /* the valid request twice: the second is a replay within the batch */
    const tc_proof *proofs[MIXED] = {valid, forged, stale, valid, unparsable, malformed, NULL, last, second,
                                     last, valid};
    tc_request requests[MIXED];
    for (int i = 0; i < MIXED; i++)
        requests[i] = f->request;
    requests[7] = bad_path; /* `last` with a path that is not UTF-8 first: it must not spend its nonce */
    const tc_status want[MIXED] = {TC_OK, TC_POP_FAILED, TC_STALE_REQUEST, TC_REPLAYED, TC_TOKEN_INVALID,
                                   TC_MALFORMED_INPUT, TC_MALFORMED_INPUT, TC_MALFORMED_INPUT, TC_OK,
                                   TC_OK, TC_REPLAYED};

    tc_verifier *batch = verifier_of(f), *alone = verifier_of(f);
    double now = FIXTURE_NOW;
    tc_batch_result *result = (tc_batch_result *)f; /* a stale value: the call overwrites it */
    tc_error *err = (tc_error *)f;
    CHECK(tc_verifier_authenticate_batch(batch, proofs, requests, MIXED, &now, &result, &err) == TC_OK);
    CHECK(err == NULL && result != NULL);
    CHECK(tc_batch_result_count(result) == MIXED);
    for (size_t i = 0; i < MIXED; i++) {
        tc_error *one_err = NULL;
        tc_identity *one_identity = NULL;
        tc_status one = tc_verifier_authenticate(alone, proofs[i], &requests[i], &now, NULL, &one_identity, &one_err);
        tc_status got = tc_batch_result_status(result, i);
        if (got != one || got != want[i])
            fprintf(stderr, "batch request %zu: batch %s, alone %s, want %s\n", i, tc_status_name(got),
                    tc_status_name(one), tc_status_name(want[i]));
        CHECK(got == one && got == want[i]);
        /* the message too: what the request alone is told */
        CHECK(!strcmp(tc_batch_result_message(result, i), tc_error_message(one_err)));
        const tc_identity *id = tc_batch_result_identity(result, i);
        tc_token *t = (tc_token *)f;
        tc_error *terr = (tc_error *)f;
        tc_status taken = tc_batch_result_token(result, i, &t, &terr);
        CHECK(taken == got);
        if (got == TC_OK) {
            CHECK(id != NULL && t != NULL && terr == NULL);
            CHECK(!strcmp(tc_identity_holder_id(id).ptr, tc_identity_holder_id(one_identity).ptr));
            CHECK(!strcmp(tc_identity_holder_public_hex(id).ptr, tc_identity_holder_public_hex(one_identity).ptr));
            CHECK(!strcmp(tc_identity_revocation_id(id).ptr, tc_identity_revocation_id(one_identity).ptr));
            CHECK(!strcmp(tc_batch_result_message(result, i), ""));
        } else {
            CHECK(id == NULL && t == NULL && terr != NULL && tc_error_code(terr) == got);
            CHECK(terr && !strcmp(tc_error_message(terr), tc_error_message(one_err)));
            CHECK(strlen(tc_batch_result_message(result, i)) > 0);
        }
        tc_token_free(t);
        tc_error_free(terr);
        tc_identity_free(one_identity);
        tc_error_free(one_err);
    }
    CHECK(!strcmp(tc_identity_holder_id(tc_batch_result_identity(result, 8)).ptr, "cpu-7"));
    /* a token taken from the result outlives it, and the verifier */
    tc_token *kept = NULL;
    CHECK(tc_batch_result_token(result, 0, &kept, NULL) == TC_OK);
    tc_batch_result_free(result);
    tc_verifier_free(batch);
    const tc_pair facts[] = {{S("req_operation"), S("lease")}};
    CHECK(tc_check_policy(kept, facts, 1, S("allow if lane(\"gpu\")"), FIXTURE_NOW, &f->limits, NULL) == TC_OK);
    tc_token_free(kept);

    tc_verifier_free(alone);
    tc_proof_free(valid);
    tc_proof_free(second);
    tc_proof_free(stale);
    tc_proof_free(last);
    tc_proof_free(forged);
    tc_proof_free(unparsable);
    tc_proof_free(malformed);
    tc_bytes_free(other_token);
    tc_worker_key_free(other);
}

enum { MANY = 64 };

/* 64 valid requests (one batch verification): all accepted; the same batch again: all replayed. */
static void full_batch(const fixture *f) {
    tc_proof *proofs[MANY];
    tc_request requests[MANY];
    for (int i = 0; i < MANY; i++) {
        char nonce[16];
        snprintf(nonce, sizeof nonce, "m-%d", i);
        proofs[i] = sign(f->worker, f->token_b64, &f->request, "1700000000", nonce);
        requests[i] = f->request;
    }
    tc_verifier *v = verifier_of(f);
    double now = FIXTURE_NOW;
    for (int round = 0; round < 2; round++) {
        tc_batch_result *result = NULL;
        CHECK(tc_verifier_authenticate_batch(v, (const tc_proof *const *)proofs, requests, MANY, &now, &result,
                                             NULL) == TC_OK);
        CHECK(tc_batch_result_count(result) == MANY);
        int matching = 0;
        for (size_t i = 0; i < MANY; i++)
            matching += tc_batch_result_status(result, i) == (round == 0 ? TC_OK : TC_REPLAYED);
        CHECK(matching == MANY);
        tc_batch_result_free(result);
    }
    uint64_t hits = 0, misses = 0;
    tc_verifier_cache_stats(v, &hits, &misses, NULL, NULL);
    CHECK(misses == 1 && hits == 1); /* one token lookup per batch: parsed once, cached once proven */
    tc_verifier_free(v);
    for (int i = 0; i < MANY; i++)
        tc_proof_free(proofs[i]);
}

/* The call's own misuse: MALFORMED_INPUT with *out NULL; count 0 is an empty result. */
static void misuse(const fixture *f) {
    tc_verifier *v = verifier_of(f);
    const tc_proof *proofs[1] = {f->proof};
    tc_batch_result *result = (tc_batch_result *)f;
    double now = FIXTURE_NOW;
    BATCH_EXPECT(TC_MALFORMED_INPUT, tc_verifier_authenticate_batch(v, NULL, &f->request, 1, &now, &result, &err));
    CHECK(result == NULL);
    result = (tc_batch_result *)f;
    BATCH_EXPECT(TC_MALFORMED_INPUT, tc_verifier_authenticate_batch(v, proofs, NULL, 1, &now, &result, &err));
    CHECK(result == NULL);
    BATCH_EXPECT(TC_MALFORMED_INPUT, tc_verifier_authenticate_batch(v, NULL, NULL, 3, NULL, &result, &err));
    BATCH_EXPECT(TC_MALFORMED_INPUT, tc_verifier_authenticate_batch(v, proofs, &f->request, 1, &now, NULL, &err));
    result = (tc_batch_result *)f;
    BATCH_EXPECT(TC_MALFORMED_INPUT,
                 tc_verifier_authenticate_batch(NULL, proofs, &f->request, 1, &now, &result, &err));
    CHECK(result == NULL);
    /* a count too large for memory is refused before anything is read */
    BATCH_EXPECT(TC_MALFORMED_INPUT,
                 tc_verifier_authenticate_batch(v, proofs, &f->request, SIZE_MAX, &now, &result, &err));
    /* the misuse spent nothing: the fixture's proof still passes */
    CHECK(tc_verifier_authenticate_batch(v, proofs, &f->request, 1, &now, &result, NULL) == TC_OK);
    CHECK(tc_batch_result_count(result) == 1 && tc_batch_result_status(result, 0) == TC_OK);
    /* out of range and NULL: harmless values */
    CHECK(tc_batch_result_status(result, 1) == TC_MALFORMED_INPUT);
    CHECK(tc_batch_result_identity(result, 1) == NULL);
    CHECK(!strcmp(tc_batch_result_message(result, 1), ""));
    tc_token *t = (tc_token *)f;
    BATCH_EXPECT(TC_MALFORMED_INPUT, tc_batch_result_token(result, 1, &t, &err));
    CHECK(t == NULL);
    BATCH_EXPECT(TC_MALFORMED_INPUT, tc_batch_result_token(result, 0, NULL, &err));
    tc_batch_result_free(result);
    CHECK(tc_batch_result_count(NULL) == 0);
    CHECK(tc_batch_result_status(NULL, 0) == TC_MALFORMED_INPUT);
    CHECK(tc_batch_result_identity(NULL, 0) == NULL);
    CHECK(!strcmp(tc_batch_result_message(NULL, 0), ""));
    BATCH_EXPECT(TC_MALFORMED_INPUT, tc_batch_result_token(NULL, 0, &t, &err));
    tc_batch_result_free(NULL);
    /* count 0: NULL arrays are fine, and so is the system clock */
    result = NULL;
    CHECK(tc_verifier_authenticate_batch(v, NULL, NULL, 0, NULL, &result, NULL) == TC_OK);
    CHECK(result != NULL && tc_batch_result_count(result) == 0);
    tc_batch_result_free(result);
    result = NULL;
    CHECK(tc_verifier_authenticate_batch(v, proofs, &f->request, 0, &now, &result, NULL) == TC_OK);
    CHECK(result != NULL && tc_batch_result_count(result) == 0);
    tc_batch_result_free(result);
    tc_verifier_free(v);
}

/* A batch over max_batch_requests, or whose bodies together are over max_batch_body_bytes, is refused
 * whole (LIMIT_EXCEEDED, *out NULL) before any request is read, and spends nothing; a (token, nonce)
 * repeated inside a batch is REPLAYED the second time, even signed over another body. */
static void bounds(const fixture *f) {
    enum { N = 3 };
    tc_proof *proofs[N];
    tc_request requests[N], unreadable[N];
    for (int i = 0; i < N; i++) {
        char nonce[32];
        snprintf(nonce, sizeof nonce, "bound-%d", i);
        proofs[i] = sign(f->worker, f->token_b64, &f->request, "1700000000", nonce);
        requests[i] = f->request;
        unreadable[i] = f->request;
        unreadable[i].body = NULL; /* with a length: each request alone would be MALFORMED_INPUT */
    }
    const tc_proof *const *all = (const tc_proof *const *)proofs;
    double now = FIXTURE_NOW;
    tc_verifier_options options = tc_verifier_options_default();
    options.limits = f->limits;
    options.max_batch_requests = 2;
    tc_verifier *v = NULL;
    CHECK(tc_verifier_new(f->trusted, &options, NULL, 0, &v, NULL) == TC_OK);
    tc_batch_result *result = (tc_batch_result *)f;
    BATCH_EXPECT(TC_LIMIT_EXCEEDED, tc_verifier_authenticate_batch(v, all, requests, N, &now, &result, &err));
    CHECK(result == NULL);
    BATCH_EXPECT(TC_LIMIT_EXCEEDED, tc_verifier_authenticate_batch(v, all, unreadable, N, &now, &result, &err));
    /* nothing was spent: two of them pass */
    CHECK(tc_verifier_authenticate_batch(v, all, requests, 2, &now, &result, NULL) == TC_OK);
    CHECK(tc_batch_result_count(result) == 2 && tc_batch_result_status(result, 0) == TC_OK &&
          tc_batch_result_status(result, 1) == TC_OK);
    tc_batch_result_free(result);
    tc_verifier_free(v);
    /* 0: every non-empty batch is refused, the empty one is not */
    options.max_batch_requests = 0;
    CHECK(tc_verifier_new(f->trusted, &options, NULL, 0, &v, NULL) == TC_OK);
    BATCH_EXPECT(TC_LIMIT_EXCEEDED, tc_verifier_authenticate_batch(v, all, requests, 1, &now, &result, &err));
    CHECK(tc_verifier_authenticate_batch(v, NULL, NULL, 0, &now, &result, NULL) == TC_OK);
    CHECK(tc_batch_result_count(result) == 0);
    tc_batch_result_free(result);
    tc_verifier_free(v);

    /* bodies of 2 bytes: two are over 3, one is not */
    options = tc_verifier_options_default();
    options.limits = f->limits;
    options.max_batch_body_bytes = 2 * f->request.body_len - 1;
    CHECK(tc_verifier_new(f->trusted, &options, NULL, 0, &v, NULL) == TC_OK);
    result = (tc_batch_result *)f;
    BATCH_EXPECT(TC_LIMIT_EXCEEDED, tc_verifier_authenticate_batch(v, all, requests, 2, &now, &result, &err));
    CHECK(result == NULL);
    BATCH_EXPECT(TC_LIMIT_EXCEEDED, tc_verifier_authenticate_batch(v, all, unreadable, 2, &now, &result, &err));
    CHECK(tc_verifier_authenticate_batch(v, all, requests, 1, &now, &result, NULL) == TC_OK);
    CHECK(tc_batch_result_count(result) == 1 && tc_batch_result_status(result, 0) == TC_OK);
    tc_batch_result_free(result);
    tc_verifier_free(v);

    /* the defaults take both batches */
    options = tc_verifier_options_default();
    options.limits = f->limits;
    CHECK(tc_verifier_new(f->trusted, &options, NULL, 0, &v, NULL) == TC_OK);
    CHECK(tc_verifier_authenticate_batch(v, all, requests, N, &now, &result, NULL) == TC_OK);
    int passed = 0;
    for (size_t i = 0; i < N; i++)
        passed += tc_batch_result_status(result, i) == TC_OK;
    CHECK(tc_batch_result_count(result) == N && passed == N);
    tc_batch_result_free(result);

    /* a (token, nonce) twice: the same proof, then the same nonce signed over another body */
    static const unsigned char other_body[] = "{\"x\":1}";
    const tc_request other = {S("POST"), S("/lease"), other_body, sizeof other_body - 1};
    tc_proof *twice = sign(f->worker, f->token_b64, &f->request, "1700000000", "dup");
    tc_proof *again = sign(f->worker, f->token_b64, &other, "1700000000", "dup");
    tc_proof *fresh = sign(f->worker, f->token_b64, &f->request, "1700000000", "dup-2");
    const tc_proof *dup[4] = {twice, twice, again, fresh};
    const tc_request dup_requests[4] = {f->request, f->request, other, f->request};
    const tc_status want[4] = {TC_OK, TC_REPLAYED, TC_REPLAYED, TC_OK};
    CHECK(tc_verifier_authenticate_batch(v, dup, dup_requests, 4, &now, &result, NULL) == TC_OK);
    CHECK(tc_batch_result_count(result) == 4);
    for (size_t i = 0; i < 4; i++) {
        if (tc_batch_result_status(result, i) != want[i])
            fprintf(stderr, "duplicate batch request %zu: %s, want %s\n", i,
                    tc_status_name(tc_batch_result_status(result, i)), tc_status_name(want[i]));
        CHECK(tc_batch_result_status(result, i) == want[i]);
    }
    tc_batch_result_free(result);
    tc_verifier_free(v);
    tc_proof_free(twice);
    tc_proof_free(again);
    tc_proof_free(fresh);
    for (int i = 0; i < N; i++)
        tc_proof_free(proofs[i]);
}

void batch_checks(const fixture *f) {
    mixed_batch(f);
    full_batch(f);
    misuse(f);
    bounds(f);
}
