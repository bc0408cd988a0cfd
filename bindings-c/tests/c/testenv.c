#define _GNU_SOURCE /* SOCK_CLOEXEC, F_DUPFD_CLOEXEC */

#include "testenv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* One line from testenv (NUL-terminated, allocated), NULL at EOF. It writes nothing unasked after a
 * line, so everything read up to a newline is that line. */
static char *read_line(int fd) {
    size_t len = 0, cap = 512;
    char *line = malloc(cap);
    for (;;) {
        if (len + 1 == cap) line = realloc(line, cap *= 2);
        ssize_t n = read(fd, line + len, cap - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            free(line);
            return NULL;
        }
        len += (size_t)n;
        if (line[len - 1] == '\n') {
            line[len] = '\0';
            return line;
        }
    }
}

/* The next line, parsed; its "ok": false (a refused command, a failed start) is NULL too. */
static cJSON *answer(testenv *t, const char *what) {
    char *line = read_line(t->fd);
    if (!line) {
        fprintf(stderr, "testenv: it ended without answering %s\n", what);
        return NULL;
    }
    cJSON *json = cJSON_Parse(line);
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(json, "ok");
    if (!cJSON_IsObject(json) || cJSON_IsFalse(ok)) {
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "error");
        fprintf(stderr, "testenv %s: %s", what, cJSON_IsString(error) ? error->valuestring : line);
        if (cJSON_IsString(error)) fputc('\n', stderr);
        cJSON_Delete(json);
        json = NULL;
    }
    free(line);
    return json;
}

cJSON *testenv_start(testenv *t, const char *const *args) {
    t->pid = 0;
    t->fd = -1;
    const char *path = getenv("TRUSTCORE_TESTENV");
    if (!path || !*path || access(path, X_OK) != 0) {
        fprintf(stderr, "testenv: no $TRUSTCORE_TESTENV (%s): run the tests through make (make signer-bin builds it)\n",
                path ? path : "unset");
        return NULL;
    }
    /* everything the child needs is made before fork: after it, only async-signal-safe calls */
    size_t n = 0;
    while (args[n])
        n++;
    const char **argv = calloc(n + 2, sizeof *argv);
    argv[0] = path;
    memcpy(argv + 1, args, n * sizeof *args);
    /* a socketpair, not two pipes: one descriptor, and a command sent after testenv died is an error
     * (MSG_NOSIGNAL), never a SIGPIPE in the test */
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        fprintf(stderr, "testenv: socketpair: %s\n", strerror(errno));
        free(argv);
        return NULL;
    }
    pid_t pid = fork();
    if (pid == 0) {
        /* its stdin and stdout (dup2 clears close-on-exec); stderr stays ours, so what it says shows */
        int fd = pair[1] > STDOUT_FILENO ? pair[1] : fcntl(pair[1], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
        if (fd < 0 || dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0) _exit(126);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    int fork_errno = errno;
    free(argv);
    close(pair[1]);
    if (pid < 0) {
        fprintf(stderr, "testenv: fork failed: %s\n", strerror(fork_errno));
        close(pair[0]);
        return NULL;
    }
    t->pid = pid;
    t->fd = pair[0];
    cJSON *ready = answer(t, args[0]);
    if (!ready) testenv_close(t);
    return ready;
}

cJSON *testenv_request(testenv *t, const char *command) {
    if (t->fd < 0) {
        fprintf(stderr, "testenv %s: it is closed\n", command);
        return NULL;
    }
    size_t len = strlen(command);
    char *line = malloc(len + 1);
    memcpy(line, command, len);
    line[len++] = '\n';
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(t->fd, line + sent, len - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        sent += (size_t)n;
    }
    free(line);
    if (sent < len) {
        fprintf(stderr, "testenv %s: cannot send it: %s\n", command, strerror(errno));
        return NULL;
    }
    return answer(t, command);
}

void testenv_close(testenv *t) {
    if (t->fd >= 0) close(t->fd);
    t->fd = -1;
    if (t->pid > 0) {
        int status;
        while (waitpid(t->pid, &status, 0) == -1 && errno == EINTR) {
        }
    }
    t->pid = 0;
}
