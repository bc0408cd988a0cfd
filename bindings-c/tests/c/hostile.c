/* The hostile-input table for the C ABI: each row feeds one public function one
 * hostile input and names the exact status it must return. NULL pointers and the like are misuse.c's;
 * a length that lies about its buffer is out of scope (C cannot check it). Hostile inputs that are
 * pure data (a 1 MB token to parse and authenticate, huge signature, timestamp and nonce, a 1 MB and
 * a deep allow policy, jobs nested 10,000 deep) are vectors, which every binding runs:
 * tests/vectors/hostile.json, through conformance.c. Here, what only the C ABI can be handed: NUL
 * bytes inside (pointer, length) strings (the length is authoritative: a NUL is a byte, never a
 * terminator), invalid UTF-8 where text is taken, empty values, a 100 MB body, 10 MB header values,
 * a 1 MB token through token_parse_bytes and the verifier, a frame object nested 10,000 deep, and a
 * token whose attenuation block explodes in Datalog (read at run time from tests/vectors/limits.json).
 * After the table: the same handles still work, and resident memory after the huge rows (their
 * buffers released) stays within 400 MB of where it started. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"

#define MIB ((size_t)1 << 20)

typedef struct hostile {
    const fixture *f;
    const char *token; /* the fixture token (base64) */
    size_t token_len;
    char issuer_hex[TC_KEY_HEX_SIZE];
    char holder_hex[TC_KEY_HEX_SIZE];
    tc_token *parsed; /* the fixture token, verified */
    tc_verifier *verifier;
    char *vectors; /* tests/vectors/limits.json, whole */
} hostile;

typedef struct row {
    const char *name;
    tc_status want;
    tc_status (*run)(hostile *h, tc_error **err);
} row;

/* ---- helpers ---- */

static tc_proof *proof_for(hostile *h, const tc_request *request, const char *nonce, size_t nonce_len) {
    tc_proof *proof = NULL;
    tc_status status = tc_make_proof(h->f->worker, h->token, h->token_len, request, S("1700000000"), nonce, nonce_len,
                                     &proof, NULL);
    CHECK(status == TC_OK);
    return proof;
}

/* a proof with the parts given (the fixture's where NULL) */
static tc_proof *proof_with(hostile *h, const char *token, size_t token_len, const char *sig, size_t sig_len) {
    tc_proof *proof = NULL;
    tc_str fixture_sig = tc_proof_signature(h->f->proof);
    CHECK(tc_proof_new(token ? token : h->token, token ? token_len : h->token_len, sig ? sig : fixture_sig.ptr,
                       sig ? sig_len : fixture_sig.len, S("1700000000"), S("n1"), &proof, NULL) == TC_OK);
    return proof;
}

static tc_status authenticate(hostile *h, const tc_proof *proof, const tc_request *request, tc_error **err) {
    return tc_authenticate(h->f->trusted, proof, request, NULL, 0, &h->f->options, NULL, NULL, err);
}

static size_t rss_kib(void) {
    FILE *status = fopen("/proc/self/status", "r");
    if (!status) return 0;
    char line[256];
    size_t kib = 0;
    while (fgets(line, sizeof line, status))
        if (sscanf(line, "VmRSS: %zu kB", &kib) == 1) break;
    fclose(status);
    return kib;
}

/* the string member `key` of the vector case `id` (base64url / hex: no escapes), allocated; NULL when
 * missing */
static char *vector_string(const hostile *h, const char *id, const char *key) {
    if (!h->vectors) return NULL;
    char pattern[96];
    snprintf(pattern, sizeof pattern, "\"id\": \"%s\"", id);
    const char *start = strstr(h->vectors, pattern);
    if (!start) return NULL;
    const char *end = strstr(start + 1, "\"id\": \"");
    snprintf(pattern, sizeof pattern, "\"%s\": \"", key);
    const char *at = strstr(start, pattern);
    if (!at || (end && at > end)) return NULL;
    at += strlen(pattern);
    const char *close = strchr(at, '"');
    if (!close) return NULL;
    char *value = malloc((size_t)(close - at) + 1);
    memcpy(value, at, (size_t)(close - at));
    value[close - at] = '\0';
    return value;
}

static char *read_file(const char *path) {
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    size_t got = fread(text, 1, (size_t)size, file);
    text[got] = '\0';
    fclose(file);
    return text;
}

/* ---- NUL bytes inside (pointer, length) strings ---- */

static tc_status nul_in_method_is_a_byte(hostile *h, tc_error **err) {
    tc_request request = h->f->request;
    request.method = "PO\0ST";
    request.method_len = 5;
    char buf[256];
    size_t len = 0;
    tc_status status = tc_canonical_request(&request, S("1700000000"), S("n"), buf, sizeof buf, &len, err);
    CHECK(len == 5 + 1 + 6 + 1 + 64 + 1 + 10 + 1 + 1 && buf[2] == '\0' && buf[3] == 'S');
    return status;
}

