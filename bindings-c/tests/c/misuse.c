/* Ownership and misuse of the C ABI: NULL everywhere, short buffers, invalid UTF-8, stale out
 * pointers, secrets kept out of messages, every tc_limits field reaching the core, the token cache's
 * bounds and admission, (batch_checks.c) the verifier's batches and their bounds, (threads.c)
 * handles shared between threads, (hostile.c) the hostile-input table (NUL bytes, invalid UTF-8, empty
 * and huge values, deep JSON, exploding Datalog),
 * (http_checks.c) the HTTP signing, route policy and decision,
 * (signer_checks.c) the signer client against a real `trustcore signer serve`, and (redis_checks.c)
 * the verifier's store options and its Redis stores against a real redis-server.
 * Built with ASan + UBSan and run once more under valgrind: every path here must leak nothing. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"

int checks_passed, checks_failed;

void thread_checks(const fixture *f);                     /* threads.c */
void signer_checks(const fixture *f, const char *root); /* signer_checks.c */
void redis_checks(const fixture *f);                    /* redis_checks.c */
void batch_checks(const fixture *f);                    /* batch_checks.c */
void hostile_checks(const fixture *f, const char *root); /* hostile.c */
void http_checks(const fixture *f);                      /* http_checks.c */

/* The status numbers are the ABI: they may never move. */
_Static_assert(TC_OK == 0 && TC_MALFORMED_INPUT == 1 && TC_TOKEN_INVALID == 2 && TC_TOKEN_UNBOUND == 3 &&
                   TC_REVOKED == 4 && TC_STALE_REQUEST == 5 && TC_REPLAYED == 6 && TC_POP_FAILED == 7 &&
                   TC_DENIED == 8 && TC_LIMIT_EXCEEDED == 9 && TC_JOB_INVALID == 10 && TC_FRAME_INVALID == 11 &&
                   TC_SIGNER_UNAVAILABLE == 12 && TC_SIGNER_REFUSED == 13 && TC_STORE_UNAVAILABLE == 14 &&
                   TC_INTERNAL == 15 && TC_WRONG_AUDIENCE == 16 && TC_DELEGATION_INVALID == 17,
               "tc_status numbers follow docs/DESIGN.md §5");

/* A failed call: the expected status, and details that name it and carry a message. `call` passes
 * `&err`; the details are read only after it returned. */
static void expect_error(int line, tc_status got, tc_error *err, tc_status want) {
    if (got != want || err == NULL || tc_error_code(err) != want || strlen(tc_error_message(err)) == 0) {
        checks_failed++;
        fprintf(stderr, "misuse.c:%d: expected %s, got %s (%s)\n", line, tc_status_name(want), tc_status_name(got),
                tc_error_message(err));
    } else {
        checks_passed++;
    }
    tc_error_free(err);
}

#define EXPECT_ERROR(want, call)                                                                                       \
    do {                                                                                                               \
        tc_error *err = NULL;                                                                                          \
        tc_status got_ = (call);                                                                                       \
        expect_error(__LINE__, got_, err, (want));                                                                     \
    } while (0)

static void status_names(void) {
    CHECK(!strcmp(tc_status_name(TC_OK), "OK"));
    CHECK(!strcmp(tc_status_name(TC_MALFORMED_INPUT), "MALFORMED_INPUT"));
    CHECK(!strcmp(tc_status_name(TC_DENIED), "DENIED"));
    CHECK(!strcmp(tc_status_name(TC_INTERNAL), "INTERNAL"));
    CHECK(!strcmp(tc_status_name(TC_WRONG_AUDIENCE), "WRONG_AUDIENCE"));
    CHECK(!strcmp(tc_status_name(TC_DELEGATION_INVALID), "DELEGATION_INVALID"));
    CHECK(!strcmp(tc_status_name(18), "UNKNOWN"));
    CHECK(!strcmp(tc_status_name(0xFFFFFFFFu), "UNKNOWN"));
    CHECK(strlen(tc_version()) > 0);
    CHECK(tc_now_seconds() > 1.6e9);
}

static void null_handles_and_getters(void) {
    /* every _free accepts NULL */
    tc_error_free(NULL);
    tc_bytes_free(NULL);
    tc_issuer_key_free(NULL);
    tc_worker_key_free(NULL);
    tc_issuer_keys_free(NULL);
    tc_token_free(NULL);
    tc_identity_free(NULL);
    tc_proof_free(NULL);
    /* getters give harmless values */
    CHECK(tc_error_code(NULL) == TC_OK);
    CHECK(!strcmp(tc_error_message(NULL), ""));
    CHECK(tc_bytes_len(NULL) == 0 && tc_bytes_data(NULL) != NULL);
    CHECK(tc_token_block_count(NULL) == 0);
    uint32_t id = 7;
    CHECK(!tc_token_root_key_id(NULL, &id) && id == 7);
    CHECK(tc_identity_holder_id(NULL).len == 0 && tc_identity_holder_id(NULL).ptr != NULL);
    CHECK(tc_identity_revocation_id(NULL).len == 0);
    CHECK(tc_proof_token(NULL).len == 0 && tc_proof_nonce(NULL).ptr != NULL);
    CHECK(tc_identity_chain_count(NULL) == 0);
    CHECK(tc_identity_chain_holder_id(NULL, 0).len == 0 && tc_identity_chain_holder_id(NULL, 0).ptr != NULL);
    CHECK(tc_identity_chain_holder_public_hex(NULL, 3).len == 0);
}

