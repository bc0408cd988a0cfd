// Package testenv is a test helper, not part of the binding's API: the client of the shared test
// environment (tools/src/bin/testenv.rs has the protocol), used by this module's tests and by the
// Go bench (bench/go). It runs $TRUSTCORE_TESTENV (the Makefile exports it; make signer-bin builds
// it), which starts a redis-server or a signer, and drives it over its stdin and stdout, one JSON
// line each way. Free ports, readiness, key files and cleanup live there: when its stdin closes
// (Close, or this process ending in any way) it kills what it started and removes its files.
package testenv

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
)

// Env is one running `testenv redis ...` or `testenv signer ...`.
type Env struct {
	what  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	mu    sync.Mutex // one command and its answer at a time
	once  sync.Once
}

// Start runs `testenv args...` and decodes its first line, once it is ready, into ready. On an
// error nothing is left running.
func Start(ready any, args ...string) (*Env, error) {
	bin := os.Getenv("TRUSTCORE_TESTENV")
	if bin == "" {
		return nil, errors.New("TRUSTCORE_TESTENV is not set: run through make (make signer-bin builds it)")
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr // what it says there shows in the caller's output
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s (make signer-bin builds it): %w", bin, err)
	}
	e := &Env{what: "testenv " + args[0], cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	if err := e.answer(args[0], ready); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// answer reads one line into v; {"ok": false, "error": ...} is an error.
func (e *Env) answer(command string, v any) error {
	line, err := e.out.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("%s ended without answering %s: %w", e.what, command, err)
	}
	var status struct {
		OK    *bool  `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(line, &status); err != nil {
		return fmt.Errorf("%s %s: %w in %q", e.what, command, err, line)
	}
	if status.OK != nil && !*status.OK {
		return fmt.Errorf("%s %s: %s", e.what, command, status.Error)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(line, v)
}

// Request sends one command (kill, restart, ...) and decodes its answer into v (nil: only its "ok"
// is checked).
func (e *Env) Request(command string, v any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := io.WriteString(e.stdin, command+"\n"); err != nil {
		return fmt.Errorf("%s %s: %w", e.what, command, err)
	}
	return e.answer(command, v)
}

// Close closes its stdin and waits until it has exited: what it started is killed and its files
// removed. Safe to repeat.
func (e *Env) Close() {
	e.once.Do(func() {
		e.stdin.Close()
		_ = e.cmd.Wait()
	})
}
