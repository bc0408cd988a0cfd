/* The C conformance runner: every case of the four vector sources through the C ABI, counted
 * against what the files declare (numberOfTests; the Biscuit samples' validations; the RFC 9421
 * examples, 2 + their B.4 messages), so no case can be skipped silently. Codes are compared, never
 * messages. Mirrors cli/tests/conformance.rs. Each
 * case's large values ($repeat, $nest, $nest_list: tests/vectors/README.md) are written out first
 * (json_raw.h): a value nested 10,000 deep only ever as text.
 *
 * usage: conformance REPO_ROOT   (shared data: $TRUSTCORE_SHARED, default REPO_ROOT/../shared; the signer
 * vectors start $TRUSTCORE_BIN, default REPO_ROOT/target/release/trustcore, through $TRUSTCORE_TESTENV)
 * TRUSTCORE_TEST_TIME_SCALE=N multiplies the authorizer's time budgets, for the valgrind run only. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "ops.h"

typedef struct tally {
    size_t ran, failed;
} tally;

/* the `trustcore` binary the signer vectors start (signer_binary: $TRUSTCORE_BIN, else the build's) */
static char *signer_bin;

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *data = malloc(cap + 1);
    size_t got;
    while ((got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) data = realloc(data, (cap *= 2) + 1);
    }
    fclose(f);
    data[n] = '\0';
    if (len) *len = n;
    return data;
}

/* "a/b", allocated (caller frees): paths come from the environment, so no fixed-size buffers. */
static char *join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *path = malloc(la + lb + 2);
    memcpy(path, a, la);
    path[la] = '/';
    memcpy(path + la + 1, b, lb + 1);
    return path;
}

static void fail(tally *t, const char *where, const char *id, const char *why) {
    t->failed++;
    printf("FAILED %s: %s: %s\n", where, id, why);
}

/* `have` equals `want`, a missing `have` counting as null (as serde_json's Index). */
static bool same_or_null(const cJSON *have, const cJSON *want) {
    cJSON *null = cJSON_CreateNull();
    bool same = cJSON_Compare(have ? have : null, want, true);
    cJSON_Delete(null);
    return same;
}

/* Compare an outcome with `expect`: {"error": CODE}, or every expected field equal; for the signer
 * ops `result` is matched field by field and `result_has` names fields that must be present. */
