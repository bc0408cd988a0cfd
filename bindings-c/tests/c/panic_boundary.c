/* The panic boundary (docs/DESIGN.md §5), against a `fault-injection` build of the library (`make test-panic-c`):
 * its core panics inside canonical_request whenever the request method is "TRUSTCORE-INJECTED-PANIC".
 * Every export that reaches canonical_request (tc_http_sign_request in the legacy profile among them)
 * is called with that method and must return TC_INTERNAL with a tc_error whose code is TC_INTERNAL
 * (and with a NULL err too); the process lives
 * on, and a normal call on the same handles (keys, issuer keys, proof, Verifier) then succeeds.
 * usage: panic_boundary   ends with "panic_boundary: N passed, N failed"; exit 1 on any failure. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"

int checks_passed, checks_failed;

#define PANIC_METHOD "TRUSTCORE-INJECTED-PANIC"

/* `call` returned TC_INTERNAL and `err` holds a TC_INTERNAL detail; the detail is freed */
#define EXPECT_INTERNAL(call, err)                                                                                     \
    do {                                                                                                               \
        tc_status status_ = (call);                                                                                    \
        CHECK(status_ == TC_INTERNAL);                                                                                 \
        CHECK((err) != NULL);                                                                                          \
        if (err) {                                                                                                     \
            CHECK(tc_error_code(err) == TC_INTERNAL);                                                                  \
            CHECK(tc_error_message(err) != NULL && tc_error_message(err)[0] != '\0');                                  \
        }                                                                                                              \
        tc_error_free(err);                                                                                            \
        (err) = NULL;                                                                                                  \
    } while (0)

