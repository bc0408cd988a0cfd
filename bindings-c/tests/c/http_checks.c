/* The HTTP part of the C ABI (src/http.rs): profile names and bits, the route policy from text and
 * from a file, tc_http_sign_request in both profiles and what tc_verifier_decide makes of its
 * headers (allowed, replayed, tampered, another authority, a profile not accepted, a public route,
 * no route, a body over the cap), the refusal of an announced body length, whether a verifier may wait
 * on the network, the verifier's new options and their refusals, the signature base
 * and its verification, every getter on NULL, out-parameters cleared on failure, and one verifier and
 * policy deciding from several threads at once. Part of the misuse program (ASan + UBSan, valgrind). */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"

#define AUTHORITY "api.example.com"
#define POLICY                                                                                                         \
    "{\"max_body_bytes\": 64, \"routes\": ["                                                                            \
    "{\"method\": \"POST\", \"path\": \"/lease/{lane}\", \"allow\": \"allow if req_param_lane($l), lane($l)\"},"       \
    "{\"method\": \"GET\", \"path\": \"/health\", \"public\": true}]}"

static void expect_status(int line, tc_status got, tc_error *err, tc_status want) {
    if (got != want || (want != TC_OK && (err == NULL || tc_error_code(err) != want))) {
        checks_failed++;
        fprintf(stderr, "http_checks.c:%d: expected %s, got %s (%s)\n", line, tc_status_name(want),
                tc_status_name(got), tc_error_message(err));
    } else {
        checks_passed++;
    }
    tc_error_free(err);
}

#define EXPECT(want, call)                                                                                             \
    do {                                                                                                               \
        tc_error *err = NULL;                                                                                          \
        tc_status got_ = (call);                                                                                       \
        expect_status(__LINE__, got_, err, (want));                                                                    \
    } while (0)

/* `s` (pointer, length) equals the C string `want` */
static bool same(const char *ptr, size_t len, const char *want) {
    return len == strlen(want) && memcmp(ptr, want, len) == 0;
}

/* The value of header `name` in a pair list, or NULL. */
static const char *header_of(const tc_pair_list *list, const char *name) {
    for (size_t i = 0; i < tc_pair_list_count(list); i++) {
        tc_pair p = tc_pair_list_get(list, i);
        if (same(p.name, p.name_len, name)) return p.value; /* NUL-terminated */
    }
    return NULL;
}

/* A request as a server receives it: `Host` first, then the headers the signer made. The pairs
 * borrow from `signed_headers`; the array is the caller's to free. */
static tc_pair *received(const tc_pair_list *signed_headers, size_t *count) {
    size_t n = tc_pair_list_count(signed_headers);
    tc_pair *pairs = calloc(n + 1, sizeof *pairs);
    pairs[0] = (tc_pair){S("Host"), S(AUTHORITY)};
    for (size_t i = 0; i < n; i++)
        pairs[i + 1] = tc_pair_list_get(signed_headers, i);
    *count = n + 1;
    return pairs;
}

static tc_pair_list *sign(const fixture *f, uint32_t profile, const char *url, const char *nonce, const char *body) {
    tc_pair_list *out = NULL;
    const tc_pair host[] = {{S("Host"), S(AUTHORITY)}};
    tc_http_sign_params params = {
        S("POST"), S(url), host, 1, (const uint8_t *)body, strlen(body), profile, {true, 1700000000}, {true, S(nonce)},
    };
    EXPECT(TC_OK, tc_http_sign_request(f->worker, (const char *)tc_bytes_data(f->token_b64),
                                       tc_bytes_len(f->token_b64), &params, &out, &err));
    return out;
}

