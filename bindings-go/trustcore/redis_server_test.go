package trustcore

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// redisServer is a real redis-server for one test: a free loopback port and a Unix socket in a
// fresh directory, in memory only (--save "" --appendonly no), killed when the test ends. A missing
// redis-server fails the test (make setup-redis installs Debian's): it is never skipped.
type redisServer struct {
	t      testing.TB
	port   int
	dir    string
	socket string
	cmd    *exec.Cmd
	exited chan error // the running server's Wait result
}

func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server not found (make setup-redis installs it): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	// a short directory: a socket path must fit sockaddr_un
	dir, err := os.MkdirTemp("", "tc-go-redis-")
	if err != nil {
		t.Fatal(err)
	}
	r := &redisServer{t: t, port: port, dir: dir, socket: filepath.Join(dir, "redis.sock")}
	t.Cleanup(func() {
		r.stop()
		os.RemoveAll(dir)
	})
	r.restart()
	return r
}

// tcpURL and unixURL reach the same server.
func (r *redisServer) tcpURL() string  { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/" }
func (r *redisServer) unixURL() string { return "redis+unix://" + r.socket }

// restart starts it (again) on the same port and socket, and waits until both answer PING.
func (r *redisServer) restart() {
	r.t.Helper()
	if r.cmd != nil {
		r.t.Fatal("redis-server already running")
	}
	os.Remove(r.socket)
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(r.port), "--save", "",
		"--appendonly", "no", "--unixsocket", r.socket, "--unixsocketperm", "700", "--dir", r.dir)
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("redis-server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	r.cmd, r.exited = cmd, exited
	deadline := time.Now().Add(10 * time.Second)
	for !redisAnswers("tcp", "127.0.0.1:"+strconv.Itoa(r.port)) || !redisAnswers("unix", r.socket) {
		select {
		case err := <-exited:
			r.cmd = nil
			r.t.Fatalf("redis-server exited before answering on port %d: %v", r.port, err)
		default:
		}
		if time.Now().After(deadline) {
			r.stop()
			r.t.Fatalf("redis-server did not answer on port %d within 10 s", r.port)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop kills it (SIGKILL: no goodbye to its clients) and waits until it is gone.
func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	<-r.exited
	r.cmd = nil
}

func redisAnswers(network, address string) bool {
	conn, err := net.DialTimeout(network, address, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}