static void null_arguments(const fixture *f) {
    tc_token *token = (tc_token *)f; /* a stale value: a failure must reset it to NULL */
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_token_parse(NULL, S("abc"), &token, &err));
    CHECK(token == NULL);
    /* a NULL pointer with a non-zero length */
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_token_parse(f->trusted, NULL, 5, &token, &err));
    /* NULL with length 0 is an empty input: here not a token */
    EXPECT_ERROR(TC_TOKEN_INVALID, tc_token_parse(f->trusted, NULL, 0, &token, &err));
    /* a NULL out-parameter */
    const tc_bytes *b64 = f->token_b64;
    EXPECT_ERROR(TC_MALFORMED_INPUT,
                 tc_token_parse(f->trusted, (const char *)tc_bytes_data(b64), tc_bytes_len(b64), NULL, &err));
    /* err may be NULL: the status alone */
    CHECK(tc_token_parse(NULL, S("abc"), &token, NULL) == TC_MALFORMED_INPUT);

    EXPECT_ERROR(TC_MALFORMED_INPUT,
                 tc_authenticate(NULL, f->proof, &f->request, NULL, 0, &f->options, NULL, NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT,
                 tc_authenticate(f->trusted, NULL, &f->request, NULL, 0, &f->options, NULL, NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT,
                 tc_authenticate(f->trusted, f->proof, NULL, NULL, 0, &f->options, NULL, NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT,
                 tc_authenticate(f->trusted, f->proof, &f->request, NULL, 3, &f->options, NULL, NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT,
                 tc_authenticate(f->trusted, f->proof, &f->request, NULL, 0, NULL, NULL, NULL, &err));
    tc_request no_body = f->request;
    no_body.body = NULL; /* with body_len 2 */
    EXPECT_ERROR(TC_MALFORMED_INPUT,
                 tc_authenticate(f->trusted, f->proof, &no_body, NULL, 0, &f->options, NULL, NULL, &err));

    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_check_policy(NULL, NULL, 0, S("allow if true"), FIXTURE_NOW, &f->limits, &err));
    size_t policy = 0;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_authorize(NULL, S("allow if true;"), NULL, NULL, NULL, 0, &policy, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_mint_biscuit(f->issuer, NULL, NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_mint_biscuit(NULL, NULL, NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_make_proof(NULL, S("t"), &f->request, S("1"), S("n"), NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_proof_from_headers(NULL, 2, NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_issuer_keys_by_key_id(NULL, 1, NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_frame_decode(NULL, 4, NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_frame_body_length((const uint8_t *)"\0\0\0\1", 4, NULL, &err));
    tc_str name, value;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_proof_header(NULL, 0, &name, &value, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_proof_header(f->proof, 0, NULL, &value, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_proof_header(f->proof, TC_PROOF_PARTS, &name, &value, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_token_identity(NULL, NULL, &err));
    size_t len = 0;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_issuer_key_public_hex(NULL, NULL, 0, &len, &err));
    CHECK(len == 0); /* not "too small": the call failed for another reason */
}

static void caller_buffers(const fixture *f) {
    char buf[TC_KEY_HEX_SIZE + 8];
    size_t len = 99;
    /* size query */
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_worker_key_public_hex(f->worker, NULL, 0, &len, &err));
    CHECK(len == 64);
    /* one byte short (no room for the NUL): refused, nothing written */
    memset(buf, 'X', sizeof buf);
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_worker_key_public_hex(f->worker, buf, 64, &len, &err));
    CHECK(len == 64 && buf[0] == 'X' && buf[63] == 'X');
    /* exact fit, NUL-terminated */
    CHECK(tc_worker_key_public_hex(f->worker, buf, TC_KEY_HEX_SIZE, &len, NULL) == TC_OK);
    CHECK(len == 64 && buf[64] == '\0' && strlen(buf) == 64 && buf[65] == 'X');
    /* NULL buffer with a length, NULL out_len */
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_worker_key_public_hex(f->worker, NULL, 10, &len, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_worker_key_public_hex(f->worker, buf, sizeof buf, NULL, &err));

    /* variable-size results: canonical request, revocation id, job signature */
    char small[8];
    EXPECT_ERROR(TC_MALFORMED_INPUT,
                 tc_canonical_request(&f->request, S("1700000000"), S("n1"), small, sizeof small, &len, &err));
    CHECK(len == strlen("POST\n/lease\n") + 64 + strlen("\n1700000000\nn1"));
    char *canonical = malloc(len + 1);
    CHECK(tc_canonical_request(&f->request, S("1700000000"), S("n1"), canonical, len + 1, &len, NULL) == TC_OK);
    CHECK(!strncmp(canonical, "POST\n/lease\n", 12) && canonical[len] == '\0');
    free(canonical);

    tc_token *token = NULL;
    CHECK(tc_token_parse(f->trusted, (const char *)tc_bytes_data(f->token_b64), tc_bytes_len(f->token_b64), &token,
                         NULL) == TC_OK);
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_token_revocation_id(token, 0, small, sizeof small, &len, &err));
    CHECK(len == 128);
    char id[TC_SIGNATURE_HEX_SIZE];
    CHECK(tc_token_revocation_id(token, 0, id, sizeof id, &len, NULL) == TC_OK && strlen(id) == 128);
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_token_revocation_id(token, 1, id, sizeof id, &len, &err));
    CHECK(len == 0);
    tc_token_free(token);

    char sig[TC_SIGNATURE_HEX_SIZE];
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_sign_job(f->issuer, S("{\"op\":\"x\"}"), S("gpu-1"), sig, 128, &len, &err));
    CHECK(len == 128);
    CHECK(tc_sign_job(f->issuer, S("{\"op\":\"x\"}"), S("gpu-1"), sig, sizeof sig, &len, NULL) == TC_OK);
}

static void invalid_utf8(const fixture *f) {
    tc_worker_key *key = NULL;
    const char bad[] = "22\xff\xfe";
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_worker_key_from_secret_hex(bad, 4, &key, &err));
    CHECK(key == NULL);
    tc_pair headers[] = {{S("X-EP-Nonce"), "\xc3\x28", 2}};
    tc_proof *proof = NULL;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_proof_from_headers(headers, 1, &proof, &err));
    tc_pair facts[] = {{S("req_operation"), "\xed\xa0\x80", 3}}; /* an encoded surrogate */
    tc_token *token = NULL;
    CHECK(tc_token_parse(f->trusted, (const char *)tc_bytes_data(f->token_b64), tc_bytes_len(f->token_b64), &token,
                         NULL) == TC_OK);
    EXPECT_ERROR(TC_MALFORMED_INPUT,
                 tc_check_policy(token, facts, 1, S("allow if true"), FIXTURE_NOW, &f->limits, &err));
    tc_token_free(token);
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verify_job(S("00"), "{\"a\":\"\xff\"}", 8, S("w"), NULL, &err));
    tc_bytes *frame = NULL;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_frame_encode("{\"a\":\"\x80\"}", 8, &frame, &err));
    CHECK(frame == NULL);
    /* a frame body that is not UTF-8 is the frame's fault, not the caller's */
    const uint8_t raw[] = {0, 0, 0, 2, 0xff, 0xfe};
    EXPECT_ERROR(TC_FRAME_INVALID, tc_frame_decode(raw, sizeof raw, &frame, &err));
}

static void secrets_stay_out_of_messages(void) {
    tc_error *err = NULL;
    tc_issuer_key *key = NULL;
    const char secret[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"; /* 63 digits */
    CHECK(tc_issuer_key_from_secret_hex(S(secret), &key, &err) == TC_MALFORMED_INPUT);
    CHECK(strstr(tc_error_message(err), "0123456789abcdef") == NULL);
    tc_error_free(err);
}

/* The whole flow through the ABI, with each refusal the design names. */
static void end_to_end(const fixture *f) {
    tc_error *err = NULL;
    tc_pair headers[TC_PROOF_PARTS + 1] = {{S("Content-Type"), S("application/json")}};
    for (size_t i = 0; i < TC_PROOF_PARTS; i++) {
        tc_str name, value;
        CHECK(tc_proof_header(f->proof, i, &name, &value, NULL) == TC_OK);
        CHECK(name.ptr[name.len] == '\0' && value.ptr[value.len] == '\0');
        headers[i + 1] = (tc_pair){name.ptr, name.len, value.ptr, value.len};
    }
    tc_proof *received = NULL;
    CHECK(tc_proof_from_headers(headers, TC_PROOF_PARTS + 1, &received, NULL) == TC_OK);

    tc_token *token = NULL;
    tc_identity *identity = NULL;
    CHECK(tc_authenticate(f->trusted, received, &f->request, NULL, 0, &f->options, &token, &identity, &err) == TC_OK);
    CHECK(err == NULL);
    CHECK(!strcmp(tc_identity_holder_id(identity).ptr, "gpu-1"));
    CHECK(!strcmp(tc_identity_revocation_id(identity).ptr, "rev-1"));
    CHECK(tc_identity_holder_public_hex(identity).len == 64);

    const tc_pair facts[] = {{S("req_operation"), S("lease")}, {S("req_lane"), S("gpu")}};
    CHECK(tc_check_policy(token, facts, 2, S("allow if req_operation(\"lease\")"), FIXTURE_NOW, &f->limits, NULL) ==
          TC_OK);
    EXPECT_ERROR(TC_DENIED, tc_check_policy(token, facts, 2, S("allow if req_operation(\"drop\")"), FIXTURE_NOW,
                                            &f->limits, &err));
    EXPECT_ERROR(TC_DENIED, tc_check_policy(token, facts, 2, S("allow if true"), FIXTURE_NOW + 7200, &f->limits,
                                            &err)); /* expired */
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_check_policy(token, facts, 2, S("allow if ("), FIXTURE_NOW, &f->limits, &err));
    const tc_pair bad_name[] = {{S("not an identifier"), S("x")}};
    EXPECT_ERROR(TC_MALFORMED_INPUT,
                 tc_check_policy(token, bad_name, 1, S("allow if true"), FIXTURE_NOW, &f->limits, &err));
    size_t policy = 99;
    double now = FIXTURE_NOW;
    CHECK(tc_authorize(token, S("allow if false; allow if worker_id(\"gpu-1\");"), &now, &f->limits, NULL, 0, &policy,
                       NULL) == TC_OK);
    CHECK(policy == 1);
    tc_limits tight = tc_limits_default();
    tight.max_time_ns = 0;
    EXPECT_ERROR(TC_LIMIT_EXCEEDED, tc_authorize(token, S("allow if true;"), &now, &tight, NULL, 0, &policy, &err));
    const tc_str unknown[] = {{S("no_such_function")}};
    EXPECT_ERROR(TC_MALFORMED_INPUT,
                 tc_authorize(token, S("allow if true;"), &now, &f->limits, unknown, 1, &policy, &err));

    /* inspection */
    CHECK(tc_token_block_count(token) == 1);
    CHECK(!tc_token_root_key_id(token, NULL));
    tc_bytes *source = NULL, *b64 = NULL;
    CHECK(tc_token_block_source(token, 0, &source, NULL) == TC_OK);
    CHECK(strstr((const char *)tc_bytes_data(source), "worker_id(\"gpu-1\")") != NULL);
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_token_block_source(token, 1, &b64, &err));
    CHECK(b64 == NULL);
    CHECK(tc_token_to_base64(token, &b64, NULL) == TC_OK);
    CHECK(tc_bytes_len(b64) == tc_bytes_len(f->token_b64));
    tc_identity *again = NULL;
    CHECK(tc_token_identity(token, &again, NULL) == TC_OK);
    CHECK(!strcmp(tc_identity_holder_id(again).ptr, "gpu-1"));

    /* the refusals of authenticate */
    const tc_str revoked[] = {{S("rev-1")}};
    EXPECT_ERROR(TC_REVOKED,
                 tc_authenticate(f->trusted, received, &f->request, revoked, 1, &f->options, NULL, NULL, &err));
    tc_authenticate_options late = f->options;
    late.now += 301;
    EXPECT_ERROR(TC_STALE_REQUEST,
                 tc_authenticate(f->trusted, received, &f->request, NULL, 0, &late, NULL, NULL, &err));
    tc_request other = f->request;
    other.path = "/drop";
    other.path_len = 5;
    tc_token *untouched = (tc_token *)f;
    EXPECT_ERROR(TC_POP_FAILED,
                 tc_authenticate(f->trusted, received, &other, NULL, 0, &f->options, &untouched, NULL, &err));
    CHECK(untouched == NULL);
    tc_issuer_keys *stranger = NULL;
    CHECK(tc_issuer_keys_from_hex(S("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), &stranger,
                                  NULL) == TC_OK);
    EXPECT_ERROR(TC_TOKEN_INVALID,
                 tc_authenticate(stranger, received, &f->request, NULL, 0, &f->options, NULL, NULL, &err));

    /* query transport */
    tc_pair query[TC_PROOF_PARTS];
    for (size_t i = 0; i < TC_PROOF_PARTS; i++) {
        tc_str name, value;
        CHECK(tc_proof_query_param(f->proof, i, &name, &value, NULL) == TC_OK);
        query[i] = (tc_pair){name.ptr, name.len, value.ptr, value.len};
    }
    tc_proof *from_query = NULL;
    CHECK(tc_proof_from_query(query, TC_PROOF_PARTS, &from_query, NULL) == TC_OK);
    CHECK(tc_authenticate(f->trusted, from_query, &f->request, NULL, 0, &f->options, NULL, NULL, NULL) == TC_OK);
    tc_proof_free(from_query);
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_proof_from_query(query, 3, &from_query, &err));
    CHECK(from_query == NULL);

    tc_issuer_keys_free(stranger);
    tc_identity_free(again);
    tc_bytes_free(b64);
    tc_bytes_free(source);
    tc_identity_free(identity);
    tc_token_free(token);
    tc_proof_free(received);
}

