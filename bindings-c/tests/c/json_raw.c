#include "json_raw.h"

#include <string.h>

#include <cJSON.h>

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Parse one JSON value at p with cJSON, only to learn where it ends. Returns the item (caller frees). */
static cJSON *parse_one(const char *p, const char *end, const char **after) {
    return cJSON_ParseWithLengthOpts(p, (size_t)(end - p), after, false);
}

/* Walk the members (is_object) or elements of a container, calling `visit` until it returns true. */
typedef bool (*visit_fn)(const char *key, raw_span value, void *ctx);

static bool walk(raw_span container, bool is_object, visit_fn visit, void *ctx) {
    const char *end = container.ptr + container.len;
    const char *p = skip_ws(container.ptr, end);
    if (p >= end || *p != (is_object ? '{' : '[')) return false;
    p = skip_ws(p + 1, end);
    if (p < end && *p == (is_object ? '}' : ']')) return false;
    while (p < end) {
        cJSON *key = NULL;
        if (is_object) {
            const char *after = NULL;
            key = parse_one(p, end, &after);
            if (!cJSON_IsString(key)) {
                cJSON_Delete(key);
                return false;
            }
            p = skip_ws(after, end);
            if (p >= end || *p != ':') {
                cJSON_Delete(key);
                return false;
            }
            p = skip_ws(p + 1, end);
        }
        const char *after = NULL;
        cJSON *value = parse_one(p, end, &after);
        if (value == NULL) {
            cJSON_Delete(key);
            return false;
        }
        cJSON_Delete(value);
        raw_span span = {p, (size_t)(after - p)};
        bool done = visit(key ? key->valuestring : NULL, span, ctx);
        cJSON_Delete(key);
        if (done) return true;
        p = skip_ws(after, end);
        if (p < end && *p == ',')
            p = skip_ws(p + 1, end);
        else
            return false;
    }
    return false;
}

struct member_ctx {
    const char *key;
    raw_span *out;
};

static bool visit_member(const char *key, raw_span value, void *ctx) {
    struct member_ctx *m = ctx;
    if (strcmp(key, m->key) != 0) return false;
    *m->out = value;
    return true;
}

bool raw_member(raw_span object, const char *key, raw_span *value) {
    struct member_ctx ctx = {key, value};
    return walk(object, true, visit_member, &ctx);
}

struct element_ctx {
    size_t index;
    size_t seen;
    raw_span *out;
};

static bool visit_element(const char *key, raw_span value, void *ctx) {
    (void)key;
    struct element_ctx *e = ctx;
    if (e->seen++ != e->index) return false;
    *e->out = value;
    return true;
}

bool raw_element(raw_span array, size_t index, raw_span *value) {
    struct element_ctx ctx = {index, 0, value};
    return walk(array, false, visit_element, &ctx);
}
