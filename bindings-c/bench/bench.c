/* The C side of `make bench-c`: the per-request path (tc_authenticate + tc_check_policy) with the same
 * keys, token shape, request and loop as examples/bench_core.rs; then the stateful verifier's
 * (tc_verifier_authenticate with the token from its cache, a fresh nonce each request, +
 * tc_verifier_check_policy) with the in-process stores and with Redis stores (a redis-server started
 * on a free loopback port, tests/c/redis_server.c, killed at the end).
 * Between them, 64 requests through a verifier (memory stores) one by one and as one
 * tc_verifier_authenticate_batch.
 * usage: bench [ITERATIONS]   prints `bench NAME per_request_median_ns N cpu_per_request_ns M` for
 * NAME c, c/verifier-memory, c/batch64-one-by-one, c/batch64 (samples of 64 requests, figures per
 * request), c/verifier-redis: the lowest of 3 rounds' median wall time per request, and the process
 * CPU time per request over all rounds. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <trustcore.h>

#include "redis_server.h"

#define NOW    1700000000.0
#define ROUNDS 3

static void must(tc_status status, tc_error *err, const char *what) {
    if (status == TC_OK) return;
    fprintf(stderr, "bench: %s: %s (%s)\n", what, tc_status_name(status), tc_error_message(err));
    exit(1);
}

static long long clock_ns(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long now_ns(void) {
    return clock_ns(CLOCK_MONOTONIC);
}

static int by_value(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

typedef struct setup {
    tc_issuer_keys *trusted;
    tc_proof *proof;
    tc_request request;
    tc_authenticate_options options;
} setup;

static const tc_pair facts[] = {{"operation", 9, "lease", 5}};
static const char allow[] = "allow if operation(\"lease\"), lane(\"transcribe\")";

typedef struct verifier_setup {
    const setup *s;
    tc_verifier *verifier;
    tc_proof **proofs; /* one per request */
    size_t next;
} verifier_setup;

static void once(const setup *s) {
    tc_error *err = NULL;
    tc_token *token = NULL;
    tc_identity *identity = NULL;
    must(tc_authenticate(s->trusted, s->proof, &s->request, NULL, 0, &s->options, &token, &identity, &err), err,
         "authenticate");
    must(tc_check_policy(token, facts, 1, allow, strlen(allow), NOW, &s->options.limits, &err), err, "policy");
    tc_identity_free(identity);
    tc_token_free(token);
}

static void verifier_once(verifier_setup *v) {
    tc_error *err = NULL;
    tc_token *token = NULL;
    double now = NOW;
    must(tc_verifier_authenticate(v->verifier, v->proofs[v->next++], &v->s->request, &now, &token, NULL, &err), err,
         "verifier authenticate");
    must(tc_verifier_check_policy(v->verifier, token, facts, 1, allow, strlen(allow), &now, &err), err,
         "verifier policy");
    tc_token_free(token);
}

/* Warm up, then time each of `iterations` requests, ROUNDS rounds; print the line. `s` or `v` is run. */
static void measure(const char *name, int iterations, const setup *s, verifier_setup *v) {
    for (int i = 0; i < iterations / 10; i++)
        s ? once(s) : verifier_once(v);
    long long *samples = malloc(sizeof *samples * (size_t)iterations);
    long long best = -1, cpu_start = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < iterations; i++) {
            long long start = now_ns();
            s ? once(s) : verifier_once(v);
            samples[i] = now_ns() - start;
        }
        qsort(samples, (size_t)iterations, sizeof *samples, by_value);
        if (best < 0 || samples[iterations / 2] < best) best = samples[iterations / 2];
    }
    long long cpu = (clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) / (ROUNDS * iterations);
    printf("bench %s per_request_median_ns %lld cpu_per_request_ns %lld\n", name, best, cpu);
    fflush(stdout);
    free(samples);
}

#define BATCH 64