static void jobs_and_frames(const fixture *f) {
    char issuer_hex[TC_KEY_HEX_SIZE], sig[TC_SIGNATURE_HEX_SIZE];
    size_t len = 0;
    CHECK(tc_issuer_key_public_hex(f->issuer, issuer_hex, sizeof issuer_hex, &len, NULL) == TC_OK);
    const char *job = "{\"op\":\"transcribe\",\"n\":3}";
    CHECK(tc_sign_job(f->issuer, S(job), S("gpu-1"), sig, sizeof sig, &len, NULL) == TC_OK);
    char signed_job[512];
    snprintf(signed_job, sizeof signed_job, "{\"op\":\"transcribe\",\"n\":3,\"sig\":\"%s\"}", sig);
    CHECK(tc_verify_job(S(issuer_hex), S(signed_job), S("gpu-1"), NULL, NULL) == TC_OK);
    EXPECT_ERROR(TC_JOB_INVALID, tc_verify_job(S(issuer_hex), S(signed_job), S("gpu-2"), NULL, &err));
    EXPECT_ERROR(TC_JOB_INVALID, tc_verify_job(S(issuer_hex), S(job), S("gpu-1"), NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_sign_job(f->issuer, S("[1,2]"), S("gpu-1"), sig, sizeof sig, &len, &err));

    tc_bytes *frame = NULL, *object = NULL;
    CHECK(tc_frame_encode(S("{\"v\":1,\"op\":\"health\"}"), &frame, NULL) == TC_OK);
    CHECK(tc_bytes_len(frame) == 4 + strlen("{\"op\":\"health\",\"v\":1}"));
    CHECK(!memcmp(tc_bytes_data(frame) + 4, "{\"op\":\"health\",\"v\":1}", tc_bytes_len(frame) - 4));
    CHECK(tc_frame_decode(tc_bytes_data(frame), tc_bytes_len(frame), &object, NULL) == TC_OK);
    CHECK(!strcmp((const char *)tc_bytes_data(object), "{\"op\":\"health\",\"v\":1}"));
    tc_bytes_free(object);
    object = NULL;
    EXPECT_ERROR(TC_FRAME_INVALID, tc_frame_decode(tc_bytes_data(frame), tc_bytes_len(frame) - 1, &object, &err));
    size_t body_len = 0;
    CHECK(tc_frame_body_length(tc_bytes_data(frame), 4, &body_len, NULL) == TC_OK && body_len == 21);
    const uint8_t oversize[] = {0, 0x10, 0, 1}; /* TC_MAX_FRAME + 1 */
    EXPECT_ERROR(TC_FRAME_INVALID, tc_frame_body_length(oversize, 4, &body_len, &err));
    CHECK(tc_frame_decode_body((const uint8_t *)"{\"a\":[1]}", 9, &object, NULL) == TC_OK);
    CHECK(!strcmp((const char *)tc_bytes_data(object), "{\"a\":[1]}"));
    tc_bytes_free(object);
    EXPECT_ERROR(TC_FRAME_INVALID, tc_frame_decode_body((const uint8_t *)"[1]", 3, &object, &err));
    CHECK(object == NULL);
    tc_bytes_free(frame);
}

/* A fresh proof of the fixture's worker for its token, with `nonce`. */
static tc_proof *proof_with_nonce(const fixture *f, const char *nonce) {
    tc_proof *proof = NULL;
    CHECK(tc_make_proof(f->worker, (const char *)tc_bytes_data(f->token_b64), tc_bytes_len(f->token_b64), &f->request,
                        S("1700000000"), S(nonce), &proof, NULL) == TC_OK);
    return proof;
}

/* One reading of every JSON text: a job the issuer genuinely signed, with a key prepended that a
 * first-occurrence reader (cJSON, yyjson…) would take, must never verify; nor any text holding a key
 * twice, at any depth, reach core as one object while a C reader sees another. */
static void duplicated_keys(const fixture *f) {
    char issuer_hex[TC_KEY_HEX_SIZE], sig[TC_SIGNATURE_HEX_SIZE], signed_job[512], doubled[600];
    size_t len = 0;
    CHECK(tc_issuer_key_public_hex(f->issuer, issuer_hex, sizeof issuer_hex, &len, NULL) == TC_OK);
    CHECK(tc_sign_job(f->issuer, S("{\"cmd\":\"ls\",\"id\":\"j-1\"}"), S("gpu-1"), sig, sizeof sig, &len, NULL) ==
          TC_OK);
    snprintf(signed_job, sizeof signed_job, "{\"cmd\":\"ls\",\"id\":\"j-1\",\"sig\":\"%s\"}", sig);
    CHECK(tc_verify_job(S(issuer_hex), S(signed_job), S("gpu-1"), NULL, NULL) == TC_OK);
    /* the signed text with "cmd" prepended: serde_json alone would verify it (it keeps the last
     * "cmd", the signed one) while a cJSON holder would run the first */
    snprintf(doubled, sizeof doubled, "{\"cmd\":\"rm -rf /\",%s", signed_job + 1);
    EXPECT_ERROR(TC_JOB_INVALID, tc_verify_job(S(issuer_hex), S(doubled), S("gpu-1"), NULL, &err));
    /* appended, and deeper in the object */
    snprintf(doubled, sizeof doubled, "{\"cmd\":\"ls\",\"id\":\"j-1\",\"sig\":\"%s\",\"cmd\":\"ls\"}", sig);
    EXPECT_ERROR(TC_JOB_INVALID, tc_verify_job(S(issuer_hex), S(doubled), S("gpu-1"), NULL, &err));
    snprintf(doubled, sizeof doubled, "{\"cmd\":\"ls\",\"id\":\"j-1\",\"x\":[{\"a\":1,\"a\":2}],\"sig\":\"%s\"}", sig);
    EXPECT_ERROR(TC_JOB_INVALID, tc_verify_job(S(issuer_hex), S(doubled), S("gpu-1"), NULL, &err));
    /* and a text that is not one JSON object is the job's fault too (core's verify_job_text) */
    EXPECT_ERROR(TC_JOB_INVALID, tc_verify_job(S(issuer_hex), S("[1,2]"), S("gpu-1"), NULL, &err));
    EXPECT_ERROR(TC_JOB_INVALID, tc_verify_job(S(issuer_hex), S("{\"a\":1} {}"), S("gpu-1"), NULL, &err));

    /* the other JSON texts the ABI takes: each place's own code */
    EXPECT_ERROR(TC_MALFORMED_INPUT,
                 tc_sign_job(f->issuer, S("{\"cmd\":\"x\",\"cmd\":\"ls\"}"), S("gpu-1"), sig, sizeof sig, &len, &err));
    CHECK(len == 0);
    tc_bytes *out = NULL;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_frame_encode(S("{\"v\":1,\"op\":\"health\",\"op\":\"mint\"}"), &out, &err));
    CHECK(out == NULL);
    static const char body[] = "{\"op\":\"mint\",\"v\":1,\"op\":\"health\"}";
    EXPECT_ERROR(TC_FRAME_INVALID, tc_frame_decode_body((const uint8_t *)body, strlen(body), &out, &err));
    CHECK(out == NULL);
}