/* a NUL in the path is signed as a byte; the path cut at the NUL (what strlen would see) is another request */
static tc_status nul_in_path_signed_as_a_byte(hostile *h, tc_error **err) {
    tc_request request = h->f->request;
    request.path = "/lease\0/drop";
    request.path_len = 12;
    tc_proof *proof = proof_for(h, &request, S("nul-path"));
    CHECK(authenticate(h, proof, &request, NULL) == TC_OK);
    tc_request cut = h->f->request; /* "/lease" */
    tc_status status = authenticate(h, proof, &cut, err);
    tc_proof_free(proof);
    return status;
}

static tc_status nul_in_nonce_signed_as_a_byte(hostile *h, tc_error **err) {
    tc_proof *proof = proof_for(h, &h->f->request, "n\0x", 3);
    CHECK(authenticate(h, proof, &h->f->request, NULL) == TC_OK);
    tc_proof *cut = NULL;
    tc_str sig = tc_proof_signature(proof);
    CHECK(tc_proof_new(h->token, h->token_len, sig.ptr, sig.len, S("1700000000"), S("n"), &cut, NULL) == TC_OK);
    tc_status status = authenticate(h, cut, &h->f->request, err);
    tc_proof_free(cut);
    tc_proof_free(proof);
    return status;
}

static tc_status token_with_its_nul_terminator(hostile *h, tc_error **err) {
    tc_token *token = NULL;
    /* tc_bytes data is followed by a NUL: passing length + 1 hands the NUL over as token text */
    tc_status status = tc_token_parse(h->f->trusted, h->token, h->token_len + 1, &token, err);
    CHECK(token == NULL);
    return status;
}

static tc_status token_with_nul_inside(hostile *h, tc_error **err) {
    char *token = malloc(h->token_len);
    memcpy(token, h->token, h->token_len);
    token[h->token_len / 2] = '\0';
    tc_token *parsed = NULL;
    tc_status status = tc_token_parse(h->f->trusted, token, h->token_len, &parsed, err);
    free(token);
    return status;
}

static tc_status issuer_hex_with_nul(hostile *h, tc_error **err) {
    char hex[TC_KEY_HEX_SIZE];
    memcpy(hex, h->issuer_hex, sizeof hex);
    hex[10] = '\0';
    tc_issuer_keys *keys = NULL;
    return tc_issuer_keys_from_hex(hex, 64, &keys, err);
}

static tc_status fact_name_with_nul(hostile *h, tc_error **err) {
    const tc_pair facts[] = {{"req_operation\0x", 15, S("lease")}};
    return tc_check_policy(h->parsed, facts, 1, S("allow if true"), FIXTURE_NOW, &h->f->limits, err);
}

/* a fact value is bound as a parameter: a NUL in it is one more byte of the string, and does not
 * equal the value cut at the NUL */
static tc_status fact_value_with_nul_is_bound(hostile *h, tc_error **err) {
    const tc_pair facts[] = {{S("req_operation"), "lease\0x", 7}};
    CHECK(tc_check_policy(h->parsed, facts, 1, S("allow if true"), FIXTURE_NOW, &h->f->limits, NULL) == TC_OK);
    return tc_check_policy(h->parsed, facts, 1, S("allow if req_operation(\"lease\")"), FIXTURE_NOW, &h->f->limits,
                           err);
}

static tc_status policy_with_nul(hostile *h, tc_error **err) {
    static const char allow[] = "allow if true\0; allow if false";
    return tc_check_policy(h->parsed, NULL, 0, allow, sizeof allow - 1, FIXTURE_NOW, &h->f->limits, err);
}

static tc_status authorizer_code_with_nul(hostile *h, tc_error **err) {
    size_t policy = 0;
    double now = FIXTURE_NOW;
    return tc_authorize(h->parsed, "allow if true;\0", 15, &now, &h->f->limits, NULL, 0, &policy, err);
}

static tc_status mint_predicate_with_nul(hostile *h, tc_error **err) {
    const tc_str values[] = {{S("x")}};
    const tc_mint_fact facts[] = {{"la\0ne", 5, values, 1}};
    tc_mint_request mint = {h->holder_hex, 64, S("gpu-1"), facts, 1, {true, S("rev-1")}, FIXTURE_NOW + 60, {false, 0},
                            0};
    tc_bytes *token = NULL;
    return tc_mint_biscuit(h->f->issuer, &mint, &token, err);
}

