/* tc_signer_client: misuse (NULL handles and outputs, bad addresses, zero timeouts), the whole flow
 * against a real `trustcore signer serve` (mint through the signer, proof, authenticate,
 * check_policy), one client shared by several threads, a peer that never answers, and a signer
 * killed under a client that still holds a connection to it (SIGPIPE must not end this process). */
#define _GNU_SOURCE /* mkdtemp */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <threads.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "signer_daemon.h"

void signer_checks(const fixture *f, const char *root); /* called by misuse.c */

/* the fixture's issuer seed: the signer's tokens verify against f->trusted */
static const char issuer_seed[] = "1111111111111111111111111111111111111111111111111111111111111111";

static void expect(int line, tc_status got, tc_error *err, tc_status want) {
    if (got != want || err == NULL || tc_error_code(err) != want || strlen(tc_error_message(err)) == 0) {
        checks_failed++;
        fprintf(stderr, "signer_checks.c:%d: expected %s, got %s (%s)\n", line, tc_status_name(want),
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

/* A call that must succeed: on failure its code and message are printed. */
static bool succeeded(int line, tc_status got, tc_error *err) {
    if (got == TC_OK && err == NULL) {
        checks_passed++;
        return true;
    }
    checks_failed++;
    fprintf(stderr, "signer_checks.c:%d: expected OK, got %s (%s)\n", line, tc_status_name(got), tc_error_message(err));
    tc_error_free(err);
    return false;
}

#define EXPECT_OK(call)                                                                                                \
    do {                                                                                                               \
        tc_error *err = NULL;                                                                                          \
        tc_status got_ = (call);                                                                                       \
        succeeded(__LINE__, got_, err);                                                                                \
    } while (0)

static tc_signer_client *client_for(const char *address, uint32_t request_timeout_ms) {
    tc_signer_client *client = NULL;
    EXPECT_OK(tc_signer_client_new(S(address), 1000, request_timeout_ms, &client, &err));
    return client;
}

static bool sigpipe_pending(void) {
    sigset_t pending;
    sigpending(&pending);
    return sigismember(&pending, SIGPIPE) == 1;
}

/* ---- misuse, no signer needed ------------------------------------------------------------------- */

static void misuse(const fixture *f) {
    tc_signer_client_free(NULL);
    tc_signer_client *client = (tc_signer_client *)f; /* a stale value: a failure resets it */
    /* addresses: neither a path nor a loopback IP:PORT, or not loopback, or not text */
    const char *bad[] = {"", "nowhere", "tcp:10.0.0.1:9", "192.168.1.1:80", "tcp:[::2]:1", "tcp:localhost:9",
                         "tcp:127.0.0.1", "unix:"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_new(S(bad[i]), 1000, 1000, &client, &err));
        CHECK(client == NULL);
    }
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_new(NULL, 4, 1000, 1000, &client, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_new("/tmp/\xff.sock", 10, 1000, 1000, &client, &err));
    /* zero timeouts */
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_new(S("/tmp/s.sock"), 0, 1000, &client, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_new(S("/tmp/s.sock"), 1000, 0, &client, &err));
    CHECK(client == NULL);
    /* a NULL out-parameter; err may be NULL */
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_new(S("/tmp/s.sock"), 1000, 1000, NULL, &err));
    CHECK(tc_signer_client_new(S("nowhere"), 1000, 1000, &client, NULL) == TC_MALFORMED_INPUT);
    /* good addresses: nothing connects yet */
    const char *good[] = {"/nonexistent/signer.sock", "unix:relative.sock", "tcp:127.0.0.1:1", "127.0.0.1:1",
                          "tcp:[::1]:1"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        tc_signer_client *c = client_for(good[i], 1000);
        CHECK(c != NULL);
        tc_signer_client_free(c);
    }

    /* NULL handles: MALFORMED_INPUT, outputs cleared */
    tc_bytes *out = (tc_bytes *)f, *rev = (tc_bytes *)f;
    bool has_key_id = true;
    uint32_t key_id = 9;
    uint64_t expires_at = 9;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_public_key(NULL, &out, &has_key_id, &key_id, &err));
    CHECK(out == NULL && !has_key_id && key_id == 0);
    const tc_str lanes[] = {{S("transcribe")}};
    const tc_mint_fact facts[] = {{S("lane"), lanes, 1}};
    tc_mint_request request = {S("61be4694680135ca01e5736fba29cd8fe50fea3b428b324e0bea4d70ebfd8cfa"),
                               S("gpu-1"),
                               facts,
                               1,
                               {false, NULL, 0},
                               4102444800.0,
                               {false, 0},
                               0};
    out = (tc_bytes *)f;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_mint(NULL, &request, &out, &rev, &expires_at, &err));
    CHECK(out == NULL && rev == NULL && expires_at == 0);
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_sign_job(NULL, S("{}"), S("gpu-1"), &out, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_health(NULL, &out, &err));

    /* with a client nobody answers: argument checks come before any connection */
    tc_signer_client *nowhere = client_for("unix:/nonexistent-trustcore-dir/signer.sock", 1000);
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_public_key(nowhere, NULL, NULL, NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_mint(nowhere, NULL, &out, NULL, NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_mint(nowhere, &request, NULL, NULL, NULL, &err));
    tc_mint_request odd = request;
    odd.root_key_id = (tc_optional_u32){true, 7}; /* the signer writes its own */
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_mint(nowhere, &odd, &out, NULL, NULL, &err));
    odd = request;
    odd.revocation_id = (tc_optional_text){true, "\xff", 1}; /* not UTF-8 */
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_mint(nowhere, &odd, &out, NULL, NULL, &err));
    odd = request;
    odd.facts = NULL; /* with facts_count 1 */
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_mint(nowhere, &odd, &out, NULL, NULL, &err));
    odd = request;
    odd.holder_id = "\xc3\x28";
    odd.holder_id_len = 2;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_mint(nowhere, &odd, &out, NULL, NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_sign_job(nowhere, S("[1]"), S("gpu-1"), &out, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_sign_job(nowhere, S("{\"a\":"), S("gpu-1"), &out, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_sign_job(nowhere, S("{}"), S("gpu-1"), NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_health(nowhere, NULL, &err));
    CHECK(out == NULL);
    /* and then nobody is there */
    EXPECT_ERROR(TC_SIGNER_UNAVAILABLE, tc_signer_client_health(nowhere, &out, &err));
    EXPECT_ERROR(TC_SIGNER_UNAVAILABLE, tc_signer_client_mint(nowhere, &request, &out, &rev, &expires_at, &err));
    CHECK(out == NULL && rev == NULL && expires_at == 0);
    tc_signer_client_free(nowhere);
    tc_signer_client *refused = client_for("tcp:127.0.0.1:1", 1000);
    EXPECT_ERROR(TC_SIGNER_UNAVAILABLE, tc_signer_client_public_key(refused, &out, NULL, NULL, &err));
    tc_signer_client_free(refused);
}

/* ---- against a live signer ---------------------------------------------------------------------- */

static bool bytes_equal(const tc_bytes *b, const char *s) {
    return b && tc_bytes_len(b) == strlen(s) && !memcmp(tc_bytes_data(b), s, strlen(s));
}

/* Mint through the signer, prove a request with the holder key, authenticate and authorize it here. */
static void end_to_end(const fixture *f, const tc_signer_client *client) {
    char issuer_hex[TC_KEY_HEX_SIZE], worker_hex[TC_KEY_HEX_SIZE];
    size_t len = 0;
    CHECK(tc_issuer_key_public_hex(f->issuer, issuer_hex, sizeof issuer_hex, &len, NULL) == TC_OK);
    CHECK(tc_worker_key_public_hex(f->worker, worker_hex, sizeof worker_hex, &len, NULL) == TC_OK);

    tc_bytes *public_hex = NULL;
    bool has_key_id = false;
    uint32_t key_id = 0;
    EXPECT_OK(tc_signer_client_public_key(client, &public_hex, &has_key_id, &key_id, &err));
    CHECK(bytes_equal(public_hex, issuer_hex) && has_key_id && key_id == 7);
    tc_bytes_free(public_hex);
    public_hex = NULL;
    EXPECT_OK(tc_signer_client_public_key(client, &public_hex, NULL, NULL, &err));
    tc_bytes_free(public_hex);

    tc_bytes *health = NULL;
    EXPECT_OK(tc_signer_client_health(client, &health, &err));
    CHECK(health && strstr((const char *)tc_bytes_data(health), "\"status\":\"ok\"") != NULL);
    CHECK(health && strstr((const char *)tc_bytes_data(health), issuer_hex) != NULL);
    tc_bytes_free(health);

    double now = (double)(uint64_t)tc_now_seconds(); /* whole seconds */
    const tc_str lanes[] = {{S("transcribe")}, {S("gpu")}};
    const tc_mint_fact facts[] = {{S("lane"), lanes, 2}};
    tc_mint_request request = {
        .public_hex = worker_hex,
        .public_hex_len = strlen(worker_hex),
        .holder_id = "gpu-1",
        .holder_id_len = 5,
        .facts = facts,
        .facts_count = 1,
        .revocation_id = {true, "rev-signer", 10},
        .expires_at = now + 600.5,
    };
    tc_bytes *token = NULL, *rev = NULL;
    uint64_t expires_at = 0;
    EXPECT_OK(tc_signer_client_mint(client, &request, &token, &rev, &expires_at, &err));
    CHECK(bytes_equal(rev, "rev-signer") && expires_at == (uint64_t)now + 600);

    char timestamp[32];
    snprintf(timestamp, sizeof timestamp, "%.0f", now);
    tc_proof *proof = NULL;
    tc_token *verified = NULL;
    tc_identity *who = NULL;
    if (token) {
        EXPECT_OK(tc_make_proof(f->worker, (const char *)tc_bytes_data(token), tc_bytes_len(token), &f->request,
                                S(timestamp), S("signer-n1"), &proof, &err));
        tc_authenticate_options options = {now, 300, f->limits};
        EXPECT_OK(tc_authenticate(f->trusted, proof, &f->request, NULL, 0, &options, &verified, &who, &err));
    }
    if (verified) {
        CHECK(!strcmp(tc_identity_holder_id(who).ptr, "gpu-1"));
        CHECK(!strcmp(tc_identity_revocation_id(who).ptr, "rev-signer"));
        uint32_t root = 0;
        CHECK(tc_token_root_key_id(verified, &root) && root == 7);
        const tc_pair op[] = {{S("req_operation"), S("lease")}};
        EXPECT_OK(tc_check_policy(verified, op, 1, S("allow if req_operation(\"lease\"), lane(\"transcribe\")"), now,
                                  &f->limits, &err));
        EXPECT_ERROR(TC_DENIED, tc_check_policy(verified, op, 1, S("allow if lane(\"other\")"), now, &f->limits, &err));
        EXPECT_ERROR(TC_DENIED, tc_check_policy(verified, op, 1, S("allow if true"), now + 601, &f->limits, &err));
    }
    tc_identity_free(who);
    tc_token_free(verified);
    tc_proof_free(proof);
    tc_bytes_free(token);
    tc_bytes_free(rev);

    /* no revocation id: the signer picks one, and the token carries it */
    request.revocation_id = (tc_optional_text){false, NULL, 0};
    token = rev = NULL;
    EXPECT_OK(tc_signer_client_mint(client, &request, &token, &rev, NULL, &err));
    CHECK(rev && tc_bytes_len(rev) > 0);
    if (token && rev) {
        tc_token *parsed = NULL;
        tc_identity *identity = NULL;
        CHECK(tc_token_parse(f->trusted, (const char *)tc_bytes_data(token), tc_bytes_len(token), &parsed, NULL) ==
              TC_OK);
        CHECK(tc_token_identity(parsed, &identity, NULL) == TC_OK);
        CHECK(identity && bytes_equal(rev, tc_identity_revocation_id(identity).ptr));
        tc_identity_free(identity);
        tc_token_free(parsed);
    }
    tc_bytes_free(token);
    tc_bytes_free(rev);

    /* the signer's policy: predicates it does not grant, a ttl past --max-ttl, a bad holder key */
    const tc_str yes[] = {{S("yes")}};
    const tc_mint_fact admin[] = {{S("admin"), yes, 1}};
    tc_mint_request refused = request;
    refused.facts = admin;
    token = (tc_bytes *)f;
    EXPECT_ERROR(TC_SIGNER_REFUSED, tc_signer_client_mint(client, &refused, &token, NULL, NULL, &err));
    CHECK(token == NULL);
    refused = request;
    refused.expires_at = now + 10 * 86400;
    EXPECT_ERROR(TC_SIGNER_REFUSED, tc_signer_client_mint(client, &refused, &token, NULL, NULL, &err));
    refused = request;
    refused.public_hex = "zz";
    refused.public_hex_len = 2;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_signer_client_mint(client, &refused, &token, NULL, NULL, &err));

    /* delegation_depth reaches the signer: up to its --max-delegation-depth (1 here), not past it */
    refused = request;
    refused.delegation_depth = 2;
    EXPECT_ERROR(TC_SIGNER_REFUSED, tc_signer_client_mint(client, &refused, &token, NULL, NULL, &err));
    tc_mint_request delegable = request;
    delegable.delegation_depth = 1;
    EXPECT_OK(tc_signer_client_mint(client, &delegable, &token, NULL, NULL, &err));
    if (token) {
        tc_bytes *handed = NULL;
        tc_delegate_request to = {S("61be4694680135ca01e5736fba29cd8fe50fea3b428b324e0bea4d70ebfd8cfa"), S("gpu-2"),
                                  NULL, 0, now + 60};
        EXPECT_OK(tc_delegate((const char *)tc_bytes_data(token), tc_bytes_len(token), f->worker, &to, &handed, &err));
        CHECK(tc_bytes_len(handed) > tc_bytes_len(token));
        tc_bytes_free(handed);
    }
    tc_bytes_free(token);
    token = NULL;

    /* jobs: the signer's signature verifies against the pinned issuer key */
    tc_bytes *sig = NULL;
    EXPECT_OK(tc_signer_client_sign_job(client, S("{\"job_id\":\"j-1\",\"steps\":3}"), S("gpu-1"), &sig, &err));
    CHECK(tc_bytes_len(sig) == 128);
    if (sig) {
        char job[256];
        snprintf(job, sizeof job, "{\"job_id\":\"j-1\",\"steps\":3,\"sig\":\"%s\"}", (const char *)tc_bytes_data(sig));
        EXPECT_OK(tc_verify_job(S(issuer_hex), S(job), S("gpu-1"), NULL, &err));
        EXPECT_ERROR(TC_JOB_INVALID, tc_verify_job(S(issuer_hex), S(job), S("gpu-2"), NULL, &err));
    }
    tc_bytes_free(sig);
}

/* ---- one client, several threads ---------------------------------------------------------------- */

enum { THREADS = 4, ROUNDS = 8 };

typedef struct job {
    const tc_signer_client *client;
    const char *worker_hex;
    int id, ok, failed;
} job;

static int worker(void *arg) {
    job *j = arg;
    const tc_str lanes[] = {{S("gpu")}};
    const tc_mint_fact facts[] = {{S("lane"), lanes, 1}};
    for (int i = 0; i < ROUNDS; i++) {
        char rev_id[32];
        snprintf(rev_id, sizeof rev_id, "rev-t%d-%d", j->id, i);
        tc_mint_request request = {
            .public_hex = j->worker_hex,
            .public_hex_len = strlen(j->worker_hex),
            .holder_id = "gpu-1",
            .holder_id_len = 5,
            .facts = facts,
            .facts_count = 1,
            .revocation_id = {true, rev_id, strlen(rev_id)},
            .expires_at = tc_now_seconds() + 600,
        };
        tc_bytes *token = NULL, *rev = NULL, *health = NULL, *sig = NULL;
        tc_status a = tc_signer_client_mint(j->client, &request, &token, &rev, NULL, NULL);
        tc_status b = tc_signer_client_health(j->client, &health, NULL);
        tc_status c = tc_signer_client_sign_job(j->client, S("{\"n\":1}"), S("gpu-1"), &sig, NULL);
        if (a == TC_OK && b == TC_OK && c == TC_OK && bytes_equal(rev, rev_id))
            j->ok++;
        else {
            j->failed++;
            fprintf(stderr, "signer thread %d round %d: %s %s %s\n", j->id, i, tc_status_name(a), tc_status_name(b),
                    tc_status_name(c));
        }
        tc_bytes_free(token);
        tc_bytes_free(rev);
        tc_bytes_free(health);
        tc_bytes_free(sig);
    }
    return 0;
}

static void shared_between_threads(const fixture *f, const tc_signer_client *client) {
    char worker_hex[TC_KEY_HEX_SIZE];
    size_t len = 0;
    CHECK(tc_worker_key_public_hex(f->worker, worker_hex, sizeof worker_hex, &len, NULL) == TC_OK);
    thrd_t threads[THREADS];
    job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){client, worker_hex, i, 0, 0};
        CHECK(thrd_create(&threads[i], worker, &jobs[i]) == thrd_success);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(thrd_join(threads[i], NULL) == thrd_success);
        CHECK(jobs[i].ok == ROUNDS && jobs[i].failed == 0);
    }
}

