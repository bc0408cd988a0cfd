package trustcore

// The shared test environment's client (tools/src/bin/testenv.rs has the protocol): a redis-server
// or a signer started by $TRUSTCORE_TESTENV (the Makefile exports it; make signer-bin builds it),
// driven over its stdin and stdout, one JSON line each way. Free ports, readiness, key files and
// cleanup live there: when its stdin closes (close, or this process ending in any way) it kills what
// it started and removes its files.

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

type testEnv struct {
	what  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	mu    sync.Mutex // one command and its answer at a time
	once  sync.Once
}

// startTestEnv runs `testenv args...` and decodes its first line into ready. On an error nothing is
// left running.
func startTestEnv(ready any, args ...string) (*testEnv, error) {
	bin := os.Getenv("TRUSTCORE_TESTENV")
	if bin == "" {
		return nil, errors.New("TRUSTCORE_TESTENV is not set: run the tests through make (make signer-bin builds it)")
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr // what it says there shows in the test's output
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
	e := &testEnv{what: "testenv " + args[0], cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	if err := e.answer(args[0], ready); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// answer reads one line into v; {"ok": false, "error": ...} is an error.
func (e *testEnv) answer(command string, v any) error {
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

// request sends one command and decodes its answer into v (nil: only its "ok" is checked).
func (e *testEnv) request(command string, v any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := io.WriteString(e.stdin, command+"\n"); err != nil {
		return fmt.Errorf("%s %s: %w", e.what, command, err)
	}
	return e.answer(command, v)
}

// close closes its stdin and waits until it has exited: what it started is killed and its files
// removed. Safe to repeat.
func (e *testEnv) close() {
	e.once.Do(func() {
		e.stdin.Close()
		_ = e.cmd.Wait()
	})
}