/* a holder id holding a NUL mints; the identity's length is authoritative (strcmp would stop early) */
static tc_status mint_holder_id_with_nul_keeps_its_length(hostile *h, tc_error **err) {
    tc_mint_request mint = {h->holder_hex, 64, "gpu\0-1", 6, NULL, 0, {true, S("rev-1")}, FIXTURE_NOW + 60, {false, 0},
                            0};
    tc_bytes *token = NULL;
    tc_status status = tc_mint_biscuit(h->f->issuer, &mint, &token, err);
    if (status != TC_OK) return status;
    tc_token *parsed = NULL;
    tc_identity *identity = NULL;
    CHECK(tc_token_parse(h->f->trusted, (const char *)tc_bytes_data(token), tc_bytes_len(token), &parsed, NULL) ==
          TC_OK);
    CHECK(tc_token_identity(parsed, &identity, NULL) == TC_OK);
    tc_str holder = tc_identity_holder_id(identity);
    CHECK(holder.len == 6 && memcmp(holder.ptr, "gpu\0-1", 6) == 0);
    tc_identity_free(identity);
    tc_token_free(parsed);
    tc_bytes_free(token);
    return status;
}

static tc_status job_with_raw_nul(hostile *h, tc_error **err) {
    char sig[TC_SIGNATURE_HEX_SIZE];
    size_t len = 0;
    return tc_sign_job(h->f->issuer, "{\"a\":\"x\0y\"}", 11, S("gpu-1"), sig, sizeof sig, &len, err);
}

static tc_status job_with_trailing_nul(hostile *h, tc_error **err) {
    static const char job[] = "{\"a\":1}";
    return tc_verify_job(h->issuer_hex, 64, job, sizeof job, S("gpu-1"), NULL, err); /* sizeof counts the NUL */
}

static tc_status header_name_with_nul(hostile *h, tc_error **err) {
    (void)h;
    const tc_pair headers[] = {{"Authorization\0", 14, S("Biscuit abc")},
                               {S("X-EP-Signature"), S("aa")},
                               {S("X-EP-Timestamp"), S("1")},
                               {S("X-EP-Nonce"), S("n")}};
    tc_proof *proof = NULL;
    return tc_proof_from_headers(headers, 4, &proof, err);
}

/* ---- invalid UTF-8 where text is taken (misuse.c has the key, header, fact, job and frame rows) ---- */

static tc_status utf8_method_canonical(hostile *h, tc_error **err) {
    tc_request request = h->f->request;
    request.method = "P\xc0ST";
    char buf[256];
    size_t len = 0;
    return tc_canonical_request(&request, S("1700000000"), S("n"), buf, sizeof buf, &len, err);
}

static tc_status utf8_path_authenticate(hostile *h, tc_error **err) {
    tc_request request = h->f->request;
    request.path = "/\xfflease";
    request.path_len = 7;
    return authenticate(h, h->f->proof, &request, err);
}

static tc_status utf8_path_verifier(hostile *h, tc_error **err) {
    tc_request request = h->f->request;
    request.path = "/\xfflease";
    request.path_len = 7;
    double now = FIXTURE_NOW;
    return tc_verifier_authenticate(h->verifier, h->f->proof, &request, &now, NULL, NULL, err);
}

static tc_status utf8_nonce_make_proof(hostile *h, tc_error **err) {
    tc_proof *proof = NULL;
    return tc_make_proof(h->f->worker, h->token, h->token_len, &h->f->request, S("1700000000"), "n\xff", 2, &proof,
                         err);
}

static tc_status utf8_token_make_proof(hostile *h, tc_error **err) {
    tc_proof *proof = NULL;
    return tc_make_proof(h->f->worker, "tok\xff", 4, &h->f->request, S("1700000000"), S("n"), &proof, err);
}

static tc_status utf8_token_parse(hostile *h, tc_error **err) {
    tc_token *token = NULL;
    return tc_token_parse(h->f->trusted, "\xff\xfe", 2, &token, err);
}

/* the bytes form takes bytes: garbage there is a token that does not parse */
static tc_status garbage_token_bytes(hostile *h, tc_error **err) {
    tc_token *token = NULL;
    return tc_token_parse_bytes(h->f->trusted, (const uint8_t *)"\xff\xfe", 2, &token, err);
}

static tc_status utf8_timestamp_proof_new(hostile *h, tc_error **err) {
    tc_proof *proof = NULL;
    return tc_proof_new(h->token, h->token_len, S("aa"), "17000000\xff", 9, S("n"), &proof, err);
}

/* the body is bytes, not text: a binary body signs and verifies */
static tc_status binary_body_is_bytes(hostile *h, tc_error **err) {
    static const uint8_t body[] = {0xff, 0xfe, 0x00, 0xc0};
    tc_request request = h->f->request;
    request.body = body;
    request.body_len = sizeof body;
    tc_proof *proof = proof_for(h, &request, S("binary-body"));
    tc_status status = authenticate(h, proof, &request, err);
    tc_proof_free(proof);
    return status;
}