/* 64 requests through `v`, one by one (tc_verifier_authenticate) or as one batch
 * (tc_verifier_authenticate_batch): authenticate only, the token from the cache. */
typedef struct batch_setup {
    tc_verifier *verifier;
    tc_proof **proofs; /* BATCH per sample */
    tc_request requests[BATCH];
    size_t next;
    bool batch;
} batch_setup;

static void batch_once(batch_setup *b) {
    tc_error *err = NULL;
    double now = NOW;
    tc_proof **proofs = b->proofs + b->next;
    b->next += BATCH;
    if (!b->batch) {
        for (int i = 0; i < BATCH; i++)
            must(tc_verifier_authenticate(b->verifier, proofs[i], &b->requests[i], &now, NULL, NULL, &err), err,
                 "one by one");
        return;
    }
    tc_batch_result *result = NULL;
    must(tc_verifier_authenticate_batch(b->verifier, (const tc_proof *const *)proofs, b->requests, BATCH, &now,
                                        &result, &err),
         err, "batch");
    for (size_t i = 0; i < BATCH; i++) {
        if (tc_batch_result_status(result, i) == TC_OK) continue;
        tc_token *refused = NULL;
        must(tc_batch_result_token(result, i, &refused, &err), err, "batch request");
    }
    tc_batch_result_free(result);
}

/* `measure` for samples of BATCH requests: the figures are per request. */
static void measure_batch(const char *name, int groups, batch_setup *b) {
    for (int i = 0; i < groups / 10; i++)
        batch_once(b);
    long long *samples = malloc(sizeof *samples * (size_t)groups);
    long long best = -1, cpu_start = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < groups; i++) {
            long long start = now_ns();
            batch_once(b);
            samples[i] = now_ns() - start;
        }
        qsort(samples, (size_t)groups, sizeof *samples, by_value);
        if (best < 0 || samples[groups / 2] < best) best = samples[groups / 2];
    }
    long long cpu = (clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) / (ROUNDS * groups * BATCH);
    printf("bench %s per_request_median_ns %lld cpu_per_request_ns %lld\n", name, best / BATCH, cpu);
    fflush(stdout);
    free(samples);
}

