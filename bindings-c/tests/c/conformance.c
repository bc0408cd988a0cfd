/* The C conformance runner: every case of the three vector sources through the C ABI, counted
 * against what the files declare (numberOfTests; the Biscuit samples' validations), so no case can
 * be skipped silently. Codes are compared, never messages. Mirrors core/tests/conformance.rs.
 *
 * usage: conformance REPO_ROOT   (shared data: $TRUSTCORE_SHARED, default REPO_ROOT/../shared)
 * TRUSTCORE_TEST_TIME_SCALE=N multiplies the authorizer's time budgets, for the valgrind run only. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

typedef struct tally {
    size_t ran, failed;
} tally;

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

/* Compare an outcome with `expect`: {"error": CODE}, or every expected field equal. */
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
        cJSON *null = cJSON_CreateNull();
        const cJSON *have = cJSON_GetObjectItemCaseSensitive(got->result, want->string);
        bool same = cJSON_Compare(have ? have : null, want, true);
        cJSON_Delete(null);
        if (!same) {
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
    const cJSON *c;
    size_t index = 0;
    cJSON_ArrayForEach(c, cases) {
        raw_span raw_case = {0}, raw_input = {0};
        raw_element(raw_cases, index++, &raw_case);
        raw_member(raw_case, "input", &raw_input);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(c, "op");
        outcome got = run_op(cJSON_IsString(op) ? op->valuestring : NULL, cJSON_GetObjectItemCaseSensitive(c, "input"),
                             raw_input);
        ran++;
        t->ran++;
        check(t, name, cJSON_IsString(id) ? id->valuestring : "?", &got, cJSON_GetObjectItemCaseSensitive(c, "expect"));
        cJSON_Delete(got.result);
    }
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
    char *dirs[3] = {join(shared, "vectors/trust-core-0.1"), join(root, "tests/vectors"),
                     join(shared, "vectors/biscuit-samples/current")};
    const char *names[3] = {"trust-core-0.1", "tests/vectors", "biscuit-samples"};

    tally t = {0, 0};
    bool counts_ok = true;
    for (int i = 0; i < 3; i++) {
        size_t ran = 0, declared = 0;
        if (i < 2)
            run_vector_dir(&t, dirs[i], &ran, &declared);
        else
            run_biscuit_samples(&t, dirs[i], &ran, &declared);
        printf("conformance %s: %zu cases run, %zu declared\n", names[i], ran, declared);
        if (ran != declared) {
            printf("COUNT MISMATCH %s: ran %zu cases but the files declare %zu\n", names[i], ran, declared);
            counts_ok = false;
        }
    }
    for (int i = 0; i < 3; i++)
        free(dirs[i]);
    free(shared);
    printf("conformance: %zu passed, %zu failed\n", t.ran - t.failed, t.failed);
    return t.failed == 0 && counts_ok ? 0 : 1;
}
