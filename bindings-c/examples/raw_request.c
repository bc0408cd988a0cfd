/* One decision per raw HTTP/1.1 request, the way a server module (nginx, Envoy, HAProxy…) plugs
 * trustcore in: hand tc_verifier_decide the request as it came (method, target, header lines, body)
 * and answer what the decision says. The module's server has parsed the request already; this
 * example parses a minimal HTTP/1.1 itself, so it runs from a file:
 *
 *   raw_request --issuer-public HEX --policy routes.json --authority api.example.com [FILE]
 *               [--authorizer-ms N]     (the allow policy's time budget; core's default: 10 ms)
 *
 * It reads one request after another from FILE (or standard input), like the requests of one
 * keep-alive connection: a request line, header lines (CRLF, no line folding), an empty line, then
 * a body of Content-Length bytes (chunked bodies are not read here: a server decodes them first).
 * One verifier decides them all, so a request sent twice is REPLAYED the second time. For each it
 * prints the decision and, for a refusal, the response to send (status line, headers, body). A
 * Content-Length over the policy's max_body_bytes is not read: core is handed max_body_bytes + 1
 * zero bytes and answers 413, and the "connection" ends there, as a server closes it.
 *
 * Exit status: 0 when every request was allowed, 1 when one was refused, 2 when the input or the
 * arguments could not be read.
 *
 * Build: cc raw_request.c $(pkg-config --cflags --libs trustcore) */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trustcore.h>

#define MAX_LINE 16384   /* one request or header line */
#define MAX_HEADERS 256

typedef struct {
    char *lines[MAX_HEADERS]; /* each header line, owned; the pairs point into them */
    tc_pair pairs[MAX_HEADERS];
    size_t count;
} headers;

static void headers_free(headers *h) {
    for (size_t i = 0; i < h->count; i++) free(h->lines[i]);
    h->count = 0;
}

/* One CRLF-terminated line into a new buffer (without the CRLF). 1: a line; 0: end of input
 * before any byte; -1: a line without CRLF, too long, or holding a NUL. */
static int read_line(FILE *in, char **out, size_t *out_len) {
    char *buf = malloc(MAX_LINE + 1);
    size_t len = 0;
    int c;
    if (buf == NULL) return -1;
    while ((c = fgetc(in)) != EOF) {
        if (c == '\n') {
            if (len == 0 || buf[len - 1] != '\r') break; /* a bare LF */
            buf[--len] = '\0';
            *out = buf;
            *out_len = len;
            return 1;
        }
        if (c == '\0' || len == MAX_LINE) break;
        buf[len++] = (char)c;
    }
    free(buf);
    return (c == EOF && len == 0) ? 0 : -1;
}

static bool is_space(char c) { return c == ' ' || c == '\t'; }

/* "Name: value" into a pair pointing into line: the value without its leading and trailing spaces. */
static bool split_header(char *line, size_t len, tc_pair *pair) {
    char *colon = memchr(line, ':', len);
    if (colon == NULL || colon == line || is_space(line[0])) return false; /* obs-fold, no name */
    char *value = colon + 1, *end = line + len;
    while (value < end && is_space(*value)) value++;
    while (end > value && is_space(end[-1])) end--;
    *pair = (tc_pair){line, (size_t)(colon - line), value, (size_t)(end - value)};
    return true;
}

static bool name_is(const tc_pair *p, const char *name) {
    size_t n = strlen(name);
    if (p->name_len != n) return false;
    for (size_t i = 0; i < n; i++) {
        char a = p->name[i], b = name[i];
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (a != b) return false;
    }
    return true;
}

/* Content-Length (all of its lines must agree): -1 when absent, -2 when unreadable. */
static long long content_length(const headers *h) {
    long long found = -1;
    for (size_t i = 0; i < h->count; i++) {
        if (!name_is(&h->pairs[i], "content-length")) continue;
        const tc_pair *p = &h->pairs[i];
        if (p->value_len == 0 || p->value_len > 18) return -2;
        long long n = 0;
        for (size_t j = 0; j < p->value_len; j++) {
            if (p->value[j] < '0' || p->value[j] > '9') return -2;
            n = n * 10 + (p->value[j] - '0');
        }
        if (found >= 0 && found != n) return -2;
        found = n;
    }
    return found;
}

