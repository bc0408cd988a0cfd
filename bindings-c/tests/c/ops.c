/* The ops of tests/vectors/README.md, each through the C ABI only, mirroring cli/tests/conformance.rs. */
#define _POSIX_C_SOURCE 200809L /* sockets, MSG_NOSIGNAL */

#include "ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "hex.h"

/* ---- outcomes -------------------------------------------------------------------------------- */

void take_error(outcome *out, tc_status status, tc_error *err) {
    out->status = status;
    snprintf(out->message, sizeof out->message, "%s", err ? tc_error_message(err) : "(no details)");
    tc_error_free(err);
}

static outcome vector_problem(const char *what) {
    outcome out = {.status = TC_INTERNAL};
    snprintf(out.message, sizeof out.message, "vector problem: %s", what);
    return out;
}

static outcome ok(cJSON *result) {
    outcome out = {.status = TC_OK, .result = result};
    return out;
}

/* Every op body uses these: a failed call jumps to `fail` with the error taken. */
#define CALL(expr)                                                                                                     \
    do {                                                                                                               \
        tc_error *err_ = NULL;                                                                                         \
        tc_status st_ = (expr);                                                                                        \
        if (st_ != TC_OK) {                                                                                            \
            take_error(&out, st_, err_);                                                                               \
            goto done;                                                                                                 \
        }                                                                                                              \
    } while (0)
#define ERR (&err_)
#define NEED(cond, what)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            out = vector_problem(what);                                                                                \
            goto done;                                                                                                 \
        }                                                                                                              \
    } while (0)

/* ---- field access ---------------------------------------------------------------------------- */

static const char *str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool num(const cJSON *o, const char *key, double *value) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) return false;
    *value = v->valuedouble;
    return true;
}

/* A (pointer, length) view of a string member; cJSON strings are NUL-terminated. */
#define LEN(s) (s), strlen(s)

/* Time budgets are multiplied by this (1 but under valgrind, which runs the authorizer ~50x slower;
 * a zero budget stays zero). Fact and iteration limits are never scaled. */
static double time_scale = 1.0;

void set_time_scale(double scale) {
    time_scale = scale > 0 ? scale : 1.0;
}

static tc_limits scaled(tc_limits limits) {
    limits.max_time_ns = (uint64_t)((double)limits.max_time_ns * time_scale);
    return limits;
}

static tc_limits limits_of(const cJSON *input) {
    tc_limits limits = tc_limits_default();
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(input, "limits");
    double v;
    if (num(l, "max_time_ms", &v)) limits.max_time_ns = (uint64_t)(v * 1e6);
    if (num(l, "max_facts", &v)) limits.max_facts = (uint64_t)v;
    if (num(l, "max_iterations", &v)) limits.max_iterations = (uint64_t)v;
    /* the budget a token must fit (as cli/tests/conformance.rs, fn limits) */
    const struct {
        const char *name;
        uint64_t *field;
    } budget[] = {
        {"max_token_bytes", &limits.max_token_bytes}, {"max_blocks", &limits.max_blocks},
        {"max_block_facts", &limits.max_block_facts}, {"max_block_rules", &limits.max_block_rules},
        {"max_body_atoms", &limits.max_body_atoms},   {"max_body_ops", &limits.max_body_ops},
        {"max_join_size", &limits.max_join_size},
    };
    for (size_t i = 0; i < sizeof budget / sizeof *budget; i++)
        if (num(l, budget[i].name, &v)) *budget[i].field = (uint64_t)v;
    const cJSON *regex = cJSON_GetObjectItemCaseSensitive(l, "allow_appended_regex");
    if (cJSON_IsBool(regex)) limits.allow_appended_regex = cJSON_IsTrue(regex);
    return scaled(limits);
}

/* The trusted issuer keys: `issuer_keys` {id: hex} when present, else `issuer_public_hex`. */
static tc_status issuer_keys_of(const cJSON *input, tc_issuer_keys **keys, tc_error **err) {
    const cJSON *by_id = cJSON_GetObjectItemCaseSensitive(input, "issuer_keys");
    if (!cJSON_IsObject(by_id)) {
        const char *hex = str(input, "issuer_public_hex");
        if (!hex) hex = "";
        return tc_issuer_keys_from_hex(LEN(hex), keys, err);
    }
    int count = cJSON_GetArraySize(by_id);
    tc_issuer_key_entry *entries = calloc((size_t)count + 1, sizeof *entries);
    int i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, by_id) {
        char *end = NULL;
        unsigned long id = strtoul(item->string, &end, 10);
        if (*end != '\0' || !cJSON_IsString(item)) abort(); /* the Rust runner panics here too */
        entries[i].root_key_id = (uint32_t)id;
        entries[i].public_hex = item->valuestring;
        entries[i].public_hex_len = strlen(item->valuestring);
        i++;
    }
    tc_status status = tc_issuer_keys_by_key_id(entries, (size_t)count, keys, err);
    free(entries);
    return status;
}

/* An object of strings as tc_pair, in order. NULL when a value is not a string. */
static tc_pair *pairs_of(const cJSON *object, size_t *count) {
    if (!cJSON_IsObject(object)) return NULL;
    *count = (size_t)cJSON_GetArraySize(object);
    tc_pair *pairs = calloc(*count + 1, sizeof *pairs);
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, object) {
        if (!cJSON_IsString(item)) {
            free(pairs);
            return NULL;
        }
        pairs[i++] = (tc_pair){LEN(item->string), LEN(item->valuestring)};
    }
    return pairs;
}

/* An array of strings as tc_str. NULL when an item is not a string. */
static tc_str *strs_of(const cJSON *array, size_t *count) {
    if (!cJSON_IsArray(array)) return NULL;
    *count = (size_t)cJSON_GetArraySize(array);
    tc_str *strs = calloc(*count + 1, sizeof *strs);
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, array) {
        if (!cJSON_IsString(item)) {
            free(strs);
            return NULL;
        }
        strs[i++] = (tc_str){LEN(item->valuestring)};
    }
    return strs;
}

static cJSON *string_of(tc_str s) {
    char *copy = malloc(s.len + 1);
    memcpy(copy, s.ptr, s.len);
    copy[s.len] = '\0';
    cJSON *item = cJSON_CreateString(copy);
    free(copy);
    return item;
}

static cJSON *proof_object(const tc_proof *proof) {
    cJSON *p = cJSON_CreateObject();
    cJSON_AddItemToObject(p, "token", string_of(tc_proof_token(proof)));
    cJSON_AddItemToObject(p, "signature", string_of(tc_proof_signature(proof)));
    cJSON_AddItemToObject(p, "timestamp", string_of(tc_proof_timestamp(proof)));
    cJSON_AddItemToObject(p, "nonce", string_of(tc_proof_nonce(proof)));
    return p;
}

/* A request from method, path and body_hex. The body is allocated into *body (caller frees). */
static bool request_of(const cJSON *r, tc_request *request, unsigned char **body) {
    const char *method = str(r, "method"), *path = str(r, "path"), *body_hex = str(r, "body_hex");
    size_t body_len = 0;
    if (!method || !path || !body_hex || !hex_decode(body_hex, body, &body_len)) return false;
    *request = (tc_request){LEN(method), LEN(path), *body, body_len};
    return true;
}

/* ---- ops ------------------------------------------------------------------------------------- */

static outcome op_public_key(const cJSON *in) {
    outcome out = {0};
    tc_worker_key *key = NULL;
    char hex[TC_KEY_HEX_SIZE];
    size_t len = 0;
    const char *seed = str(in, "seed_hex");
    NEED(seed, "seed_hex");
    CALL(tc_worker_key_from_secret_hex(LEN(seed), &key, ERR));
    CALL(tc_worker_key_public_hex(key, hex, sizeof hex, &len, ERR));
    cJSON *result = cJSON_CreateObject();
    cJSON_AddStringToObject(result, "public_hex", hex);
    out = ok(result);
done:
    tc_worker_key_free(key);
    return out;
}