/* ---- a peer that never answers -------------------------------------------------------------------- */

static void silent_peer(void) {
    /* a socket that listens but never accepts: connecting works (the backlog), no answer ever comes */
    const char *tmp = getenv("TMPDIR");
    char dir[80];
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    CHECK((size_t)snprintf(dir, sizeof dir, "%s/trustcore-c-silent-XXXXXX", tmp && *tmp ? tmp : "/tmp") < sizeof dir);
    CHECK(mkdtemp(dir) != NULL);
    memcpy(addr.sun_path, dir, strlen(dir));
    memcpy(addr.sun_path + strlen(dir), "/silent.sock", sizeof "/silent.sock");
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(fd, 8) == 0);
    tc_signer_client *client = client_for(addr.sun_path, 500);
    tc_bytes *health = NULL;
    double start = monotonic_ms();
    EXPECT_ERROR(TC_SIGNER_UNAVAILABLE, tc_signer_client_health(client, &health, &err));
    double elapsed = monotonic_ms() - start;
    CHECK(elapsed < 500 + 2500); /* the request timeout, plus a margin for a loaded machine */
    if (elapsed >= 3000) fprintf(stderr, "silent peer: %.0f ms\n", elapsed);
    CHECK(health == NULL);
    tc_signer_client_free(client);
    close(fd);
    unlink(addr.sun_path);
    rmdir(dir);
}

