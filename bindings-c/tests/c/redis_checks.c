/* tc_verifier's store options: misuse (the optional Redis struct, bad URLs, zero timeouts, an
 * unreachable Redis), then verifiers sharing a real redis-server (over TCP and over its Unix socket):
 * a nonce accepted once across them, a revocation by one refusing the token in the other, threads
 * sharing one Redis verifier, and Redis killed under them: STORE_UNAVAILABLE for every request (none
 * accepted), with SIGPIPE at its default action and the process alive; restarted on the same port,
 * service resumes. Then a real Redis Cluster (`testenv redis-cluster`, 3 masters and 3 replicas):
 * the options' seed nodes, a nonce accepted once, a revocation on every shard, core refusing a URL
 * and seed nodes together. */
#define _GNU_SOURCE

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "check.h"
#include "fixture.h"
#include "redis_server.h"

void redis_checks(const fixture *f); /* called by misuse.c */

static void expect(int line, tc_status got, tc_error *err, tc_status want) {
    if (got != want || err == NULL || tc_error_code(err) != want || strlen(tc_error_message(err)) == 0) {
        checks_failed++;
        fprintf(stderr, "redis_checks.c:%d: expected %s, got %s (%s)\n", line, tc_status_name(want),
                tc_status_name(got), tc_error_message(err));
    } else {
        checks_passed++;
    }
    tc_error_free(err);
}

#define EXPECT_ERROR(want, call)                                                                                       \
    do {                                                                                                               \
        tc_error *err = NULL;                                                                                          \
        tc_status got_ = (call);                                                                                       \
        expect(__LINE__, got_, err, (want));                                                                           \
    } while (0)

#define EXPECT_OK(call)                                                                                                \
    do {                                                                                                               \
        tc_error *err = NULL;                                                                                          \
        tc_status got_ = (call);                                                                                       \
        if (got_ == TC_OK && err == NULL) {                                                                            \
            checks_passed++;                                                                                           \
        } else {                                                                                                       \
            checks_failed++;                                                                                           \
            fprintf(stderr, "redis_checks.c:%d: expected OK, got %s (%s)\n", __LINE__, tc_status_name(got_),          \
                    tc_error_message(err));                                                                            \
            tc_error_free(err);                                                                                        \
        }                                                                                                              \
    } while (0)

static bool sigpipe_pending(void) {
    sigset_t pending;
    sigpending(&pending);
    return sigismember(&pending, SIGPIPE) == 1;
}

/* A proof of the fixture's token under `nonce`, at the fixture's time. */
static tc_proof *proof_for(const fixture *f, const char *nonce) {
    tc_proof *proof = NULL;
    if (tc_make_proof(f->worker, (const char *)tc_bytes_data(f->token_b64), tc_bytes_len(f->token_b64), &f->request,
                      S("1700000000"), S(nonce), &proof, NULL) != TC_OK)
        abort();
    return proof;
}

/* Authenticate the fixture's request under `nonce`; the status alone. */
static tc_status request(const fixture *f, const tc_verifier *v, const char *nonce) {
    tc_proof *proof = proof_for(f, nonce);
    double now = FIXTURE_NOW;
    tc_status st = tc_verifier_authenticate(v, proof, &f->request, &now, NULL, NULL, NULL);
    tc_proof_free(proof);
    return st;
}

/* Whether `v` serves requests again within 5 s of Redis returning: after a failure core's circuit
 * breaker fails at once for its retry_interval (1 s), then lets one probe through at a time (as
 * core/tests/redis_store.rs waits; a bound, never a timing that is asserted). */
static bool resumes(const fixture *f, const tc_verifier *v, const char *tag) {
    for (int i = 0; i < 100; i++) {
        thrd_sleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
        char nonce[32];
        snprintf(nonce, sizeof nonce, "%s-probe-%d", tag, i);
        if (request(f, v, nonce) == TC_OK) return true;
    }
    return false;
}

