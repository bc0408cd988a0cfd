/* Shared handles used from several threads at once (the header's thread rule): one tc_issuer_keys,
 * one tc_proof and one tc_token serve every thread, while each thread also authenticates on its own,
 * and one tc_verifier takes every thread's single requests and batches. */
#include <string.h>
#include <threads.h>

#include "check.h"
#include "fixture.h"

enum { THREADS = 4, ROUNDS = 25 };

typedef struct job {
    const fixture *f;
    const tc_token *shared_token;
    const tc_verifier *verifier; /* one stateful verifier for every thread */
    int id;
    int ok, failed; /* per thread: no shared counters */
} job;

static int worker(void *arg) {
    job *j = arg;
    /* a generous time budget: with more threads than cores, preemption counts against the wall-clock
     * limit, and this test is about sharing handles, not limits */
    tc_limits limits = j->f->limits;
    limits.max_time_ns = 2000000000u;
    tc_authenticate_options options = j->f->options;
    options.limits = limits;
    const tc_pair facts[] = {{S("req_operation"), S("lease")}};
    for (int i = 0; i < ROUNDS; i++) {
        tc_token *token = NULL;
        tc_identity *identity = NULL;
        tc_status a =
            tc_authenticate(j->f->trusted, j->f->proof, &j->f->request, NULL, 0, &options, &token, &identity, NULL);
        tc_status b = tc_check_policy(j->shared_token, facts, 1, S("allow if req_operation(\"lease\")"), FIXTURE_NOW,
                                      &limits, NULL);
        tc_status c =
            tc_check_policy(token, facts, 1, S("allow if req_operation(\"drop\")"), FIXTURE_NOW, &limits, NULL);
        /* the shared verifier: a nonce of this thread's own, then the same again (a replay) */
        char nonce[32];
        snprintf(nonce, sizeof nonce, "t%d-%d", j->id, i);
        tc_proof *proof = NULL;
        double now = FIXTURE_NOW;
        tc_status d =
            tc_make_proof(j->f->worker, (const char *)tc_bytes_data(j->f->token_b64), tc_bytes_len(j->f->token_b64),
                          &j->f->request, S("1700000000"), S(nonce), &proof, NULL);
        if (d == TC_OK) d = tc_verifier_authenticate(j->verifier, proof, &j->f->request, &now, NULL, NULL, NULL);
        tc_status e = tc_verifier_authenticate(j->verifier, proof, &j->f->request, &now, NULL, NULL, NULL);
        tc_proof_free(proof);
        /* and a batch on the shared verifier: a nonce of its own twice, accepted then replayed */
        snprintf(nonce, sizeof nonce, "b%d-%d", j->id, i);
        proof = NULL;
        tc_batch_result *batch = NULL;
        tc_status g =
            tc_make_proof(j->f->worker, (const char *)tc_bytes_data(j->f->token_b64), tc_bytes_len(j->f->token_b64),
                          &j->f->request, S("1700000000"), S(nonce), &proof, NULL);
        const tc_proof *pair[2] = {proof, proof};
        const tc_request requests[2] = {j->f->request, j->f->request};
        if (g == TC_OK) g = tc_verifier_authenticate_batch(j->verifier, pair, requests, 2, &now, &batch, NULL);
        bool batch_ok = g == TC_OK && tc_batch_result_status(batch, 0) == TC_OK &&
                        tc_batch_result_status(batch, 1) == TC_REPLAYED;
        tc_batch_result_free(batch);
        tc_proof_free(proof);
        bool same_holder = identity && !strcmp(tc_identity_holder_id(identity).ptr, "gpu-1");
        if (a == TC_OK && b == TC_OK && c == TC_DENIED && d == TC_OK && e == TC_REPLAYED && batch_ok && same_holder)
            j->ok++;
        else {
            j->failed++;
            fprintf(stderr, "thread round %d: %s %s %s %s %s batch %s\n", i, tc_status_name(a), tc_status_name(b),
                    tc_status_name(c), tc_status_name(d), tc_status_name(e), batch_ok ? "ok" : "wrong");
        }
        tc_identity_free(identity);
        tc_token_free(token);
    }
    return 0;
}

void thread_checks(const fixture *f) {
    tc_token *shared = NULL;
    CHECK(tc_token_parse(f->trusted, (const char *)tc_bytes_data(f->token_b64), tc_bytes_len(f->token_b64), &shared,
                         NULL) == TC_OK);
    tc_verifier_options options = tc_verifier_options_default();
    options.limits.max_time_ns = 2000000000u; /* see worker() */
    tc_verifier *verifier = NULL;
    CHECK(tc_verifier_new(f->trusted, &options, NULL, 0, &verifier, NULL) == TC_OK);
    thrd_t threads[THREADS];
    job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){f, shared, verifier, i, 0, 0};
        CHECK(thrd_create(&threads[i], worker, &jobs[i]) == thrd_success);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(thrd_join(threads[i], NULL) == thrd_success);
        CHECK(jobs[i].ok == ROUNDS && jobs[i].failed == 0);
    }
    uint64_t hits = 0, misses = 0;
    tc_verifier_cache_stats(verifier, &hits, &misses, NULL, NULL);
    /* two single requests, and a batch of two that looks its token up once (its second request, the same
     * token and nonce, is REPLAYED before any lookup) */
    CHECK(hits + misses == 3 * THREADS * ROUNDS && misses >= 1);
    tc_verifier_free(verifier);
    tc_token_free(shared);
}