static tc_verifier *verifier_with(const fixture *f, const tc_str *authorities, size_t count, uint32_t profiles) {
    tc_verifier_options o = tc_verifier_options_default();
    o.limits = f->limits;
    o.authorities = authorities;
    o.authorities_count = count;
    o.profiles = profiles;
    tc_verifier *v = NULL;
    EXPECT(TC_OK, tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
    return v;
}

static tc_decision *decide(const tc_verifier *v, const tc_http_policy *p, const char *target, const tc_pair *headers,
                           size_t count, const char *body) {
    double now = FIXTURE_NOW;
    tc_decision *d = NULL;
    tc_http_request r = {S("POST"), S(target), headers, count, (const uint8_t *)body, strlen(body)};
    EXPECT(TC_OK, tc_verifier_decide(v, &r, p, NULL, 0, &now, &d, &err));
    return d;
}

static void profiles(void) {
    uint32_t bit = 99;
    EXPECT(TC_OK, tc_http_profile_from_name(S("rfc9421"), &bit, &err));
    CHECK(bit == TC_HTTP_PROFILE_RFC9421);
    EXPECT(TC_OK, tc_http_profile_from_name(S("legacy"), &bit, &err));
    CHECK(bit == TC_HTTP_PROFILE_LEGACY);
    EXPECT(TC_MALFORMED_INPUT, tc_http_profile_from_name(S("RFC9421"), &bit, &err));
    CHECK(bit == 0);
    EXPECT(TC_MALFORMED_INPUT, tc_http_profile_from_name(S("rfc9421"), NULL, &err));
    CHECK(!strcmp(tc_http_profile_name(TC_HTTP_PROFILE_RFC9421), "rfc9421"));
    CHECK(!strcmp(tc_http_profile_name(TC_HTTP_PROFILE_LEGACY), "legacy"));
    CHECK(!strcmp(tc_http_profile_name(0), "") && !strcmp(tc_http_profile_name(3), "") &&
          !strcmp(tc_http_profile_name(4), ""));
    tc_verifier_options o = tc_verifier_options_default();
    CHECK(o.profiles == (TC_HTTP_PROFILE_RFC9421 | TC_HTTP_PROFILE_LEGACY));
    CHECK(o.authorities == NULL && o.authorities_count == 0);
}

static void null_getters(void) {
    tc_pair_list_free(NULL);
    tc_http_policy_free(NULL);
    tc_decision_free(NULL);
    CHECK(tc_pair_list_count(NULL) == 0);
    tc_pair p = tc_pair_list_get(NULL, 0);
    CHECK(p.name != NULL && p.name_len == 0 && p.value != NULL && p.value_len == 0);
    CHECK(tc_http_policy_max_body_bytes(NULL) == 0 && tc_http_policy_route_count(NULL) == 0);
    CHECK(!tc_decision_allowed(NULL) && tc_decision_status(NULL) == 500);
    CHECK(tc_decision_code(NULL) == TC_MALFORMED_INPUT);
    CHECK(tc_decision_message(NULL).len == 0 && tc_decision_body(NULL).ptr != NULL);
    CHECK(tc_decision_headers(NULL) == NULL && tc_decision_facts(NULL) == NULL);
    CHECK(tc_decision_identity(NULL) == NULL);
    CHECK(!tc_decision_route(NULL).has && !tc_decision_profile(NULL).has);
}

static void policies(void) {
    tc_http_policy *p = (tc_http_policy *)1;
    EXPECT(TC_MALFORMED_INPUT, tc_http_policy_from_json(S("{\"routes\": [], \"routes\": []}"), &p, &err));
    CHECK(p == NULL);
    EXPECT(TC_MALFORMED_INPUT, tc_http_policy_from_json(NULL, 3, &p, &err));
    EXPECT(TC_MALFORMED_INPUT, tc_http_policy_from_json(S(POLICY), NULL, &err));
    EXPECT(TC_OK, tc_http_policy_from_json(S(POLICY), &p, &err));
    CHECK(tc_http_policy_route_count(p) == 2 && tc_http_policy_max_body_bytes(p) == 64);
    tc_http_policy_free(p);

    char path[] = "/tmp/tc-http-policy-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, POLICY, strlen(POLICY)) == (ssize_t)strlen(POLICY));
        close(fd);
        p = NULL;
        EXPECT(TC_OK, tc_http_policy_from_file(S(path), &p, &err));
        CHECK(tc_http_policy_route_count(p) == 2);
        tc_http_policy_free(p);
        unlink(path);
    }
    p = (tc_http_policy *)1;
    EXPECT(TC_MALFORMED_INPUT, tc_http_policy_from_file(S("/nonexistent/policy.json"), &p, &err));
    CHECK(p == NULL);
    EXPECT(TC_MALFORMED_INPUT, tc_http_policy_from_file("\xff", 1, &p, &err));
}