static tc_status utf8_allow(hostile *h, tc_error **err) {
    return tc_check_policy(h->parsed, NULL, 0, "allow if \xff", 10, FIXTURE_NOW, &h->f->limits, err);
}

static tc_status utf8_worker_id_sign_job(hostile *h, tc_error **err) {
    char sig[TC_SIGNATURE_HEX_SIZE];
    size_t len = 0;
    return tc_sign_job(h->f->issuer, S("{}"), "w\xff", 2, sig, sizeof sig, &len, err);
}

static tc_status utf8_holder_id_mint(hostile *h, tc_error **err) {
    tc_mint_request mint = {h->holder_hex, 64, "g\xff", 2, NULL, 0, {true, S("rev-1")}, FIXTURE_NOW + 60, {false, 0},
                            0};
    tc_bytes *token = NULL;
    return tc_mint_biscuit(h->f->issuer, &mint, &token, err);
}

static tc_status utf8_revoke(hostile *h, tc_error **err) {
    return tc_verifier_revoke(h->verifier, "\xff", 1, err);
}

/* ---- empty values ---- */

static tc_status empty_token_parse(hostile *h, tc_error **err) {
    tc_token *token = NULL;
    return tc_token_parse(h->f->trusted, "", 0, &token, err);
}

static tc_status empty_proof_authenticate(hostile *h, tc_error **err) {
    tc_proof *proof = NULL;
    CHECK(tc_proof_new("", 0, "", 0, "", 0, "", 0, &proof, NULL) == TC_OK);
    tc_status status = authenticate(h, proof, &h->f->request, err);
    tc_proof_free(proof);
    return status;
}

static tc_status empty_signature_authenticate(hostile *h, tc_error **err) {
    tc_proof *proof = proof_with(h, NULL, 0, "", 0);
    tc_status status = authenticate(h, proof, &h->f->request, err);
    tc_proof_free(proof);
    return status;
}

static tc_status empty_timestamp_authenticate(hostile *h, tc_error **err) {
    tc_proof *proof = NULL;
    tc_str sig = tc_proof_signature(h->f->proof);
    CHECK(tc_proof_new(h->token, h->token_len, sig.ptr, sig.len, "", 0, S("n1"), &proof, NULL) == TC_OK);
    tc_status status = authenticate(h, proof, &h->f->request, err);
    tc_proof_free(proof);
    return status;
}

static tc_status blank_nonce_header(hostile *h, tc_error **err) {
    const tc_pair headers[] = {{S("Authorization"), "Biscuit ", 8},
                               {S("X-EP-Signature"), S("aa")},
                               {S("X-EP-Timestamp"), S("1")},
                               {S("X-EP-Nonce"), S("  ")}};
    (void)h;
    tc_proof *proof = NULL;
    return tc_proof_from_headers(headers, 4, &proof, err);
}

static tc_status empty_allow(hostile *h, tc_error **err) {
    return tc_check_policy(h->parsed, NULL, 0, "", 0, FIXTURE_NOW, &h->f->limits, err);
}

static tc_status empty_authorizer_code(hostile *h, tc_error **err) {
    size_t policy = 0;
    double now = FIXTURE_NOW;
    return tc_authorize(h->parsed, "", 0, &now, &h->f->limits, NULL, 0, &policy, err);
}

static tc_status empty_fact_name(hostile *h, tc_error **err) {
    const tc_pair facts[] = {{"", 0, S("x")}};
    return tc_check_policy(h->parsed, facts, 1, S("allow if true"), FIXTURE_NOW, &h->f->limits, err);
}

static tc_status empty_job(hostile *h, tc_error **err) {
    char sig[TC_SIGNATURE_HEX_SIZE];
    size_t len = 0;
    return tc_sign_job(h->f->issuer, "", 0, S("gpu-1"), sig, sizeof sig, &len, err);
}

static tc_status empty_sig_verify_job(hostile *h, tc_error **err) {
    return tc_verify_job(h->issuer_hex, 64, S("{\"sig\":\"\"}"), S("gpu-1"), NULL, err);
}

static tc_status empty_issuer_hex(hostile *h, tc_error **err) {
    (void)h;
    tc_issuer_keys *keys = NULL;
    return tc_issuer_keys_from_hex("", 0, &keys, err);
}

static tc_status empty_mint_revocation_id(hostile *h, tc_error **err) {
    tc_mint_request mint = {h->holder_hex, 64, S("gpu-1"), NULL, 0, {true, "", 0}, FIXTURE_NOW + 60, {false, 0}, 0};
    tc_bytes *token = NULL;
    return tc_mint_biscuit(h->f->issuer, &mint, &token, err);
}

static tc_status empty_frame_object(hostile *h, tc_error **err) {
    (void)h;
    tc_bytes *frame = NULL;
    return tc_frame_encode("", 0, &frame, err);
}

/* ---- huge values ---- */

