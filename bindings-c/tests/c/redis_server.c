#define _GNU_SOURCE /* mkdtemp, environ */

#include "redis_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* `testenv redis` listens on TCP only, and redis-server cannot add a Unix socket once running
 * (CONFIG SET unixsocket is refused). Until testenv can, it is run with this directory first on its
 * PATH, where a `redis-server` script runs the real one with the socket added. */
static const char shim[] = "#!/bin/sh\n"
                           "PATH=${PATH#*:}\n"
                           "exec redis-server \"$@\" --unixsocket '%s' --unixsocketperm 700\n";

static bool write_shim(const redis_server *r, const char *path) {
    if (strchr(r->socket, '\'')) return false;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    if (fd < 0) return false;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return false;
    }
    bool ok = fprintf(f, shim, r->socket) > 0;
    return fclose(f) == 0 && ok;
}

/* environ with PATH=dir:$PATH (the strings are environ's but the first, which the caller frees) */
static char **shim_env(const char *dir) {
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    const char *path = getenv("PATH");
    env[0] = malloc(strlen(dir) + strlen(path ? path : "") + sizeof "PATH=:");
    sprintf(env[0], "PATH=%s:%s", dir, path ? path : "");
    for (size_t i = 0, j = 1; i < n; i++)
        if (strncmp(environ[i], "PATH=", 5)) env[j++] = environ[i];
    return env;
}

static char *join(const char *dir, const char *name) {
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    return path;
}

static bool number(const cJSON *json, const char *name, int *out) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, name);
    if (!cJSON_IsNumber(item)) return false;
    *out = item->valueint;
    return true;
}

bool redis_server_start(redis_server *r) {
    memset(r, 0, sizeof *r);
    r->env.fd = -1;
    const char *tmp = getenv("TMPDIR");
    char template[256];
    snprintf(template, sizeof template, "%s/trustcore-c-redis-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(template)) {
        fprintf(stderr, "redis: cannot make a temp directory: %s\n", strerror(errno));
        return false;
    }
    r->dir = strdup(template);
    r->socket = join(r->dir, "redis.sock");
    r->unix_url = malloc(strlen(r->socket) + sizeof "redis+unix://");
    sprintf(r->unix_url, "redis+unix://%s", r->socket);
    char *script = join(r->dir, "redis-server");
    bool ok = write_shim(r, script);
    free(script);
    if (!ok) {
        fprintf(stderr, "redis: cannot write %s/redis-server\n", r->dir);
        redis_server_free(r);
        return false;
    }
    char **env = shim_env(r->dir);
    const char *args[] = {"redis", NULL};
    cJSON *ready = testenv_start(&r->env, args, env);
    free(env[0]);
    free(env);
    ok = ready && number(ready, "port", &r->port) && number(ready, "pid", &r->pid);
    cJSON_Delete(ready);
    if (!ok) {
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
    if (r->pid > 0 || !r->dir) return false;
    cJSON *answer = testenv_request(&r->env, "restart");
    bool ok = answer && number(answer, "pid", &r->pid);
    cJSON_Delete(answer);
    return ok;
}

void redis_server_free(redis_server *r) {
    testenv_close(&r->env); /* it kills redis-server */
    if (r->dir) {
        char *script = join(r->dir, "redis-server");
        unlink(script);
        free(script);
        unlink(r->socket); /* redis-server leaves it behind when killed */
        rmdir(r->dir);
    }
    free(r->socket);
    free(r->unix_url);
    free(r->dir);
    memset(r, 0, sizeof *r);
    r->env.fd = -1;
}