#define EXPECT_REQUEST(want, v, nonce)                                                                                 \
    do {                                                                                                               \
        tc_proof *proof_ = proof_for(f, (nonce));                                                                      \
        double now_ = FIXTURE_NOW;                                                                                     \
        tc_error *err = NULL;                                                                                          \
        tc_status got_ = tc_verifier_authenticate((v), proof_, &f->request, &now_, NULL, NULL, &err);                  \
        tc_proof_free(proof_);                                                                                         \
        if ((want) == TC_OK) {                                                                                         \
            CHECK(got_ == TC_OK && err == NULL);                                                                       \
            if (got_ != TC_OK) fprintf(stderr, "  %s: %s (%s)\n", (nonce), tc_status_name(got_), tc_error_message(err)); \
            tc_error_free(err);                                                                                        \
        } else {                                                                                                       \
            expect(__LINE__, got_, err, (want));                                                                       \
        }                                                                                                              \
    } while (0)

/* Options with Redis at `url` (core's other Redis defaults); `prefix` NULL keeps the default prefix. */
static tc_verifier_options redis_options(const char *url, const char *prefix) {
    tc_verifier_options o = tc_verifier_options_default();
    o.limits = tc_limits_default();
    o.limits.max_time_ns = 2000000000u; /* threads and valgrind: this is about stores, not limits */
    o.redis.has = true;
    o.redis.value.command_timeout_ms = 2000; /* a loaded machine must not turn a slow answer into a failure */
    o.redis.value.url = url;
    o.redis.value.url_len = strlen(url);
    if (prefix) {
        o.redis.value.key_prefix = prefix;
        o.redis.value.key_prefix_len = strlen(prefix);
    }
    return o;
}

/* ---- misuse, no Redis needed ---------------------------------------------------------------------- */