static tc_status huge_body_make_proof_and_authenticate(hostile *h, tc_error **err) {
    size_t size = 100 * MIB;
    uint8_t *body = malloc(size);
    memset(body, 'x', size);
    tc_request request = h->f->request;
    request.body = body;
    request.body_len = size;
    tc_proof *proof = proof_for(h, &request, S("huge-body"));
    tc_status status = authenticate(h, proof, &request, err);
    /* one byte changed at the very end: the whole body is hashed, not a prefix */
    body[size - 1] = 'y';
    double now = FIXTURE_NOW;
    CHECK(tc_verifier_authenticate(h->verifier, proof, &request, &now, NULL, NULL, NULL) == TC_POP_FAILED);
    tc_proof_free(proof);
    free(body);
    return status;
}

static char *huge_token_text(size_t size) {
    char *text = malloc(size);
    for (size_t i = 0; i < size; i++)
        text[i] = "AZaz09-_"[i % 8];
    return text;
}

static tc_status huge_token_bytes_parse(hostile *h, tc_error **err) {
    uint8_t *token = malloc(MIB);
    memset(token, 0xab, MIB);
    tc_token *parsed = NULL;
    tc_status status = tc_token_parse_bytes(h->f->trusted, token, MIB, &parsed, err);
    free(token);
    return status;
}

static tc_status huge_token_verifier(hostile *h, tc_error **err) {
    char *token = huge_token_text(MIB);
    tc_proof *proof = proof_with(h, token, MIB, NULL, 0);
    double now = FIXTURE_NOW;
    tc_status status = tc_verifier_authenticate(h->verifier, proof, &h->f->request, &now, NULL, NULL, err);
    tc_proof_free(proof);
    free(token);
    return status;
}

/* a 10 MB Authorization value is read (no size rule at the transport), then refused by the token
 * size limit */
static tc_status huge_header_authorization(hostile *h, tc_error **err) {
    size_t size = 10 * MIB;
    char *value = malloc(size);
    memcpy(value, "Biscuit ", 8);
    memset(value + 8, 'A', size - 8);
    const tc_pair headers[] = {{S("Authorization"), value, size},
                               {S("X-EP-Signature"), tc_proof_signature(h->f->proof).ptr, 128},
                               {S("X-EP-Timestamp"), S("1700000000")},
                               {S("X-EP-Nonce"), S("n1")}};
    tc_proof *proof = NULL;
    CHECK(tc_proof_from_headers(headers, 4, &proof, NULL) == TC_OK);
    CHECK(tc_proof_token(proof).len == size - 8);
    tc_status status = authenticate(h, proof, &h->f->request, err);
    tc_proof_free(proof);
    free(value);
    return status;
}

static tc_status huge_header_signature(hostile *h, tc_error **err) {
    size_t size = 10 * MIB;
    char *value = malloc(size);
    memset(value, 'a', size);
    tc_pair headers[] = {{S("Authorization"), NULL, 0},
                         {S("X-EP-Signature"), value, size},
                         {S("X-EP-Timestamp"), S("1700000000")},
                         {S("X-EP-Nonce"), S("n1")}};
    char *auth = malloc(h->token_len + 8);
    memcpy(auth, "Biscuit ", 8);
    memcpy(auth + 8, h->token, h->token_len);
    headers[0].value = auth;
    headers[0].value_len = h->token_len + 8;
    tc_proof *proof = NULL;
    CHECK(tc_proof_from_headers(headers, 4, &proof, NULL) == TC_OK);
    tc_status status = authenticate(h, proof, &h->f->request, err);
    tc_proof_free(proof);
    free(auth);
    free(value);
    return status;
}

/* a 10 MB header the proof does not use is ignored: the request still authenticates */
static tc_status huge_other_header_ignored(hostile *h, tc_error **err) {
    size_t size = 10 * MIB;
    char *value = malloc(size);
    memset(value, 'z', size);
    tc_pair headers[TC_PROOF_PARTS + 1] = {{S("X-Padding"), value, size}};
    for (size_t i = 0; i < TC_PROOF_PARTS; i++) {
        tc_str name, text;
        CHECK(tc_proof_header(h->f->proof, i, &name, &text, NULL) == TC_OK);
        headers[i + 1] = (tc_pair){name.ptr, name.len, text.ptr, text.len};
    }
    tc_proof *proof = NULL;
    tc_status status = tc_proof_from_headers(headers, TC_PROOF_PARTS + 1, &proof, err);
    if (status == TC_OK) CHECK(authenticate(h, proof, &h->f->request, NULL) == TC_OK);
    tc_proof_free(proof);
    free(value);
    return status;
}

/* ---- deep JSON ---- */

/* The jobs nested 10,000 deep are vectors now (tests/vectors/hostile.json: sign_job, verify_job); a
 * frame body has no such vector: {"id":"job-1","a":{"a":{...1...}}}, 10,000 objects deep */
