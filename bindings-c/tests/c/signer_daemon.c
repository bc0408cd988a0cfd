#define _GNU_SOURCE /* mkdtemp, prctl */

#include "signer_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

double monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char *join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *path = malloc(la + lb + 2);
    memcpy(path, a, la);
    path[la] = '/';
    memcpy(path + la + 1, b, lb + 1);
    return path;
}

char *signer_binary(const char *root) {
    const char *env = getenv("TRUSTCORE_BIN");
    if (env && *env) return strdup(env);
    if (!root) return NULL;
    const char *candidates[] = {"target/release/trustcore", "target/debug/trustcore"};
    for (size_t i = 0; i < 2; i++) {
        char *path = join(root, candidates[i]);
        if (access(path, X_OK) == 0) return path;
        free(path);
    }
    return NULL;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

static bool socket_accepts(const char *path) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) return false;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    bool ok = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    close(fd);
    return ok;
}

static void release(signer_daemon *d) {
    if (d->key_file) unlink(d->key_file);
    if (d->socket) unlink(d->socket); /* after a SIGKILL, or a daemon that left it behind */
    if (d->dir) rmdir(d->dir);
    free(d->key_file);
    free(d->socket);
    free(d->dir);
    memset(d, 0, sizeof *d);
}

static bool write_key_file(const char *path, const char *seed_hex) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    size_t len = strlen(seed_hex), done = 0;
    while (done < len) {
        ssize_t n = write(fd, seed_hex + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += (size_t)n;
    }
    bool ok = done == len && fchmod(fd, 0600) == 0;
    return close(fd) == 0 && ok;
}

bool signer_daemon_start(signer_daemon *d, const char *bin, const char *seed_hex, const char *const *args,
                         size_t arg_count) {
    memset(d, 0, sizeof *d);
    if (!bin) {
        fprintf(stderr, "signer: no trustcore binary (make signer-bin, or set TRUSTCORE_BIN)\n");
        return false;
    }
    const char *tmp = getenv("TMPDIR");
    char *template = join(tmp && *tmp ? tmp : "/tmp", "trustcore-c-signer-XXXXXX");
    if (!mkdtemp(template)) {
        fprintf(stderr, "signer: cannot make a temp directory: %s\n", strerror(errno));
        free(template);
        return false;
    }
    d->dir = template;
    d->key_file = join(d->dir, "issuer.key");
    d->socket = join(d->dir, "signer.sock");
    if (!write_key_file(d->key_file, seed_hex)) {
        fprintf(stderr, "signer: cannot write the key file: %s\n", strerror(errno));
        release(d);
        return false;
    }
    /* everything the child needs is made before fork: after it, only async-signal-safe calls */
    const char **argv = calloc(arg_count + 8, sizeof *argv);
    size_t n = 0;
    argv[n++] = bin;
    argv[n++] = "signer";
    argv[n++] = "serve";
    argv[n++] = "--key-file";
    argv[n++] = d->key_file;
    argv[n++] = "--socket";
    argv[n++] = d->socket;
    for (size_t i = 0; i < arg_count; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
#ifdef __linux__
        /* a test program that dies must not leave a signer running */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(126);
#endif
        if (devnull >= 0) dup2(devnull, STDERR_FILENO); /* its per-request log lines */
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    if (devnull >= 0) close(devnull);
    free(argv);
    if (pid < 0) {
        fprintf(stderr, "signer: fork failed: %s\n", strerror(errno));
        release(d);
        return false;
    }
    d->pid = pid;
    double deadline = monotonic_ms() + 10000;
    while (!socket_accepts(d->socket)) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "signer: %s exited before listening (status %d)\n", bin, status);
            d->pid = 0;
            release(d);
            return false;
        }
        if (monotonic_ms() > deadline) {
            fprintf(stderr, "signer: did not start listening within 10 s\n");
            signer_daemon_kill(d);
            return false;
        }
        sleep_ms(10);
    }
    return true;
}

static int wait_child(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {
    }
    return status;
}

bool signer_daemon_stop(signer_daemon *d) {
    bool clean = false;
    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        int status = wait_child(d->pid);
        struct stat st;
        bool socket_gone = lstat(d->socket, &st) == -1 && errno == ENOENT;
        clean = WIFEXITED(status) && WEXITSTATUS(status) == 0 && socket_gone;
        if (!clean)
            fprintf(stderr, "signer: on SIGTERM it %s %d%s\n", WIFEXITED(status) ? "exited with" : "died of signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                    socket_gone ? "" : ", and left its socket behind");
    }
    release(d);
    return clean;
}

void signer_daemon_kill(signer_daemon *d) {
    if (d->pid > 0) {
        kill(d->pid, SIGKILL);
        wait_child(d->pid);
        d->pid = 0;
    }
    release(d);
}