static outcome op_canonical_request(const cJSON *in) {
    outcome out = {0};
    unsigned char *body = NULL;
    char *canonical = NULL;
    tc_request request;
    const char *ts = str(in, "timestamp"), *nonce = str(in, "nonce");
    NEED(request_of(in, &request, &body) && ts && nonce, "request fields");
    /* size query first: the documented way to size a caller buffer */
    size_t len = 0;
    tc_status st = tc_canonical_request(&request, LEN(ts), LEN(nonce), NULL, 0, &len, NULL);
    if (st != TC_OK && !(st == TC_MALFORMED_INPUT && len > 0)) {
        CALL(tc_canonical_request(&request, LEN(ts), LEN(nonce), NULL, 0, &len, ERR));
    }
    canonical = malloc(len + 1);
    CALL(tc_canonical_request(&request, LEN(ts), LEN(nonce), canonical, len + 1, &len, ERR));
    char *hex = hex_encode((const unsigned char *)canonical, len);
    cJSON *result = cJSON_CreateObject();
    cJSON_AddStringToObject(result, "canonical_hex", hex);
    free(hex);
    out = ok(result);
done:
    free(body);
    free(canonical);
    return out;
}

static outcome op_make_proof(const cJSON *in) {
    outcome out = {0};
    unsigned char *body = NULL;
    tc_worker_key *worker = NULL;
    tc_proof *proof = NULL;
    tc_request request;
    const char *seed = str(in, "worker_seed_hex"), *token = str(in, "token");
    const char *ts = str(in, "timestamp"), *nonce = str(in, "nonce");
    NEED(request_of(in, &request, &body) && seed && token && ts && nonce, "make_proof fields");
    CALL(tc_worker_key_from_secret_hex(LEN(seed), &worker, ERR));
    CALL(tc_make_proof(worker, LEN(token), &request, LEN(ts), LEN(nonce), &proof, ERR));
    cJSON *headers = cJSON_CreateObject();
    for (size_t i = 0; i < TC_PROOF_PARTS; i++) {
        tc_str name, value;
        if (tc_proof_header(proof, i, &name, &value, NULL) != TC_OK) {
            cJSON_Delete(headers);
            out = vector_problem("tc_proof_header failed");
            goto done;
        }
        cJSON_AddItemToObject(headers, name.ptr, string_of(value)); /* names are NUL-terminated */
    }
    cJSON *result = cJSON_CreateObject();
    cJSON_AddItemToObject(result, "signature_hex", string_of(tc_proof_signature(proof)));
    cJSON_AddItemToObject(result, "headers", headers);
    out = ok(result);
done:
    free(body);
    tc_worker_key_free(worker);
    tc_proof_free(proof);
    return out;
}

static outcome op_authenticate(const cJSON *in) {
    outcome out = {0};
    unsigned char *body = NULL;
    tc_issuer_keys *issuer = NULL;
    tc_proof *proof = NULL;
    tc_identity *identity = NULL;
    tc_str *revoked = NULL;
    tc_request request;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(in, "proof");
    const char *token = str(p, "token"), *sig = str(p, "signature"), *ts = str(p, "timestamp"),
               *nonce = str(p, "nonce");
    tc_authenticate_options options = {.limits = limits_of(in)};
    size_t revoked_count = 0;
    NEED(token && sig && ts && nonce, "proof fields");
    NEED(request_of(cJSON_GetObjectItemCaseSensitive(in, "request"), &request, &body), "request fields");
    NEED(num(in, "now", &options.now) && num(in, "max_skew_seconds", &options.max_skew_seconds), "now, skew");
    revoked = strs_of(cJSON_GetObjectItemCaseSensitive(in, "revoked_ids"), &revoked_count);
    NEED(revoked, "revoked_ids");
    CALL(issuer_keys_of(in, &issuer, ERR));
    CALL(tc_proof_new(LEN(token), LEN(sig), LEN(ts), LEN(nonce), &proof, ERR));
    CALL(tc_authenticate(issuer, proof, &request, revoked, revoked_count, &options, NULL, &identity, ERR));
    cJSON *id = cJSON_CreateObject();
    cJSON_AddItemToObject(id, "holder_id", string_of(tc_identity_holder_id(identity)));
    cJSON_AddItemToObject(id, "holder_public_hex", string_of(tc_identity_holder_public_hex(identity)));
    cJSON_AddItemToObject(id, "revocation_id", string_of(tc_identity_revocation_id(identity)));
    cJSON *result = cJSON_CreateObject();
    cJSON_AddItemToObject(result, "identity", id);
    out = ok(result);
done:
    free(body);
    free(revoked);
    tc_issuer_keys_free(issuer);
    tc_proof_free(proof);
    tc_identity_free(identity);
    return out;
}

/* Parse `token` with the input's issuer key(s): the first step of check_policy, authorize, inspect. */
static tc_status parse_input_token(const cJSON *in, tc_token **token, tc_error **err) {
    tc_issuer_keys *issuer = NULL;
    const char *b64 = str(in, "token");
    tc_status st = issuer_keys_of(in, &issuer, err);
    if (st == TC_OK) st = tc_token_parse(issuer, b64 ? b64 : "", b64 ? strlen(b64) : 0, token, err);
    tc_issuer_keys_free(issuer);
    return st;
}

static outcome op_check_policy(const cJSON *in) {
    outcome out = {0};
    tc_token *token = NULL;
    tc_pair *facts = NULL;
    size_t count = 0;
    double now;
    tc_limits limits = limits_of(in);
    const char *allow = str(in, "allow");
    facts = pairs_of(cJSON_GetObjectItemCaseSensitive(in, "request_facts"), &count);
    NEED(facts && allow && num(in, "now", &now), "check_policy fields");
    CALL(parse_input_token(in, &token, ERR));
    CALL(tc_check_policy(token, facts, count, LEN(allow), now, &limits, ERR));
    cJSON *result = cJSON_CreateObject();
    cJSON_AddBoolToObject(result, "ok", 1);
    out = ok(result);
done:
    free(facts);
    tc_token_free(token);
    return out;
}

static outcome op_authorize(const cJSON *in) {
    outcome out = {0};
    tc_token *token = NULL;
    tc_str *externs = NULL;
    size_t extern_count = 0, policy = 0;
    double now;
    bool has_now = num(in, "now", &now);
    tc_limits limits = limits_of(in);
    const char *code = str(in, "code");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(in, "extern_functions");
    NEED(code, "code");
    if (cJSON_IsArray(names)) NEED((externs = strs_of(names, &extern_count)), "extern_functions");
    CALL(parse_input_token(in, &token, ERR));
    CALL(tc_authorize(token, LEN(code), has_now ? &now : NULL, &limits, externs, extern_count, &policy, ERR));
    cJSON *result = cJSON_CreateObject();
    cJSON_AddNumberToObject(result, "policy", (double)policy);
    out = ok(result);
done:
    free(externs);
    tc_token_free(token);
    return out;
}

/* A token's revocation ids as a JSON array of hex strings. */
static cJSON *revocation_ids(const tc_token *token) {
    cJSON *ids = cJSON_CreateArray();
    for (size_t i = 0; i < tc_token_block_count(token); i++) {
        size_t len = 0;
        /* size query, then the exact buffer */
        if (tc_token_revocation_id(token, i, NULL, 0, &len, NULL) != TC_MALFORMED_INPUT || len == 0) break;
        char *hex = malloc(len + 1);
        if (tc_token_revocation_id(token, i, hex, len + 1, &len, NULL) == TC_OK)
            cJSON_AddItemToArray(ids, cJSON_CreateString(hex));
        free(hex);
    }
    return ids;
}

static outcome op_inspect(const cJSON *in) {
    outcome out = {0};
    tc_token *token = NULL;
    tc_bytes *source = NULL;
    cJSON *blocks = cJSON_CreateArray();
    CALL(parse_input_token(in, &token, ERR));
    size_t count = tc_token_block_count(token);
    for (size_t i = 0; i < count; i++) {
        CALL(tc_token_block_source(token, i, &source, ERR));
        cJSON_AddItemToArray(blocks, cJSON_CreateString((const char *)tc_bytes_data(source)));
        tc_bytes_free(source);
        source = NULL;
    }
    uint32_t root_key_id = 0;
    bool has_root = tc_token_root_key_id(token, &root_key_id);
    cJSON *result = cJSON_CreateObject();
    cJSON_AddNumberToObject(result, "block_count", (double)count);
    cJSON_AddItemToObject(result, "blocks", blocks);
    blocks = NULL;
    cJSON_AddItemToObject(result, "revocation_ids", revocation_ids(token));
    cJSON_AddItemToObject(result, "root_key_id",
                          has_root ? cJSON_CreateNumber((double)root_key_id) : cJSON_CreateNull());
    out = ok(result);
done:
    cJSON_Delete(blocks);
    tc_bytes_free(source);
    tc_token_free(token);
    return out;
}