#define DEPTH 10000

static tc_status deep_frame_encode(hostile *h, tc_error **err) {
    (void)h;
    char *object = malloc(6 * DEPTH + 64); /* 5 bytes open and 1 closes each level */
    size_t len = (size_t)sprintf(object, "{\"id\":\"job-1\",\"a\":");
    for (size_t i = 0; i < DEPTH; i++) {
        memcpy(object + len, "{\"a\":", 5);
        len += 5;
    }
    object[len++] = '1';
    memset(object + len, '}', DEPTH + 1);
    len += DEPTH + 1;
    tc_bytes *frame = NULL;
    tc_status status = tc_frame_encode(object, len, &frame, err);
    free(object);
    return status;
}

/* ---- Datalog that explodes in an attenuated block (tests/vectors/limits.json) ---- */

/* tc-limits-0001: the token's appended block derives 1600 facts, past the default 1000 */
static tc_status exploding_block(hostile *h, const char *run, tc_error **err) {
    char *issuer = vector_string(h, "tc-limits-0001", "issuer_public_hex");
    char *token = vector_string(h, "tc-limits-0001", "token");
    CHECK(issuer != NULL && token != NULL);
    if (!issuer || !token) {
        free(issuer);
        free(token);
        return TC_INTERNAL; /* the row fails: the vector is missing */
    }
    tc_issuer_keys *keys = NULL;
    tc_token *parsed = NULL;
    tc_verifier *verifier = NULL;
    CHECK(tc_issuer_keys_from_hex(S(issuer), &keys, NULL) == TC_OK);
    tc_status status = tc_token_parse(keys, S(token), &parsed, err);
    if (status == TC_OK) {
        const tc_pair facts[] = {{S("req_right"), S("lease")}};
        static const char allow[] = "allow if req_right($r), right($r)";
        double now = FIXTURE_NOW;
        size_t policy = 0;
        tc_verifier_options options = tc_verifier_options_default();
        options.limits.max_time_ns = h->f->limits.max_time_ns; /* default facts and iterations */
        if (!strcmp(run, "check_policy")) {
            status = tc_check_policy(parsed, facts, 1, S(allow), FIXTURE_NOW, &options.limits, err);
        } else if (!strcmp(run, "authorize")) {
            status = tc_authorize(parsed, S("allow if true;"), &now, &options.limits, NULL, 0, &policy, err);
        } else {
            CHECK(tc_verifier_new(keys, &options, NULL, 0, &verifier, NULL) == TC_OK);
            status = tc_verifier_check_policy(verifier, parsed, facts, 1, S(allow), &now, err);
        }
    }
    tc_verifier_free(verifier);
    tc_token_free(parsed);
    tc_issuer_keys_free(keys);
    free(issuer);
    free(token);
    return status;
}

static tc_status exploding_block_check_policy(hostile *h, tc_error **err) {
    return exploding_block(h, "check_policy", err);
}

static tc_status exploding_block_authorize(hostile *h, tc_error **err) {
    return exploding_block(h, "authorize", err);
}

static tc_status exploding_block_verifier_check_policy(hostile *h, tc_error **err) {
    return exploding_block(h, "verifier", err);
}

/* tc-limits-0013: authenticate reads the identity from the authority block alone, so the same block
 * does not run there (TC_OK); check_policy on the token it returns refuses it */
static tc_status exploding_block_authenticate(hostile *h, tc_error **err) {
    char *issuer = vector_string(h, "tc-limits-0013", "issuer_public_hex");
    char *token = vector_string(h, "tc-limits-0013", "token");
    char *sig = vector_string(h, "tc-limits-0013", "signature");
    char *timestamp = vector_string(h, "tc-limits-0013", "timestamp");
    char *nonce = vector_string(h, "tc-limits-0013", "nonce");
    tc_status status = TC_INTERNAL; /* the row fails when the vector is missing */
    CHECK(issuer && token && sig && timestamp && nonce);
    if (issuer && token && sig && timestamp && nonce) {
        tc_issuer_keys *keys = NULL;
        tc_proof *proof = NULL;
        CHECK(tc_issuer_keys_from_hex(S(issuer), &keys, NULL) == TC_OK);
        CHECK(tc_proof_new(S(token), S(sig), S(timestamp), S(nonce), &proof, NULL) == TC_OK);
        tc_authenticate_options options = {FIXTURE_NOW, 300, tc_limits_default()};
        options.limits.max_time_ns = h->f->limits.max_time_ns;
        tc_token *accepted = NULL;
        status = tc_authenticate(keys, proof, &h->f->request, NULL, 0, &options, &accepted, NULL, err);
        CHECK(status == TC_OK);
        if (status == TC_OK) {
            const tc_pair facts[] = {{S("req_right"), S("lease")}};
            status = tc_check_policy(accepted, facts, 1, S("allow if req_right($r), right($r)"), FIXTURE_NOW,
                                     &options.limits, err);
        }
        tc_token_free(accepted);
        tc_proof_free(proof);
        tc_issuer_keys_free(keys);
    }
    free(issuer);
    free(token);
    free(sig);
    free(timestamp);
    free(nonce);
    return status;
}