/* tc_http_policy_body_length_refusal: no decision up to the cap, past it the 413 tc_verifier_decide
 * gives such a body; tc_verifier_may_wait_on_network: only with Redis (nothing connects yet) */
static void announced_lengths(const fixture *f) {
    tc_http_policy *p = NULL;
    EXPECT(TC_OK, tc_http_policy_from_json(S(POLICY), &p, &err));
    const uint64_t within[] = {0, 1, 64};
    for (size_t i = 0; i < sizeof within / sizeof within[0]; i++) {
        tc_decision *d = (tc_decision *)1;
        EXPECT(TC_OK, tc_http_policy_body_length_refusal(p, within[i], &d, &err));
        CHECK(d == NULL);
    }
    const uint64_t over[] = {65, UINT64_MAX};
    for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
        tc_decision *d = NULL;
        EXPECT(TC_OK, tc_http_policy_body_length_refusal(p, over[i], &d, &err));
        CHECK(d != NULL && !tc_decision_allowed(d) && tc_decision_status(d) == 413);
        CHECK(tc_decision_code(d) == TC_LIMIT_EXCEEDED && !tc_decision_route(d).has);
        CHECK(tc_decision_identity(d) == NULL && tc_pair_list_count(tc_decision_facts(d)) == 0);
        CHECK(same(tc_decision_body(d).ptr, tc_decision_body(d).len,
                   "{\"error\":\"LIMIT_EXCEEDED\",\"message\":\"the body is over the route policy's 64 bytes\"}"));
        tc_decision_free(d);
    }
    tc_decision *d = (tc_decision *)1;
    EXPECT(TC_MALFORMED_INPUT, tc_http_policy_body_length_refusal(NULL, 65, &d, &err));
    CHECK(d == NULL);
    EXPECT(TC_MALFORMED_INPUT, tc_http_policy_body_length_refusal(p, 65, NULL, &err));
    tc_http_policy_free(p);

    tc_verifier *memory = verifier_with(f, NULL, 0, TC_HTTP_PROFILE_RFC9421);
    CHECK(!tc_verifier_may_wait_on_network(memory) && !tc_verifier_may_wait_on_network(NULL));
    tc_verifier_free(memory);
    tc_verifier_options o = tc_verifier_options_default();
    o.limits = f->limits;
    o.redis.has = true;
    o.redis.value.url = "redis://127.0.0.1:1/";
    o.redis.value.url_len = strlen(o.redis.value.url);
    tc_verifier *on_redis = NULL;
    EXPECT(TC_OK, tc_verifier_new(f->trusted, &o, NULL, 0, &on_redis, &err));
    CHECK(tc_verifier_may_wait_on_network(on_redis));
    tc_verifier_free(on_redis);
}