static outcome op_mint(const cJSON *in) {
    outcome out = {0};
    tc_issuer_key *issuer = NULL;
    tc_issuer_keys *trusted = NULL;
    tc_bytes *minted = NULL, *source = NULL;
    tc_token *token = NULL;
    const cJSON *facts = cJSON_GetObjectItemCaseSensitive(in, "facts");
    size_t fact_count = (size_t)cJSON_GetArraySize(facts), i = 0;
    tc_mint_fact *mint_facts = calloc(fact_count + 1, sizeof *mint_facts);
    const char *seed = str(in, "issuer_seed_hex"), *public_hex = str(in, "public_hex");
    const char *holder_id = str(in, "holder_id"), *revocation_id = str(in, "revocation_id");
    double expires_at, root_key_id;
    NEED(cJSON_IsObject(facts) && seed && public_hex && holder_id && revocation_id &&
             num(in, "expires_at", &expires_at),
         "mint fields");
    const cJSON *fact;
    cJSON_ArrayForEach(fact, facts) {
        size_t n = 0;
        tc_str *values = strs_of(fact, &n);
        NEED(values, "fact values");
        mint_facts[i++] = (tc_mint_fact){LEN(fact->string), values, n};
    }
    tc_mint_request request = {
        LEN(public_hex), LEN(holder_id), mint_facts, fact_count, {true, LEN(revocation_id)}, expires_at, {false, 0}, 0,
    };
    if (num(in, "root_key_id", &root_key_id)) {
        request.root_key_id = (tc_optional_u32){true, (uint32_t)root_key_id};
    }
    double depth;
    if (num(in, "delegation_depth", &depth)) request.delegation_depth = (uint32_t)depth; /* else 0 */
    CALL(tc_issuer_key_from_secret_hex(LEN(seed), &issuer, ERR));
    CALL(tc_mint_biscuit(issuer, &request, &minted, ERR));
    char issuer_public[TC_KEY_HEX_SIZE];
    size_t len = 0;
    CALL(tc_issuer_key_public_hex(issuer, issuer_public, sizeof issuer_public, &len, ERR));
    CALL(tc_issuer_keys_from_hex(issuer_public, len, &trusted, ERR));
    CALL(tc_token_parse(trusted, (const char *)tc_bytes_data(minted), tc_bytes_len(minted), &token, ERR));
    CALL(tc_token_block_source(token, 0, &source, ERR));
    cJSON *result = cJSON_CreateObject();
    cJSON_AddStringToObject(result, "authority_source", (const char *)tc_bytes_data(source));
    out = ok(result);
done:
    for (size_t j = 0; j < i; j++)
        free((void *)mint_facts[j].values);
    free(mint_facts);
    tc_issuer_key_free(issuer);
    tc_issuer_keys_free(trusted);
    tc_bytes_free(minted);
    tc_bytes_free(source);
    tc_token_free(token);
    return out;
}

static outcome op_sign_job(const cJSON *in, raw_span raw) {
    outcome out = {0};
    tc_issuer_key *issuer = NULL;
    raw_span job;
    const char *seed = str(in, "issuer_seed_hex"), *worker_id = str(in, "worker_id");
    NEED(seed && worker_id && raw_member(raw, "job", &job), "sign_job fields");
    char signature[TC_SIGNATURE_HEX_SIZE];
    size_t len = 0;
    CALL(tc_issuer_key_from_secret_hex(LEN(seed), &issuer, ERR));
    CALL(tc_sign_job(issuer, job.ptr, job.len, LEN(worker_id), signature, sizeof signature, &len, ERR));
    cJSON *result = cJSON_CreateObject();
    cJSON_AddStringToObject(result, "signature_hex", signature);
    out = ok(result);
done:
    tc_issuer_key_free(issuer);
    return out;
}

static outcome op_verify_job(const cJSON *in, raw_span raw) {
    outcome out = {0};
    raw_span job;
    const char *public_hex = str(in, "issuer_public_hex"), *worker_id = str(in, "worker_id");
    NEED(public_hex && worker_id && raw_member(raw, "job", &job), "verify_job fields");
    double now;
    bool has_now = num(in, "now", &now);
    CALL(tc_verify_job(LEN(public_hex), job.ptr, job.len, LEN(worker_id), has_now ? &now : NULL, ERR));
    cJSON *result = cJSON_CreateObject();
    cJSON_AddBoolToObject(result, "ok", 1);
    out = ok(result);
done:
    return out;
}

static outcome op_frame_encode(raw_span raw) {
    outcome out = {0};
    tc_bytes *frame = NULL;
    raw_span object;
    NEED(raw_member(raw, "object", &object), "object");
    CALL(tc_frame_encode(object.ptr, object.len, &frame, ERR));
    char *hex = hex_encode(tc_bytes_data(frame), tc_bytes_len(frame));
    cJSON *result = cJSON_CreateObject();
    cJSON_AddStringToObject(result, "frame_hex", hex);
    free(hex);
    out = ok(result);
done:
    tc_bytes_free(frame);
    return out;
}

static outcome op_frame_decode(const cJSON *in) {
    outcome out = {0};
    tc_bytes *json = NULL;
    unsigned char *frame = NULL;
    size_t frame_len = 0;
    const char *frame_hex = str(in, "frame_hex");
    NEED(frame_hex && hex_decode(frame_hex, &frame, &frame_len), "frame_hex");
    CALL(tc_frame_decode(frame, frame_len, &json, ERR));
    cJSON *object = cJSON_ParseWithLength((const char *)tc_bytes_data(json), tc_bytes_len(json));
    NEED(object, "decoded frame is not JSON cJSON can read");
    cJSON *result = cJSON_CreateObject();
    cJSON_AddItemToObject(result, "object", object);
    out = ok(result);
done:
    free(frame);
    tc_bytes_free(json);
    return out;
}

static outcome op_proof_from(const cJSON *in, bool headers) {
    outcome out = {0};
    tc_proof *proof = NULL;
    size_t count = 0;
    tc_pair *pairs = pairs_of(cJSON_GetObjectItemCaseSensitive(in, headers ? "headers" : "query"), &count);
    NEED(pairs, "headers or query");
    if (headers)
        CALL(tc_proof_from_headers(pairs, count, &proof, ERR));
    else
        CALL(tc_proof_from_query(pairs, count, &proof, ERR));
    cJSON *result = cJSON_CreateObject();
    cJSON_AddItemToObject(result, "proof", proof_object(proof));
    out = ok(result);
done:
    free(pairs);
    tc_proof_free(proof);
    return out;
}

/* ---- the stateful verifier ------------------------------------------------------------------- */

/* One authenticate step into *status; on success *token is the newly accepted token (the previous
 * one freed). False when the step's fields are malformed. */
static bool verifier_authenticate_step(const tc_verifier *verifier, const cJSON *args, tc_token **token,
                                       tc_status *status) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(args, "proof");
    const char *tok = str(p, "token"), *sig = str(p, "signature"), *ts = str(p, "timestamp"), *nonce = str(p, "nonce");
    unsigned char *body = NULL;
    tc_request request;
    double now;
    tc_proof *proof = NULL;
    tc_token *accepted = NULL;
    if (!tok || !sig || !ts || !nonce || !num(args, "now", &now) ||
        !request_of(cJSON_GetObjectItemCaseSensitive(args, "request"), &request, &body)) {
        free(body);
        return false;
    }
    tc_status st = tc_proof_new(LEN(tok), LEN(sig), LEN(ts), LEN(nonce), &proof, NULL);
    if (st == TC_OK) st = tc_verifier_authenticate(verifier, proof, &request, &now, &accepted, NULL, NULL);
    if (st == TC_OK) {
        tc_token_free(*token);
        *token = accepted;
    }
    tc_proof_free(proof);
    free(body);
    *status = st;
    return true;
}

/* One authenticate_batch step ({"requests": [{"proof", "request"}, ...], "now"}): one
 * tc_verifier_authenticate_batch call; *outcomes is the list of each request's "OK" or code name, in
 * order, or the one code name of a batch the call refused whole (no result then), as
 * cli/tests/conformance.rs, fn verifier_batch (the accepted tokens are not kept). False when the
 * step's fields are malformed; a result that breaks the ABI's promises is *status TC_INTERNAL. */