/* Revocation ids reach core as given, and core takes each in its one spelling: a block id in upper
 * case is the same id; an id with whitespace, a 0x prefix or nothing at all is refused, never kept
 * unmatched. For stateless deny-lists, a verifier's initial list and tc_verifier_revoke alike. */
static void identifiers(const fixture *f) {
    tc_token *token = NULL;
    CHECK(tc_token_parse(f->trusted, (const char *)tc_bytes_data(f->token_b64), tc_bytes_len(f->token_b64), &token,
                         NULL) == TC_OK);
    char block[TC_SIGNATURE_HEX_SIZE], upper[TC_SIGNATURE_HEX_SIZE], prefixed[TC_SIGNATURE_HEX_SIZE + 2];
    size_t len = 0;
    CHECK(tc_token_revocation_id(token, 0, block, sizeof block, &len, NULL) == TC_OK && len == 128);
    for (size_t i = 0; i <= len; i++)
        upper[i] = (char)(block[i] >= 'a' && block[i] <= 'f' ? block[i] - 'a' + 'A' : block[i]);
    CHECK(strcmp(upper, block) != 0);
    snprintf(prefixed, sizeof prefixed, "0x%s", block);

    /* stateless */
    const tc_str upper_list[] = {{S("rev-0")}, {upper, len}};
    EXPECT_ERROR(TC_REVOKED, tc_authenticate(f->trusted, f->proof, &f->request, upper_list, 2, &f->options, NULL, NULL,
                                             &err));
    static const char *const refused[] = {" rev-1", "rev-1\n", "", NULL};
    for (int i = 0; i < 4; i++) {
        const tc_str bad[] = {{refused[i] ? refused[i] : prefixed, strlen(refused[i] ? refused[i] : prefixed)}};
        EXPECT_ERROR(TC_MALFORMED_INPUT,
                     tc_authenticate(f->trusted, f->proof, &f->request, bad, 1, &f->options, NULL, NULL, &err));
    }
    const tc_str not_hex[] = {{S("REV-1")}}; /* not hex: as written, so not "rev-1" */
    CHECK(tc_authenticate(f->trusted, f->proof, &f->request, not_hex, 1, &f->options, NULL, NULL, NULL) == TC_OK);

    /* a verifier's initial list */
    tc_verifier_options options = tc_verifier_options_default();
    options.limits = f->limits;
    tc_verifier *v = NULL;
    double now = FIXTURE_NOW;
    const tc_str initial[] = {{upper, len}};
    CHECK(tc_verifier_new(f->trusted, &options, initial, 1, &v, NULL) == TC_OK);
    EXPECT_ERROR(TC_REVOKED, tc_verifier_authenticate(v, f->proof, &f->request, &now, NULL, NULL, &err));
    tc_verifier_free(v);
    v = NULL;
    const tc_str spaced[] = {{S("rev-9")}, {S(" rev-1")}};
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_new(f->trusted, &options, spaced, 2, &v, &err));
    CHECK(v == NULL);

    /* tc_verifier_revoke */
    CHECK(tc_verifier_new(f->trusted, &options, NULL, 0, &v, NULL) == TC_OK);
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_revoke(v, S(" rev-1"), &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_revoke(v, S(prefixed), &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_revoke(v, NULL, 0, &err));
    CHECK(tc_verifier_authenticate(v, f->proof, &f->request, &now, NULL, NULL, NULL) == TC_OK);
    CHECK(tc_verifier_revoke(v, upper, len, NULL) == TC_OK);
    tc_proof *next = proof_with_nonce(f, "id-1");
    EXPECT_ERROR(TC_REVOKED, tc_verifier_authenticate(v, next, &f->request, &now, NULL, NULL, &err));
    tc_proof_free(next);
    tc_verifier_free(v);
    tc_token_free(token);
}

/* tc_verifier_revoke_token: every id of a token at once, from the next request on; the token may be
 * one the verifier returned or one parsed with the issuer keys. */
static void revoke_token(const fixture *f) {
    tc_verifier_options options = tc_verifier_options_default();
    options.limits = f->limits;
    double now = FIXTURE_NOW;
    for (int parsed = 0; parsed < 2; parsed++) {
        tc_verifier *v = NULL;
        tc_token *token = NULL;
        CHECK(tc_verifier_new(f->trusted, &options, NULL, 0, &v, NULL) == TC_OK);
        if (parsed)
            CHECK(tc_token_parse(f->trusted, (const char *)tc_bytes_data(f->token_b64), tc_bytes_len(f->token_b64),
                                 &token, NULL) == TC_OK);
        CHECK(tc_verifier_authenticate(v, f->proof, &f->request, &now, parsed ? NULL : &token, NULL, NULL) == TC_OK);
        CHECK(tc_verifier_revoke_token(v, token, NULL) == TC_OK);
        tc_proof *next = proof_with_nonce(f, "rt-1");
        EXPECT_ERROR(TC_REVOKED, tc_verifier_authenticate(v, next, &f->request, &now, NULL, NULL, &err));
        tc_proof_free(next);
        EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_revoke_token(v, NULL, &err));
        EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_revoke_token(NULL, token, &err));
        tc_token_free(token);
        tc_verifier_free(v);
    }
}

/* replay_capacity_per_holder, an optional: unset (the default) is core's share, a quarter of
 * replay_capacity; set, it is that many pairs a holder (at least 1: core refuses 0 with
 * MALFORMED_INPUT). Past its share a holder is LIMIT_EXCEEDED; its replays are still REPLAYED. */