static void check(tally *t, const char *where, const char *id, const outcome *got, const cJSON *expect) {
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(expect, "error");
    char why[512];
    if (cJSON_IsString(code)) {
        if (got->status == TC_OK) {
            snprintf(why, sizeof why, "expected %s, got success", code->valuestring);
            fail(t, where, id, why);
        } else if (strcmp(tc_status_name(got->status), code->valuestring) != 0) {
            snprintf(why, sizeof why, "expected %s, got %s (%s)", code->valuestring, tc_status_name(got->status),
                     got->message);
            fail(t, where, id, why);
        }
        return;
    }
    if (got->status != TC_OK) {
        snprintf(why, sizeof why, "expected success, got %s (%s)", tc_status_name(got->status), got->message);
        fail(t, where, id, why);
        return;
    }
    const cJSON *want;
    cJSON_ArrayForEach(want, expect) {
        if (!strcmp(want->string, "result")) {
            /* the signer ops: the result's fields one by one */
            const cJSON *result = cJSON_GetObjectItemCaseSensitive(got->result, "result");
            const cJSON *field;
            cJSON_ArrayForEach(field, want) {
                if (!same_or_null(cJSON_GetObjectItemCaseSensitive(result, field->string), field)) {
                    const cJSON *have = cJSON_GetObjectItemCaseSensitive(result, field->string);
                    char *text = have ? cJSON_PrintUnformatted(have) : NULL;
                    snprintf(why, sizeof why, "result.%s differs (got %.300s)", field->string, text ? text : "nothing");
                    free(text);
                    fail(t, where, id, why);
                    return;
                }
            }
        } else if (!strcmp(want->string, "result_has")) {
            /* fields the result must carry, whatever their value */
            const cJSON *result = cJSON_GetObjectItemCaseSensitive(got->result, "result");
            const cJSON *field;
            cJSON_ArrayForEach(field, want) {
                if (!cJSON_IsString(field) || !cJSON_GetObjectItemCaseSensitive(result, field->valuestring)) {
                    snprintf(why, sizeof why, "result has no %s", cJSON_IsString(field) ? field->valuestring : "?");
                    fail(t, where, id, why);
                    return;
                }
            }
        } else if (!same_or_null(cJSON_GetObjectItemCaseSensitive(got->result, want->string), want)) {
            const cJSON *have = cJSON_GetObjectItemCaseSensitive(got->result, want->string);
            char *text = have ? cJSON_PrintUnformatted(have) : NULL;
            snprintf(why, sizeof why, "%s differs (got %.300s)", want->string, text ? text : "nothing");
            free(text);
            fail(t, where, id, why);
            return;
        }
    }
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every `*.json` in `dir`, sorted. */
static char **vector_files(const char *dir, size_t *count) {
    DIR *d = opendir(dir);
    *count = 0;
    if (!d) return NULL;
    char **names = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 5 && !strcmp(e->d_name + n - 5, ".json")) {
            names = realloc(names, (*count + 1) * sizeof *names);
            names[(*count)++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, *count, sizeof *names, by_name);
    return names;
}

/* Run one vector file; adds to *declared and returns the number of cases run. */
static size_t run_file(tally *t, const char *path, const char *name, size_t *declared) {
    size_t len = 0, ran = 0;
    char *text = read_file(path, &len);
    cJSON *doc = text ? cJSON_ParseWithLength(text, len) : NULL;
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
    const cJSON *number = cJSON_GetObjectItemCaseSensitive(doc, "numberOfTests");
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
    raw_span raw_doc = {text, len}, raw_cases = {0};
    if (!doc || !cJSON_IsString(schema) || strcmp(schema->valuestring, "trustcore-vectors/1") ||
        !cJSON_IsNumber(number) || !cJSON_IsArray(cases) || !raw_member(raw_doc, "cases", &raw_cases)) {
        fail(t, name, "(file)", "not a trustcore-vectors/1 file");
        *declared += 1; /* an unreadable file can never pass the count */
        goto done;
    }
    *declared += (size_t)number->valuedouble;
    /* a file with `signer` settings runs against a live daemon, started for it and stopped after */
    const cJSON *signer = cJSON_GetObjectItemCaseSensitive(doc, "signer");
    const char *issuer_public_hex = NULL;
    signer_daemon daemon = {0};
    bool live = false;
    if (signer) {
        const cJSON *seed = cJSON_GetObjectItemCaseSensitive(signer, "issuer_seed_hex");
        const cJSON *public_hex = cJSON_GetObjectItemCaseSensitive(signer, "issuer_public_hex");
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(signer, "args");
        size_t arg_count = (size_t)cJSON_GetArraySize(args), i = 0;
        const char **argv = calloc(arg_count + 1, sizeof *argv);
        const cJSON *arg;
        bool args_ok = cJSON_IsArray(args);
        cJSON_ArrayForEach(arg, args) {
            args_ok = args_ok && cJSON_IsString(arg);
            argv[i++] = cJSON_IsString(arg) ? arg->valuestring : "";
        }
        if (cJSON_IsString(seed) && cJSON_IsString(public_hex) && args_ok) {
            issuer_public_hex = public_hex->valuestring;
            live = signer_daemon_start(&daemon, signer_bin, seed->valuestring, argv, arg_count);
        }
        free(argv);
        if (!live) fail(t, name, "(signer)", "the signer settings are malformed or the daemon did not start");
    }
    const cJSON *c;
    size_t index = 0;
    cJSON_ArrayForEach(c, cases) {
        raw_span raw_case = {0}, raw_input = {0};
        raw_element(raw_cases, index++, &raw_case);
        raw_member(raw_case, "input", &raw_input);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
        const char *case_id = cJSON_IsString(id) ? id->valuestring : "?";
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(c, "op");
        const char *op_name = cJSON_IsString(op) ? op->valuestring : NULL;
        /* its large values written out (README: Large values), in the text and in the parsed input */
        size_t expanded_len = 0;
        char *expanded = raw_expand(raw_input, &expanded_len);
        cJSON *input = tree_expand(cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(c, "input"), true));
        ran++;
        t->ran++;
        if (!expanded || !input) {
            fail(t, name, case_id, "vector problem: a $repeat, $nest or $nest_list with malformed arguments");
        } else {
            raw_span text_input = {expanded, expanded_len};
            outcome got = op_name && !strncmp(op_name, "signer_", 7)
                              ? run_signer_op(live ? &daemon : NULL, issuer_public_hex, op_name, input, text_input)
                              : run_op(op_name, input, text_input);
            check(t, name, case_id, &got, cJSON_GetObjectItemCaseSensitive(c, "expect"));
            cJSON_Delete(got.result);
        }
        cJSON_Delete(input);
        free(expanded);
    }
    /* SIGTERM, as an operator would stop it: it must exit 0 and remove its socket */
    if (live && !signer_daemon_stop(&daemon))
        fail(t, name, "(signer)", "on SIGTERM the signer did not exit 0, or left its socket behind");
done:
    cJSON_Delete(doc);
    free(text);
    return ran;
}