static void option_misuse(const fixture *f) {
    /* the defaults are core's; Redis is an optional struct, not set, its value core's Redis defaults */
    tc_verifier_options d = tc_verifier_options_default();
    const tc_redis_options rd = tc_redis_options_default();
    CHECK(!d.redis.has);
    CHECK(rd.url == NULL && rd.url_len == 0);
    CHECK(rd.key_prefix_len == 10 && !memcmp(rd.key_prefix, "trustcore:", 10));
    CHECK(!strcmp(rd.key_prefix, "trustcore:")); /* a NUL follows it, so it also prints as a string */
    CHECK(rd.connect_timeout_ms == 1000 && rd.command_timeout_ms == 500 && rd.max_idle == 8);
    CHECK(rd.retry_interval_ms == 1000); /* core's circuit breaker: 1 s */
    CHECK(rd.request_timeout_ms == 1000); /* all of one request's Redis work: 1 s */
    CHECK(d.redis.value.url == rd.url && d.redis.value.url_len == rd.url_len &&
          d.redis.value.key_prefix == rd.key_prefix && d.redis.value.key_prefix_len == rd.key_prefix_len &&
          d.redis.value.connect_timeout_ms == rd.connect_timeout_ms &&
          d.redis.value.command_timeout_ms == rd.command_timeout_ms &&
          d.redis.value.request_timeout_ms == rd.request_timeout_ms &&
          d.redis.value.retry_interval_ms == rd.retry_interval_ms && d.redis.value.max_idle == rd.max_idle);
    CHECK(d.token_cache_capacity == 10000 && d.replay_capacity == 100000);

    tc_verifier *v = (tc_verifier *)f; /* a stale value: a failure resets it */
    /* Redis asked for with the default URL, which is empty (NULL, length 0): core refuses it */
    tc_verifier_options o = tc_verifier_options_default();
    o.redis.has = true;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
    CHECK(v == NULL);
    v = (tc_verifier *)f;
    /* URLs that do not parse, an empty non-NULL one included */
    const char *bad[] = {"not a url", "", "http://127.0.0.1:6379/", "redis://127.0.0.1:notaport/"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        o = redis_options(bad[i], NULL);
        EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
        CHECK(v == NULL);
        v = (tc_verifier *)f;
    }
    o = redis_options("redis://127.0.0.1:1/", NULL);
    o.redis.value.url = "redis://\xff:1/";
    o.redis.value.url_len = 11;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
    o = redis_options("redis://127.0.0.1:1/", NULL);
    o.redis.value.url = NULL; /* NULL with a length */
    o.redis.value.url_len = 5;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
    o = redis_options("redis://127.0.0.1:1/", NULL);
    o.redis.value.key_prefix = NULL; /* NULL with a length */
    o.redis.value.key_prefix_len = 3;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
    o = redis_options("redis://127.0.0.1:1/", "\xc3\x28");
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
    /* zero timeouts, and timeouts past a day: core refuses each (the binding only converts) */
    const struct {
        const char *name;
        size_t offset;
        uint32_t ms;
    } timeouts[] = {
        {"connect 0", offsetof(tc_redis_options, connect_timeout_ms), 0},
        {"command 0", offsetof(tc_redis_options, command_timeout_ms), 0},
        {"request 0", offsetof(tc_redis_options, request_timeout_ms), 0},
        {"retry 0", offsetof(tc_redis_options, retry_interval_ms), 0}, /* the breaker follows the timeouts' rule */
        {"connect max", offsetof(tc_redis_options, connect_timeout_ms), UINT32_MAX},
        {"command a day + 1 ms", offsetof(tc_redis_options, command_timeout_ms), 86400001u},
        {"request a day + 1 ms", offsetof(tc_redis_options, request_timeout_ms), 86400001u},
        {"retry a day + 1 ms", offsetof(tc_redis_options, retry_interval_ms), 86400001u},
    };
    for (size_t i = 0; i < sizeof timeouts / sizeof *timeouts; i++) {
        o = redis_options("redis://127.0.0.1:1/", NULL);
        memcpy((char *)&o.redis.value + timeouts[i].offset, &timeouts[i].ms, sizeof(uint32_t));
        tc_error *err = NULL;
        tc_status got = tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err);
        if (got != TC_MALFORMED_INPUT) fprintf(stderr, "redis timeout %s: %s\n", timeouts[i].name, tc_status_name(got));
        expect(__LINE__, got, err, TC_MALFORMED_INPUT);
        CHECK(v == NULL);
        v = (tc_verifier *)f;
    }
    /* a day exactly, an empty key prefix (NULL, length 0: no prefix, never "the default") and no idle
     * connections are all accepted: building connects nowhere */
    o = redis_options("redis://127.0.0.1:1/", NULL);
    o.redis.value.connect_timeout_ms = o.redis.value.command_timeout_ms = 86400000u;
    o.redis.value.request_timeout_ms = o.redis.value.retry_interval_ms = 86400000u;
    o.redis.value.key_prefix = NULL;
    o.redis.value.key_prefix_len = 0;
    o.redis.value.max_idle = 0;
    CHECK(tc_verifier_new(f->trusted, &o, NULL, 0, &v, NULL) == TC_OK && v != NULL);
    tc_verifier_free(v);
    /* with redis.has false its value is not read at all: neither the bad parts nor the URL (a URL
     * set without `has` leaves the stores in this process; this request is served without Redis) */
    o = tc_verifier_options_default();
    o.limits = f->limits;
    o.redis.value.url = NULL;
    o.redis.value.url_len = 5;
    o.redis.value.key_prefix = "\xc3\x28";
    o.redis.value.key_prefix_len = 2;
    o.redis.value.connect_timeout_ms = 0;
    o.redis.value.command_timeout_ms = 0;
    o.redis.value.request_timeout_ms = 0;
    o.redis.value.retry_interval_ms = 0;
    CHECK(tc_verifier_new(f->trusted, &o, NULL, 0, &v, NULL) == TC_OK && v != NULL);
    tc_verifier_free(v);
    o.redis.value = tc_redis_options_default();
    o.redis.value.url = "redis://127.0.0.1:1/"; /* nobody listens there */
    o.redis.value.url_len = strlen(o.redis.value.url);
    CHECK(tc_verifier_new(f->trusted, &o, NULL, 0, &v, NULL) == TC_OK && v != NULL);
    CHECK(request(f, v, "not-read-1") == TC_OK);
    tc_verifier_free(v);
    /* the skew: negative, not a number, over a day; 0 (no skew at all) is a real value */
    o = tc_verifier_options_default();
    o.max_skew_seconds = -1;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
    o.max_skew_seconds = 0.0 / 0.0;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
    o.max_skew_seconds = 86400.5;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
    o.max_skew_seconds = 0;
    o.limits = f->limits;
    CHECK(tc_verifier_new(f->trusted, &o, NULL, 0, &v, NULL) == TC_OK && v != NULL);
    {
        /* the fixture's proof is stamped 1700000000: fresh at that second, stale one second after */
        tc_proof *p = proof_for(f, "skew-0");
        double at = 1700000000.0, after = 1700000001.0;
        CHECK(tc_verifier_authenticate(v, p, &f->request, &after, NULL, NULL, NULL) == TC_STALE_REQUEST);
        CHECK(tc_verifier_authenticate(v, p, &f->request, &at, NULL, NULL, NULL) == TC_OK);
        tc_proof_free(p);
    }
    tc_verifier_free(v);
    /* a NULL out-parameter is refused before anything is built (or written to Redis) */
    o = redis_options("redis://127.0.0.1:1/", NULL);
    const tc_str revoked[] = {{S("rev-9")}};
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &o, revoked, 1, NULL, &err));

    /* a password in the URL never reaches a message */
    o = redis_options("redis://user:hunter2@127.0.0.1:1/", NULL);
    o.redis.value.command_timeout_ms = 0;
    tc_error *err = NULL;
    CHECK(tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err) == TC_MALFORMED_INPUT);
    CHECK(err && strstr(tc_error_message(err), "hunter2") == NULL);
    tc_error_free(err);
    err = NULL;

    /* nobody listens: building works (Redis is reached on first use), every request is
     * STORE_UNAVAILABLE, never a pass; initial revoked ids cannot be written, so that build fails */
    o = redis_options("redis://user:hunter2@127.0.0.1:1/", "c-nowhere:");
    CHECK(tc_verifier_new(f->trusted, &o, NULL, 0, &v, NULL) == TC_OK && v != NULL);
    double now = FIXTURE_NOW;
    CHECK(tc_verifier_authenticate(v, f->proof, &f->request, &now, NULL, NULL, &err) == TC_STORE_UNAVAILABLE);
    CHECK(err && strstr(tc_error_message(err), "hunter2") == NULL);
    tc_error_free(err);
    EXPECT_ERROR(TC_STORE_UNAVAILABLE, tc_verifier_revoke(v, S("rev-2"), &err));
    tc_verifier_free(v);
    v = (tc_verifier *)f;
    EXPECT_ERROR(TC_STORE_UNAVAILABLE, tc_verifier_new(f->trusted, &o, revoked, 1, &v, &err));
    CHECK(v == NULL);

    /* token_cache_capacity 0: no cache, every request verifies its token */
    o = tc_verifier_options_default();
    o.limits = f->limits;
    o.token_cache_capacity = 0;
    CHECK(tc_verifier_new(f->trusted, &o, NULL, 0, &v, NULL) == TC_OK);
    CHECK(request(f, v, "nc-1") == TC_OK && request(f, v, "nc-2") == TC_OK && request(f, v, "nc-1") == TC_REPLAYED);
    uint64_t hits = 9, misses = 9;
    tc_verifier_cache_stats(v, &hits, &misses, NULL, NULL);
    CHECK(hits == 0 && misses == 0);
    tc_verifier_free(v);
    /* a cache of one: the same token hits */
    o.token_cache_capacity = 1;
    CHECK(tc_verifier_new(f->trusted, &o, NULL, 0, &v, NULL) == TC_OK);
    CHECK(request(f, v, "c1-1") == TC_OK && request(f, v, "c1-2") == TC_OK);
    tc_verifier_cache_stats(v, &hits, &misses, NULL, NULL);
    CHECK(hits == 1 && misses == 1);
    tc_verifier_free(v);
    /* replay_capacity reaches the in-process store: full and nothing expired refuses (the holder's
     * share set above the store's size, so that the store fills before the one holder's share) */
    o.replay_capacity = 1;
    o.replay_capacity_per_holder = (tc_optional_usize){.has = true, .value = 2};
    CHECK(tc_verifier_new(f->trusted, &o, NULL, 0, &v, NULL) == TC_OK);
    CHECK(request(f, v, "rc-1") == TC_OK);
    EXPECT_ERROR(TC_STORE_UNAVAILABLE, tc_verifier_authenticate(v, f->proof, &f->request, &now, NULL, NULL, &err));
    tc_verifier_free(v);
}