static void replay_share(const fixture *f) {
    tc_verifier_options options = tc_verifier_options_default();
    CHECK(!options.replay_capacity_per_holder.has);
    options.limits = f->limits;
    options.replay_capacity = 8;                  /* core's share: 2 a holder */
    options.replay_capacity_per_holder.value = 1; /* not read: has is false */
    double now = FIXTURE_NOW;
    /* per case: has, value, and the outcome of the 1st, 2nd, 3rd distinct nonce */
    const struct {
        bool has;
        size_t share;
        tc_status want[3];
    } cases[] = {
        {false, 1, {TC_OK, TC_OK, TC_LIMIT_EXCEEDED}},
        {true, 1, {TC_OK, TC_LIMIT_EXCEEDED, TC_LIMIT_EXCEEDED}},
        {true, 3, {TC_OK, TC_OK, TC_OK}},
    };
    {
        tc_verifier_options zero = options;
        zero.replay_capacity_per_holder = (tc_optional_usize){.has = true, .value = 0};
        tc_verifier *none = NULL;
        CHECK(tc_verifier_new(f->trusted, &zero, NULL, 0, &none, NULL) == TC_MALFORMED_INPUT);
        CHECK(none == NULL);
    }
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        options.replay_capacity_per_holder = (tc_optional_usize){.has = cases[c].has, .value = cases[c].share};
        tc_verifier *v = NULL;
        CHECK(tc_verifier_new(f->trusted, &options, NULL, 0, &v, NULL) == TC_OK);
        tc_proof *first = NULL;
        for (int i = 0; i < 3; i++) {
            char nonce[16];
            snprintf(nonce, sizeof nonce, "share-%d", i);
            tc_proof *p = proof_with_nonce(f, nonce);
            tc_status got = tc_verifier_authenticate(v, p, &f->request, &now, NULL, NULL, NULL);
            if (got != cases[c].want[i])
                fprintf(stderr, "replay share case %zu nonce %d: %s\n", c, i, tc_status_name(got));
            CHECK(got == cases[c].want[i]);
            if (i == 0)
                first = p;
            else
                tc_proof_free(p);
        }
        if (cases[c].want[0] == TC_OK)
            EXPECT_ERROR(TC_REPLAYED, tc_verifier_authenticate(v, first, &f->request, &now, NULL, NULL, &err));
        tc_proof_free(first);
        tc_verifier_free(v);
    }
}

/* The stateful verifier: cache, replay refusal (only after the proof verified), a growing
 * revocation list, its own limits. */
static void verifier_flow(const fixture *f) {
    tc_verifier_options options = tc_verifier_options_default();
    CHECK(options.max_skew_seconds == 300 && options.replay_capacity > 0);
    options.limits = f->limits;
    tc_verifier *verifier = NULL;
    CHECK(tc_verifier_new(f->trusted, &options, NULL, 0, &verifier, NULL) == TC_OK);
    double now = FIXTURE_NOW;
    tc_token *token = NULL;
    tc_identity *identity = NULL;
    CHECK(tc_verifier_authenticate(verifier, f->proof, &f->request, &now, &token, &identity, NULL) == TC_OK);
    CHECK(!strcmp(tc_identity_holder_id(identity).ptr, "gpu-1"));
    const tc_pair facts[] = {{S("req_operation"), S("lease")}};
    CHECK(tc_verifier_check_policy(verifier, token, facts, 1, S("allow if req_operation(\"lease\")"), &now, NULL) ==
          TC_OK);
    EXPECT_ERROR(TC_DENIED,
                 tc_verifier_check_policy(verifier, token, facts, 1, S("allow if req_operation(\"x\")"), &now, &err));
    size_t policy = 9;
    CHECK(tc_verifier_authorize(verifier, token, S("allow if false; allow if true;"), &now, NULL, 0, &policy, NULL) ==
              TC_OK &&
          policy == 1);
    /* the same proof again: a replay */
    EXPECT_ERROR(TC_REPLAYED, tc_verifier_authenticate(verifier, f->proof, &f->request, &now, NULL, NULL, &err));
    /* a forged request under a fresh nonce burns nothing: the genuine one still passes after it */
    tc_proof *fresh = NULL, *forged = NULL;
    CHECK(tc_make_proof(f->worker, (const char *)tc_bytes_data(f->token_b64), tc_bytes_len(f->token_b64), &f->request,
                        S("1700000000"), S("n2"), &fresh, NULL) == TC_OK);
    char zeros[129];
    memset(zeros, '0', 128);
    zeros[128] = '\0';
    CHECK(tc_proof_new(tc_proof_token(fresh).ptr, tc_proof_token(fresh).len, S(zeros), S("1700000000"), S("n2"),
                       &forged, NULL) == TC_OK);
    EXPECT_ERROR(TC_POP_FAILED, tc_verifier_authenticate(verifier, forged, &f->request, &now, NULL, NULL, &err));
    CHECK(tc_verifier_authenticate(verifier, fresh, &f->request, &now, NULL, NULL, NULL) == TC_OK);
    uint64_t hits = 0, misses = 0;
    tc_verifier_cache_stats(verifier, &hits, &misses, NULL, NULL);
    CHECK(misses == 1 && hits >= 2);
    uint64_t entries = 0, bytes = 0;
    tc_verifier_cache_stats(verifier, NULL, NULL, &entries, &bytes);
    CHECK(entries == 1 && bytes == 4096 + 4 * tc_bytes_len(f->token_b64)); /* as the option documents */
    tc_verifier_cache_stats(NULL, &hits, NULL, &entries, NULL);
    CHECK(hits == 0 && entries == 0);
    /* revocation from the next request on */
    CHECK(tc_verifier_revoke(verifier, S("rev-1"), NULL) == TC_OK);
    tc_proof *third = NULL;
    CHECK(tc_make_proof(f->worker, (const char *)tc_bytes_data(f->token_b64), tc_bytes_len(f->token_b64), &f->request,
                        S("1700000000"), S("n3"), &third, NULL) == TC_OK);
    EXPECT_ERROR(TC_REVOKED, tc_verifier_authenticate(verifier, third, &f->request, &now, NULL, NULL, &err));
    /* NULLs */
    tc_verifier *none = NULL;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_new(NULL, NULL, NULL, 0, &none, &err));
    CHECK(none == NULL);
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_authenticate(NULL, third, &f->request, &now, NULL, NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_verifier_revoke(NULL, S("x"), &err));
    tc_verifier_free(NULL);

    tc_proof_free(third);
    tc_proof_free(forged);
    tc_proof_free(fresh);
    tc_identity_free(identity);
    tc_verifier_free(verifier);
    /* the token shared with the cache outlives the verifier */
    CHECK(tc_token_block_count(token) == 1);
    tc_token_free(token);
}

/* Signed by the fixture's issuer (seed 11…) for its worker (seed 22…): an authority block like the
 * fixture's (expiring at FIXTURE_NOW + 3600), then an appended block
 * `check if req_operation($o), $o.matches("^lea");` (made once with trustcore-core's mint_biscuit and
 * biscuit-auth 6's append: appended blocks use random ephemeral keys, so it is kept as it was made).
 * go/budget_test.go has the same. */
static const char regex_token[] =
    "EsgCCt0BCgp3b3JrZXJfa2V5CkBhMDlhYTVmNDdhNjc1OTgwMmZmOTU1ZjhkYzJkMmExNGE1Yzk5ZDIzYmU5N2Y4NjQxMjdmZjkz"
    "ODM0NTVhNGYwCgl3b3JrZXJfaWQKBWdwdS0xCgRsYW5lCgNncHUKCnJldm9jYXRpb24KBXJldi0xCgF0GAMiCgoICIAIEgMYgQgi"
    "CgoICIIIEgMYgwgiCgoICIQIEgMYhQgiCgoICIYIEgMYhwgyKAomCgIIGxIHCAUSAwiICBoXCgUKAwiICAoICgYgkP7PqgYKBBoC"
    "CAISJAgAEiBmjXRgJc5MQHwF7wPS3954ImozQNCpnQKyMT9gx-RyeRpAL8sREdnjYJMvFwW01s4Lg4u4HVUMwky_r-9ygxW4dCUR"
    "1p803eGXxJ40vDvj1EZOVxKW_R1SbDLfCtVj4x1dBRqsAQpCCg1yZXFfb3BlcmF0aW9uCgFvCgRebGVhGAMyJgokCgIIGxIICIkI"
    "EgMIiggaFAoFCgMIiggKBQoDGIsICgQaAggIEiQIABIgIWIbAlJg2bqyXrzWo2YIc3ajSYIP1u1jyamp47F0YtcaQPy7PbL3ZLol"
    "cFCshm9FBjUqOlTR67HsVhnbRVu2sgZyOZPObyO001VJooKtatJ_j-mOmTfVNu4xso14C1Y6dgYiIgogVOrMNvXyQuexNEnLfiPH"
    "IzAGVL_EjkYTgnMNhS8GHYY=";