#define EXPECT_OK(call, err)                                                                                           \
    do {                                                                                                               \
        tc_status status_ = (call);                                                                                    \
        if (status_ != TC_OK)                                                                                          \
            fprintf(stderr, "  %s: %s (%s)\n", #call, tc_status_name(status_), err ? tc_error_message(err) : "");      \
        CHECK(status_ == TC_OK);                                                                                       \
        CHECK((err) == NULL);                                                                                          \
        tc_error_free(err);                                                                                            \
        (err) = NULL;                                                                                                  \
    } while (0)

static const char *token_ptr(const fixture *f) {
    return (const char *)tc_bytes_data(f->token_b64);
}

static void canonical(const tc_request *normal, const tc_request *panicking) {
    tc_error *err = NULL;
    char buf[512];
    size_t len = 123;
    EXPECT_INTERNAL(tc_canonical_request(panicking, S("1700000000"), S("n-1"), buf, sizeof buf, &len, &err), err);
    CHECK(len == 0); /* any failure but "too small" leaves *out_len at 0 */
    /* the size query (NULL buffer) reaches canonical_request too */
    EXPECT_INTERNAL(tc_canonical_request(panicking, S("1700000000"), S("n-1"), NULL, 0, &len, &err), err);
    CHECK(tc_canonical_request(panicking, S("1700000000"), S("n-1"), buf, sizeof buf, &len, NULL) == TC_INTERNAL);
    EXPECT_OK(tc_canonical_request(normal, S("1700000000"), S("n-1"), buf, sizeof buf, &len, &err), err);
    CHECK(len > 0 && strncmp(buf, "POST\n", 5) == 0);
}

static void make_proof(const fixture *f, const tc_request *panicking) {
    tc_error *err = NULL;
    tc_proof *proof = (tc_proof *)1; /* must come back NULL */
    EXPECT_INTERNAL(tc_make_proof(f->worker, token_ptr(f), tc_bytes_len(f->token_b64), panicking, S("1700000000"),
                                  S("n-2"), &proof, &err),
                    err);
    CHECK(proof == NULL);
    CHECK(tc_make_proof(f->worker, token_ptr(f), tc_bytes_len(f->token_b64), panicking, S("1700000000"), S("n-2"),
                        &proof, NULL) == TC_INTERNAL);
    CHECK(proof == NULL);
    /* the same worker key still signs, and what it signs verifies */
    EXPECT_OK(tc_make_proof(f->worker, token_ptr(f), tc_bytes_len(f->token_b64), &f->request, S("1700000000"),
                            S("n-2"), &proof, &err),
              err);
    EXPECT_OK(tc_authenticate(f->trusted, proof, &f->request, NULL, 0, &f->options, NULL, NULL, &err), err);
    tc_proof_free(proof);
}

static void authenticate(const fixture *f, const tc_request *panicking) {
    tc_error *err = NULL;
    tc_token *token = (tc_token *)1;
    tc_identity *identity = (tc_identity *)1;
    EXPECT_INTERNAL(
        tc_authenticate(f->trusted, f->proof, panicking, NULL, 0, &f->options, &token, &identity, &err), err);
    CHECK(token == NULL && identity == NULL);
    CHECK(tc_authenticate(f->trusted, f->proof, panicking, NULL, 0, &f->options, NULL, NULL, NULL) == TC_INTERNAL);
    EXPECT_OK(tc_authenticate(f->trusted, f->proof, &f->request, NULL, 0, &f->options, &token, &identity, &err), err);
    CHECK(token != NULL && identity != NULL);
    CHECK(tc_identity_holder_id(identity).len > 0);
    EXPECT_OK(tc_check_policy(token, NULL, 0, S("allow if true"), FIXTURE_NOW, &f->limits, &err), err);
    tc_identity_free(identity);
    tc_token_free(token);
}

static tc_proof *fresh_proof(const fixture *f, const char *nonce) {
    tc_error *err = NULL;
    tc_proof *proof = NULL;
    EXPECT_OK(tc_make_proof(f->worker, token_ptr(f), tc_bytes_len(f->token_b64), &f->request, S("1700000000"),
                            S(nonce), &proof, &err),
              err);
    return proof;
}

static void verifier(const fixture *f, const tc_request *panicking) {
    tc_error *err = NULL;
    tc_verifier_options options = tc_verifier_options_default();
    options.limits = f->limits;
    tc_verifier *v = NULL;
    EXPECT_OK(tc_verifier_new(f->trusted, &options, NULL, 0, &v, &err), err);
    double now = FIXTURE_NOW;

    /* a token not yet cached, then (after a good request) a cached one: both paths panic the same way */
    tc_proof *first = fresh_proof(f, "v-1"), *second = fresh_proof(f, "v-2"), *third = fresh_proof(f, "v-3");
    tc_token *token = (tc_token *)1;
    tc_identity *identity = (tc_identity *)1;
    EXPECT_INTERNAL(tc_verifier_authenticate(v, first, panicking, &now, &token, &identity, &err), err);
    CHECK(token == NULL && identity == NULL);
    EXPECT_OK(tc_verifier_authenticate(v, second, &f->request, &now, &token, &identity, &err), err);
    CHECK(token != NULL && identity != NULL);
    EXPECT_OK(tc_verifier_check_policy(v, token, NULL, 0, S("allow if true"), &now, &err), err);
    tc_token_free(token);
    tc_identity_free(identity);
    EXPECT_INTERNAL(tc_verifier_authenticate(v, third, panicking, &now, NULL, NULL, &err), err);
    CHECK(tc_verifier_authenticate(v, third, panicking, &now, NULL, NULL, NULL) == TC_INTERNAL);
    /* the panic came before the nonce was recorded: the same proof on its own request is accepted
     * once, and then (the nonce now recorded) REPLAYED: the store still works */
    EXPECT_OK(tc_verifier_authenticate(v, third, &f->request, &now, NULL, NULL, &err), err);
    CHECK(tc_verifier_authenticate(v, third, &f->request, &now, NULL, NULL, NULL) == TC_REPLAYED);
    uint64_t hits = 0, misses = 0;
    tc_verifier_cache_stats(v, &hits, &misses, NULL, NULL);
    CHECK(hits + misses > 0);

    /* the batch: one panicking request among good ones; then a good batch on the same Verifier */
    enum { N = 3 };
    tc_proof *proofs[N] = {fresh_proof(f, "b-1"), fresh_proof(f, "b-2"), fresh_proof(f, "b-3")};
    tc_request requests[N] = {f->request, *panicking, f->request};
    tc_batch_result *result = (tc_batch_result *)1;
    EXPECT_INTERNAL(tc_verifier_authenticate_batch(v, (const tc_proof *const *)proofs, requests, N, &now, &result, &err),
                    err);
    CHECK(result == NULL);
    tc_request all_panicking[N] = {*panicking, *panicking, *panicking};
    CHECK(tc_verifier_authenticate_batch(v, (const tc_proof *const *)proofs, all_panicking, N, &now, &result, NULL) ==
          TC_INTERNAL);
    CHECK(result == NULL);
    tc_proof *good[N] = {fresh_proof(f, "g-1"), fresh_proof(f, "g-2"), fresh_proof(f, "g-3")};
    tc_request good_requests[N] = {f->request, f->request, f->request};
    EXPECT_OK(tc_verifier_authenticate_batch(v, (const tc_proof *const *)good, good_requests, N, &now, &result, &err),
              err);
    CHECK(tc_batch_result_count(result) == N);
    for (size_t i = 0; i < N; i++)
        CHECK(tc_batch_result_status(result, i) == TC_OK);
    tc_batch_result_free(result);
    /* a single request on the same Verifier after the batches */
    tc_proof *last = fresh_proof(f, "v-4");
    EXPECT_OK(tc_verifier_authenticate(v, last, &f->request, &now, NULL, NULL, &err), err);

    tc_proof_free(last);
    for (size_t i = 0; i < N; i++) {
        tc_proof_free(proofs[i]);
        tc_proof_free(good[i]);
    }
    tc_proof_free(first);
    tc_proof_free(second);
    tc_proof_free(third);
    tc_verifier_free(v);
}

/* tc_http_sign_request in the legacy profile builds the canonical request: the marked method panics */
static void http_sign(const fixture *f) {
    tc_error *err = NULL;
    tc_pair_list *headers = (tc_pair_list *)1;
    const tc_pair host[] = {{S("Host"), S("api.example.com")}};
    tc_http_sign_params params = {
        S(PANIC_METHOD), S("/lease"), host, 1, (const uint8_t *)"{}", 2, TC_HTTP_PROFILE_LEGACY,
        {true, 1700000000}, {true, S("h-1")},
    };
    EXPECT_INTERNAL(tc_http_sign_request(f->worker, token_ptr(f), tc_bytes_len(f->token_b64), &params, &headers, &err),
                    err);
    CHECK(headers == NULL);
    CHECK(tc_http_sign_request(f->worker, token_ptr(f), tc_bytes_len(f->token_b64), &params, &headers, NULL) ==
          TC_INTERNAL);
    /* the same key signs the same request with its own method */
    params.method = "POST";
    params.method_len = 4;
    EXPECT_OK(tc_http_sign_request(f->worker, token_ptr(f), tc_bytes_len(f->token_b64), &params, &headers, &err), err);
    CHECK(tc_pair_list_count(headers) == 4);
    tc_pair_list_free(headers);
}

int main(void) {
    fixture f;
    fixture_init(&f);
    tc_request panicking = f.request;
    panicking.method = PANIC_METHOD;
    panicking.method_len = strlen(PANIC_METHOD);

    canonical(&f.request, &panicking);
    make_proof(&f, &panicking);
    authenticate(&f, &panicking);
    verifier(&f, &panicking);
    http_sign(&f);
    /* and once more from the top, after every kind of panic: nothing was left poisoned */
    canonical(&f.request, &panicking);
    authenticate(&f, &panicking);

    fixture_free(&f);
    printf("panic_boundary: %d passed, %d failed\n", checks_passed, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}
