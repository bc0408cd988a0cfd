/* The C harness of `make bench` (impl `c`), exactly as bench/README.md describes it: the one fixture,
 * the op list, the timing loop (warm-up 0.2 s; k calls a sample so that a sample lasts ~10 ms; 21
 * samples; median / min / max per iteration in ns) and the JSON-lines output.
 *
 * usage: bench OUT    OUT is the JSON-lines file to write (`-` for standard output); progress goes
 * to standard error. Any error in any op fails the run (exit 1).
 *
 * It starts a redis-server on a free loopback port (tests/c/redis_server.c) for
 * per_request_cached_redis, and `$TRUSTCORE_BIN signer serve` on a Unix socket (tests/c/signer_daemon.c)
 * for signer_mint_socket, both through the shared test environment ($TRUSTCORE_TESTENV,
 * tests/c/testenv.c); both are stopped at the end. */
#define _GNU_SOURCE

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <trustcore.h>

#include "redis_server.h"
#include "signer_daemon.h"

#define NOW 1700000000.0
#define SAMPLES 21
#define POOL_SMALL 10000 /* proofs for the 2 B and 1 KiB bodies */
#define POOL_LARGE 600   /* proofs for the 1 MiB body */
#define BATCH 64
#define SEED_ISSUER "1111111111111111111111111111111111111111111111111111111111111111"
#define SEED_HOLDER "2222222222222222222222222222222222222222222222222222222222222222"
#define JOB "{\"id\":\"job-1\",\"kind\":\"transcribe\",\"n\":3,\"url\":\"https://example.invalid/a.mp3\"}"
/* the HTTP ops: `POST /lease` to this authority, the 1 KiB body, under this route policy */
#define HTTP_AUTHORITY "bench.example"
#define HTTP_POLICY                                                                                                 \
    "{\"routes\": [{\"method\": \"POST\", \"path\": \"/lease\", \"allow\": \"allow if req_operation(\\\"lease\\\"), " \
    "lane(\\\"transcribe\\\")\"}]}"

static FILE *out;

static void fail(const char *what, tc_status status, tc_error *err) {
    fprintf(stderr, "bench-c: %s: %s (%s)\n", what, tc_status_name(status), err ? tc_error_message(err) : "");
    exit(1);
}