/* Every field of tc_limits reaches the core: each, set tight, refuses (LIMIT_EXCEEDED) what the
 * defaults accept; authenticate reads the expiry the issuer wrote. */
static void budget(const fixture *f) {
    const tc_limits d = tc_limits_default();
    CHECK(d.max_time_ns == 10000000 && d.max_facts == 1000 && d.max_iterations == 100);
    CHECK(d.max_token_bytes == 32768 && d.max_blocks == 32 && d.max_block_facts == 1000 &&
          d.max_block_rules == 64 && d.max_body_atoms == 32 && d.max_body_ops == 128 && d.max_join_size == 10000 &&
          !d.allow_appended_regex);
    const tc_verifier_options o = tc_verifier_options_default();
    CHECK(o.token_cache_max_bytes == 64u * 1024 * 1024 && o.max_batch_requests == 1024 &&
          o.max_batch_body_bytes == 64u * 1024 * 1024);
    CHECK(!memcmp(&o.limits, &d, offsetof(tc_limits, allow_appended_regex)) &&
          o.limits.allow_appended_regex == d.allow_appended_regex);

    tc_token *token = NULL;
    CHECK(tc_token_parse(f->trusted, (const char *)tc_bytes_data(f->token_b64), tc_bytes_len(f->token_b64), &token,
                         NULL) == TC_OK);
    const tc_pair facts[] = {{S("req_operation"), S("lease")}};
    static const char allow[] = "allow if req_operation($o), lane($l)"; /* two predicates */
    static const char code[] = "allow if req_operation($o), lane($l);";
    double now = FIXTURE_NOW;
    size_t policy = 9;
    CHECK(tc_check_policy(token, facts, 1, S(allow), FIXTURE_NOW, &f->limits, NULL) == TC_OK);
    CHECK(tc_check_policy(token, facts, 1, S(allow), FIXTURE_NOW, NULL, NULL) == TC_OK);
    tc_verifier_options vo = tc_verifier_options_default();
    vo.limits = f->limits;
    tc_verifier *v = NULL;
    CHECK(tc_verifier_new(f->trusted, &vo, NULL, 0, &v, NULL) == TC_OK);
    CHECK(tc_verifier_check_policy(v, token, facts, 1, S(allow), &now, NULL) == TC_OK);
    tc_verifier_free(v);
    /* the fixture's token: one block of five facts and one check (its expiry: one predicate, three
     * operations); the policy adds a body of two predicates */
    for (int field = 0; field < 6; field++) {
        tc_limits tight = f->limits;
        const char *name = "";
        switch (field) {
        case 0: tight.max_blocks = 0, name = "max_blocks 0"; break;
        case 1: tight.max_block_facts = 1, name = "max_block_facts 1"; break;
        case 2: tight.max_block_rules = 0, name = "max_block_rules 0"; break;
        case 3: tight.max_body_atoms = 1, name = "max_body_atoms 1"; break;
        case 4: tight.max_body_ops = 2, name = "max_body_ops 2"; break;
        default: tight.max_join_size = 1, name = "max_join_size 1"; break;
        }
        tc_status a = tc_check_policy(token, facts, 1, S(allow), FIXTURE_NOW, &tight, NULL);
        tc_status b = tc_authorize(token, S(code), &now, &tight, NULL, 0, &policy, NULL);
        vo.limits = tight;
        v = NULL;
        CHECK(tc_verifier_new(f->trusted, &vo, NULL, 0, &v, NULL) == TC_OK);
        tc_status c = tc_verifier_check_policy(v, token, facts, 1, S(allow), &now, NULL);
        tc_verifier_free(v);
        if (a != TC_LIMIT_EXCEEDED || b != TC_LIMIT_EXCEEDED || c != TC_LIMIT_EXCEEDED)
            fprintf(stderr, "budget %s: check_policy %s, authorize %s, verifier check_policy %s\n", name,
                    tc_status_name(a), tc_status_name(b), tc_status_name(c));
        CHECK(a == TC_LIMIT_EXCEEDED && b == TC_LIMIT_EXCEEDED && c == TC_LIMIT_EXCEEDED);
    }

    /* max_token_bytes: authenticate (alone and through a verifier) checks it before decoding */
    tc_authenticate_options small = f->options;
    small.limits.max_token_bytes = 100;
    EXPECT_ERROR(TC_LIMIT_EXCEEDED, tc_authenticate(f->trusted, f->proof, &f->request, NULL, 0, &small, NULL, NULL, &err));
    tc_authenticate_options exact = f->options;
    exact.limits.max_token_bytes = tc_bytes_len(f->token_b64);
    CHECK(tc_authenticate(f->trusted, f->proof, &f->request, NULL, 0, &exact, NULL, NULL, NULL) == TC_OK);
    vo.limits = small.limits;
    v = NULL;
    CHECK(tc_verifier_new(f->trusted, &vo, NULL, 0, &v, NULL) == TC_OK);
    EXPECT_ERROR(TC_LIMIT_EXCEEDED, tc_verifier_authenticate(v, f->proof, &f->request, &now, NULL, NULL, &err));
    tc_verifier_free(v);

    /* allow_appended_regex: a regular expression in an appended block */
    tc_token *regex = NULL;
    CHECK(tc_token_parse(f->trusted, S(regex_token), &regex, NULL) == TC_OK);
    CHECK(tc_token_block_count(regex) == 2);
    static const char lease[] = "allow if req_operation(\"lease\")";
    EXPECT_ERROR(TC_LIMIT_EXCEEDED, tc_check_policy(regex, facts, 1, S(lease), FIXTURE_NOW, &f->limits, &err));
    EXPECT_ERROR(TC_LIMIT_EXCEEDED, tc_check_policy(regex, facts, 1, S(lease), FIXTURE_NOW, NULL, &err));
    tc_limits allowed = f->limits;
    allowed.allow_appended_regex = true;
    CHECK(tc_check_policy(regex, facts, 1, S(lease), FIXTURE_NOW, &allowed, NULL) == TC_OK);
    const tc_pair drop[] = {{S("req_operation"), S("drop")}};
    EXPECT_ERROR(TC_DENIED,
                 tc_check_policy(regex, drop, 1, S("allow if req_operation(\"drop\")"), FIXTURE_NOW, &allowed, &err));
    allowed.max_blocks = 1;
    EXPECT_ERROR(TC_LIMIT_EXCEEDED, tc_check_policy(regex, facts, 1, S(lease), FIXTURE_NOW, &allowed, &err));
    tc_token_free(regex);
    tc_token_free(token);

    /* authenticate reads the expiry the issuer wrote: TOKEN_INVALID a second after it, fine at it */
    vo = tc_verifier_options_default();
    vo.limits = f->limits;
    CHECK(tc_verifier_new(f->trusted, &vo, NULL, 0, &v, NULL) == TC_OK);
    static const char *const stamps[] = {"1700003601", "1700003600"};
    for (int i = 0; i < 2; i++) {
        tc_status want = i == 0 ? TC_TOKEN_INVALID : TC_OK;
        tc_proof *late = NULL;
        CHECK(tc_make_proof(f->worker, (const char *)tc_bytes_data(f->token_b64), tc_bytes_len(f->token_b64),
                            &f->request, S(stamps[i]), S(stamps[i]), &late, NULL) == TC_OK);
        tc_authenticate_options at = f->options;
        at.now = strtod(stamps[i], NULL);
        CHECK(tc_authenticate(f->trusted, late, &f->request, NULL, 0, &at, NULL, NULL, NULL) == want);
        CHECK(tc_verifier_authenticate(v, late, &f->request, &at.now, NULL, NULL, NULL) == want);
        tc_proof_free(late);
    }
    tc_verifier_free(v);
}