int main(int argc, char **argv) {
    int iterations = argc > 1 ? atoi(argv[1]) : 2000;
    tc_error *err = NULL;
    tc_issuer_key *issuer = NULL;
    tc_worker_key *worker = NULL;
    tc_bytes *token = NULL;
    char issuer_hex[TC_KEY_HEX_SIZE], worker_hex[TC_KEY_HEX_SIZE];
    size_t len = 0;
    must(tc_issuer_key_from_secret_hex("1111111111111111111111111111111111111111111111111111111111111111", 64, &issuer,
                                       &err),
         err, "issuer");
    must(tc_worker_key_from_secret_hex("2222222222222222222222222222222222222222222222222222222222222222", 64, &worker,
                                       &err),
         err, "worker");
    must(tc_issuer_key_public_hex(issuer, issuer_hex, sizeof issuer_hex, &len, &err), err, "issuer hex");
    must(tc_worker_key_public_hex(worker, worker_hex, sizeof worker_hex, &len, &err), err, "worker hex");
    tc_str lanes[] = {{"transcribe", 10}, {"gpu", 3}};
    tc_mint_fact mint_facts[] = {{"lane", 4, lanes, 2}};
    tc_mint_request mint = {worker_hex, 64, "gpu-1", 5, mint_facts, 1, "rev-1", 5, NOW + 3600, false, 0};
    must(tc_mint_biscuit(issuer, &mint, &token, &err), err, "mint");

    static const char body[] = "{\"job\":42}";
    setup s = {.request = {"POST", 4, "/lease", 6, (const uint8_t *)body, strlen(body)},
               .options = {NOW, 300, tc_limits_default()}};
    must(tc_issuer_keys_from_hex(issuer_hex, 64, &s.trusted, &err), err, "trusted");
    must(tc_make_proof(worker, (const char *)tc_bytes_data(token), tc_bytes_len(token), &s.request, "1700000000", 10,
                       "n1", 2, &s.proof, &err),
         err, "proof");

    measure("c", iterations, &s, NULL);

    /* the verifier: every request under a nonce of its own (a repeated one is REPLAYED), signed before
     * the clock starts */
    size_t count = (size_t)(iterations / 10 + ROUNDS * iterations);
    tc_proof **proofs = calloc(count, sizeof *proofs);
    for (size_t i = 0; i < count; i++) {
        char nonce[32];
        snprintf(nonce, sizeof nonce, "v%zu", i);
        must(tc_make_proof(worker, (const char *)tc_bytes_data(token), tc_bytes_len(token), &s.request, "1700000000",
                           10, nonce, strlen(nonce), &proofs[i], &err),
             err, "verifier proof");
    }
    tc_verifier_options options = tc_verifier_options_default();
    options.replay_capacity = count;
    verifier_setup v = {&s, NULL, proofs, 0};
    must(tc_verifier_new(s.trusted, &options, NULL, 0, &v.verifier, &err), err, "memory verifier");
    measure("c/verifier-memory", iterations, NULL, &v);
    tc_verifier_free(v.verifier);

    /* 64 requests one by one, then as one batch, each on a verifier of its own (memory stores) */
    int groups = iterations / BATCH > 10 ? iterations / BATCH : 10;
    size_t batch_count = (size_t)(groups / 10 + ROUNDS * groups) * BATCH;
    tc_proof **batch_proofs = calloc(batch_count, sizeof *batch_proofs);
    for (size_t i = 0; i < batch_count; i++) {
        char nonce[32];
        snprintf(nonce, sizeof nonce, "b%zu", i);
        must(tc_make_proof(worker, (const char *)tc_bytes_data(token), tc_bytes_len(token), &s.request, "1700000000",
                           10, nonce, strlen(nonce), &batch_proofs[i], &err),
             err, "batch proof");
    }
    tc_verifier_options batch_options = tc_verifier_options_default();
    batch_options.replay_capacity = batch_count;
    for (int batched = 0; batched < 2; batched++) {
        batch_setup b = {.proofs = batch_proofs, .batch = batched};
        for (int i = 0; i < BATCH; i++)
            b.requests[i] = s.request;
        must(tc_verifier_new(s.trusted, &batch_options, NULL, 0, &b.verifier, &err), err, "batch verifier");
        measure_batch(batched ? "c/batch64" : "c/batch64-one-by-one", groups, &b);
        tc_verifier_free(b.verifier);
    }
    for (size_t i = 0; i < batch_count; i++)
        tc_proof_free(batch_proofs[i]);
    free(batch_proofs);

    redis_server redis;
    if (!redis_server_start(&redis)) {
        fprintf(stderr, "bench: redis-server did not start (make setup-redis installs it)\n");
        return 1;
    }
    options.redis_url = redis.tcp_url;
    options.redis_url_len = strlen(redis.tcp_url);
    options.redis_key_prefix = "bench-c:";
    options.redis_key_prefix_len = strlen("bench-c:");
    v = (verifier_setup){&s, NULL, proofs, 0};
    must(tc_verifier_new(s.trusted, &options, NULL, 0, &v.verifier, &err), err, "redis verifier");
    measure("c/verifier-redis", iterations, NULL, &v);
    tc_verifier_free(v.verifier);
    redis_server_free(&redis);

    for (size_t i = 0; i < count; i++)
        tc_proof_free(proofs[i]);
    free(proofs);
    tc_proof_free(s.proof);
    tc_issuer_keys_free(s.trusted);
    tc_bytes_free(token);
    tc_worker_key_free(worker);
    tc_issuer_key_free(issuer);
    return 0;
}
