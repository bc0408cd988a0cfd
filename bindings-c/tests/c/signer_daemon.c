#define _POSIX_C_SOURCE 200809L /* strdup */

#include "signer_daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

char *signer_binary(const char *root) {
    const char *env = getenv("TRUSTCORE_BIN");
    if (env && *env) return strdup(env);
    if (!root) return NULL;
    const char *candidates[] = {"target/release/trustcore", "target/debug/trustcore"};
    for (size_t i = 0; i < 2; i++) {
        char *path = malloc(strlen(root) + strlen(candidates[i]) + 2);
        sprintf(path, "%s/%s", root, candidates[i]);
        if (access(path, X_OK) == 0) return path;
        free(path);
    }
    return NULL;
}

static char *string(const cJSON *json, const char *name) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, name);
    return cJSON_IsString(item) ? strdup(item->valuestring) : NULL;
}

bool signer_daemon_start(signer_daemon *d, const char *bin, const char *seed_hex, const char *const *args,
                         size_t arg_count) {
    memset(d, 0, sizeof *d);
    const char **argv = calloc(arg_count + 7, sizeof *argv);
    size_t n = 0;
    argv[n++] = "signer";
    argv[n++] = "--seed-hex";
    argv[n++] = seed_hex;
    if (bin) {
        argv[n++] = "--bin";
        argv[n++] = bin;
    }
    argv[n++] = "--";
    for (size_t i = 0; i < arg_count; i++)
        argv[n++] = args[i];
    cJSON *ready = testenv_start(&d->env, argv);
    free(argv);
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(ready, "pid");
    d->dir = string(ready, "dir");
    d->socket = string(ready, "socket");
    d->pid = cJSON_IsNumber(pid) ? pid->valueint : 0;
    cJSON_Delete(ready);
    if (!d->dir || !d->socket || d->pid <= 0) {
        if (ready) fprintf(stderr, "signer: testenv's first line lacks dir, socket or pid\n");
        signer_daemon_kill(d);
        return false;
    }
    return true;
}

/* testenv removes the directory as it exits */
static void release(signer_daemon *d) {
    testenv_close(&d->env);
    free(d->dir);
    free(d->socket);
    memset(d, 0, sizeof *d);
    d->env.fd = -1;
}

bool signer_daemon_stop(signer_daemon *d) {
    bool clean = false;
    if (d->pid > 0) {
        cJSON *answer = testenv_request(&d->env, "stop"); /* {"status": exit code or null, "socket_gone"} */
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(answer, "status");
        bool socket_gone = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer, "socket_gone"));
        clean = cJSON_IsNumber(status) && status->valueint == 0 && socket_gone;
        if (answer && !clean) {
            if (cJSON_IsNumber(status))
                fprintf(stderr, "signer: on SIGTERM it exited with %d", status->valueint);
            else
                fprintf(stderr, "signer: on SIGTERM it died of a signal");
            fprintf(stderr, "%s; its log:\n", socket_gone ? "" : ", and left its socket behind");
            cJSON *log = testenv_request(&d->env, "log");
            const cJSON *text = cJSON_GetObjectItemCaseSensitive(log, "log");
            fputs(cJSON_IsString(text) ? text->valuestring : "(none)\n", stderr);
            cJSON_Delete(log);
        }
        cJSON_Delete(answer);
    }
    release(d);
    return clean;
}

void signer_daemon_kill(signer_daemon *d) {
    release(d); /* testenv kills it (SIGKILL) when its stdin closes */
}