static const char *reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 413: return "Content Too Large";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

/* Print what to do with the request, as a module would act on it. */
static void print_decision(const tc_decision *d) {
    tc_optional_text route = tc_decision_route(d);
    if (tc_decision_allowed(d)) {
        const tc_identity *who = tc_decision_identity(d); /* NULL on a public route */
        tc_optional_u32 profile = tc_decision_profile(d);
        printf("decision: allowed, route %s, profile %s, holder %s\n", route.has ? route.value : "-",
               profile.has ? tc_http_profile_name(profile.value) : "-",
               who != NULL ? tc_identity_holder_id(who).ptr : "-");
        const tc_pair_list *facts = tc_decision_facts(d);
        for (size_t i = 0; i < tc_pair_list_count(facts); i++) {
            tc_pair f = tc_pair_list_get(facts, i);
            printf("fact: %.*s = %.*s\n", (int)f.name_len, f.name, (int)f.value_len, f.value);
        }
        return;
    }
    int status = tc_decision_status(d);
    printf("decision: refused, %d %s, route %s: %s\n", status, tc_status_name(tc_decision_code(d)),
           route.has ? route.value : "-", tc_decision_message(d).ptr);
    tc_str body = tc_decision_body(d);
    printf("HTTP/1.1 %d %s\r\n", status, reason(status));
    const tc_pair_list *hs = tc_decision_headers(d);
    for (size_t i = 0; i < tc_pair_list_count(hs); i++) {
        tc_pair h = tc_pair_list_get(hs, i);
        printf("%.*s: %.*s\r\n", (int)h.name_len, h.name, (int)h.value_len, h.value);
    }
    printf("Content-Length: %zu\r\n\r\n%.*s\n", body.len, (int)body.len, body.ptr);
}

/* Read and decide the requests of in, one after another: 0 all allowed, 1 one refused, 2 unreadable. */
static int decide_all(FILE *in, const tc_verifier *verifier, const tc_http_policy *policy) {
    uint64_t cap = tc_http_policy_max_body_bytes(policy);
    int result = 0;
    for (int n = 1;; n++) {
        char *request_line = NULL;
        size_t request_len = 0;
        int got = read_line(in, &request_line, &request_len);
        if (got == 0) return result;
        if (got < 0) {
            fprintf(stderr, "request %d: no request line\n", n);
            return 2;
        }
        /* METHOD SP TARGET SP HTTP/1.x */
        char *sp1 = memchr(request_line, ' ', request_len);
        char *sp2 = sp1 ? memchr(sp1 + 1, ' ', request_len - (size_t)(sp1 + 1 - request_line)) : NULL;
        if (sp1 == NULL || sp2 == NULL || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
            fprintf(stderr, "request %d: not an HTTP/1.x request line\n", n);
            free(request_line);
            return 2;
        }
        headers h = {.count = 0};
        int status = 0;
        char *line = NULL;
        size_t len = 0;
        while ((got = read_line(in, &line, &len)) == 1 && len > 0) {
            if (h.count == MAX_HEADERS || !split_header(line, len, &h.pairs[h.count])) {
                free(line);
                got = -1;
                break;
            }
            h.lines[h.count++] = line;
        }
        if (got == 1) free(line); /* the empty line */
        long long announced = got == 1 ? content_length(&h) : -2;
        for (size_t i = 0; announced >= -1 && i < h.count; i++)
            if (name_is(&h.pairs[i], "transfer-encoding")) announced = -2; /* decode chunked first */
        if (announced < -1) {
            fprintf(stderr, "request %d: unreadable header lines, Content-Length or Transfer-Encoding\n", n);
            status = 2;
        }

        /* the body: read when within the cap; over it, a stand-in of cap + 1 bytes core counts */
        uint8_t *body = NULL;
        size_t body_len = 0;
        bool over = announced > 0 && (uint64_t)announced > cap;
        if (over && cap >= SIZE_MAX - 1) {
            fprintf(stderr, "request %d: no stand-in body for a cap of %llu bytes\n", n, (unsigned long long)cap);
            status = 2;
        }
        if (status == 0 && announced > 0) {
            body_len = over ? (size_t)cap + 1 : (size_t)announced;
            body = over ? calloc(body_len, 1) : malloc(body_len);
            if (body == NULL || (!over && fread(body, 1, body_len, in) != body_len)) {
                fprintf(stderr, "request %d: the body is shorter than its Content-Length\n", n);
                status = 2;
            }
        }
        if (status == 0) {
            tc_http_request request = {
                .method = request_line, .method_len = (size_t)(sp1 - request_line),
                .target = sp1 + 1, .target_len = (size_t)(sp2 - sp1 - 1),
                .headers = h.pairs, .headers_count = h.count,
                .body = body, .body_len = body_len,
            };
            tc_decision *decision = NULL;
            tc_error *err = NULL;
            printf("== request %d: %.*s %.*s\n", n, (int)request.method_len, request.method,
                   (int)request.target_len, request.target);
            tc_status st = tc_verifier_decide(verifier, &request, policy, NULL, 0, NULL /* now */, &decision, &err);
            if (st != TC_OK) { /* the caller's mistake only: here, text that is not UTF-8 */
                fprintf(stderr, "request %d: %s: %s\n", n, tc_status_name(st), tc_error_message(err));
                status = 2;
            } else {
                print_decision(decision);
                if (!tc_decision_allowed(decision)) result = 1;
            }
            tc_error_free(err);
            tc_decision_free(decision);
        }
        free(body);
        headers_free(&h);
        free(request_line);
        if (status != 0) return status;
        if (over) return result; /* the body was not read: a server closes the connection */
    }
}

