#define _POSIX_C_SOURCE 200809L /* strdup */

#include "redis_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool number(const cJSON *json, const char *name, int *out) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, name);
    if (!cJSON_IsNumber(item)) return false;
    *out = item->valueint;
    return true;
}

static char *string(const cJSON *json, const char *name) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, name);
    return cJSON_IsString(item) ? strdup(item->valuestring) : NULL;
}

bool redis_server_start(redis_server *r) {
    memset(r, 0, sizeof *r);
    r->env.fd = -1;
    /* --unix: a Unix socket too, in a private directory testenv removes as it exits */
    const char *args[] = {"redis", "--unix", NULL};
    cJSON *ready = testenv_start(&r->env, args);
    if (!ready) return false;
    bool ok = number(ready, "port", &r->port) && number(ready, "pid", &r->pid);
    r->socket = string(ready, "socket");
    r->unix_url = string(ready, "unix_url");
    cJSON_Delete(ready);
    if (!ok || !r->socket || !r->unix_url) {
        fprintf(stderr, "redis: testenv's first line lacks port, pid, socket or unix_url\n");
        redis_server_free(r);
        return false;
    }
    snprintf(r->tcp_url, sizeof r->tcp_url, "redis://127.0.0.1:%d/", r->port);
    return true;
}

void redis_server_kill(redis_server *r) {
    if (r->pid > 0) cJSON_Delete(testenv_request(&r->env, "kill"));
    r->pid = 0;
}

bool redis_server_restart(redis_server *r) {
    if (r->pid > 0 || r->env.fd < 0) return false;
    cJSON *answer = testenv_request(&r->env, "restart");
    bool ok = answer && number(answer, "pid", &r->pid);
    cJSON_Delete(answer);
    return ok;
}

void redis_server_free(redis_server *r) {
    testenv_close(&r->env); /* it kills redis-server and removes the socket's directory */
    free(r->socket);
    free(r->unix_url);
    memset(r, 0, sizeof *r);
    r->env.fd = -1;
}