static bool verifier_batch_step(const tc_verifier *verifier, const cJSON *args, cJSON **outcomes, tc_status *status) {
    const cJSON *requests = cJSON_GetObjectItemCaseSensitive(args, "requests");
    double now;
    if (!cJSON_IsArray(requests) || !num(args, "now", &now)) return false;
    size_t count = (size_t)cJSON_GetArraySize(requests), made = 0;
    bool fields_ok = true;
    /* one spare element each: calloc(0) may return NULL, and NULL with count 0 is allowed anyway */
    tc_proof **proofs = calloc(count + 1, sizeof *proofs);
    tc_request *parts = calloc(count + 1, sizeof *parts);
    unsigned char **bodies = calloc(count + 1, sizeof *bodies);
    tc_batch_result *result = NULL;
    const cJSON *r;
    cJSON_ArrayForEach(r, requests) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "proof");
        const char *tok = str(p, "token"), *sig = str(p, "signature"), *ts = str(p, "timestamp"),
                   *nonce = str(p, "nonce");
        if (!tok || !sig || !ts || !nonce ||
            !request_of(cJSON_GetObjectItemCaseSensitive(r, "request"), &parts[made], &bodies[made]) ||
            tc_proof_new(LEN(tok), LEN(sig), LEN(ts), LEN(nonce), &proofs[made], NULL) != TC_OK) {
            fields_ok = false;
            made++; /* its body, if any, is freed below */
            break;
        }
        made++;
    }
    *status = TC_OK;
    if (fields_ok) {
        *status = tc_verifier_authenticate_batch(verifier, (const tc_proof *const *)proofs, parts, count, &now,
                                                 &result, NULL);
    }
    if (fields_ok && *status != TC_OK) {
        /* refused whole (LIMIT_EXCEEDED for an oversized batch): the outcome is its code, with no result */
        *outcomes = cJSON_CreateString(tc_status_name(*status));
        *status = result == NULL ? TC_OK : TC_INTERNAL;
    } else if (fields_ok) {
        *outcomes = cJSON_CreateArray();
        for (size_t i = 0; i < tc_batch_result_count(result); i++)
            cJSON_AddItemToArray(*outcomes, cJSON_CreateString(tc_status_name(tc_batch_result_status(result, i))));
        if (tc_batch_result_count(result) != count) *status = TC_INTERNAL; /* one outcome per request */
    }
    tc_batch_result_free(result);
    for (size_t i = 0; i < made; i++) {
        tc_proof_free(proofs[i]);
        free(bodies[i]);
    }
    free(proofs);
    free(parts);
    free(bodies);
    return fields_ok;
}

/* verifier_sequence: one tc_verifier through the case's steps (authenticate, authenticate_batch,
 * check_policy on the last token accepted by authenticate, revoke, revoke_token, verify_job,
 * cache_stats); each
 * step's outcome is "OK", the code's name, "hits=H misses=M", or (authenticate_batch) the list of its
 * requests' or the one code of a batch refused whole. A failing step does not end the sequence. */
static outcome op_verifier_sequence(const cJSON *in) {
    outcome out = {0};
    tc_issuer_keys *issuer = NULL;
    tc_verifier *verifier = NULL;
    tc_token *token = NULL;
    tc_str *revoked = NULL;
    size_t revoked_count = 0;
    cJSON *outcomes = NULL;
    tc_verifier_options options = tc_verifier_options_default();
    options.limits = limits_of(in);
    NEED(num(in, "max_skew_seconds", &options.max_skew_seconds), "max_skew_seconds");
    double capacity;
    if (num(in, "replay_capacity", &capacity)) options.replay_capacity = (size_t)capacity;
    if (num(in, "replay_capacity_per_holder", &capacity))
        options.replay_capacity_per_holder = (tc_optional_usize){.has = true, .value = (size_t)capacity};
    if (num(in, "token_cache_max_bytes", &capacity)) options.token_cache_max_bytes = (uint64_t)capacity;
    if (num(in, "max_batch_requests", &capacity)) options.max_batch_requests = (size_t)capacity;
    if (num(in, "max_batch_body_bytes", &capacity)) options.max_batch_body_bytes = (uint64_t)capacity;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(in, "revoked_ids");
    if (cJSON_IsArray(ids)) NEED((revoked = strs_of(ids, &revoked_count)), "revoked_ids");
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(in, "steps");
    NEED(cJSON_IsArray(steps), "steps");
    CALL(issuer_keys_of(in, &issuer, ERR));
    CALL(tc_verifier_new(issuer, &options, revoked, revoked_count, &verifier, ERR));
    outcomes = cJSON_CreateArray();
    const cJSON *step;
    cJSON_ArrayForEach(step, steps) {
        const cJSON *args = cJSON_IsObject(step) ? step->child : NULL;
        NEED(args && !args->next, "one action per step");
        const char *action = args->string;
        tc_status st = TC_OK;
        if (!strcmp(action, "authenticate")) {
            NEED(verifier_authenticate_step(verifier, args, &token, &st), "authenticate step fields");
        } else if (!strcmp(action, "authenticate_batch")) {
            cJSON *batch = NULL;
            NEED(verifier_batch_step(verifier, args, &batch, &st), "authenticate_batch step fields");
            if (st != TC_OK) {
                /* the result broke the ABI's promises: the case fails with that status */
                cJSON_Delete(batch);
                out.status = st;
                snprintf(out.message, sizeof out.message, "tc_verifier_authenticate_batch: a result with a failure, "
                                                          "or not one outcome per request");
                goto done;
            }
            cJSON_AddItemToArray(outcomes, batch);
            continue;
        } else if (!strcmp(action, "check_policy")) {
            size_t count = 0;
            double now;
            const char *allow = str(args, "allow");
            tc_pair *facts = pairs_of(cJSON_GetObjectItemCaseSensitive(args, "request_facts"), &count);
            if (!facts || !allow || !num(args, "now", &now) || !token) {
                free(facts);
                NEED(false, "check_policy step fields, after an accepted authenticate");
            }
            st = tc_verifier_check_policy(verifier, token, facts, count, LEN(allow), &now, NULL);
            free(facts);
        } else if (!strcmp(action, "revoke")) {
            NEED(cJSON_IsString(args), "revoke step: an id");
            st = tc_verifier_revoke(verifier, LEN(args->valuestring), NULL);
        } else if (!strcmp(action, "revoke_token")) {
            /* TOKEN parsed with the case's issuer key(s), then the whole token revoked */
            NEED(cJSON_IsString(args), "revoke_token step: a token");
            tc_token *revoked_token = NULL;
            st = tc_token_parse(issuer, LEN(args->valuestring), &revoked_token, NULL);
            if (st == TC_OK) st = tc_verifier_revoke_token(verifier, revoked_token, NULL);
            tc_token_free(revoked_token);
        } else if (!strcmp(action, "verify_job")) {
            /* the job re-printed by cJSON: its values are what is signed (JCS), not its spelling */
            double now;
            const char *worker_id = str(args, "worker_id");
            const cJSON *job = cJSON_GetObjectItemCaseSensitive(args, "job");
            NEED(worker_id && cJSON_IsObject(job) && num(args, "now", &now), "verify_job step fields");
            char *text = cJSON_PrintUnformatted(job);
            NEED(text, "verify_job step: print the job");
            st = tc_verifier_verify_job(verifier, LEN(text), LEN(worker_id), &now, NULL);
            cJSON_free(text);
        } else if (!strcmp(action, "cache_stats")) {
            uint64_t hits = 0, misses = 0;
            tc_verifier_cache_stats(verifier, &hits, &misses, NULL, NULL);
            char stats[64];
            snprintf(stats, sizeof stats, "hits=%llu misses=%llu", (unsigned long long)hits,
                     (unsigned long long)misses);
            cJSON_AddItemToArray(outcomes, cJSON_CreateString(stats));
            continue;
        } else {
            NEED(false, "unknown verifier step");
        }
        cJSON_AddItemToArray(outcomes, cJSON_CreateString(tc_status_name(st)));
    }
    cJSON *result = cJSON_CreateObject();
    cJSON_AddItemToObject(result, "outcomes", outcomes);
    outcomes = NULL;
    out = ok(result);
done:
    cJSON_Delete(outcomes);
    free(revoked);
    tc_token_free(token);
    tc_verifier_free(verifier);
    tc_issuer_keys_free(issuer);
    return out;
}

/* ---- delegation (tests/vectors/README.md, "Delegation") ------------------------------------------ */

