/* A real `trustcore signer serve` for the test programs and the C bench, from `testenv signer`
 * (testenv.h): its seed in a 0600 key file in a fresh temp directory, listening on a Unix socket there. */
#ifndef TC_TEST_SIGNER_DAEMON_H
#define TC_TEST_SIGNER_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "testenv.h"

typedef struct signer_daemon {
    testenv env;
    pid_t pid;    /* 0 once stopped */
    char *dir;    /* the temp directory (removed by stop / kill) */
    char *socket; /* dir/signer.sock */
} signer_daemon;

/* The trustcore binary: $TRUSTCORE_BIN, else ROOT/target/release/trustcore or ROOT/target/debug/trustcore
 * (the first that exists; `root` may be NULL). Allocated (caller frees); NULL when none is found. */
char *signer_binary(const char *root);

/* Start `bin signer serve --key-file K --socket S args...` (`bin` NULL: testenv's $TRUSTCORE_BIN), ready
 * once the socket accepts. False, with the reason on stderr, when it does not come up (nothing is
 * left running). */
bool signer_daemon_start(signer_daemon *d, const char *bin, const char *seed_hex, const char *const *args,
                         size_t arg_count);

/* SIGTERM, as an operator stops it. True when it exited with status 0 and removed its socket. The
 * directory is removed and `d` cleared either way. */
bool signer_daemon_stop(signer_daemon *d);

/* SIGKILL (a crash): waits for it, then removes what it left. */
void signer_daemon_kill(signer_daemon *d);

/* Milliseconds on a monotonic clock, for "within timeout + margin" bounds. */
double monotonic_ms(void);

#endif