static const row rows[] = {
    {"NUL in the method is a byte of the canonical request", TC_OK, nul_in_method_is_a_byte},
    {"NUL in the path is signed; the path cut at the NUL fails", TC_POP_FAILED, nul_in_path_signed_as_a_byte},
    {"NUL in the nonce is signed; the nonce cut at the NUL fails", TC_POP_FAILED, nul_in_nonce_signed_as_a_byte},
    {"token passed with its NUL terminator", TC_TOKEN_INVALID, token_with_its_nul_terminator},
    {"token with a NUL inside", TC_TOKEN_INVALID, token_with_nul_inside},
    {"issuer key hex with a NUL inside", TC_MALFORMED_INPUT, issuer_hex_with_nul},
    {"request fact name with a NUL", TC_MALFORMED_INPUT, fact_name_with_nul},
    {"request fact value with a NUL is bound, not cut", TC_DENIED, fact_value_with_nul_is_bound},
    {"allow policy with a NUL inside", TC_MALFORMED_INPUT, policy_with_nul},
    {"authorizer code with a trailing NUL", TC_MALFORMED_INPUT, authorizer_code_with_nul},
    {"mint predicate with a NUL", TC_MALFORMED_INPUT, mint_predicate_with_nul},
    {"mint holder id with a NUL keeps its length", TC_OK, mint_holder_id_with_nul_keeps_its_length},
    {"job JSON with a raw NUL in a string", TC_MALFORMED_INPUT, job_with_raw_nul},
    /* tc_verify_job reads its text with core's verify_job_text: text that is not one JSON object is the
     * job's fault (JOB_INVALID), as a duplicated key is */
    {"job JSON with a trailing NUL", TC_JOB_INVALID, job_with_trailing_nul},
    {"header name with a NUL (Authorization missing)", TC_MALFORMED_INPUT, header_name_with_nul},
    {"invalid UTF-8 method: canonical_request", TC_MALFORMED_INPUT, utf8_method_canonical},
    {"invalid UTF-8 path: authenticate", TC_MALFORMED_INPUT, utf8_path_authenticate},
    {"invalid UTF-8 path: verifier authenticate", TC_MALFORMED_INPUT, utf8_path_verifier},
    {"invalid UTF-8 nonce: make_proof", TC_MALFORMED_INPUT, utf8_nonce_make_proof},
    {"invalid UTF-8 token: make_proof", TC_MALFORMED_INPUT, utf8_token_make_proof},
    {"invalid UTF-8 token: token_parse", TC_MALFORMED_INPUT, utf8_token_parse},
    {"garbage token bytes: token_parse_bytes", TC_TOKEN_INVALID, garbage_token_bytes},
    {"invalid UTF-8 timestamp: proof_new", TC_MALFORMED_INPUT, utf8_timestamp_proof_new},
    {"binary body is bytes: signs and verifies", TC_OK, binary_body_is_bytes},
    {"invalid UTF-8 allow policy", TC_MALFORMED_INPUT, utf8_allow},
    {"invalid UTF-8 worker id: sign_job", TC_MALFORMED_INPUT, utf8_worker_id_sign_job},
    {"invalid UTF-8 holder id: mint", TC_MALFORMED_INPUT, utf8_holder_id_mint},
    {"invalid UTF-8 revocation id: verifier revoke", TC_MALFORMED_INPUT, utf8_revoke},
    {"empty token: token_parse", TC_TOKEN_INVALID, empty_token_parse},
    {"empty proof parts: authenticate", TC_TOKEN_INVALID, empty_proof_authenticate},
    {"empty signature: authenticate", TC_MALFORMED_INPUT, empty_signature_authenticate},
    {"empty timestamp: authenticate", TC_MALFORMED_INPUT, empty_timestamp_authenticate},
    {"blank nonce and token headers: proof_from_headers", TC_MALFORMED_INPUT, blank_nonce_header},
    {"empty allow policy", TC_MALFORMED_INPUT, empty_allow},
    {"empty authorizer code (no allow policy)", TC_DENIED, empty_authorizer_code},
    {"empty request fact name", TC_MALFORMED_INPUT, empty_fact_name},
    {"empty job: sign_job", TC_MALFORMED_INPUT, empty_job},
    {"empty job signature: verify_job", TC_JOB_INVALID, empty_sig_verify_job},
    {"empty issuer key hex", TC_MALFORMED_INPUT, empty_issuer_hex},
    {"empty revocation id: mint", TC_MALFORMED_INPUT, empty_mint_revocation_id},
    {"empty frame object", TC_MALFORMED_INPUT, empty_frame_object},
    {"100 MB body: make_proof + authenticate (then one byte changed: POP_FAILED)", TC_OK,
     huge_body_make_proof_and_authenticate},
    /* over max_token_bytes (32 KiB by default): refused before decoding (the 1 MB token as text, to
     * token_parse and authenticate, is tests/vectors/hostile.json's) */
    {"1 MB token bytes: token_parse_bytes", TC_LIMIT_EXCEEDED, huge_token_bytes_parse},
    {"1 MB token: verifier authenticate", TC_LIMIT_EXCEEDED, huge_token_verifier},
    {"10 MB Authorization header: proof_from_headers, then authenticate", TC_LIMIT_EXCEEDED,
     huge_header_authorization},
    {"10 MB X-EP-Signature header: proof_from_headers, then authenticate", TC_MALFORMED_INPUT, huge_header_signature},
    {"10 MB unrelated header is ignored", TC_OK, huge_other_header_ignored},
    {"JSON object 10,000 deep: frame_encode", TC_MALFORMED_INPUT, deep_frame_encode},
    {"attenuated block exploding in Datalog: check_policy", TC_LIMIT_EXCEEDED, exploding_block_check_policy},
    {"attenuated block exploding in Datalog: authorize", TC_LIMIT_EXCEEDED, exploding_block_authorize},
    {"attenuated block exploding in Datalog: verifier check_policy", TC_LIMIT_EXCEEDED,
     exploding_block_verifier_check_policy},
    {"attenuated block exploding in Datalog: authenticate passes (no Datalog), then check_policy",
     TC_LIMIT_EXCEEDED, exploding_block_authenticate},
};