/* An identity's delegation chain as [[holder_id, holder_public_hex], …], in order. */
static cJSON *chain_of(const tc_identity *identity) {
    cJSON *chain = cJSON_CreateArray();
    for (size_t i = 0; i < tc_identity_chain_count(identity); i++) {
        cJSON *holder = cJSON_CreateArray();
        cJSON_AddItemToArray(holder, string_of(tc_identity_chain_holder_id(identity, i)));
        cJSON_AddItemToArray(holder, string_of(tc_identity_chain_holder_public_hex(identity, i)));
        cJSON_AddItemToArray(chain, holder);
    }
    return chain;
}

/* delegate: the token delegated with the holder's key, then parsed with the issuer key: its chain. */
static outcome op_delegate(const cJSON *in) {
    outcome out = {0};
    tc_worker_key *holder = NULL;
    tc_issuer_keys *issuer = NULL;
    tc_bytes *delegated = NULL;
    tc_token *token = NULL;
    tc_identity *identity = NULL;
    const char *b64 = str(in, "token"), *secret = str(in, "holder_secret_hex");
    const char *to_public_hex = str(in, "to_public_hex"), *to_holder_id = str(in, "to_holder_id");
    const char *checks = str(in, "checks");
    double expires_at;
    NEED(b64 && secret && to_public_hex && to_holder_id && checks && num(in, "expires_at", &expires_at),
         "delegate fields");
    tc_delegate_request request = {LEN(to_public_hex), LEN(to_holder_id), LEN(checks), expires_at};
    CALL(tc_worker_key_from_secret_hex(LEN(secret), &holder, ERR));
    CALL(tc_delegate(LEN(b64), holder, &request, &delegated, ERR));
    CALL(issuer_keys_of(in, &issuer, ERR));
    CALL(tc_token_parse(issuer, (const char *)tc_bytes_data(delegated), tc_bytes_len(delegated), &token, ERR));
    CALL(tc_token_identity(token, &identity, ERR));
    cJSON *result = cJSON_CreateObject();
    cJSON_AddItemToObject(result, "chain", chain_of(identity));
    out = ok(result);
done:
    tc_worker_key_free(holder);
    tc_issuer_keys_free(issuer);
    tc_bytes_free(delegated);
    tc_token_free(token);
    tc_identity_free(identity);
    return out;
}

/* One delegation_sequence step: POST /lease, body {}, signed at `now` with the step's nonce and key,
 * through tc_verifier_authenticate, then tc_verifier_check_policy. The step's outcome object, or NULL
 * when its fields are malformed. */
static cJSON *delegation_step(const tc_verifier *verifier, const cJSON *step, double now) {
    const char *b64 = str(step, "token"), *secret = str(step, "holder_secret_hex"), *nonce = str(step, "nonce");
    const char *allow = str(step, "allow");
    size_t count = 0;
    tc_pair *facts = pairs_of(cJSON_GetObjectItemCaseSensitive(step, "request_facts"), &count);
    if (!b64 || !secret || !nonce || !allow || !facts) {
        free(facts);
        return NULL;
    }
    tc_worker_key *key = NULL;
    tc_proof *proof = NULL;
    tc_token *token = NULL;
    tc_identity *identity = NULL;
    cJSON *o = cJSON_CreateObject();
    char timestamp[32];
    snprintf(timestamp, sizeof timestamp, "%lld", (long long)now);
    const tc_request request = {LEN("POST"), LEN("/lease"), (const uint8_t *)"{}", 2};
    tc_status st = tc_worker_key_from_secret_hex(LEN(secret), &key, NULL);
    if (st == TC_OK) st = tc_make_proof(key, LEN(b64), &request, LEN(timestamp), LEN(nonce), &proof, NULL);
    if (st == TC_OK) st = tc_verifier_authenticate(verifier, proof, &request, &now, &token, &identity, NULL);
    if (st == TC_OK) st = tc_verifier_check_policy(verifier, token, facts, count, LEN(allow), &now, NULL);
    if (st == TC_OK) {
        cJSON_AddItemToObject(o, "holder_id", string_of(tc_identity_holder_id(identity)));
        cJSON_AddItemToObject(o, "chain", chain_of(identity));
    } else {
        cJSON_AddStringToObject(o, "error", tc_status_name(st));
    }
    free(facts);
    tc_worker_key_free(key);
    tc_proof_free(proof);
    tc_token_free(token);
    tc_identity_free(identity);
    return o;
}

/* delegation_sequence: one tc_verifier (memory stores) for every step, in order. */
static outcome op_delegation_sequence(const cJSON *in) {
    outcome out = {0};
    tc_issuer_keys *issuer = NULL;
    tc_verifier *verifier = NULL;
    tc_str *revoked = NULL;
    size_t revoked_count = 0;
    cJSON *outcomes = NULL;
    double now;
    tc_verifier_options options = tc_verifier_options_default();
    options.limits = limits_of(in); /* the defaults, time budget scaled for valgrind */
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(in, "steps");
    NEED(cJSON_IsArray(steps) && num(in, "now", &now), "steps, now");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(in, "revoked_ids");
    if (cJSON_IsArray(ids)) NEED((revoked = strs_of(ids, &revoked_count)), "revoked_ids");
    CALL(issuer_keys_of(in, &issuer, ERR));
    CALL(tc_verifier_new(issuer, &options, revoked, revoked_count, &verifier, ERR));
    outcomes = cJSON_CreateArray();
    const cJSON *step;
    cJSON_ArrayForEach(step, steps) {
        cJSON *o = delegation_step(verifier, step, now);
        NEED(o, "step fields: token, holder_secret_hex, nonce, allow, request_facts");
        cJSON_AddItemToArray(outcomes, o);
    }
    cJSON *result = cJSON_CreateObject();
    cJSON_AddItemToObject(result, "outcomes", outcomes);
    outcomes = NULL;
    out = ok(result);
done:
    cJSON_Delete(outcomes);
    free(revoked);
    tc_verifier_free(verifier);
    tc_issuer_keys_free(issuer);
    return out;
}

/* ---- HTTP (tests/vectors/README.md, "HTTP") ----------------------------------------------------- */

/* Every string of these ops is read from the case's raw text (raw_string): a header value may hold
 * a NUL, which a cJSON string would cut. The decoded strings live in a pool freed once per case. */
typedef struct strpool {
    char **items;
    size_t count;
} strpool;

static void pool_free(strpool *pool) {
    for (size_t i = 0; i < pool->count; i++)
        free(pool->items[i]);
    free(pool->items);
    *pool = (strpool){0};
}

/* The JSON string `value` as a (pointer, length) kept in `pool`. */
static bool pooled(strpool *pool, raw_span value, tc_str *out) {
    char *text = NULL;
    size_t len = 0;
    if (!raw_string(value, &text, &len)) return false;
    pool->items = realloc(pool->items, (pool->count + 1) * sizeof *pool->items);
    pool->items[pool->count++] = text;
    *out = (tc_str){text, len};
    return true;
}

/* The string member `key` of the object `object`. */
static bool member_str(strpool *pool, raw_span object, const char *key, tc_str *out) {
    raw_span value;
    return raw_member(object, key, &value) && pooled(pool, value, out);
}

/* A raw array of strings as tc_str (a new array, caller frees; never NULL on success). */
static tc_str *raw_strs(strpool *pool, raw_span array, size_t *count) {
    tc_str *out = calloc(1, sizeof *out);
    raw_span item;
    for (*count = 0; raw_element(array, *count, &item); (*count)++) {
        out = realloc(out, (*count + 2) * sizeof *out);
        if (!pooled(pool, item, &out[*count])) {
            free(out);
            return NULL;
        }
    }
    return out;
}

/* A raw `[[name, value], …]` as tc_pair, in order (a new array, caller frees; never NULL on success). */
static tc_pair *raw_pairs(strpool *pool, raw_span array, size_t *count) {
    tc_pair *out = calloc(1, sizeof *out);
    raw_span item, name_raw, value_raw, extra;
    for (*count = 0; raw_element(array, *count, &item); (*count)++) {
        tc_str name, value;
        out = realloc(out, (*count + 2) * sizeof *out);
        if (!raw_element(item, 0, &name_raw) || !raw_element(item, 1, &value_raw) || raw_element(item, 2, &extra) ||
            !pooled(pool, name_raw, &name) || !pooled(pool, value_raw, &value)) {
            free(out);
            return NULL;
        }
        out[*count] = (tc_pair){name.ptr, name.len, value.ptr, value.len};
    }
    return out;
}