static void options(const fixture *f) {
    tc_verifier_options o = tc_verifier_options_default();
    tc_verifier *v = (tc_verifier *)1;
    o.profiles = 0;
    EXPECT(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
    CHECK(v == NULL);
    o.profiles = 4;
    EXPECT(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
    o = tc_verifier_options_default();
    const tc_str bad[] = {{S("user@" AUTHORITY)}};
    o.authorities = bad;
    o.authorities_count = 1;
    EXPECT(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
    o.authorities = NULL;
    EXPECT(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
}

static void sign_checks(const fixture *f) {
    tc_pair_list *out = (tc_pair_list *)1;
    const char *token = (const char *)tc_bytes_data(f->token_b64);
    size_t token_len = tc_bytes_len(f->token_b64);
    tc_http_sign_params params = {S("POST"), S("https://" AUTHORITY "/lease/gpu"), NULL, 0, NULL, 0, 0, {false, 0},
                                  {false, NULL, 0}};
    EXPECT(TC_MALFORMED_INPUT, tc_http_sign_request(f->worker, token, token_len, &params, &out, &err));
    CHECK(out == NULL);
    params.profile = TC_HTTP_PROFILE_RFC9421 | TC_HTTP_PROFILE_LEGACY;
    EXPECT(TC_MALFORMED_INPUT, tc_http_sign_request(f->worker, token, token_len, &params, &out, &err));
    params.profile = TC_HTTP_PROFILE_RFC9421;
    EXPECT(TC_MALFORMED_INPUT, tc_http_sign_request(NULL, token, token_len, &params, &out, &err));
    EXPECT(TC_MALFORMED_INPUT, tc_http_sign_request(f->worker, token, token_len, NULL, &out, &err));
    EXPECT(TC_MALFORMED_INPUT, tc_http_sign_request(f->worker, token, token_len, &params, NULL, &err));
    /* an origin-form target needs a Host header for RFC 9421 */
    params.url = "/lease/gpu";
    params.url_len = 10;
    EXPECT(TC_MALFORMED_INPUT, tc_http_sign_request(f->worker, token, token_len, &params, &out, &err));
    /* now and a random nonce when not set: two signatures differ */
    params.url = "https://" AUTHORITY "/lease/gpu";
    params.url_len = strlen(params.url);
    tc_pair_list *a = NULL, *b = NULL;
    EXPECT(TC_OK, tc_http_sign_request(f->worker, token, token_len, &params, &a, &err));
    EXPECT(TC_OK, tc_http_sign_request(f->worker, token, token_len, &params, &b, &err));
    CHECK(tc_pair_list_count(a) == 4 && tc_pair_list_count(b) == 4);
    const char *sa = header_of(a, "Signature"), *sb = header_of(b, "Signature");
    CHECK(sa && sb && strcmp(sa, sb) != 0);
    tc_pair_list_free(a);
    tc_pair_list_free(b);
    /* fixed created and nonce: the same headers, in the documented order */
    a = sign(f, TC_HTTP_PROFILE_RFC9421, "https://" AUTHORITY "/lease/gpu", "n-1", "{}");
    b = sign(f, TC_HTTP_PROFILE_RFC9421, "https://" AUTHORITY "/lease/gpu", "n-1", "{}");
    const char *order[] = {"Authorization", "Content-Digest", "Signature-Input", "Signature"};
    for (size_t i = 0; i < 4; i++) {
        tc_pair pa = tc_pair_list_get(a, i), pb = tc_pair_list_get(b, i);
        CHECK(same(pa.name, pa.name_len, order[i]));
        CHECK(pa.value_len == pb.value_len && !memcmp(pa.value, pb.value, pa.value_len));
        CHECK(pa.name[pa.name_len] == '\0' && pa.value[pa.value_len] == '\0');
    }
    CHECK(tc_pair_list_get(a, 4).name_len == 0);
    CHECK(strstr(header_of(a, "Signature-Input"), "created=1700000000") != NULL);
    CHECK(!strcmp(header_of(a, "Content-Digest"), "sha-256=:RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=:"));

    /* the signature base of what was signed, and its verification with the holder's public key */
    size_t count = 0;
    tc_pair *headers = received(a, &count);
    tc_http_request r = {S("POST"), S("/lease/gpu"), headers, count, (const uint8_t *)"{}", 2};
    tc_bytes *base = NULL;
    EXPECT(TC_OK, tc_http_signature_base(&r, S("tc"), &base, &err));
    const char *start = "\"@method\": POST\n\"@authority\": " AUTHORITY "\n\"@path\": /lease/gpu\n";
    CHECK(!strncmp((const char *)tc_bytes_data(base), start, strlen(start)));
    tc_bytes_free(base);
    base = (tc_bytes *)1;
    EXPECT(TC_MALFORMED_INPUT, tc_http_signature_base(&r, S("other"), &base, &err));
    CHECK(base == NULL);
    char public_hex[TC_KEY_HEX_SIZE];
    size_t len = 0;
    EXPECT(TC_OK, tc_worker_key_public_hex(f->worker, public_hex, sizeof public_hex, &len, &err));
    EXPECT(TC_OK, tc_http_verify_signature(&r, S("tc"), public_hex, len, &err));
    EXPECT(TC_MALFORMED_INPUT, tc_http_verify_signature(&r, S("tc"), S("zz"), &err));
    char issuer_hex[TC_KEY_HEX_SIZE];
    EXPECT(TC_OK, tc_issuer_key_public_hex(f->issuer, issuer_hex, sizeof issuer_hex, &len, &err));
    EXPECT(TC_POP_FAILED, tc_http_verify_signature(&r, S("tc"), issuer_hex, len, &err));
    r.target = "/lease/cpu";
    EXPECT(TC_POP_FAILED, tc_http_verify_signature(&r, S("tc"), public_hex, strlen(public_hex), &err));
    /* invalid UTF-8 in a header is the call's own MALFORMED_INPUT */
    headers[0].value = "\xff";
    headers[0].value_len = 1;
    EXPECT(TC_MALFORMED_INPUT, tc_http_verify_signature(&r, S("tc"), public_hex, strlen(public_hex), &err));
    free(headers);
    tc_pair_list_free(a);
    tc_pair_list_free(b);
}

static void decisions(const fixture *f) {
    tc_http_policy *p = NULL;
    EXPECT(TC_OK, tc_http_policy_from_json(S(POLICY), &p, &err));
    const tc_str authorities[] = {{S("API.example.com")}}; /* core lower-cases it */
    tc_verifier *v = verifier_with(f, authorities, 1, TC_HTTP_PROFILE_RFC9421 | TC_HTTP_PROFILE_LEGACY);
    size_t count = 0;

    /* RFC 9421: allowed, with its identity, route, profile and facts; the same again is REPLAYED */
    tc_pair_list *signed_headers = sign(f, TC_HTTP_PROFILE_RFC9421, "https://" AUTHORITY "/lease/gpu", "d-1", "{}");
    tc_pair *headers = received(signed_headers, &count);
    tc_decision *d = decide(v, p, "/lease/gpu", headers, count, "{}");
    CHECK(tc_decision_allowed(d) && tc_decision_status(d) == 200 && tc_decision_code(d) == TC_OK);
    CHECK(same(tc_decision_message(d).ptr, tc_decision_message(d).len, "allowed"));
    CHECK(tc_decision_body(d).len == 0 && tc_pair_list_count(tc_decision_headers(d)) == 0);
    const tc_identity *who = tc_decision_identity(d);
    CHECK(who != NULL && same(tc_identity_holder_id(who).ptr, tc_identity_holder_id(who).len, "gpu-1"));
    tc_optional_text route = tc_decision_route(d);
    CHECK(route.has && same(route.value, route.len, "/lease/{lane}"));
    tc_optional_u32 profile = tc_decision_profile(d);
    CHECK(profile.has && profile.value == TC_HTTP_PROFILE_RFC9421);
    const tc_pair_list *facts = tc_decision_facts(d);
    CHECK(tc_pair_list_count(facts) == 5);
    CHECK(!strcmp(header_of(facts, "req_param_lane"), "gpu") && !strcmp(header_of(facts, "req_authority"), AUTHORITY));
    tc_decision_free(d);
    d = decide(v, p, "/lease/gpu", headers, count, "{}");
    CHECK(!tc_decision_allowed(d) && tc_decision_status(d) == 401 && tc_decision_code(d) == TC_REPLAYED);
    CHECK(!strcmp(header_of(tc_decision_headers(d), "WWW-Authenticate"), "Biscuit error=\"REPLAYED\""));
    CHECK(tc_decision_identity(d) == NULL && tc_pair_list_count(tc_decision_facts(d)) == 0);
    CHECK(strstr(tc_decision_body(d).ptr, "\"error\":\"REPLAYED\"") != NULL);
    tc_decision_free(d);

    /* application facts: a bad name fails the call (no decision); a good one reaches the policy */
    double now = FIXTURE_NOW;
    tc_http_request r = {S("GET"), S("/health"), headers, count, NULL, 0};
    const tc_pair bad_fact[] = {{S("team"), S("blue")}}, good_fact[] = {{S("req_team"), S("blue")}};
    d = (tc_decision *)1;
    EXPECT(TC_MALFORMED_INPUT, tc_verifier_decide(v, &r, p, bad_fact, 1, &now, &d, &err));
    CHECK(d == NULL);
    EXPECT(TC_MALFORMED_INPUT, tc_verifier_decide(v, &r, NULL, NULL, 0, &now, &d, &err));
    EXPECT(TC_MALFORMED_INPUT, tc_verifier_decide(NULL, &r, p, NULL, 0, &now, &d, &err));
    EXPECT(TC_MALFORMED_INPUT, tc_verifier_decide(v, NULL, p, NULL, 0, &now, &d, &err));
    EXPECT(TC_MALFORMED_INPUT, tc_verifier_decide(v, &r, p, NULL, 0, &now, NULL, &err));
    /* a public route: allowed with no credentials read */
    EXPECT(TC_OK, tc_verifier_decide(v, &r, p, good_fact, 1, &now, &d, &err));
    CHECK(tc_decision_allowed(d) && tc_decision_identity(d) == NULL && !tc_decision_profile(d).has);
    tc_decision_free(d);
    free(headers);
    tc_pair_list_free(signed_headers);

    /* tampered: the body is not the one signed */
    signed_headers = sign(f, TC_HTTP_PROFILE_RFC9421, "https://" AUTHORITY "/lease/gpu", "d-2", "{}");
    headers = received(signed_headers, &count);
    d = decide(v, p, "/lease/gpu", headers, count, "{\"x\":1}");
    CHECK(tc_decision_status(d) == 401 && tc_decision_code(d) == TC_POP_FAILED);
    tc_decision_free(d);
    /* no route: 403 DENIED, no route named */
    d = decide(v, p, "/admin", headers, count, "{}");
    CHECK(tc_decision_status(d) == 403 && tc_decision_code(d) == TC_DENIED && !tc_decision_route(d).has);
    tc_decision_free(d);
    /* a body over the policy's cap: 413 */
    char big[100];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    d = decide(v, p, "/lease/gpu", headers, count, big);
    CHECK(tc_decision_status(d) == 413 && tc_decision_code(d) == TC_LIMIT_EXCEEDED);
    tc_decision_free(d);
    /* the nonce d-2 was never spent: the untampered request is still accepted */
    d = decide(v, p, "/lease/gpu", headers, count, "{}");
    CHECK(tc_decision_allowed(d));
    tc_decision_free(d);
    free(headers);
    tc_pair_list_free(signed_headers);

    /* the legacy profile: an origin-form target and its Host header */
    signed_headers = sign(f, TC_HTTP_PROFILE_LEGACY, "/lease/gpu", "d-3", "{}");
    CHECK(tc_pair_list_count(signed_headers) == 4 && header_of(signed_headers, "X-EP-Signature") != NULL);
    headers = received(signed_headers, &count);
    d = decide(v, p, "/lease/gpu", headers, count, "{}");
    CHECK(tc_decision_allowed(d) && tc_decision_profile(d).has && tc_decision_profile(d).value == TC_HTTP_PROFILE_LEGACY);
    tc_decision_free(d);
    /* a verifier that takes RFC 9421 only refuses it */
    tc_verifier *rfc_only = verifier_with(f, authorities, 1, TC_HTTP_PROFILE_RFC9421);
    d = decide(rfc_only, p, "/lease/gpu", headers, count, "{}");
    CHECK(tc_decision_status(d) == 401 && tc_decision_code(d) == TC_MALFORMED_INPUT);
    tc_decision_free(d);
    tc_verifier_free(rfc_only);
    free(headers);
    tc_pair_list_free(signed_headers);

    /* another authority: WRONG_AUDIENCE; no authority at all: the same */
    const tc_str other[] = {{S("other.example.com")}};
    tc_verifier *elsewhere = verifier_with(f, other, 1, TC_HTTP_PROFILE_RFC9421);
    tc_verifier *nowhere = verifier_with(f, NULL, 0, TC_HTTP_PROFILE_RFC9421);
    signed_headers = sign(f, TC_HTTP_PROFILE_RFC9421, "https://" AUTHORITY "/lease/gpu", "d-4", "{}");
    headers = received(signed_headers, &count);
    d = decide(elsewhere, p, "/lease/gpu", headers, count, "{}");
    CHECK(tc_decision_status(d) == 401 && tc_decision_code(d) == TC_WRONG_AUDIENCE);
    CHECK(!strcmp(header_of(tc_decision_headers(d), "WWW-Authenticate"), "Biscuit error=\"WRONG_AUDIENCE\""));
    tc_decision_free(d);
    d = decide(nowhere, p, "/lease/gpu", headers, count, "{}");
    CHECK(tc_decision_code(d) == TC_WRONG_AUDIENCE);
    tc_decision_free(d);
    free(headers);
    tc_pair_list_free(signed_headers);
    tc_verifier_free(elsewhere);
    tc_verifier_free(nowhere);
    tc_verifier_free(v);
    tc_http_policy_free(p);
}

/* ---- one verifier and one policy, several threads deciding at once ----------------------------- */

enum { THREADS = 4, ROUNDS = 20 };

typedef struct decide_job {
    const fixture *f;
    const tc_verifier *verifier;
    const tc_http_policy *policy;
    int id, allowed, replayed, other;
} decide_job;

static int decide_worker(void *arg) {
    decide_job *j = arg;
    const char *token = (const char *)tc_bytes_data(j->f->token_b64);
    const tc_pair host[] = {{S("Host"), S(AUTHORITY)}};
    double now = FIXTURE_NOW;
    for (int i = 0; i < ROUNDS; i++) {
        char nonce[32];
        snprintf(nonce, sizeof nonce, "th%d-%d", j->id, i);
        tc_http_sign_params params = {
            S("POST"), S("/lease/gpu"), host, 1, (const uint8_t *)"{}", 2, TC_HTTP_PROFILE_RFC9421,
            {true, 1700000000}, {true, S(nonce)},
        };
        tc_pair_list *signed_headers = NULL;
        if (tc_http_sign_request(j->f->worker, token, tc_bytes_len(j->f->token_b64), &params, &signed_headers, NULL) !=
            TC_OK) {
            j->other++;
            continue;
        }
        size_t count = 0;
        tc_pair *headers = received(signed_headers, &count);
        tc_http_request r = {S("POST"), S("/lease/gpu"), headers, count, (const uint8_t *)"{}", 2};
        for (int twice = 0; twice < 2; twice++) {
            tc_decision *d = NULL;
            if (tc_verifier_decide(j->verifier, &r, j->policy, NULL, 0, &now, &d, NULL) != TC_OK) j->other++;
            else if (tc_decision_allowed(d)) j->allowed++;
            else if (tc_decision_code(d) == TC_REPLAYED) j->replayed++;
            else j->other++;
            tc_decision_free(d);
        }
        free(headers);
        tc_pair_list_free(signed_headers);
    }
    return 0;
}

static void threads(const fixture *f) {
    tc_http_policy *p = NULL;
    EXPECT(TC_OK, tc_http_policy_from_json(S(POLICY), &p, &err));
    const tc_str authorities[] = {{S(AUTHORITY)}};
    tc_verifier_options o = tc_verifier_options_default();
    o.limits = f->limits;
    o.limits.max_time_ns = 2000000000u; /* preemption counts against the wall clock: not what is tested */
    o.authorities = authorities;
    o.authorities_count = 1;
    tc_verifier *v = NULL;
    EXPECT(TC_OK, tc_verifier_new(f->trusted, &o, NULL, 0, &v, &err));
    thrd_t t[THREADS];
    decide_job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (decide_job){f, v, p, i, 0, 0, 0};
        CHECK(thrd_create(&t[i], decide_worker, &jobs[i]) == thrd_success);
    }
    for (int i = 0; i < THREADS; i++) {
        thrd_join(t[i], NULL);
        CHECK(jobs[i].allowed == ROUNDS && jobs[i].replayed == ROUNDS && jobs[i].other == 0);
    }
    tc_verifier_free(v);
    tc_http_policy_free(p);
}

void http_checks(const fixture *f) {
    profiles();
    null_getters();
    policies();
    announced_lengths(f);
    options(f);
    sign_checks(f);
    decisions(f);
    threads(f);
}