static void run_vector_dir(tally *t, const char *dir, size_t *ran, size_t *declared) {
    size_t count = 0;
    char **names = vector_files(dir, &count);
    if (count == 0) printf("no vector files in %s\n", dir);
    for (size_t i = 0; i < count; i++) {
        char *path = join(dir, names[i]);
        *ran += run_file(t, path, names[i], declared);
        free(path);
        free(names[i]);
    }
    free(names);
    if (count == 0) *declared += 1; /* as the Rust runner: an empty source is an error */
}

/* Expected outcome of a sample validation, as `expect` would be written: {"policy": n} or
 * {"error": CODE}. NULL for an unmapped kind (the Rust runner panics there). */
static cJSON *sample_expect(const cJSON *result) {
    const cJSON *okv = cJSON_GetObjectItemCaseSensitive(result, "Ok");
    const cJSON *errv = cJSON_GetObjectItemCaseSensitive(result, "Err");
    cJSON *expect = cJSON_CreateObject();
    if (okv) {
        cJSON_AddItemToObject(expect, "policy", cJSON_Duplicate(okv, true));
        return expect;
    }
    const char *kind = errv && errv->child ? errv->child->string : "";
    const char *code = !strcmp(kind, "Format")                                      ? "TOKEN_INVALID"
                       : !strcmp(kind, "FailedLogic") || !strcmp(kind, "Execution") ? "DENIED"
                       : !strcmp(kind, "RunLimit")                                  ? "LIMIT_EXCEEDED"
                                                                                    : NULL;
    if (!code) {
        cJSON_Delete(expect);
        return NULL;
    }
    cJSON_AddStringToObject(expect, "error", code);
    return expect;
}

static void run_biscuit_samples(tally *t, const char *dir, size_t *ran, size_t *declared) {
    char *path = join(dir, "samples.json");
    size_t len = 0;
    char *text = read_file(path, &len);
    free(path);
    cJSON *doc = text ? cJSON_ParseWithLength(text, len) : NULL;
    const cJSON *root_hex = cJSON_GetObjectItemCaseSensitive(doc, "root_public_key");
    tc_issuer_keys *root = NULL;
    if (!cJSON_IsString(root_hex) ||
        tc_issuer_keys_from_hex(root_hex->valuestring, strlen(root_hex->valuestring), &root, NULL) != TC_OK) {
        fail(t, "biscuit-samples", "samples.json", "unreadable, or no root_public_key");
        *declared += 1;
        goto done;
    }
    const cJSON *testcase;
    cJSON_ArrayForEach(testcase, cJSON_GetObjectItemCaseSensitive(doc, "testcases")) {
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(testcase, "filename");
        const cJSON *validations = cJSON_GetObjectItemCaseSensitive(testcase, "validations");
        const char *filename = cJSON_IsString(file) ? file->valuestring : "?";
        size_t data_len = 0;
        char *token_path = join(dir, filename);
        char *data = read_file(token_path, &data_len);
        free(token_path);
        *declared += (size_t)cJSON_GetArraySize(validations);
        const cJSON *v;
        cJSON_ArrayForEach(v, validations) {
            char where[512];
            snprintf(where, sizeof where, "biscuit-samples: %s [%s]", filename, v->string);
            (*ran)++;
            t->ran++;
            cJSON *expect = sample_expect(cJSON_GetObjectItemCaseSensitive(v, "result"));
            const cJSON *code = cJSON_GetObjectItemCaseSensitive(v, "authorizer_code");
            if (!expect || !data || !cJSON_IsString(code)) {
                fail(t, where, "", "unmapped result kind, missing token file or code");
                cJSON_Delete(expect);
                continue;
            }
            outcome got = run_biscuit_sample(root, (const unsigned char *)data, data_len, code->valuestring,
                                             cJSON_GetObjectItemCaseSensitive(v, "revocation_ids"));
            check(t, where, "", &got, expect);
            cJSON_Delete(got.result);
            cJSON_Delete(expect);
        }
        free(data);
    }
done:
    tc_issuer_keys_free(root);
    cJSON_Delete(doc);
    free(text);
}