static int usage(void) {
    fprintf(stderr, "usage: raw_request --issuer-public HEX --policy ROUTES.json --authority HOST[:PORT]... "
                    "[--authorizer-ms N] [FILE]\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *issuer_hex = NULL, *policy_path = NULL, *file = NULL;
    tc_str authorities[8];
    size_t authority_count = 0;
    unsigned long authorizer_ms = 0; /* 0: core's default */
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--issuer-public") == 0) issuer_hex = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--policy") == 0) policy_path = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--authority") == 0 && authority_count < 8) {
            authorities[authority_count] = (tc_str){argv[i + 1], strlen(argv[i + 1])};
            authority_count++;
            i++;
        } else if (i + 1 < argc && strcmp(argv[i], "--authorizer-ms") == 0) {
            char *end = NULL;
            authorizer_ms = strtoul(argv[++i], &end, 10);
            if (*end != '\0' || authorizer_ms == 0) return usage();
        } else if (file == NULL && argv[i][0] != '-') file = argv[i];
        else return usage();
    }
    if (issuer_hex == NULL || policy_path == NULL) return usage();

    tc_error *err = NULL;
    tc_issuer_keys *issuer = NULL;
    tc_verifier *verifier = NULL;
    tc_http_policy *policy = NULL;
    tc_verifier_options options = tc_verifier_options_default();
    options.authorities = authorities; /* the host[:port] RFC 9421 clients sign for */
    options.authorities_count = authority_count;
    if (authorizer_ms > 0) options.limits.max_time_ns = (uint64_t)authorizer_ms * 1000000u;
    tc_status st = tc_issuer_keys_from_hex(issuer_hex, strlen(issuer_hex), &issuer, &err);
    if (st == TC_OK) st = tc_verifier_new(issuer, &options, NULL, 0, &verifier, &err);
    if (st == TC_OK) st = tc_http_policy_from_file(policy_path, strlen(policy_path), &policy, &err);
    int rc = 2;
    if (st != TC_OK) {
        fprintf(stderr, "raw_request: %s: %s\n", tc_status_name(st), tc_error_message(err));
    } else {
        FILE *in = file != NULL ? fopen(file, "rb") : stdin;
        if (in == NULL) {
            perror(file);
        } else {
            rc = decide_all(in, verifier, policy);
            if (in != stdin) fclose(in);
        }
    }
    tc_error_free(err);
    tc_http_policy_free(policy);
    tc_verifier_free(verifier);
    tc_issuer_keys_free(issuer);
    return rc;
}
