#define _GNU_SOURCE /* mkdtemp, prctl */

#include "redis_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void pause_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* A port the kernel just handed out on 127.0.0.1 (free now; redis-server binds it right after). */
static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    int port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
        port = ntohs(addr.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

/* PING on a fresh connection, +PONG within 200 ms. */
static bool pong(int fd) {
    struct timeval timeout = {0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    char reply[8] = {0};
    size_t got = 0;
    if (send(fd, "PING\r\n", 6, MSG_NOSIGNAL) != 6) return false;
    while (got < 7) {
        ssize_t n = recv(fd, reply + got, 7 - got, 0);
        if (n <= 0) return false;
        got += (size_t)n;
    }
    return !memcmp(reply, "+PONG\r\n", 7);
}

static bool answers(const redis_server *r) {
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&in, sizeof in) == 0 && pong(fd);
    if (fd >= 0) close(fd);
    if (!ok) return false;
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    if (strlen(r->socket) >= sizeof un.sun_path) return false;
    strcpy(un.sun_path, r->socket);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&un, sizeof un) == 0 && pong(fd);
    if (fd >= 0) close(fd);
    return ok;
}

static int wait_child(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {
    }
    return status;
}

static bool spawn(redis_server *r) {
    char port[16];
    snprintf(port, sizeof port, "%d", r->port);
    const char *argv[] = {"redis-server", "--bind",         "127.0.0.1", "--port",           port,
                          "--save",       "",               "--appendonly", "no",            "--unixsocket",
                          r->socket,      "--unixsocketperm", "700",      "--dir",           r->dir,
                          NULL};
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
#ifdef __linux__
        /* a test program that dies must not leave a redis-server running */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(126);
#endif
        if (devnull >= 0) {
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
        }
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    if (devnull >= 0) close(devnull);
    if (pid < 0) {
        fprintf(stderr, "redis: fork failed: %s\n", strerror(errno));
        return false;
    }
    r->pid = pid;
    double deadline = now_ms() + 10000;
    while (!answers(r)) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            r->pid = 0;
            fprintf(stderr, "redis: redis-server exited before answering (status %d%s)\n",
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                    WIFEXITED(status) && WEXITSTATUS(status) == 127
                        ? ": not installed? `make setup-redis` installs Debian's redis-server"
                        : "");
            return false;
        }
        if (now_ms() > deadline) {
            fprintf(stderr, "redis: redis-server did not answer on port %d within 10 s\n", r->port);
            redis_server_kill(r);
            return false;
        }
        pause_ms(10);
    }
    return true;
}

bool redis_server_start(redis_server *r) {
    memset(r, 0, sizeof *r);
    const char *tmp = getenv("TMPDIR");
    char template[256];
    snprintf(template, sizeof template, "%s/trustcore-c-redis-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(template)) {
        fprintf(stderr, "redis: cannot make a temp directory: %s\n", strerror(errno));
        return false;
    }
    r->dir = strdup(template);
    r->socket = malloc(strlen(r->dir) + sizeof "/redis.sock");
    sprintf(r->socket, "%s/redis.sock", r->dir);
    r->unix_url = malloc(strlen(r->socket) + sizeof "redis+unix://");
    sprintf(r->unix_url, "redis+unix://%s", r->socket);
    r->port = free_port();
    snprintf(r->tcp_url, sizeof r->tcp_url, "redis://127.0.0.1:%d/", r->port);
    if (r->port == 0 || !spawn(r)) {
        redis_server_free(r);
        return false;
    }
    return true;
}

void redis_server_kill(redis_server *r) {
    if (r->pid > 0) {
        kill(r->pid, SIGKILL);
        wait_child(r->pid);
        r->pid = 0;
    }
}

bool redis_server_restart(redis_server *r) {
    if (r->pid > 0 || !r->dir) return false;
    if (r->socket) unlink(r->socket);
    return spawn(r);
}

void redis_server_free(redis_server *r) {
    redis_server_kill(r);
    if (r->socket) unlink(r->socket);
    if (r->dir) rmdir(r->dir);
    free(r->socket);
    free(r->unix_url);
    free(r->dir);
    memset(r, 0, sizeof *r);
}
