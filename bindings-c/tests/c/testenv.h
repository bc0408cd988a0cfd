/* The shared test environment's client (tools/src/bin/testenv.rs has the protocol): `testenv redis`
 * or `testenv signer ...`, run from $TRUSTCORE_TESTENV (the Makefile exports it; make signer-bin
 * builds it), driven one JSON line each way over a socketpair that is its stdin and stdout. Free
 * ports, readiness, key files and cleanup live there: when our end closes (testenv_close, or this
 * process ending in any way) it kills what it started and removes its files. It is forked and
 * exec'd, so it never runs under the test's valgrind (--trace-children=no). */
#ifndef TC_TEST_TESTENV_H
#define TC_TEST_TESTENV_H

#include <cJSON.h>
#include <sys/types.h>

typedef struct testenv {
    pid_t pid; /* 0 once closed */
    int fd;    /* our end of its stdin and stdout */
} testenv;

/* Start `$TRUSTCORE_TESTENV args...` and return its first line (the caller deletes it). NULL, with
 * the reason on stderr, when it did not start what it was asked for: then nothing is left running
 * and `t` is closed. */
cJSON *testenv_start(testenv *t, const char *const *args);

/* Send one command and return its answer (the caller deletes it). NULL, with the reason on stderr,
 * when testenv refused it ({"ok": false}) or is gone. */
cJSON *testenv_request(testenv *t, const char *command);

/* Close its stdin and wait until it has exited: what it started is killed and its files removed.
 * Safe to repeat. */
void testenv_close(testenv *t);

#endif
