package trustcore

import (
	"os/exec"
	"strconv"
	"testing"

	"go.trustcore.dev/trustcore/testenv"
)

// redisServer is a real redis-server for one test, from `testenv redis --unix` (../testenv): a free
// loopback port and a Unix socket in a private directory (testenv removes it as it exits), in
// memory only, killed when the test ends. A missing redis-server fails the test (make setup-redis
// installs Debian's): it is never skipped.
type redisServer struct {
	t       testing.TB
	env     *testenv.Env
	port    int
	unixRef string // redis+unix://<socket>, as testenv spells it
}

func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server not found (make setup-redis installs it): %v", err)
	}
	var ready struct {
		Port    int
		UnixURL *string `json:"unix_url"` // null without --unix
	}
	env, err := testenv.Start(&ready, "redis", "--unix")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	if ready.UnixURL == nil {
		t.Fatal("testenv redis --unix: its ready line has no unix_url")
	}
	return &redisServer{t: t, env: env, port: ready.Port, unixRef: *ready.UnixURL}
}

// tcpURL and unixURL reach the same server.
func (r *redisServer) tcpURL() string  { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/" }
func (r *redisServer) unixURL() string { return r.unixRef }

// restart starts it again on the same port and socket, empty, and returns once it answers PING.
func (r *redisServer) restart() {
	r.t.Helper()
	if err := r.env.Request("restart", nil); err != nil {
		r.t.Fatal(err)
	}
}

// stop kills it (SIGKILL: no goodbye to its clients) and waits until it is gone.
func (r *redisServer) stop() {
	r.t.Helper()
	if err := r.env.Request("kill", nil); err != nil {
		r.t.Fatal(err)
	}
}
