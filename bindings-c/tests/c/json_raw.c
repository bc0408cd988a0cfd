#include "json_raw.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The end of the string whose opening quote is at p (just past its closing quote); NULL if unclosed. */
static const char *skip_string(const char *p, const char *end) {
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* The end of the JSON value at p, found by counting brackets outside strings: no recursion and no
 * parse, so any depth and any length. The text is known to be JSON (the file was read by cJSON, or
 * written out by raw_expand): it is not validated here. NULL when it ends early. */
static const char *skip_value(const char *p, const char *end) {
    if (p >= end) return NULL;
    if (*p == '"') return skip_string(p, end);
    if (*p != '{' && *p != '[') {
        const char *start = p;
        while (p < end && !strchr(",}] \t\n\r", *p))
            p++;
        return p > start ? p : NULL;
    }
    size_t depth = 0;
    while (p < end) {
        if (*p == '"') {
            if (!(p = skip_string(p, end))) return NULL;
            continue;
        }
        if (*p == '{' || *p == '[') depth++;
        if ((*p == '}' || *p == ']') && --depth == 0) return p + 1;
        p++;
    }
    return NULL;
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
            /* a key is a short string: cJSON decodes its escapes */
            key = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &after, false);
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
        const char *after = skip_value(p, end);
        if (after == NULL) {
            cJSON_Delete(key);
            return false;
        }
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

/* Four hex digits at p, or -1. */
static long hex4(const char *p, const char *end) {
    long v = 0;
    for (int i = 0; i < 4; i++) {
        if (p + i >= end) return -1;
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

bool raw_string(raw_span value, char **out, size_t *len) {
    const char *p = value.ptr, *end = value.ptr + value.len;
    p = skip_ws(p, end);
    if (p >= end || *p != '"') return false;
    char *buf = malloc(value.len + 1), *w = buf;
    for (p++; p < end && *p != '"'; p++) {
        if (*p != '\\') {
            *w++ = *p;
            continue;
        }
        if (++p >= end) break;
        switch (*p) {
        case 'b': *w++ = '\b'; break;
        case 'f': *w++ = '\f'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        case 't': *w++ = '\t'; break;
        case 'u': {
            long c = hex4(p + 1, end);
            if (c < 0) goto bad;
            p += 4;
            /* a surrogate pair is one code point */
            if (c >= 0xD800 && c < 0xDC00 && p + 2 < end && p[1] == '\\' && p[2] == 'u') {
                long low = hex4(p + 3, end);
                if (low >= 0xDC00 && low < 0xE000) {
                    c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
                    p += 6;
                }
            }
            /* UTF-8 (a lone surrogate is written as its three bytes, as it was sent) */
            if (c < 0x80) {
                *w++ = (char)c;
            } else if (c < 0x800) {
                *w++ = (char)(0xC0 | (c >> 6));
                *w++ = (char)(0x80 | (c & 0x3F));
            } else if (c < 0x10000) {
                *w++ = (char)(0xE0 | (c >> 12));
                *w++ = (char)(0x80 | ((c >> 6) & 0x3F));
                *w++ = (char)(0x80 | (c & 0x3F));
            } else {
                *w++ = (char)(0xF0 | (c >> 18));
                *w++ = (char)(0x80 | ((c >> 12) & 0x3F));
                *w++ = (char)(0x80 | ((c >> 6) & 0x3F));
                *w++ = (char)(0x80 | (c & 0x3F));
            }
            break;
        }
        default: *w++ = *p; /* \" \\ \/ */
        }
    }
    if (p >= end) goto bad;
    *w = '\0';
    *out = buf;
    *len = (size_t)(w - buf);
    return true;
bad:
    free(buf);
    return false;
}

/* ---- large values ------------------------------------------------------------------------------ */

typedef struct text {
    char *ptr;
    size_t len, cap;
    bool failed; /* a malformed marker, or a size past SIZE_MAX */
} text;

static bool reserve(text *t, size_t more) {
    if (t->failed || more > SIZE_MAX / 2 - t->len) {
        t->failed = true;
        return false;
    }
    if (t->len + more + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + more + 1)
            cap *= 2;
        t->ptr = realloc(t->ptr, cap);
        t->cap = cap;
    }
    return true;
}

static void put(text *t, const char *s, size_t n) {
    if (!reserve(t, n)) return;
    if (n) memcpy(t->ptr + t->len, s, n);
    t->len += n;
    t->ptr[t->len] = '\0';
}

/* `s` `times` times, by doubling what is written (a few large copies, not millions of small ones) */
static void put_repeat(text *t, const char *s, size_t n, size_t times) {
    if (n == 0 || times == 0) return;
    if (times > (SIZE_MAX / 2) / n || !reserve(t, n * times)) {
        t->failed = true;
        return;
    }
    char *start = t->ptr + t->len;
    size_t total = n * times, done = n;
    memcpy(start, s, n);
    while (done < total) {
        size_t chunk = done < total - done ? done : total - done;
        memcpy(start + done, start, chunk);
        done += chunk;
    }
    t->len += total;
    t->ptr[t->len] = '\0';
}

enum marker { NOT_A_MARKER, REPEAT, NEST, NEST_LIST };

static enum marker marker_named(const char *name) {
    return !strcmp(name, "$repeat") ? REPEAT : !strcmp(name, "$nest") ? NEST : !strcmp(name, "$nest_list") ? NEST_LIST
                                                                                                         : NOT_A_MARKER;
}

/* A repeat count: a whole number, 0 to 2^53. */
static bool count_of(const cJSON *n, size_t *out) {
    if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > 9007199254740992.0 ||
        n->valuedouble != (double)(uint64_t)n->valuedouble)
        return false;
    *out = (size_t)n->valuedouble;
    return true;
}

/* A string's JSON literal, quotes included (caller frees). */
static char *literal(const char *s) {
    cJSON *item = cJSON_CreateString(s);
    char *printed = cJSON_PrintUnformatted(item);
    cJSON_Delete(item);
    return printed;
}

static void expand_value(raw_span value, text *out);

/* Write out marker `m` with its arguments (the raw text of its array). */
static void expand_marker(enum marker m, raw_span args_raw, text *out) {
    cJSON *args = cJSON_ParseWithLength(args_raw.ptr, args_raw.len);
    int count = cJSON_GetArraySize(args);
    const cJSON *first = cJSON_GetArrayItem(args, 0), *second = cJSON_GetArrayItem(args, 1);
    size_t n = 0;
    raw_span leaf;
    char *lit = NULL;
    if (m == REPEAT && count == 2 && cJSON_IsString(first) && count_of(second, &n)) {
        lit = literal(first->valuestring);
        put(out, "\"", 1);
        put_repeat(out, lit + 1, strlen(lit) - 2, n); /* its escaped body, n times */
        put(out, "\"", 1);
    } else if (m == NEST && count == 3 && cJSON_IsString(first) && count_of(second, &n) &&
               raw_element(args_raw, 2, &leaf)) {
        lit = literal(first->valuestring);
        size_t lit_len = strlen(lit);
        char *open = malloc(lit_len + 3);
        open[0] = '{';
        memcpy(open + 1, lit, lit_len);
        open[lit_len + 1] = ':';
        put_repeat(out, open, lit_len + 2, n);
        free(open);
        expand_value(leaf, out);
        put_repeat(out, "}", 1, n);
    } else if (m == NEST_LIST && count == 2 && count_of(first, &n) && raw_element(args_raw, 1, &leaf)) {
        put_repeat(out, "[", 1, n);
        expand_value(leaf, out);
        put_repeat(out, "]", 1, n);
    } else {
        out->failed = true;
    }
    cJSON_free(lit);
    cJSON_Delete(args);
}

/* The first two members of an object, to tell a marker (one member, a marker's name) */
struct first_ctx {
    size_t members;
    enum marker marker;
    raw_span args;
};

static bool visit_first(const char *key, raw_span value, void *ctx) {
    struct first_ctx *f = ctx;
    if (f->members++ == 0) {
        f->marker = marker_named(key);
        f->args = value;
    }
    return f->members == 2;
}

/* Copying a container: the text between its values as it is, each value expanded */
struct copy_ctx {
    text *out;
    const char *copied; /* written out up to here */
};

static bool visit_copy(const char *key, raw_span value, void *ctx) {
    (void)key;
    struct copy_ctx *c = ctx;
    put(c->out, c->copied, (size_t)(value.ptr - c->copied));
    expand_value(value, c->out);
    c->copied = value.ptr + value.len;
    return c->out->failed;
}

static void expand_value(raw_span value, text *out) {
    const char *end = value.ptr + value.len;
    const char *p = skip_ws(value.ptr, end);
    if (p < end && *p == '{') {
        struct first_ctx first = {0, NOT_A_MARKER, {0}};
        walk(value, true, visit_first, &first);
        if (first.members == 1 && first.marker != NOT_A_MARKER) {
            put(out, value.ptr, (size_t)(p - value.ptr));
            expand_marker(first.marker, first.args, out);
            return;
        }
    }
    if (p < end && (*p == '{' || *p == '[')) {
        struct copy_ctx copy = {out, value.ptr};
        walk(value, *p == '{', visit_copy, &copy);
        put(out, copy.copied, (size_t)(end - copy.copied));
        return;
    }
    put(out, value.ptr, value.len);
}

char *raw_expand(raw_span value, size_t *len) {
    text out = {0};
    put(&out, "", 0);
    expand_value(value, &out);
    if (out.failed) {
        free(out.ptr);
        return NULL;
    }
    if (len) *len = out.len;
    return out.ptr;
}

static enum marker marker_of(const cJSON *item) {
    if (!cJSON_IsObject(item) || !item->child || item->child->next) return NOT_A_MARKER;
    return marker_named(item->child->string);
}

/* The value marker `item` stands for, as a new item; NULL for malformed arguments. */
static cJSON *expanded_item(const cJSON *item) {
    enum marker m = marker_of(item);
    const cJSON *args = item->child;
    if (m == REPEAT) {
        const cJSON *s = cJSON_GetArrayItem(args, 0);
        size_t n = 0;
        if (cJSON_GetArraySize(args) != 2 || !cJSON_IsString(s) || !count_of(cJSON_GetArrayItem(args, 1), &n))
            return NULL;
        text t = {0};
        put(&t, "", 0);
        put_repeat(&t, s->valuestring, strlen(s->valuestring), n);
        cJSON *string = t.failed ? NULL : cJSON_CreateString(t.ptr);
        free(t.ptr);
        return string;
    }
    /* $nest, $nest_list: the raw text, written out from the marker's own text */
    char *marker_text = cJSON_PrintUnformatted(item);
    char *expanded = marker_text ? raw_expand((raw_span){marker_text, strlen(marker_text)}, NULL) : NULL;
    cJSON *raw = expanded ? cJSON_CreateRaw(expanded) : NULL;
    cJSON_free(marker_text);
    free(expanded);
    return raw;
}

/* Expand the markers under `item`, in place; false for malformed arguments. */
static bool expand_children(cJSON *item) {
    for (cJSON *child = item->child; child;) {
        cJSON *next = child->next;
        if (marker_of(child) != NOT_A_MARKER) {
            cJSON *replacement = expanded_item(child);
            if (!replacement) return false;
            if (child->string) {
                /* ReplaceItemViaPointer keeps the position but not the member's name (cJSON's
                 * default allocator: it frees the name with free) */
                size_t n = strlen(child->string) + 1;
                replacement->string = memcpy(malloc(n), child->string, n);
            }
            cJSON_ReplaceItemViaPointer(item, child, replacement); /* deletes child */
        } else if ((cJSON_IsObject(child) || cJSON_IsArray(child)) && !expand_children(child)) {
            return false;
        }
        child = next;
    }
    return true;
}

cJSON *tree_expand(cJSON *item) {
    if (!item) return NULL;
    cJSON *result = item;
    if (marker_of(item) != NOT_A_MARKER) {
        result = expanded_item(item);
        cJSON_Delete(item);
    } else if (!expand_children(item)) {
        cJSON_Delete(item);
        result = NULL;
    }
    return result;
}