/* ---- the RFC 9421 examples (tests/vectors/README.md, "The RFC's own examples") ------------------ */

/* `headers` ([[name, value], …]) with [name, value] appended. */
static void add_header(cJSON *headers, const char *name, const char *value) {
    cJSON *pair = cJSON_CreateArray();
    cJSON_AddItemToArray(pair, cJSON_CreateString(name));
    cJSON_AddItemToArray(pair, cJSON_CreateString(value));
    cJSON_AddItemToArray(headers, pair);
}

/* A vector request {"method", "target", "headers", "body_hex"} (a new tree). */
static cJSON *http_request(const char *method, const char *target, cJSON *headers, const char *body) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "method", method);
    cJSON_AddStringToObject(r, "target", target);
    cJSON_AddItemToObject(r, "headers", headers);
    char *body_hex = hex_encode((const unsigned char *)body, strlen(body));
    cJSON_AddStringToObject(r, "body_hex", body_hex);
    free(body_hex);
    return r;
}

/* Run one RFC case as the op `op` on `input` (deleted here) against `expect` (deleted here). */
static void run_rfc_case(tally *t, size_t *ran, const char *id, const char *op, cJSON *input, cJSON *expect) {
    (*ran)++;
    t->ran++;
    char *text = cJSON_PrintUnformatted(input); /* the HTTP ops read their strings from the text */
    outcome got = run_op(op, input, (raw_span){text, text ? strlen(text) : 0});
    cJSON_free(text);
    check(t, "rfc9421", id, &got, expect);
    cJSON_Delete(got.result);
    cJSON_Delete(input);
    cJSON_Delete(expect);
}

/* One B.4 message: "METHOD TARGET HTTP/1.1" then "Name: value" lines, no body; NULL when it does
 * not read so. */
static cJSON *b4_request(const char *message) {
    char *copy = strdup(message), *save = NULL;
    char *line = strtok_r(copy, "\n", &save);
    cJSON *request = NULL, *headers = cJSON_CreateArray();
    char method[32], target[256];
    if (!line || sscanf(line, "%31s %255s", method, target) != 2) goto done;
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *colon = strstr(line, ": ");
        if (!colon) goto done;
        *colon = '\0';
        add_header(headers, line, colon + 2);
    }
    request = http_request(method, target, headers, "");
    headers = NULL;
done:
    cJSON_Delete(headers);
    free(copy);
    return request;
}

