package main

// The shared test environment's client (tools/src/bin/testenv.rs has the protocol): a redis-server
// or a signer started by $TRUSTCORE_TESTENV (the Makefile exports it; make signer-bin builds it),
// driven over its stdin and stdout, one JSON line each way. When its stdin closes (close, or this
// process ending in any way) it kills what it started and removes its files.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
)

type testEnv struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startTestEnv runs `testenv args...` and decodes its first line into ready; on an error nothing is
// left running.
func startTestEnv(ready any, args ...string) (*testEnv, error) {
	bin := os.Getenv("TRUSTCORE_TESTENV")
	if bin == "" {
		return nil, errors.New("TRUSTCORE_TESTENV is not set: run the bench through make (make signer-bin builds it)")
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
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
	e := &testEnv{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	var status struct {
		OK    *bool  `json:"ok"`
		Error string `json:"error"`
	}
	if err == nil {
		err = json.Unmarshal(line, &status)
	}
	if err == nil && status.OK != nil && !*status.OK {
		err = errors.New(status.Error)
	}
	if err == nil {
		err = json.Unmarshal(line, ready)
	}
	if err != nil {
		e.close()
		return nil, fmt.Errorf("testenv %s: %w", args[0], err)
	}
	return e, nil
}

// close closes its stdin and waits until it has exited: what it started is killed, its files removed.
func (e *testEnv) close() {
	e.stdin.Close()
	_ = e.cmd.Wait()
}
