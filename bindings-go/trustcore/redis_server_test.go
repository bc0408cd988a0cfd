package trustcore

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// redisServer is a real redis-server for one test, from `testenv redis` (testenv_test.go): a free
// loopback port and a Unix socket in a fresh directory, in memory only, killed when the test ends. A
// missing redis-server fails the test (make setup-redis installs Debian's): it is never skipped.
type redisServer struct {
	t      testing.TB
	env    *testEnv
	port   int
	socket string
}

// testenv redis listens on TCP only, and redis-server cannot add a Unix socket once running (CONFIG
// SET unixsocket is refused). Until testenv can, it runs with this directory first on its PATH, where
// a `redis-server` script runs the real one with the socket added.
const redisShim = "#!/bin/sh\nPATH=${PATH#*:}\nexec redis-server \"$@\" --unixsocket '%s' --unixsocketperm 700\n"

func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server not found (make setup-redis installs it): %v", err)
	}
	// a short directory: a socket path must fit sockaddr_un
	dir, err := os.MkdirTemp("", "tc-go-redis-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	r := &redisServer{t: t, socket: filepath.Join(dir, "redis.sock")}
	if err := os.WriteFile(filepath.Join(dir, "redis-server"), fmt.Appendf(nil, redisShim, r.socket), 0o700); err != nil {
		t.Fatal(err)
	}
	var ready struct{ Port int }
	env := append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH")) // the last PATH counts
	if r.env, err = startTestEnv(env, &ready, "redis"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.env.close) // before the directory goes: cleanups run last first
	r.port = ready.Port
	return r
}

// tcpURL and unixURL reach the same server.
func (r *redisServer) tcpURL() string  { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/" }
func (r *redisServer) unixURL() string { return "redis+unix://" + r.socket }

// restart starts it again on the same port and socket, empty, and returns once it answers PING.
func (r *redisServer) restart() {
	r.t.Helper()
	if err := r.env.request("restart", nil); err != nil {
		r.t.Fatal(err)
	}
}

// stop kills it (SIGKILL: no goodbye to its clients) and waits until it is gone.
func (r *redisServer) stop() {
	r.t.Helper()
	if err := r.env.request("kill", nil); err != nil {
		r.t.Fatal(err)
	}
}