static void run_rfc9421(tally *t, const char *dir, size_t *ran, size_t *declared) {
    char *path = join(dir, "ed25519.json");
    size_t len = 0;
    char *text = read_file(path, &len);
    free(path);
    cJSON *doc = text ? cJSON_ParseWithLength(text, len) : NULL;
    const cJSON *request = cJSON_GetObjectItemCaseSensitive(doc, "request");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "key"), "public_raw_hex");
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(doc, "label");
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(doc, "signature_input");
    const cJSON *signature = cJSON_GetObjectItemCaseSensitive(doc, "signature");
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(doc, "signature_base");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(request, "method");
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(request, "target");
    const cJSON *headers = cJSON_GetObjectItemCaseSensitive(request, "headers");
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(request, "body");
    const cJSON *messages =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "appendix_b4_transform"), "messages");
    if (!cJSON_IsString(key) || !cJSON_IsString(label) || !cJSON_IsString(input) || !cJSON_IsString(signature) ||
        !cJSON_IsString(base) || !cJSON_IsString(method) || !cJSON_IsString(target) || !cJSON_IsArray(headers) ||
        !cJSON_IsString(body) || !cJSON_IsArray(messages)) {
        fail(t, "rfc9421", "ed25519.json", "unreadable, or a field missing");
        *declared += 1;
        goto done;
    }
    *declared += 2 + (size_t)cJSON_GetArraySize(messages);

    /* 1. B.2.6: the signature base, exactly */
    cJSON *with_input = cJSON_Duplicate(headers, true);
    add_header(with_input, "Signature-Input", input->valuestring);
    cJSON *in = cJSON_CreateObject();
    cJSON_AddItemToObject(in, "request", http_request(method->valuestring, target->valuestring, with_input,
                                                      body->valuestring));
    cJSON_AddStringToObject(in, "label", label->valuestring);
    cJSON *expect = cJSON_CreateObject();
    cJSON_AddStringToObject(expect, "base", base->valuestring);
    run_rfc_case(t, ran, "B.2.6 signature base", "http_signature_base", in, expect);

    /* 2. B.2.6: the signature verifies with the published key */
    cJSON *signed_headers = cJSON_Duplicate(headers, true);
    add_header(signed_headers, "Signature-Input", input->valuestring);
    add_header(signed_headers, "Signature", signature->valuestring);
    in = cJSON_CreateObject();
    cJSON_AddItemToObject(in, "request", http_request(method->valuestring, target->valuestring, signed_headers,
                                                      body->valuestring));
    cJSON_AddStringToObject(in, "label", label->valuestring);
    cJSON_AddStringToObject(in, "public_hex", key->valuestring);
    run_rfc_case(t, ran, "B.2.6 verify", "http_verify_signature", in, cJSON_CreateObject());

    /* 3. B.4: each transformed message verifies, or is POP_FAILED */
    const cJSON *m;
    size_t index = 0;
    cJSON_ArrayForEach(m, messages) {
        char id[64];
        snprintf(id, sizeof id, "B.4 message %zu", index++);
        const cJSON *message = cJSON_GetObjectItemCaseSensitive(m, "message");
        const cJSON *valid = cJSON_GetObjectItemCaseSensitive(m, "expect_valid");
        cJSON *r = cJSON_IsString(message) ? b4_request(message->valuestring) : NULL;
        if (!r || !cJSON_IsBool(valid)) {
            (*ran)++;
            t->ran++;
            fail(t, "rfc9421", id, "vector problem: a message that does not read, or no expect_valid");
            cJSON_Delete(r);
            continue;
        }
        in = cJSON_CreateObject();
        cJSON_AddItemToObject(in, "request", r);
        cJSON_AddStringToObject(in, "label", "transform");
        cJSON_AddStringToObject(in, "public_hex", key->valuestring);
        expect = cJSON_CreateObject();
        if (cJSON_IsFalse(valid)) cJSON_AddStringToObject(expect, "error", "POP_FAILED");
        run_rfc_case(t, ran, id, "http_verify_signature", in, expect);
    }
done:
    cJSON_Delete(doc);
    free(text);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s REPO_ROOT\n", argv[0]);
        return 2;
    }
    const char *root = argv[1];
    const char *scale = getenv("TRUSTCORE_TEST_TIME_SCALE");
    if (scale) set_time_scale(strtod(scale, NULL));
    const char *env = getenv("TRUSTCORE_SHARED");
    char *shared = env && *env ? join(env, ".") : join(root, "../shared");
    char *dirs[4] = {join(shared, "vectors/trust-core-0.1"), join(root, "tests/vectors"),
                     join(shared, "vectors/biscuit-samples/current"), join(shared, "vectors/rfc9421")};
    const char *names[4] = {"trust-core-0.1", "tests/vectors", "biscuit-samples", "rfc9421"};

    signer_bin = signer_binary(root);
    tally t = {0, 0};
    bool counts_ok = true;
    for (int i = 0; i < 4; i++) {
        size_t ran = 0, declared = 0;
        if (i < 2)
            run_vector_dir(&t, dirs[i], &ran, &declared);
        else if (i == 2)
            run_biscuit_samples(&t, dirs[i], &ran, &declared);
        else
            run_rfc9421(&t, dirs[i], &ran, &declared);
        printf("conformance %s: %zu cases run, %zu declared\n", names[i], ran, declared);
        if (ran != declared) {
            printf("COUNT MISMATCH %s: ran %zu cases but the files declare %zu\n", names[i], ran, declared);
            counts_ok = false;
        }
    }
    for (int i = 0; i < 4; i++)
        free(dirs[i]);
    free(shared);
    free(signer_bin);
    printf("conformance: %zu passed, %zu failed\n", t.ran - t.failed, t.failed);
    return t.failed == 0 && counts_ok ? 0 : 1;
}