/* A pair list as `[[name, value], …]` (NULL list: []). */
static cJSON *pair_list_json(const tc_pair_list *list) {
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; i < tc_pair_list_count(list); i++) {
        tc_pair p = tc_pair_list_get(list, i);
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, string_of((tc_str){p.name, p.name_len}));
        cJSON_AddItemToArray(pair, string_of((tc_str){p.value, p.value_len}));
        cJSON_AddItemToArray(array, pair);
    }
    return array;
}

/* Hex bytes into a new buffer (caller frees). */
static bool raw_hex(strpool *pool, raw_span object, const char *key, unsigned char **bytes, size_t *len) {
    tc_str hex;
    return member_str(pool, object, key, &hex) && hex.len == strlen(hex.ptr) && hex_decode(hex.ptr, bytes, len);
}

/* A request {"method", "target", "headers": [[name, value], …], "body_hex"}; its body and header
 * array are allocated into *body and *headers (caller frees both, whatever the outcome). */
static bool http_request_of(strpool *pool, raw_span r, tc_http_request *request, unsigned char **body,
                            tc_pair **headers) {
    tc_str method, target;
    raw_span list;
    size_t body_len = 0, count = 0;
    if (!member_str(pool, r, "method", &method) || !member_str(pool, r, "target", &target) ||
        !raw_member(r, "headers", &list) || !(*headers = raw_pairs(pool, list, &count)) ||
        !raw_hex(pool, r, "body_hex", body, &body_len))
        return false;
    *request = (tc_http_request){method.ptr, method.len, target.ptr, target.len, *headers, count, *body, body_len};
    return true;
}

static outcome op_http_policy(raw_span raw) {
    outcome out = {0};
    strpool pool = {0};
    tc_http_policy *policy = NULL;
    tc_str text;
    NEED(member_str(&pool, raw, "policy", &text), "policy text");
    CALL(tc_http_policy_from_json(text.ptr, text.len, &policy, ERR));
    cJSON *result = cJSON_CreateObject();
    cJSON_AddNumberToObject(result, "routes", (double)tc_http_policy_route_count(policy));
    cJSON_AddNumberToObject(result, "max_body_bytes", (double)tc_http_policy_max_body_bytes(policy));
    out = ok(result);
done:
    tc_http_policy_free(policy);
    pool_free(&pool);
    return out;
}

static outcome op_http_sign(const cJSON *in, raw_span raw) {
    outcome out = {0};
    strpool pool = {0};
    tc_worker_key *key = NULL;
    tc_pair_list *headers = NULL;
    tc_pair *given = NULL;
    unsigned char *body = NULL;
    size_t given_count = 0, body_len = 0;
    tc_str secret, token, method, url, profile_name, nonce = {NULL, 0};
    raw_span list;
    double created = 0;
    /* null or absent: now, and a random nonce */
    bool has_created = num(in, "created", &created), has_nonce = cJSON_IsString(cJSON_GetObjectItem(in, "nonce"));
    NEED(member_str(&pool, raw, "holder_secret_hex", &secret) && member_str(&pool, raw, "token", &token) &&
             member_str(&pool, raw, "method", &method) && member_str(&pool, raw, "url", &url) &&
             member_str(&pool, raw, "profile", &profile_name) && raw_member(raw, "headers", &list) &&
             (given = raw_pairs(&pool, list, &given_count)) && raw_hex(&pool, raw, "body_hex", &body, &body_len) &&
             (!has_nonce || member_str(&pool, raw, "nonce", &nonce)),
         "http_sign fields");
    uint32_t profile = 0;
    CALL(tc_http_profile_from_name(profile_name.ptr, profile_name.len, &profile, ERR));
    CALL(tc_worker_key_from_secret_hex(secret.ptr, secret.len, &key, ERR));
    tc_http_sign_params params = {
        method.ptr, method.len, url.ptr,   url.len, given, given_count, body, body_len, profile,
        {has_created, (int64_t)created}, {has_nonce, nonce.ptr, nonce.len},
    };
    CALL(tc_http_sign_request(key, token.ptr, token.len, &params, &headers, ERR));
    cJSON *result = cJSON_CreateObject();
    cJSON_AddItemToObject(result, "headers", pair_list_json(headers));
    out = ok(result);
done:
    free(given);
    free(body);
    tc_pair_list_free(headers);
    tc_worker_key_free(key);
    pool_free(&pool);
    return out;
}

static outcome op_http_signature_base(raw_span raw) {
    outcome out = {0};
    strpool pool = {0};
    unsigned char *body = NULL;
    tc_pair *headers = NULL;
    tc_bytes *base = NULL;
    tc_http_request request;
    tc_str label;
    raw_span r;
    NEED(member_str(&pool, raw, "label", &label) && raw_member(raw, "request", &r) &&
             http_request_of(&pool, r, &request, &body, &headers),
         "request, label");
    CALL(tc_http_signature_base(&request, label.ptr, label.len, &base, ERR));
    cJSON *result = cJSON_CreateObject();
    cJSON_AddItemToObject(result, "base", string_of((tc_str){(const char *)tc_bytes_data(base), tc_bytes_len(base)}));
    out = ok(result);
done:
    free(body);
    free(headers);
    tc_bytes_free(base);
    pool_free(&pool);
    return out;
}

static outcome op_http_verify_signature(raw_span raw) {
    outcome out = {0};
    strpool pool = {0};
    unsigned char *body = NULL;
    tc_pair *headers = NULL;
    tc_http_request request;
    tc_str label, public_hex;
    raw_span r;
    NEED(member_str(&pool, raw, "label", &label) && member_str(&pool, raw, "public_hex", &public_hex) &&
             raw_member(raw, "request", &r) && http_request_of(&pool, r, &request, &body, &headers),
         "request, label, public_hex");
    CALL(tc_http_verify_signature(&request, label.ptr, label.len, public_hex.ptr, public_hex.len, ERR));
    out = ok(cJSON_CreateObject());
done:
    free(body);
    free(headers);
    pool_free(&pool);
    return out;
}

/* A decision as the vectors write it. */
static cJSON *decision_json(const tc_decision *d) {
    cJSON *o = cJSON_CreateObject();
    tc_status code = tc_decision_code(d);
    tc_optional_text route = tc_decision_route(d);
    tc_optional_u32 profile = tc_decision_profile(d);
    const tc_identity *identity = tc_decision_identity(d);
    cJSON_AddBoolToObject(o, "allowed", tc_decision_allowed(d));
    cJSON_AddNumberToObject(o, "status", tc_decision_status(d));
    cJSON_AddItemToObject(o, "code", code == TC_OK ? cJSON_CreateNull() : cJSON_CreateString(tc_status_name(code)));
    cJSON_AddItemToObject(o, "route", route.has ? string_of((tc_str){route.value, route.len}) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "profile",
                          profile.has ? cJSON_CreateString(tc_http_profile_name(profile.value)) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "holder_id", identity ? string_of(tc_identity_holder_id(identity)) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "facts", pair_list_json(tc_decision_facts(d)));
    cJSON_AddItemToObject(o, "headers", pair_list_json(tc_decision_headers(d)));
    return o;
}

/* One decide step (`step` parsed, `raw` its text) into a new JSON value: the decision, or
 * {"error": CODE} for a failed call. NULL when the step's fields are malformed. */
static cJSON *decide_step(const tc_verifier *verifier, const tc_http_policy *policy, const cJSON *step,
                          raw_span raw) {
    strpool pool = {0};
    unsigned char *body = NULL;
    tc_pair *headers = NULL, *facts = NULL;
    tc_decision *decision = NULL;
    tc_http_request request;
    size_t fact_count = 0;
    double now = 0;
    bool has_now = num(step, "now", &now);
    raw_span r, given;
    cJSON *result = NULL;
    if (!raw_member(raw, "request", &r) || !http_request_of(&pool, r, &request, &body, &headers)) goto done;
    const cJSON *facts_json = cJSON_GetObjectItemCaseSensitive(step, "facts");
    if (facts_json && !cJSON_IsNull(facts_json) &&
        (!raw_member(raw, "facts", &given) || !(facts = raw_pairs(&pool, given, &fact_count))))
        goto done;
    tc_status st = tc_verifier_decide(verifier, &request, policy, facts, fact_count, has_now ? &now : NULL,
                                      &decision, NULL);
    if (st == TC_OK) {
        result = decision_json(decision);
    } else {
        result = cJSON_CreateObject();
        cJSON_AddStringToObject(result, "error", tc_status_name(st));
    }
done:
    free(body);
    free(headers);
    free(facts);
    tc_decision_free(decision);
    pool_free(&pool);
    return result;
}

