/* A real `redis-server` for the test programs and the C bench, from `testenv redis --unix`
 * (testenv.h): a free loopback port and a Unix socket in a private directory, in memory only; killed
 * with SIGKILL, and restartable on the same port and socket. */
#ifndef TC_TEST_REDIS_SERVER_H
#define TC_TEST_REDIS_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#include "testenv.h"

typedef struct redis_server {
    testenv env;
    pid_t pid;          /* 0 while stopped */
    int port;           /* the loopback TCP port, kept across restarts */
    char *socket;       /* its Unix socket's path, kept across restarts */
    char tcp_url[64];   /* redis://127.0.0.1:PORT/ */
    char *unix_url;     /* redis+unix://SOCKET */
} redis_server;

/* Start one on a free port, answering PING on both. False, with the reason on stderr, when
 * redis-server is missing or does not come up (nothing is left running). */
bool redis_server_start(redis_server *r);

/* Kill it (SIGKILL: no goodbye to its clients) and wait for it; the port and socket path stay. */
void redis_server_kill(redis_server *r);

/* Start it again on the same port and socket (empty: nothing was persisted). */
bool redis_server_restart(redis_server *r);

/* Kill it if running and remove what it left (testenv does, as it exits). */
void redis_server_free(redis_server *r);

#endif