/* ---- threads sharing one Redis verifier --------------------------------------------------------- */

enum { THREADS = 4, ROUNDS = 25 };

typedef struct job {
    const fixture *f;
    const tc_verifier *verifier;
    int id, ok, failed;
} job;

static int worker(void *arg) {
    job *j = arg;
    for (int i = 0; i < ROUNDS; i++) {
        char nonce[32];
        snprintf(nonce, sizeof nonce, "thr-%d-%d", j->id, i);
        tc_status first = request(j->f, j->verifier, nonce), again = request(j->f, j->verifier, nonce);
        if (first == TC_OK && again == TC_REPLAYED)
            j->ok++;
        else {
            j->failed++;
            fprintf(stderr, "redis thread %d round %d: %s %s\n", j->id, i, tc_status_name(first),
                    tc_status_name(again));
        }
    }
    return 0;
}

static void threads_share_a_redis_verifier(const fixture *f, const tc_verifier *v) {
    thrd_t threads[THREADS];
    job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){f, v, i, 0, 0};
        CHECK(thrd_create(&threads[i], worker, &jobs[i]) == thrd_success);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(thrd_join(threads[i], NULL) == thrd_success);
        CHECK(jobs[i].ok == ROUNDS && jobs[i].failed == 0);
    }
}

/* ---- against a live redis-server ------------------------------------------------------------------ */