/* usage from misuse.c: `root` is the repository root (for tests/vectors/limits.json) */
void hostile_checks(const fixture *f, const char *root) {
    hostile h = {.f = f, .token = (const char *)tc_bytes_data(f->token_b64), .token_len = tc_bytes_len(f->token_b64)};
    size_t len = 0;
    CHECK(tc_issuer_key_public_hex(f->issuer, h.issuer_hex, sizeof h.issuer_hex, &len, NULL) == TC_OK);
    CHECK(tc_worker_key_public_hex(f->worker, h.holder_hex, sizeof h.holder_hex, &len, NULL) == TC_OK);
    CHECK(tc_token_parse(f->trusted, h.token, h.token_len, &h.parsed, NULL) == TC_OK);
    tc_verifier_options options = tc_verifier_options_default();
    options.limits = f->limits;
    CHECK(tc_verifier_new(f->trusted, &options, NULL, 0, &h.verifier, NULL) == TC_OK);
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/vectors/limits.json", root ? root : ".");
    h.vectors = read_file(path);
    CHECK(h.vectors != NULL);
    if (!h.vectors) fprintf(stderr, "hostile: cannot read %s (pass the repository root)\n", path);

    size_t rss_before = rss_kib();
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        tc_error *err = NULL;
        tc_status got = rows[i].run(&h, &err);
        bool ok = got == rows[i].want &&
                  (got == TC_OK ? err == NULL : err != NULL && tc_error_code(err) == got && tc_error_message(err)[0]);
        if (ok) {
            checks_passed++;
        } else {
            checks_failed++;
            fprintf(stderr, "hostile: %s: expected %s, got %s (%s)\n", rows[i].name, tc_status_name(rows[i].want),
                    tc_status_name(got), tc_error_message(err));
        }
        tc_error_free(err);
    }
    size_t rss_after = rss_kib();
    /* the huge rows' buffers are released: what stays resident is bounded */
    CHECK(rss_before > 0 && rss_after > 0);
    if (rss_after > rss_before + 400 * 1024)
        fprintf(stderr, "hostile: resident memory grew from %zu to %zu KiB\n", rss_before, rss_after);
    CHECK(rss_after <= rss_before + 400 * 1024);

    /* the process lives on and the same handles work */
    CHECK(tc_authenticate(f->trusted, f->proof, &f->request, NULL, 0, &f->options, NULL, NULL, NULL) == TC_OK);
    CHECK(tc_check_policy(h.parsed, NULL, 0, S("allow if true"), FIXTURE_NOW, &f->limits, NULL) == TC_OK);
    tc_proof *fresh = proof_for(&h, &f->request, S("after-hostile"));
    double now = FIXTURE_NOW;
    CHECK(tc_verifier_authenticate(h.verifier, fresh, &f->request, &now, NULL, NULL, NULL) == TC_OK);
    tc_proof_free(fresh);

    free(h.vectors);
    tc_verifier_free(h.verifier);
    tc_token_free(h.parsed);
}