static void must(tc_status status, tc_error *err, const char *what) {
    if (status != TC_OK) fail(what, status, err);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- the fixture ---- */

static tc_issuer_key *issuer;
static tc_worker_key *holder;
static tc_issuer_keys *trusted;
static char issuer_hex[TC_KEY_HEX_SIZE], holder_hex[TC_KEY_HEX_SIZE];
static tc_str lane_values[] = {{"transcribe", 10}, {"gpu", 3}};
static tc_mint_fact mint_facts[] = {{"lane", 4, lane_values, 2}};
static tc_mint_request mint_request;
static tc_bytes *token_b64;
static tc_token *token;
static const tc_pair policy_facts[] = {{"req_operation", 13, "lease", 5}};
static const char allow[] = "allow if req_operation(\"lease\"), lane(\"transcribe\")";
static tc_authenticate_options auth_options;
static uint8_t *body_1mib;
static char body_1kib[1024];
enum { BODY_2B, BODY_1KIB, BODY_1MIB, BODIES };
static tc_request requests[BODIES];
static tc_proof *stateless_proofs[BODIES]; /* nonce n-1 */
static char job_signed[512];

static void fixture_init(void) {
    tc_error *err = NULL;
    size_t len = 0;
    must(tc_issuer_key_from_secret_hex(SEED_ISSUER, 64, &issuer, &err), err, "issuer key");
    must(tc_worker_key_from_secret_hex(SEED_HOLDER, 64, &holder, &err), err, "holder key");
    must(tc_issuer_key_public_hex(issuer, issuer_hex, sizeof issuer_hex, &len, &err), err, "issuer hex");
    must(tc_worker_key_public_hex(holder, holder_hex, sizeof holder_hex, &len, &err), err, "holder hex");
    must(tc_issuer_keys_from_hex(issuer_hex, 64, &trusted, &err), err, "trusted keys");
    mint_request =
        (tc_mint_request){holder_hex, 64, "gpu-1", 5, mint_facts, 1, {true, "rev-1", 5}, NOW + 3600, {false, 0}, 0};
    must(tc_mint_biscuit(issuer, &mint_request, &token_b64, &err), err, "mint");
    must(tc_token_parse(trusted, (const char *)tc_bytes_data(token_b64), tc_bytes_len(token_b64), &token, &err), err,
         "parse");
    auth_options = (tc_authenticate_options){NOW, 300, tc_limits_default()};
    memset(body_1kib, 'x', sizeof body_1kib);
    body_1mib = malloc(1048576);
    memset(body_1mib, 'x', 1048576);
    requests[BODY_2B] = (tc_request){"POST", 4, "/lease", 6, (const uint8_t *)"{}", 2};
    requests[BODY_1KIB] = (tc_request){"POST", 4, "/lease", 6, (const uint8_t *)body_1kib, sizeof body_1kib};
    requests[BODY_1MIB] = (tc_request){"POST", 4, "/lease", 6, body_1mib, 1048576};
    for (int b = 0; b < BODIES; b++)
        must(tc_make_proof(holder, (const char *)tc_bytes_data(token_b64), tc_bytes_len(token_b64), &requests[b],
                           "1700000000", 10, "n-1", 3, &stateless_proofs[b], &err),
             err, "stateless proof");
    char sig[TC_SIGNATURE_HEX_SIZE];
    must(tc_sign_job(issuer, JOB, strlen(JOB), "gpu-1", 5, sig, sizeof sig, &len, &err), err, "sign job");
    /* the job with its sig member: the fixture's object with "sig" added */
    snprintf(job_signed, sizeof job_signed, "%.*s,\"sig\":\"%s\"}", (int)strlen(JOB) - 1, JOB, sig);
}

/* ---- proof pools: every request its own nonce, made before timing; running out fails ---- */

typedef struct pool {
    tc_proof **proofs;
    size_t count, next;
    const char *name;
} pool;

static unsigned pool_serial;

static void pool_make(pool *p, const tc_request *request, size_t count, const char *name) {
    tc_error *err = NULL;
    p->proofs = malloc(count * sizeof *p->proofs);
    p->count = count;
    p->next = 0;
    p->name = name;
    unsigned serial = pool_serial++;
    for (size_t i = 0; i < count; i++) {
        char nonce[48];
        int n = snprintf(nonce, sizeof nonce, "p%u-%zu", serial, i);
        must(tc_make_proof(holder, (const char *)tc_bytes_data(token_b64), tc_bytes_len(token_b64), request,
                           "1700000000", 10, nonce, (size_t)n, &p->proofs[i], &err),
             err, "pool proof");
    }
}

static tc_proof *pool_take(pool *p) {
    if (p->next >= p->count) {
        fprintf(stderr, "bench-c: the proof pool of %s ran out (a nonce is never reused)\n", p->name);
        exit(1);
    }
    return p->proofs[p->next++];
}

static void pool_free(pool *p) {
    for (size_t i = 0; i < p->count; i++)
        tc_proof_free(p->proofs[i]);
    free(p->proofs);
    memset(p, 0, sizeof *p);
}

/* ---- the timing loop ---- */

typedef void (*op_fn)(void *ctx);

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* `fn(ctx)` is one iteration; `pool_iterations` the iterations its proof pool allows (0: no pool);
 * `per` divides the figures (BATCH for the batch ops: figures per request). */
static void measure(const char *op, op_fn fn, void *ctx, size_t pool_iterations, int per) {
    fprintf(stderr, "bench-c: %s\n", op);
    size_t calls = 0;
    double start = now_s(), elapsed = 0;
    while (calls < 3 || elapsed < 0.2) {
        if (pool_iterations && calls >= pool_iterations / 5) break;
        fn(ctx);
        calls++;
        elapsed = now_s() - start;
    }
    double t = elapsed / (double)calls;
    size_t k = (size_t)llround(0.010 / t);
    if (k < 1) k = 1;
    if (pool_iterations) {
        size_t left = pool_iterations - calls;
        if (k * SAMPLES > left) k = left / SAMPLES;
        if (k < 1) {
            fprintf(stderr, "bench-c: %s: the proof pool is too small for %d samples\n", op, SAMPLES);
            exit(1);
        }
    }
    double samples[SAMPLES];
    for (int s = 0; s < SAMPLES; s++) {
        double t0 = now_s();
        for (size_t i = 0; i < k; i++)
            fn(ctx);
        samples[s] = (now_s() - t0) / (double)k / per * 1e9;
    }
    qsort(samples, SAMPLES, sizeof *samples, by_value);
    fprintf(out,
            "{\"impl\":\"c\",\"op\":\"%s\",\"unit\":\"ns\",\"median\":%.1f,\"min\":%.1f,\"max\":%.1f,"
            "\"samples\":%d,\"k\":%zu}\n",
            op, samples[SAMPLES / 2], samples[0], samples[SAMPLES - 1], SAMPLES, k);
    fflush(out);
}

/* ---- the ops ---- */

static void op_mint(void *ctx) {
    (void)ctx;
    tc_error *err = NULL;
    tc_bytes *minted = NULL;
    must(tc_mint_biscuit(issuer, &mint_request, &minted, &err), err, "mint");
    tc_bytes_free(minted);
}

static void op_make_proof(void *ctx) {
    (void)ctx;
    tc_error *err = NULL;
    tc_proof *proof = NULL;
    must(tc_make_proof(holder, (const char *)tc_bytes_data(token_b64), tc_bytes_len(token_b64), &requests[BODY_2B],
                       "1700000000", 10, "n-1", 3, &proof, &err),
         err, "make_proof");
    tc_proof_free(proof);
}

static void authenticate_uncached(int body, tc_token **token_out) {
    tc_error *err = NULL;
    must(tc_authenticate(trusted, stateless_proofs[body], &requests[body], NULL, 0, &auth_options, token_out, NULL,
                         &err),
         err, "authenticate");
}

static void op_authenticate_uncached(void *ctx) {
    tc_token *t = NULL;
    authenticate_uncached(*(int *)ctx, &t);
    tc_token_free(t);
}

static void op_check_policy(void *ctx) {
    (void)ctx;
    tc_error *err = NULL;
    must(tc_check_policy(token, policy_facts, 1, allow, strlen(allow), NOW, &auth_options.limits, &err), err,
         "check_policy");
}

static void per_request_uncached(void) {
    tc_error *err = NULL;
    tc_token *t = NULL;
    authenticate_uncached(BODY_2B, &t);
    must(tc_check_policy(t, policy_facts, 1, allow, strlen(allow), NOW, &auth_options.limits, &err), err,
         "check_policy");
    tc_token_free(t);
}

static void op_per_request_uncached(void *ctx) {
    (void)ctx;
    per_request_uncached();
}

typedef struct cached {
    tc_verifier *verifier;
    pool *pool;
    int body;
} cached;

static void authenticate_cached(tc_verifier *verifier, tc_proof *proof, const tc_request *request, bool policy) {
    tc_error *err = NULL;
    tc_token *t = NULL;
    double now = NOW;
    must(tc_verifier_authenticate(verifier, proof, request, &now, policy ? &t : NULL, NULL, &err), err,
         "verifier authenticate");
    if (policy) {
        must(tc_verifier_check_policy(verifier, t, policy_facts, 1, allow, strlen(allow), &now, &err), err,
             "verifier check_policy");
        tc_token_free(t);
    }
}

static void op_authenticate_cached(void *ctx) {
    cached *c = ctx;
    authenticate_cached(c->verifier, pool_take(c->pool), &requests[c->body], false);
}

static void op_per_request_cached(void *ctx) {
    cached *c = ctx;
    authenticate_cached(c->verifier, pool_take(c->pool), &requests[BODY_2B], true);
}

static void op_sign_job(void *ctx) {
    (void)ctx;
    tc_error *err = NULL;
    char sig[TC_SIGNATURE_HEX_SIZE];
    size_t len = 0;
    must(tc_sign_job(issuer, JOB, strlen(JOB), "gpu-1", 5, sig, sizeof sig, &len, &err), err, "sign_job");
}

static void op_verify_job(void *ctx) {
    (void)ctx;
    tc_error *err = NULL;
    must(tc_verify_job(issuer_hex, 64, job_signed, strlen(job_signed), "gpu-1", 5, NULL, &err), err, "verify_job");
}

static tc_mint_request signer_request;

static void op_signer_mint(void *ctx) {
    tc_error *err = NULL;
    tc_bytes *minted = NULL;
    must(tc_signer_client_mint(ctx, &signer_request, &minted, NULL, NULL, &err), err, "signer mint");
    tc_bytes_free(minted);
}

typedef struct batch {
    tc_verifier *verifier;
    pool *pool;
    bool batched;
    tc_request requests[BATCH];
} batch;

static void op_batch(void *ctx) {
    batch *b = ctx;
    tc_error *err = NULL;
    double now = NOW;
    tc_proof *proofs[BATCH];
    for (int i = 0; i < BATCH; i++)
        proofs[i] = pool_take(b->pool);
    if (!b->batched) {
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
        tc_status status = tc_batch_result_status(result, i);
        if (status != TC_OK) {
            fprintf(stderr, "bench-c: batch request %zu: %s (%s)\n", i, tc_status_name(status),
                    tc_batch_result_message(result, i));
            exit(1);
        }
    }
    tc_batch_result_free(result);
}

/* ---- the HTTP ops: signed requests made before timing, each with a nonce of its own ---- */

typedef struct http_pool {
    tc_pair_list **made; /* the headers tc_http_sign_request made, one list per request */
    tc_pair **lines;     /* per request: the Host line, then the signed headers (borrowed from `made`) */
    size_t *counts;
    size_t count, next;
    const char *name;
} http_pool;

static const tc_pair http_host = {"Host", 4, HTTP_AUTHORITY, sizeof HTTP_AUTHORITY - 1};

static void http_pool_make(http_pool *p, uint32_t profile, size_t count, const char *name) {
    tc_error *err = NULL;
    *p = (http_pool){.made = malloc(count * sizeof *p->made), .lines = malloc(count * sizeof *p->lines),
                     .counts = malloc(count * sizeof *p->counts), .count = count, .name = name};
    unsigned serial = pool_serial++;
    for (size_t i = 0; i < count; i++) {
        char nonce[48];
        int n = snprintf(nonce, sizeof nonce, "h%u-%zu", serial, i);
        tc_http_sign_params params = {.method = "POST", .method_len = 4, .url = "/lease", .url_len = 6,
                                      .headers = &http_host, .headers_count = 1,
                                      .body = (const uint8_t *)body_1kib, .body_len = sizeof body_1kib,
                                      .profile = profile, .created = {true, (int64_t)NOW},
                                      .nonce = {true, nonce, (size_t)n}};
        must(tc_http_sign_request(holder, (const char *)tc_bytes_data(token_b64), tc_bytes_len(token_b64), &params,
                                  &p->made[i], &err),
             err, "sign request");
        size_t added = tc_pair_list_count(p->made[i]);
        p->counts[i] = 1 + added;
        p->lines[i] = malloc(p->counts[i] * sizeof **p->lines);
        p->lines[i][0] = http_host;
        for (size_t h = 0; h < added; h++)
            p->lines[i][1 + h] = tc_pair_list_get(p->made[i], h);
    }
}

static void http_pool_free(http_pool *p) {
    for (size_t i = 0; i < p->count; i++) {
        free(p->lines[i]);
        tc_pair_list_free(p->made[i]);
    }
    free(p->made);
    free(p->lines);
    free(p->counts);
    memset(p, 0, sizeof *p);
}

typedef struct http_cached {
    tc_verifier *verifier;
    const tc_http_policy *policy;
    http_pool *pool;
} http_cached;

static void http_decide(const http_cached *c, const tc_pair *lines, size_t count) {
    tc_error *err = NULL;
    tc_decision *decision = NULL;
    double now = NOW;
    tc_http_request request = {"POST", 4, "/lease", 6, lines, count, (const uint8_t *)body_1kib, sizeof body_1kib};
    must(tc_verifier_decide(c->verifier, &request, c->policy, policy_facts, 1, &now, &decision, &err), err, "decide");
    if (!tc_decision_allowed(decision)) {
        fprintf(stderr, "bench-c: %s: refused, %u %s: %s\n", c->pool->name, (unsigned)tc_decision_status(decision),
                tc_status_name(tc_decision_code(decision)), tc_decision_message(decision).ptr);
        exit(1);
    }
    tc_decision_free(decision);
}

static void op_http_cached(void *ctx) {
    http_cached *c = ctx;
    http_pool *p = c->pool;
    if (p->next >= p->count) {
        fprintf(stderr, "bench-c: the request pool of %s ran out (a nonce is never reused)\n", p->name);
        exit(1);
    }
    size_t i = p->next++;
    http_decide(c, p->lines[i], p->counts[i]);
}

static tc_verifier *verifier_new(const tc_verifier_options *options) {
    tc_error *err = NULL;
    tc_verifier *v = NULL;
    must(tc_verifier_new(trusted, options, NULL, 0, &v, &err), err, "verifier");
    return v;
}

/* the token enters the verifier's cache before timing: the cached ops measure the cached path */
static void warm_cache(tc_verifier *v) {
    pool p;
    pool_make(&p, &requests[BODY_2B], 1, "cache warm-up");
    authenticate_cached(v, pool_take(&p), &requests[BODY_2B], true);
    pool_free(&p);
}

/* ---- throughput: the per-request path by 1 and 2 pthreads, about 1 s each ---- */

#define THROUGHPUT_SECONDS 1.0

typedef struct worker {
    pthread_t thread;
    pthread_barrier_t *start_line;
    tc_verifier *verifier; /* NULL: uncached */
    pool pool;
    double *start;
    size_t requests;
    double end;
} worker;

static void *throughput_worker(void *arg) {
    worker *w = arg;
    pthread_barrier_wait(w->start_line);
    double deadline = *w->start + THROUGHPUT_SECONDS;
    double t;
    do {
        if (w->verifier)
            authenticate_cached(w->verifier, pool_take(&w->pool), &requests[BODY_2B], true);
        else
            per_request_uncached();
        w->requests++;
    } while ((t = now_s()) < deadline);
    w->end = t;
    return NULL;
}

/* `cached_ns`: the measured single-thread per_request_cached median, to size each thread's pool */
static void throughput(const char *op, tc_verifier *verifier, double cached_ns) {
    for (int threads = 1; threads <= 2; threads++) {
        fprintf(stderr, "bench-c: %s, %d thread(s)\n", op, threads);
        worker w[2];
        pthread_barrier_t start_line;
        pthread_barrier_init(&start_line, NULL, (unsigned)threads + 1);
        double start = 0;
        for (int i = 0; i < threads; i++) {
            w[i] = (worker){.start_line = &start_line, .verifier = verifier, .start = &start};
            /* half as much again as one thread alone would use in the time, and some */
            if (verifier)
                pool_make(&w[i].pool, &requests[BODY_2B],
                          (size_t)(1.5 * THROUGHPUT_SECONDS * 1e9 / cached_ns) + 2000, "throughput_cached");
        }
        for (int i = 0; i < threads; i++)
            pthread_create(&w[i].thread, NULL, throughput_worker, &w[i]);
        start = now_s(); /* written before the barrier releases the workers */
        pthread_barrier_wait(&start_line);
        size_t total = 0;
        double end = start;
        for (int i = 0; i < threads; i++) {
            pthread_join(w[i].thread, NULL);
            total += w[i].requests;
            if (w[i].end > end) end = w[i].end;
            if (verifier) pool_free(&w[i].pool);
        }
        pthread_barrier_destroy(&start_line);
        double seconds = end - start;
        fprintf(out,
                "{\"impl\":\"c\",\"op\":\"%s\",\"threads\":%d,\"unit\":\"req/s\",\"value\":%.1f,\"requests\":%zu,"
                "\"seconds\":%.3f}\n",
                op, threads, (double)total / seconds, total, seconds);
        fflush(out);
    }
}

/* a short timed burst of `n` calls (not a reported figure): the time per call, to size a pool */
static double estimate_ns(op_fn fn, void *ctx, size_t n) {
    double t0 = now_s();
    for (size_t i = 0; i < n; i++)
        fn(ctx);
    return (now_s() - t0) / (double)n * 1e9;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT.jsonl (or - for standard output)\n", argv[0]);
        return 2;
    }
    out = strcmp(argv[1], "-") == 0 ? stdout : fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    fixture_init();

    measure("mint", op_mint, NULL, 0, 1);
    measure("make_proof", op_make_proof, NULL, 0, 1);
    static const char *uncached_ops[BODIES] = {"authenticate_uncached_2B", "authenticate_uncached_1KiB",
                                               "authenticate_uncached_1MiB"};
    static const char *cached_ops[BODIES] = {"authenticate_cached_2B", "authenticate_cached_1KiB",
                                             "authenticate_cached_1MiB"};
    int bodies[BODIES] = {BODY_2B, BODY_1KIB, BODY_1MIB};
    for (int b = 0; b < BODIES; b++)
        measure(uncached_ops[b], op_authenticate_uncached, &bodies[b], 0, 1);

    /* one Verifier with memory stores for the cached ops and throughput_cached; its replay store holds
     * every nonce used (at the fixed NOW none expires) */
    tc_verifier_options options = tc_verifier_options_default();
    options.replay_capacity = 1000000;
    /* the fixture has one holder: its share is the whole store (core's default is a quarter) */
    options.replay_capacity_per_holder = (tc_optional_usize){.has = true, .value = options.replay_capacity};
    tc_verifier *memory = verifier_new(&options);
    warm_cache(memory);
    for (int b = 0; b < BODIES; b++) {
        pool p;
        size_t n = b == BODY_1MIB ? POOL_LARGE : POOL_SMALL;
        pool_make(&p, &requests[b], n, cached_ops[b]);
        cached c = {memory, &p, b};
        measure(cached_ops[b], op_authenticate_cached, &c, n, 1);
        pool_free(&p);
    }
    measure("check_policy", op_check_policy, NULL, 0, 1);
    measure("per_request_uncached", op_per_request_uncached, NULL, 0, 1);
    pool p;
    pool_make(&p, &requests[BODY_2B], POOL_SMALL, "per_request_cached");
    cached c = {memory, &p, BODY_2B};
    measure("per_request_cached", op_per_request_cached, &c, POOL_SMALL, 1);
    pool_free(&p);

    /* right after it (the HTTP goal compares the two): the decision function, cached token, 1 KiB body,
     * each profile on a Verifier of its own (the cached ops' options plus the authority) */
    {
        tc_error *err = NULL;
        tc_http_policy *policy = NULL;
        must(tc_http_policy_from_json(HTTP_POLICY, strlen(HTTP_POLICY), &policy, &err), err, "http policy");
        static const tc_str authorities[] = {{HTTP_AUTHORITY, sizeof HTTP_AUTHORITY - 1}};
        tc_verifier_options http_options = options;
        http_options.authorities = authorities;
        http_options.authorities_count = 1;
        static const char *http_ops[2] = {"http_rfc9421_cached", "http_legacy_cached"};
        static const uint32_t http_profiles[2] = {TC_HTTP_PROFILE_RFC9421, TC_HTTP_PROFILE_LEGACY};
        for (int h = 0; h < 2; h++) {
            http_pool warm, hp;
            http_cached hc = {verifier_new(&http_options), policy, &warm};
            http_pool_make(&warm, http_profiles[h], 1, http_ops[h]);
            op_http_cached(&hc); /* the token cached */
            http_pool_free(&warm);
            http_pool_make(&hp, http_profiles[h], POOL_SMALL, http_ops[h]);
            hc.pool = &hp;
            measure(http_ops[h], op_http_cached, &hc, POOL_SMALL, 1);
            http_pool_free(&hp);
            tc_verifier_free(hc.verifier);
        }
        tc_http_policy_free(policy);
    }

    redis_server redis;
    if (!redis_server_start(&redis)) {
        fprintf(stderr, "bench-c: redis-server did not start (make setup-redis installs it)\n");
        return 1;
    }
    tc_verifier_options redis_options = tc_verifier_options_default();
    redis_options.redis.has = true;
    redis_options.redis.value.url = redis.tcp_url;
    redis_options.redis.value.url_len = strlen(redis.tcp_url);
    redis_options.redis.value.key_prefix = "bench-c:";
    redis_options.redis.value.key_prefix_len = strlen("bench-c:");
    tc_verifier *on_redis = verifier_new(&redis_options);
    warm_cache(on_redis);
    pool_make(&p, &requests[BODY_2B], POOL_SMALL, "per_request_cached_redis");
    c = (cached){on_redis, &p, BODY_2B};
    measure("per_request_cached_redis", op_per_request_cached, &c, POOL_SMALL, 1);
    pool_free(&p);
    tc_verifier_free(on_redis);
    redis_server_free(&redis);

    measure("sign_job", op_sign_job, NULL, 0, 1);
    measure("verify_job", op_verify_job, NULL, 0, 1);

    char *bin = signer_binary(NULL);
    signer_daemon daemon;
    if (!signer_daemon_start(&daemon, bin, SEED_ISSUER, NULL, 0)) return 1;
    tc_error *err = NULL;
    tc_signer_client *client = NULL;
    must(tc_signer_client_new(daemon.socket, strlen(daemon.socket), 1000, 5000, &client, &err), err, "signer client");
    signer_request =
        (tc_mint_request){holder_hex, 64, "gpu-1", 5, mint_facts, 1, {true, "rev-1", 5}, NOW + 3600, {false, 0}, 0};
    measure("signer_mint_socket", op_signer_mint, client, 0, 1);
    tc_signer_client_free(client);
    if (!signer_daemon_stop(&daemon)) return 1;
    free(bin);

    /* 64 fresh requests a sample, each op on a Verifier of its own (memory stores) */
    static const char *batch_ops[2] = {"batch64_one_by_one", "batch64"};
    for (int batched = 0; batched < 2; batched++) {
        pool_make(&p, &requests[BODY_2B], POOL_SMALL, batch_ops[batched]);
        batch b = {.verifier = verifier_new(&options), .pool = &p, .batched = batched};
        for (int i = 0; i < BATCH; i++)
            b.requests[i] = requests[BODY_2B];
        warm_cache(b.verifier);
        measure(batch_ops[batched], op_batch, &b, POOL_SMALL / BATCH, BATCH);
        tc_verifier_free(b.verifier);
        pool_free(&p);
    }

    throughput("throughput_uncached", NULL, 0);
    pool_make(&p, &requests[BODY_2B], 200, "throughput sizing");
    c = (cached){memory, &p, BODY_2B};
    double cached_ns = estimate_ns(op_per_request_cached, &c, 200);
    pool_free(&p);
    throughput("throughput_cached", memory, cached_ns);
    tc_verifier_free(memory);

    for (int b = 0; b < BODIES; b++)
        tc_proof_free(stateless_proofs[b]);
    tc_token_free(token);
    tc_bytes_free(token_b64);
    tc_issuer_keys_free(trusted);
    tc_worker_key_free(holder);
    tc_issuer_key_free(issuer);
    free(body_1mib);
    if (out != stdout && fclose(out) != 0) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