/* ---- a signer killed under its client ----------------------------------------------------------- */

static void killed_signer(const char *bin) {
    signer_daemon daemon;
    const char *args[] = {"--key-id", "7"};
    CHECK(signer_daemon_start(&daemon, bin, issuer_seed, args, 2));
    if (!daemon.socket) return;
    char *address = malloc(strlen(daemon.socket) + 6);
    sprintf(address, "unix:%s", daemon.socket);
    tc_signer_client *client = client_for(address, 2000);
    free(address);
    tc_bytes *health = NULL;
    /* the client keeps this connection for the next request */
    EXPECT_OK(tc_signer_client_health(client, &health, &err));
    tc_bytes_free(health);
    health = NULL;
    signer_daemon_kill(&daemon);
    /* the kept connection is dead (writing to it raises SIGPIPE, which must not end this process) and
     * a fresh one finds nobody */
    bool pending_before = sigpipe_pending();
    EXPECT_ERROR(TC_SIGNER_UNAVAILABLE, tc_signer_client_health(client, &health, &err));
    CHECK(health == NULL);
    CHECK(sigpipe_pending() == pending_before);
    EXPECT_ERROR(TC_SIGNER_UNAVAILABLE, tc_signer_client_public_key(client, &health, NULL, NULL, &err));
    tc_signer_client_free(client);
}

void signer_checks(const fixture *f, const char *root) {
    misuse(f);
    silent_peer();
    char *bin = signer_binary(root);
    CHECK(bin != NULL);
    if (!bin) {
        fprintf(stderr, "signer_checks: no trustcore binary: make signer-bin, or set TRUSTCORE_BIN\n");
        return;
    }
    signer_daemon daemon;
    const char *args[] = {"--max-ttl", "86400", "--allow-predicate", "lane", "--key-id", "7",
                          "--max-delegation-depth", "1"};
    bool started = signer_daemon_start(&daemon, bin, issuer_seed, args, sizeof args / sizeof *args);
    CHECK(started);
    if (started) {
        char *address = malloc(strlen(daemon.socket) + 6);
        sprintf(address, "unix:%s", daemon.socket);
        tc_signer_client *client = client_for(address, 5000);
        free(address);
        end_to_end(f, client);
        shared_between_threads(f, client);
        tc_signer_client_free(client);
        CHECK(signer_daemon_stop(&daemon)); /* SIGTERM: exit 0, socket removed */
    }
    killed_signer(bin);
    free(bin);
}