static tc_verifier *redis_verifier(const fixture *f, const char *url, const char *prefix) {
    tc_verifier_options o = redis_options(url, prefix);
    tc_verifier *v = NULL;
    EXPECT_OK(tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
    return v;
}

static void shared_stores(const fixture *f, const redis_server *r) {
    tc_verifier *a = redis_verifier(f, r->tcp_url, "c-live:");
    tc_verifier *b = redis_verifier(f, r->unix_url, "c-live:");
    tc_verifier *other = redis_verifier(f, r->tcp_url, "c-elsewhere:");
    if (!a || !b || !other) goto done;
    /* a nonce is accepted once, whichever verifier sees it */
    tc_proof *p1 = proof_for(f, "live-1");
    double now = FIXTURE_NOW;
    tc_token *token = NULL;
    EXPECT_OK(tc_verifier_authenticate(a, p1, &f->request, &now, &token, NULL, &err));
    const tc_pair facts[] = {{S("req_operation"), S("lease")}};
    if (token)
        EXPECT_OK(tc_verifier_check_policy(a, token, facts, 1, S("allow if req_operation(\"lease\"), lane(\"gpu\")"),
                                           &now, &err));
    tc_token_free(token);
    EXPECT_ERROR(TC_REPLAYED, tc_verifier_authenticate(a, p1, &f->request, &now, NULL, NULL, &err));
    EXPECT_ERROR(TC_REPLAYED, tc_verifier_authenticate(b, p1, &f->request, &now, NULL, NULL, &err));
    tc_proof_free(p1);
    EXPECT_REQUEST(TC_OK, b, "live-2");
    EXPECT_REQUEST(TC_REPLAYED, a, "live-2");
    /* another key prefix is another namespace */
    EXPECT_REQUEST(TC_OK, other, "live-1");
    /* a revocation written by one is read by the other, from its next request (its token is cached) */
    EXPECT_REQUEST(TC_OK, a, "live-3");
    EXPECT_OK(tc_verifier_revoke(b, S("rev-1"), &err));
    EXPECT_REQUEST(TC_REVOKED, a, "live-4");
    EXPECT_REQUEST(TC_REVOKED, b, "live-5");
    EXPECT_REQUEST(TC_OK, other, "live-6");
    /* initial revoked ids go to the shared set */
    tc_verifier_options o = redis_options(r->unix_url, "c-initial:");
    const tc_str revoked[] = {{S("rev-1")}};
    tc_verifier *initial = NULL, *peer = redis_verifier(f, r->tcp_url, "c-initial:");
    EXPECT_OK(tc_verifier_new(f->trusted, &o, revoked, 1, &initial, &err));
    if (peer) EXPECT_REQUEST(TC_REVOKED, peer, "init-1");
    tc_verifier_free(initial);
    tc_verifier_free(peer);
done:
    tc_verifier_free(other);
    tc_verifier_free(b);
    tc_verifier_free(a);
}

/* The key prefix: the default one is core's "trustcore:" (a verifier naming it shares the default's
 * stores); an empty one (NULL, length 0) is no prefix at all, another namespace. max_idle 0 (a
 * connection per command) is a real value too. */
static void key_prefixes(const fixture *f, const redis_server *r) {
    tc_verifier *by_default = redis_verifier(f, r->tcp_url, NULL);
    tc_verifier *named = redis_verifier(f, r->unix_url, "trustcore:");
    tc_verifier *empty = NULL;
    tc_verifier_options o = redis_options(r->tcp_url, NULL);
    o.redis.value.key_prefix = NULL;
    o.redis.value.key_prefix_len = 0;
    o.redis.value.max_idle = 0;
    EXPECT_OK(tc_verifier_new(f->trusted, &o, NULL, 0, &empty, &err));
    if (!by_default || !named || !empty) goto done;
    EXPECT_REQUEST(TC_OK, by_default, "prefix-1");
    EXPECT_REQUEST(TC_REPLAYED, named, "prefix-1");
    EXPECT_REQUEST(TC_OK, empty, "prefix-1");
    EXPECT_REQUEST(TC_REPLAYED, empty, "prefix-1");
    EXPECT_REQUEST(TC_OK, named, "prefix-2");
    EXPECT_REQUEST(TC_REPLAYED, by_default, "prefix-2");
done:
    tc_verifier_free(empty);
    tc_verifier_free(named);
    tc_verifier_free(by_default);
}

static void redis_killed(const fixture *f, redis_server *r) {
    /* SIGPIPE at its default action (it would end the process) and not blocked on this thread */
    struct sigaction dfl = {.sa_handler = SIG_DFL}, was;
    sigemptyset(&dfl.sa_mask);
    CHECK(sigaction(SIGPIPE, &dfl, &was) == 0);
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    CHECK(pthread_sigmask(SIG_UNBLOCK, &pipe_only, NULL) == 0);

    tc_verifier *over_unix = redis_verifier(f, r->unix_url, "c-kill:");
    tc_verifier *over_tcp = redis_verifier(f, r->tcp_url, "c-kill:");
    if (!over_unix || !over_tcp) goto done;
    /* both keep their connections for the next request */
    EXPECT_REQUEST(TC_OK, over_unix, "kill-1");
    EXPECT_REQUEST(TC_OK, over_tcp, "kill-2");
    threads_share_a_redis_verifier(f, over_unix);
    redis_server_kill(r);
    bool pending_before = sigpipe_pending();
    /* the kept connections are dead (writing the Unix one raises SIGPIPE, held back in core), then
     * fresh ones find nobody: every request STORE_UNAVAILABLE, none accepted */
    int accepted = 0, unavailable = 0;
    for (int i = 0; i < 20; i++) {
        char nonce[32];
        snprintf(nonce, sizeof nonce, "down-%d", i);
        tc_status u = request(f, over_unix, nonce), t = request(f, over_tcp, nonce);
        accepted += (u == TC_OK) + (t == TC_OK);
        unavailable += (u == TC_STORE_UNAVAILABLE) + (t == TC_STORE_UNAVAILABLE);
    }
    CHECK(accepted == 0 && unavailable == 40);
    EXPECT_ERROR(TC_STORE_UNAVAILABLE, tc_verifier_revoke(over_unix, S("rev-3"), &err));
    EXPECT_ERROR(TC_STORE_UNAVAILABLE, tc_verifier_revoke(over_tcp, S("rev-3"), &err));
    CHECK(sigpipe_pending() == pending_before);
    struct sigaction now_set;
    CHECK(sigaction(SIGPIPE, NULL, &now_set) == 0 && now_set.sa_handler == SIG_DFL);
    /* back on the same port and socket (empty: it persisted nothing): service resumes by itself, once
     * the circuit breaker lets a probe through */
    CHECK(redis_server_restart(r));
    CHECK(resumes(f, over_unix, "unix"));
    CHECK(resumes(f, over_tcp, "tcp"));
    EXPECT_REQUEST(TC_OK, over_unix, "back-1");
    EXPECT_REQUEST(TC_OK, over_tcp, "back-2");
    EXPECT_REQUEST(TC_REPLAYED, over_tcp, "back-1");
    EXPECT_REQUEST(TC_REPLAYED, over_unix, "back-2");
done:
    tc_verifier_free(over_tcp);
    tc_verifier_free(over_unix);
    sigaction(SIGPIPE, &was, NULL);
}

/* A verifier on the cluster testenv started (`ready` its first line). */
static void cluster_checks(const fixture *f, const cJSON *ready) {
    const cJSON *urls = cJSON_GetObjectItemCaseSensitive(ready, "urls");
    tc_str seeds[16];
    size_t count = 0;
    const cJSON *url = NULL;
    cJSON_ArrayForEach(url, urls) {
        if (count < 16 && cJSON_IsString(url)) seeds[count++] = (tc_str){url->valuestring, strlen(url->valuestring)};
    }
    CHECK(count == 6);
    tc_verifier_options o = redis_options("", "c-cluster:");
    o.redis.value.url = NULL;
    o.redis.value.url_len = 0;
    o.redis.value.cluster = seeds;
    o.redis.value.cluster_count = count;
    tc_verifier *v = NULL;
    EXPECT_OK(tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
    char nonce[32];
    for (int i = 0; i < 32; i++) {
        snprintf(nonce, sizeof nonce, "cluster-%d", i);
        EXPECT_REQUEST(TC_OK, v, nonce);
        EXPECT_REQUEST(TC_REPLAYED, v, nonce);
    }
    EXPECT_OK(tc_verifier_revoke(v, S("rev-1"), &err));
    for (int i = 0; i < 32; i++) {
        snprintf(nonce, sizeof nonce, "cluster-revoked-%d", i);
        EXPECT_REQUEST(TC_REVOKED, v, nonce);
    }
    tc_verifier_free(v);
    /* a URL and seed nodes together, a prefix with a hash tag: core refuses both */
    tc_verifier *none = NULL;
    tc_verifier_options both = o;
    both.redis.value.url = "redis://127.0.0.1:6379/";
    both.redis.value.url_len = strlen(both.redis.value.url);
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &both, NULL, 0, &none, &err));
    tc_verifier_options tagged = o;
    tagged.redis.value.key_prefix = "{c}:";
    tagged.redis.value.key_prefix_len = 4;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &tagged, NULL, 0, &none, &err));
    CHECK(none == NULL);
}

void redis_checks(const fixture *f) {
    option_misuse(f);
    testenv cluster_env = {.fd = -1};
    const char *args[] = {"redis-cluster", NULL};
    cJSON *ready = testenv_start(&cluster_env, args);
    CHECK(ready != NULL); /* never skipped */
    if (ready) {
        cluster_checks(f, ready);
        cJSON_Delete(ready);
    }
    testenv_close(&cluster_env);
    redis_server r;
    bool started = redis_server_start(&r);
    CHECK(started); /* never skipped: a missing redis-server fails the run */
    if (!started) {
        fprintf(stderr, "redis_checks: redis-server did not start (make setup-redis installs it)\n");
        return;
    }
    shared_stores(f, &r);
    key_prefixes(f, &r);
    redis_killed(f, &r);
    redis_server_free(&r);
}