/* http_decide: one tc_verifier (memory stores) and one policy through the case's steps. */
static outcome op_http_decide(const cJSON *in, raw_span raw) {
    outcome out = {0};
    strpool pool = {0};
    tc_issuer_keys *issuer = NULL;
    tc_verifier *verifier = NULL;
    tc_http_policy *policy = NULL;
    tc_str *revoked = NULL, *authorities = NULL, *profile_names = NULL, text;
    size_t revoked_count = 0, authority_count = 0, profile_count = 0;
    cJSON *decisions = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, "verifier");
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(in, "steps");
    raw_span raw_v, list, raw_steps;
    tc_verifier_options options = tc_verifier_options_default();
    options.limits = scaled(options.limits);
    NEED(cJSON_IsObject(v) && cJSON_IsArray(steps) && raw_member(raw, "verifier", &raw_v) &&
             raw_member(raw, "steps", &raw_steps) && member_str(&pool, raw, "policy", &text),
         "verifier, policy, steps");
    NEED(num(v, "max_skew_seconds", &options.max_skew_seconds), "max_skew_seconds");
    NEED(raw_member(raw_v, "authorities", &list) && (authorities = raw_strs(&pool, list, &authority_count)),
         "authorities");
    NEED(raw_member(raw_v, "profiles", &list) && (profile_names = raw_strs(&pool, list, &profile_count)),
         "profiles");
    if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(v, "revoked_ids")))
        NEED(raw_member(raw_v, "revoked_ids", &list) && (revoked = raw_strs(&pool, list, &revoked_count)),
             "revoked_ids");
    options.authorities = authorities;
    options.authorities_count = authority_count;
    options.profiles = 0;
    for (size_t i = 0; i < profile_count; i++) {
        uint32_t bit = 0;
        CALL(tc_http_profile_from_name(profile_names[i].ptr, profile_names[i].len, &bit, ERR));
        options.profiles |= bit;
    }
    CALL(issuer_keys_of(v, &issuer, ERR));
    CALL(tc_verifier_new(issuer, &options, revoked, revoked_count, &verifier, ERR));
    CALL(tc_http_policy_from_json(text.ptr, text.len, &policy, ERR));
    decisions = cJSON_CreateArray();
    const cJSON *step;
    size_t index = 0;
    cJSON_ArrayForEach(step, steps) {
        raw_span raw_step;
        NEED(raw_element(raw_steps, index++, &raw_step), "a step's text");
        cJSON *decision = decide_step(verifier, policy, step, raw_step);
        NEED(decision, "step fields: request, now, facts");
        cJSON_AddItemToArray(decisions, decision);
    }
    cJSON *result = cJSON_CreateObject();
    cJSON_AddItemToObject(result, "decisions", decisions);
    decisions = NULL;
    out = ok(result);
done:
    cJSON_Delete(decisions);
    free(revoked);
    free(authorities);
    free(profile_names);
    tc_http_policy_free(policy);
    tc_verifier_free(verifier);
    tc_issuer_keys_free(issuer);
    pool_free(&pool);
    return out;
}

/* ---- the signer ops ---------------------------------------------------------------------------- */

/* The status whose name is `name` (TC_OK when none is: never a code of the table). */
static tc_status status_named(const char *name) {
    for (uint32_t s = 1; s <= TC_DELEGATION_INVALID; s++)
        if (!strcmp(tc_status_name(s), name)) return (tc_status)s;
    return TC_OK;
}

/* The outcome of a signer result: {"id" (when given), "result", and what its token says}. Takes
 * ownership of `id` and `result`. */
static outcome signer_outcome(const char *issuer_hex, cJSON *id, cJSON *result) {
    outcome out = {0};
    tc_issuer_keys *issuer = NULL;
    tc_token *token = NULL;
    tc_bytes *source = NULL;
    cJSON *o = cJSON_CreateObject();
    if (id) cJSON_AddItemToObject(o, "id", id);
    cJSON_AddItemToObject(o, "result", result);
    const char *b64 = str(result, "token");
    if (b64) {
        CALL(tc_issuer_keys_from_hex(LEN(issuer_hex), &issuer, ERR));
        CALL(tc_token_parse(issuer, LEN(b64), &token, ERR));
        CALL(tc_token_block_source(token, 0, &source, ERR));
        cJSON_AddStringToObject(o, "token_authority_source", (const char *)tc_bytes_data(source));
        uint32_t root_key_id = 0;
        bool has_root = tc_token_root_key_id(token, &root_key_id);
        cJSON_AddItemToObject(o, "token_root_key_id",
                              has_root ? cJSON_CreateNumber((double)root_key_id) : cJSON_CreateNull());
    }
    out = ok(o);
    o = NULL;
done:
    cJSON_Delete(o);
    tc_bytes_free(source);
    tc_token_free(token);
    tc_issuer_keys_free(issuer);
    return out;
}

static bool read_exact(int fd, unsigned char *buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        got += (size_t)n;
    }
    return true;
}

/* Send `frame` on a fresh connection, close the writing half, read one answer frame (10 s at most)
 * as JSON. NULL when no whole answer frame came back. */
static cJSON *exchange(const char *socket_path, const unsigned char *frame, size_t frame_len, char *why,
                       size_t why_len) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    cJSON *answer = NULL;
    unsigned char header[4], *body = NULL;
    tc_bytes *json = NULL;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(why, why_len, "cannot connect to the signer");
    if (fd < 0 || strlen(socket_path) >= sizeof addr.sun_path) goto done;
    strcpy(addr.sun_path, socket_path);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) goto done;
    struct timeval timeout = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    for (size_t sent = 0; sent < frame_len;) {
        ssize_t n = send(fd, frame + sent, frame_len - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* the signer may refuse before reading it all: its answer still counts */
        sent += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    snprintf(why, why_len, "no answer frame");
    if (!read_exact(fd, header, 4)) goto done;
    size_t body_len = 0;
    if (tc_frame_body_length(header, 4, &body_len, NULL) != TC_OK) goto done;
    body = malloc(body_len + 1);
    if (!read_exact(fd, body, body_len)) goto done;
    snprintf(why, why_len, "the answer frame is not a JSON object");
    if (tc_frame_decode_body(body, body_len, &json, NULL) != TC_OK) goto done;
    answer = cJSON_ParseWithLength((const char *)tc_bytes_data(json), tc_bytes_len(json));
    unsigned char rest[256];
    while (read(fd, rest, sizeof rest) > 0) {
    }
done:
    if (fd >= 0) close(fd);
    free(body);
    tc_bytes_free(json);
    return answer;
}

static outcome op_signer_exchange(const signer_daemon *d, const char *issuer_hex, const cJSON *in) {
    outcome out = {0};
    unsigned char *frame = NULL;
    size_t frame_len = 0;
    cJSON *answer = NULL;
    char why[128];
    const char *frame_hex = str(in, "frame_hex");
    NEED(frame_hex && hex_decode(frame_hex, &frame, &frame_len), "frame_hex");
    answer = exchange(d->socket, frame, frame_len, why, sizeof why);
    NEED(answer, why);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(answer, "id");
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(answer, "result");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer, "ok"))) {
        NEED(cJSON_IsObject(result), "an answer with ok but no result");
        out = signer_outcome(issuer_hex, id ? cJSON_Duplicate(id, true) : cJSON_CreateNull(),
                             cJSON_Duplicate(result, true));
    } else {
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(answer, "error");
        const char *code = str(error, "code");
        NEED(code && status_named(code) != TC_OK, "an error answer without a known code");
        out.status = status_named(code);
        const char *message = str(error, "message");
        snprintf(out.message, sizeof out.message, "signer refused: %.200s", message ? message : "");
    }
done:
    free(frame);
    cJSON_Delete(answer);
    return out;
}

/* `args.facts` ([[predicate, [values…]], …]) as tc_mint_fact, with one tc_str array per fact
 * (free_facts releases them). NULL for a malformed list. */
