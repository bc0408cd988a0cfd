package main

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"time"
)

// redisServer is a redis-server on a free loopback port, in memory only, for the Verifier's Redis
// path; stop kills it.
type redisServer struct {
	cmd  *exec.Cmd
	port int
}

func startRedis() (*redisServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "",
		"--appendonly", "no")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("redis-server (make setup-redis installs it): %w", err)
	}
	r := &redisServer{cmd: cmd, port: port}
	for deadline := time.Now().Add(10 * time.Second); !r.answers(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			r.stop()
			return nil, fmt.Errorf("redis-server did not answer on port %d within 10 s", port)
		}
	}
	return r, nil
}

func (r *redisServer) url() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/" }

func (r *redisServer) answers() bool {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(r.port), 200*time.Millisecond)
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

func (r *redisServer) stop() {
	r.cmd.Process.Kill()
	r.cmd.Wait()
}