/* The token cache admits a token only once a proof with it verified: forged requests leave nothing
 * behind; token_cache_max_bytes bounds it (0 turns it off). */
static void token_cache(const fixture *f) {
    tc_proof *forged = NULL;
    tc_str sig = tc_proof_signature(f->proof);
    CHECK(tc_proof_new((const char *)tc_bytes_data(f->token_b64), tc_bytes_len(f->token_b64), sig.ptr, sig.len,
                       S("1700000000"), S("other-nonce"), &forged, NULL) == TC_OK);
    double now = FIXTURE_NOW;
    uint64_t hits = 9, misses = 9;
    tc_verifier_options o = tc_verifier_options_default();
    o.limits = f->limits;
    tc_verifier *v = NULL;
    CHECK(tc_verifier_new(f->trusted, &o, NULL, 0, &v, NULL) == TC_OK);
    EXPECT_ERROR(TC_POP_FAILED, tc_verifier_authenticate(v, forged, &f->request, &now, NULL, NULL, &err));
    EXPECT_ERROR(TC_POP_FAILED, tc_verifier_authenticate(v, forged, &f->request, &now, NULL, NULL, &err));
    tc_verifier_cache_stats(v, &hits, &misses, NULL, NULL);
    CHECK(hits == 0 && misses == 2); /* not cached */
    CHECK(tc_verifier_authenticate(v, f->proof, &f->request, &now, NULL, NULL, NULL) == TC_OK);
    tc_proof *second = NULL;
    CHECK(tc_make_proof(f->worker, (const char *)tc_bytes_data(f->token_b64), tc_bytes_len(f->token_b64), &f->request,
                        S("1700000000"), S("n2"), &second, NULL) == TC_OK);
    CHECK(tc_verifier_authenticate(v, second, &f->request, &now, NULL, NULL, NULL) == TC_OK);
    tc_verifier_cache_stats(v, &hits, &misses, NULL, NULL);
    CHECK(hits == 1 && misses == 3);
    tc_verifier_free(v);
    tc_proof_free(second);

    /* token_cache_max_bytes: 1 (no entry fits), 0 (no cache), 1 MiB (the token fits) */
    const uint64_t bounds[] = {1, 0, 1u << 20};
    const uint64_t want_hits[] = {0, 0, 1}, want_misses[] = {2, 0, 1};
    for (int i = 0; i < 3; i++) {
        o.token_cache_max_bytes = bounds[i];
        CHECK(tc_verifier_new(f->trusted, &o, NULL, 0, &v, NULL) == TC_OK);
        for (int k = 0; k < 2; k++) {
            char nonce[16];
            snprintf(nonce, sizeof nonce, "cb-%d", k);
            tc_proof *p = NULL;
            CHECK(tc_make_proof(f->worker, (const char *)tc_bytes_data(f->token_b64), tc_bytes_len(f->token_b64),
                                &f->request, S("1700000000"), S(nonce), &p, NULL) == TC_OK);
            CHECK(tc_verifier_authenticate(v, p, &f->request, &now, NULL, NULL, NULL) == TC_OK);
            tc_proof_free(p);
        }
        uint64_t entries = 9, bytes = 9;
        tc_verifier_cache_stats(v, &hits, &misses, &entries, &bytes);
        if (hits != want_hits[i] || misses != want_misses[i])
            fprintf(stderr, "token_cache_max_bytes %llu: hits %llu misses %llu\n", (unsigned long long)bounds[i],
                    (unsigned long long)hits, (unsigned long long)misses);
        CHECK(hits == want_hits[i] && misses == want_misses[i]);
        /* what the cache holds now: the one token where it fits, nothing elsewhere */
        CHECK(entries == want_hits[i] && bytes == (entries ? 4096 + 4 * tc_bytes_len(f->token_b64) : 0));
        CHECK(bytes <= bounds[i]);
        tc_verifier_free(v);
    }
    tc_proof_free(forged);
}

static void keys(void) {
    tc_issuer_key *a = NULL, *b = NULL;
    CHECK(tc_issuer_key_generate(&a, NULL) == TC_OK);
    char secret[TC_KEY_HEX_SIZE], public_a[TC_KEY_HEX_SIZE], public_b[TC_KEY_HEX_SIZE];
    size_t len = 0;
    CHECK(tc_issuer_key_secret_hex(a, secret, sizeof secret, &len, NULL) == TC_OK && len == 64);
    CHECK(tc_issuer_key_from_secret_hex(secret, len, &b, NULL) == TC_OK);
    CHECK(tc_issuer_key_public_hex(a, public_a, sizeof public_a, &len, NULL) == TC_OK);
    CHECK(tc_issuer_key_public_hex(b, public_b, sizeof public_b, &len, NULL) == TC_OK);
    CHECK(!strcmp(public_a, public_b));
    memset(secret, 0, sizeof secret);
    tc_worker_key *w = NULL;
    uint8_t seed[32] = {1};
    CHECK(tc_worker_key_from_seed(seed, sizeof seed, &w, NULL) == TC_OK);
    tc_worker_key *short_seed = NULL;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_worker_key_from_seed(seed, 31, &short_seed, &err));
    tc_issuer_keys *rotation = NULL;
    const tc_issuer_key_entry entries[] = {{1, public_a, 64}, {2, public_b, 64}};
    CHECK(tc_issuer_keys_by_key_id(entries, 2, &rotation, NULL) == TC_OK);
    tc_issuer_keys_free(rotation);
    const tc_issuer_key_entry bad[] = {{1, "zz", 2}};
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_issuer_keys_by_key_id(bad, 1, &rotation, &err));
    tc_worker_key_free(w);
    tc_issuer_key_free(a);
    tc_issuer_key_free(b);
}

/* Delegation (docs/DESIGN.md §3.13) through the ABI: a delegable token minted, handed to a second
 * key, used by that key only; the chain in the identity; every refusal of tc_delegate. */