static tc_mint_fact *facts_of(const cJSON *facts, size_t *count) {
    if (!cJSON_IsArray(facts)) return NULL;
    *count = (size_t)cJSON_GetArraySize(facts);
    tc_mint_fact *out = calloc(*count + 1, sizeof *out);
    size_t i = 0;
    const cJSON *pair;
    cJSON_ArrayForEach(pair, facts) {
        const cJSON *predicate = cJSON_GetArrayItem(pair, 0);
        size_t n = 0;
        tc_str *values = strs_of(cJSON_GetArrayItem(pair, 1), &n);
        if (!cJSON_IsString(predicate) || !values) {
            free(values);
            for (size_t j = 0; j < i; j++)
                free((void *)out[j].values);
            free(out);
            return NULL;
        }
        out[i++] = (tc_mint_fact){LEN(predicate->valuestring), values, n};
    }
    return out;
}

static void free_facts(tc_mint_fact *facts, size_t count) {
    for (size_t i = 0; facts && i < count; i++)
        free((void *)facts[i].values);
    free(facts);
}

static cJSON *bytes_string(const tc_bytes *b) {
    return string_of((tc_str){(const char *)tc_bytes_data(b), tc_bytes_len(b)});
}

static outcome op_signer_call(const signer_daemon *d, const char *issuer_hex, const cJSON *in, raw_span raw) {
    outcome out = {0};
    tc_signer_client *client = NULL;
    tc_bytes *a = NULL, *b = NULL;
    tc_mint_fact *facts = NULL;
    size_t fact_count = 0;
    cJSON *result = NULL;
    char *address = NULL;
    const char *call = str(in, "call"), *given = str(in, "address");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(in, "args");
    NEED(call && cJSON_IsObject(args), "call, args");
    if (given) {
        address = strdup(given);
    } else {
        address = malloc(strlen(d->socket) + 6);
        sprintf(address, "unix:%s", d->socket);
    }
    /* core's defaults: 1 s to connect, 5 s per request */
    CALL(tc_signer_client_new(LEN(address), 1000, 5000, &client, ERR));
    if (!strcmp(call, "public_key")) {
        bool has_key_id = false;
        uint32_t key_id = 0;
        CALL(tc_signer_client_public_key(client, &a, &has_key_id, &key_id, ERR));
        result = cJSON_CreateObject();
        cJSON_AddItemToObject(result, "public_key", bytes_string(a));
        cJSON_AddItemToObject(result, "key_id", has_key_id ? cJSON_CreateNumber(key_id) : cJSON_CreateNull());
    } else if (!strcmp(call, "health")) {
        CALL(tc_signer_client_health(client, &a, ERR));
        result = cJSON_ParseWithLength((const char *)tc_bytes_data(a), tc_bytes_len(a));
        NEED(cJSON_IsObject(result), "a health report that is not a JSON object");
    } else if (!strcmp(call, "mint")) {
        const char *public_hex = str(args, "public_hex"), *holder_id = str(args, "holder_id");
        const char *revocation_id = str(args, "revocation_id");
        double expires_at;
        facts = facts_of(cJSON_GetObjectItemCaseSensitive(args, "facts"), &fact_count);
        NEED(facts && public_hex && holder_id && num(args, "expires_at", &expires_at), "mint args");
        tc_mint_request request = {
            .public_hex = public_hex,
            .public_hex_len = strlen(public_hex),
            .holder_id = holder_id,
            .holder_id_len = strlen(holder_id),
            .facts = facts,
            .facts_count = fact_count,
            /* absent: the signer picks one */
            .revocation_id = {revocation_id != NULL, revocation_id, revocation_id ? strlen(revocation_id) : 0},
            .expires_at = expires_at,
        };
        double depth;
        if (num(args, "delegation_depth", &depth)) request.delegation_depth = (uint32_t)depth; /* else 0 */
        uint64_t minted_expiry = 0;
        CALL(tc_signer_client_mint(client, &request, &a, &b, &minted_expiry, ERR));
        result = cJSON_CreateObject();
        cJSON_AddItemToObject(result, "token", bytes_string(a));
        cJSON_AddItemToObject(result, "revocation_id", bytes_string(b));
        cJSON_AddNumberToObject(result, "expires_at", (double)minted_expiry);
    } else if (!strcmp(call, "sign_job")) {
        raw_span raw_args, job;
        const char *worker_id = str(args, "worker_id");
        NEED(worker_id && raw_member(raw, "args", &raw_args) && raw_member(raw_args, "job", &job), "sign_job args");
        CALL(tc_signer_client_sign_job(client, job.ptr, job.len, LEN(worker_id), &a, ERR));
        result = cJSON_CreateObject();
        cJSON_AddItemToObject(result, "sig", bytes_string(a));
    } else {
        NEED(false, "unknown signer call");
    }
    out = signer_outcome(issuer_hex, NULL, result);
    result = NULL;
done:
    cJSON_Delete(result);
    free_facts(facts, fact_count);
    free(address);
    tc_bytes_free(a);
    tc_bytes_free(b);
    tc_signer_client_free(client);
    return out;
}

outcome run_signer_op(const signer_daemon *daemon, const char *issuer_public_hex, const char *op,
                      const cJSON *input, raw_span raw) {
    if (!op || !cJSON_IsObject(input)) return vector_problem("case without op or input");
    if (!daemon || !daemon->socket) return vector_problem("a signer op needs the file's signer settings");
    if (!strcmp(op, "signer_exchange")) return op_signer_exchange(daemon, issuer_public_hex, input);
    if (!strcmp(op, "signer_call")) return op_signer_call(daemon, issuer_public_hex, input, raw);
    outcome out = vector_problem("unknown op");
    snprintf(out.message, sizeof out.message, "unknown signer op \"%s\"", op);
    return out;
}

outcome run_op(const char *op, const cJSON *input, raw_span raw) {
    if (!op || !cJSON_IsObject(input)) return vector_problem("case without op or input");
    if (!strcmp(op, "public_key")) return op_public_key(input);
    if (!strcmp(op, "canonical_request")) return op_canonical_request(input);
    if (!strcmp(op, "make_proof")) return op_make_proof(input);
    if (!strcmp(op, "authenticate")) return op_authenticate(input);
    if (!strcmp(op, "check_policy")) return op_check_policy(input);
    if (!strcmp(op, "authorize")) return op_authorize(input);
    if (!strcmp(op, "inspect")) return op_inspect(input);
    if (!strcmp(op, "mint")) return op_mint(input);
    if (!strcmp(op, "sign_job")) return op_sign_job(input, raw);
    if (!strcmp(op, "verify_job")) return op_verify_job(input, raw);
    if (!strcmp(op, "frame_encode")) return op_frame_encode(raw);
    if (!strcmp(op, "frame_decode")) return op_frame_decode(input);
    if (!strcmp(op, "proof_from_headers")) return op_proof_from(input, true);
    if (!strcmp(op, "proof_from_query")) return op_proof_from(input, false);
    if (!strcmp(op, "verifier_sequence")) return op_verifier_sequence(input);
    if (!strcmp(op, "delegate")) return op_delegate(input);
    if (!strcmp(op, "delegation_sequence")) return op_delegation_sequence(input);
    if (!strcmp(op, "http_decide")) return op_http_decide(input, raw);
    if (!strcmp(op, "http_policy")) return op_http_policy(raw);
    if (!strcmp(op, "http_sign")) return op_http_sign(input, raw);
    if (!strcmp(op, "http_signature_base")) return op_http_signature_base(raw);
    if (!strcmp(op, "http_verify_signature")) return op_http_verify_signature(raw);
    outcome out = vector_problem("unknown op");
    snprintf(out.message, sizeof out.message, "unknown op \"%s\"", op);
    return out;
}

outcome run_biscuit_sample(const tc_issuer_keys *root, const unsigned char *data, size_t data_len, const char *code,
                           const cJSON *want_ids) {
    outcome out = {0};
    tc_token *token = NULL;
    cJSON *ids = NULL;
    size_t policy = 0;
    const tc_str externs[] = {{"test", 4}};
    tc_limits limits = scaled(tc_limits_default());
    CALL(tc_token_parse_bytes(root, data, data_len, &token, ERR));
    ids = revocation_ids(token);
    if (!cJSON_Compare(ids, want_ids, true)) {
        out.status = TC_INTERNAL;
        snprintf(out.message, sizeof out.message, "revocation ids differ");
        goto done;
    }
    CALL(tc_authorize(token, LEN(code), NULL, &limits, externs, 1, &policy, ERR));
    cJSON *result = cJSON_CreateObject();
    cJSON_AddNumberToObject(result, "policy", (double)policy);
    out = ok(result);
done:
    cJSON_Delete(ids);
    tc_token_free(token);
    return out;
}