static void delegation(const fixture *f) {
    tc_worker_key *b = NULL;
    CHECK(tc_worker_key_from_secret_hex(S("3333333333333333333333333333333333333333333333333333333333333333"), &b,
                                        NULL) == TC_OK);
    char a_hex[TC_KEY_HEX_SIZE], b_hex[TC_KEY_HEX_SIZE];
    size_t len = 0;
    CHECK(tc_worker_key_public_hex(f->worker, a_hex, sizeof a_hex, &len, NULL) == TC_OK);
    CHECK(tc_worker_key_public_hex(b, b_hex, sizeof b_hex, &len, NULL) == TC_OK);
    const tc_str lanes[] = {{S("gpu")}};
    const tc_mint_fact facts[] = {{S("lane"), lanes, 1}};
    tc_mint_request mint = {.public_hex = a_hex,
                            .public_hex_len = 64,
                            .holder_id = "gpu-1",
                            .holder_id_len = 5,
                            .facts = facts,
                            .facts_count = 1,
                            .revocation_id = {true, "rev-d", 5},
                            .expires_at = FIXTURE_NOW + 3600,
                            .delegation_depth = 1};
    tc_bytes *delegable = NULL, *delegated = (tc_bytes *)f, *again = NULL;
    CHECK(tc_mint_biscuit(f->issuer, &mint, &delegable, NULL) == TC_OK);
    mint.delegation_depth = 9; /* more than 8 */
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_mint_biscuit(f->issuer, &mint, &again, &err));
    CHECK(again == NULL);
    const char *token = (const char *)tc_bytes_data(delegable);
    size_t token_len = tc_bytes_len(delegable);

    tc_delegate_request to_b = {S(b_hex), S("gpu-2"), S("check if req_lane(\"gpu\");"), FIXTURE_NOW + 600};
    /* misuse: NULLs, and a stale out pointer reset on failure */
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_delegate(token, token_len, NULL, &to_b, &delegated, &err));
    CHECK(delegated == NULL);
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_delegate(token, token_len, f->worker, NULL, &delegated, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_delegate(token, token_len, f->worker, &to_b, NULL, &err));
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_delegate(NULL, 3, f->worker, &to_b, &delegated, &err));
    EXPECT_ERROR(TC_TOKEN_INVALID, tc_delegate(S("not a token"), f->worker, &to_b, &delegated, &err));
    tc_delegate_request bad = to_b;
    bad.to_holder_id = "g\xff";
    bad.to_holder_id_len = 2;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_delegate(token, token_len, f->worker, &bad, &delegated, &err));
    bad = to_b;
    bad.checks = "right(\"drop\");"; /* a fact: checks only */
    bad.checks_len = strlen(bad.checks);
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_delegate(token, token_len, f->worker, &bad, &delegated, &err));
    bad = to_b;
    bad.expires_at = FIXTURE_NOW + 7200; /* after the token */
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_delegate(token, token_len, f->worker, &bad, &delegated, &err));
    bad = to_b;
    bad.to_public_hex_len = 63;
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_delegate(token, token_len, f->worker, &bad, &delegated, &err));
    /* not the token's holder; a token its issuer made not delegable */
    EXPECT_ERROR(TC_MALFORMED_INPUT, tc_delegate(token, token_len, b, &to_b, &delegated, &err));
    EXPECT_ERROR(TC_DELEGATION_INVALID, tc_delegate((const char *)tc_bytes_data(f->token_b64),
                                                    tc_bytes_len(f->token_b64), f->worker, &to_b, &delegated, &err));
    CHECK(delegated == NULL);

    /* A hands to B (no checks: NULL with length 0 is none) */
    tc_delegate_request plain = {S(b_hex), S("gpu-2"), NULL, 0, FIXTURE_NOW + 600};
    CHECK(tc_delegate(token, token_len, f->worker, &plain, &delegated, NULL) == TC_OK);
    tc_bytes_free(delegated);
    delegated = NULL;
    CHECK(tc_delegate(token, token_len, f->worker, &to_b, &delegated, NULL) == TC_OK);
    const char *b_token = (const char *)tc_bytes_data(delegated);
    size_t b_token_len = tc_bytes_len(delegated);
    CHECK(b_token_len > token_len && b_token[b_token_len] == '\0');
    /* the link used up the depth: B cannot hand it on */
    EXPECT_ERROR(TC_DELEGATION_INVALID, tc_delegate(b_token, b_token_len, b, &to_b, &again, &err));
    CHECK(again == NULL);

    /* the chain, from the token and from the verifier */
    tc_token *parsed = NULL;
    tc_identity *identity = NULL;
    CHECK(tc_token_parse(f->trusted, b_token, b_token_len, &parsed, NULL) == TC_OK);
    CHECK(tc_token_block_count(parsed) == 2);
    CHECK(tc_token_identity(parsed, &identity, NULL) == TC_OK);
    CHECK(!strcmp(tc_identity_holder_id(identity).ptr, "gpu-2"));
    CHECK(!strcmp(tc_identity_holder_public_hex(identity).ptr, b_hex));
    CHECK(!strcmp(tc_identity_revocation_id(identity).ptr, "rev-d"));
    CHECK(tc_identity_chain_count(identity) == 2);
    CHECK(!strcmp(tc_identity_chain_holder_id(identity, 0).ptr, "gpu-1"));
    CHECK(!strcmp(tc_identity_chain_holder_public_hex(identity, 0).ptr, a_hex));
    CHECK(!strcmp(tc_identity_chain_holder_id(identity, 1).ptr, "gpu-2"));
    CHECK(tc_identity_chain_holder_public_hex(identity, 1).len == 64);
    CHECK(tc_identity_chain_holder_id(identity, 2).len == 0 && tc_identity_chain_holder_id(identity, 2).ptr != NULL);
    CHECK(tc_identity_chain_holder_public_hex(identity, (size_t)-1).len == 0);
    tc_identity_free(identity);
    identity = NULL;
    tc_token_free(parsed);
    parsed = NULL;
    CHECK(tc_token_parse(f->trusted, token, token_len, &parsed, NULL) == TC_OK);
    CHECK(tc_token_identity(parsed, &identity, NULL) == TC_OK);
    CHECK(tc_identity_chain_count(identity) == 1 && !strcmp(tc_identity_chain_holder_id(identity, 0).ptr, "gpu-1"));
    tc_identity_free(identity);
    identity = NULL;
    tc_token_free(parsed);
    parsed = NULL;

    tc_verifier_options options = tc_verifier_options_default();
    options.limits = f->limits;
    tc_verifier *verifier = NULL;
    CHECK(tc_verifier_new(f->trusted, &options, NULL, 0, &verifier, NULL) == TC_OK);
    double now = FIXTURE_NOW;
    tc_proof *by_b = NULL, *by_a = NULL;
    CHECK(tc_make_proof(b, b_token, b_token_len, &f->request, S("1700000000"), S("d1"), &by_b, NULL) == TC_OK);
    CHECK(tc_make_proof(f->worker, b_token, b_token_len, &f->request, S("1700000000"), S("d2"), &by_a, NULL) ==
          TC_OK);
    /* only the last holder's key proves possession */
    EXPECT_ERROR(TC_POP_FAILED, tc_verifier_authenticate(verifier, by_a, &f->request, &now, NULL, NULL, &err));
    CHECK(tc_verifier_authenticate(verifier, by_b, &f->request, &now, &parsed, &identity, NULL) == TC_OK);
    CHECK(tc_identity_chain_count(identity) == 2 && !strcmp(tc_identity_holder_id(identity).ptr, "gpu-2"));
    const tc_pair gpu[] = {{S("req_lane"), S("gpu")}}, cpu[] = {{S("req_lane"), S("cpu")}};
    CHECK(tc_verifier_check_policy(verifier, parsed, gpu, 1, S("allow if lane($l), req_lane($l)"), &now, NULL) ==
          TC_OK);
    /* B's narrowing check holds */
    EXPECT_ERROR(TC_DENIED, tc_verifier_check_policy(verifier, parsed, cpu, 1, S("allow if true"), &now, &err));
    /* the policy sees the chain */
    CHECK(tc_verifier_check_policy(verifier, parsed, gpu, 1, S("allow if holder_chain(1, \"gpu-2\", $k)"), &now,
                                   NULL) == TC_OK);
    EXPECT_ERROR(TC_DENIED, tc_verifier_check_policy(verifier, parsed, gpu, 1,
                                                     S("allow if holder_chain(1, $id, $k), $id != \"gpu-2\""),
                                                     &now, &err));
    /* revoking A's token refuses B's */
    CHECK(tc_verifier_revoke(verifier, S("rev-d"), NULL) == TC_OK);
    tc_proof *later = NULL;
    CHECK(tc_make_proof(b, b_token, b_token_len, &f->request, S("1700000000"), S("d3"), &later, NULL) == TC_OK);
    EXPECT_ERROR(TC_REVOKED, tc_verifier_authenticate(verifier, later, &f->request, &now, NULL, NULL, &err));

    tc_proof_free(later);
    tc_proof_free(by_a);
    tc_proof_free(by_b);
    tc_identity_free(identity);
    tc_token_free(parsed);
    tc_verifier_free(verifier);
    tc_bytes_free(delegated);
    tc_bytes_free(delegable);
    tc_worker_key_free(b);
}

/* usage: misuse [REPO_ROOT]   (the signer checks start $TRUSTCORE_BIN, else REPO_ROOT's build; the signer and
 * redis-server come from $TRUSTCORE_TESTENV) */
int main(int argc, char **argv) {
    fixture f;
    fixture_init(&f);
    status_names();
    null_handles_and_getters();
    null_arguments(&f);
    caller_buffers(&f);
    invalid_utf8(&f);
    secrets_stay_out_of_messages();
    end_to_end(&f);
    jobs_and_frames(&f);
    duplicated_keys(&f);
    verifier_flow(&f);
    identifiers(&f);
    revoke_token(&f);
    replay_share(&f);
    budget(&f);
    token_cache(&f);
    delegation(&f);
    batch_checks(&f);
    hostile_checks(&f, argc > 1 ? argv[1] : NULL);
    http_checks(&f);
    keys();
    thread_checks(&f);
    signer_checks(&f, argc > 1 ? argv[1] : NULL);
    redis_checks(&f);
    fixture_free(&f);
    printf("misuse: %d passed, %d failed\n", checks_passed, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}
