package trustcore

// A real `trustcore signer serve` for the tests, from `testenv signer` (../testenv): its seed in a
// 0600 key file in a fresh temp directory, listening on a Unix socket there.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.trustcore.dev/trustcore/testenv"
)

type signerDaemon struct {
	env    *testenv.Env
	socket string
}

// signerBinary is $TRUSTCORE_BIN (make exports it), else the workspace's release or debug build.
func signerBinary() (string, error) {
	if bin := os.Getenv("TRUSTCORE_BIN"); bin != "" {
		return bin, nil
	}
	for _, profile := range []string{"release", "debug"} {
		path := filepath.Join(repoRoot(), "target", profile, "trustcore")
		if st, err := os.Stat(path); err == nil && !st.IsDir() {
			return path, nil
		}
	}
	return "", errors.New("no trustcore binary: make signer-bin, or set TRUSTCORE_BIN")
}

// startSignerDaemon starts `trustcore signer serve --key-file K --socket S args...` and returns once
// its socket accepts.
func startSignerDaemon(seedHex string, args ...string) (*signerDaemon, error) {
	bin, err := signerBinary()
	if err != nil {
		return nil, err
	}
	var ready struct{ Socket string }
	env, err := testenv.Start(&ready, append([]string{"signer", "--seed-hex", seedHex, "--bin", bin, "--"}, args...)...)
	if err != nil {
		return nil, err
	}
	return &signerDaemon{env: env, socket: ready.Socket}, nil
}

// stop sends SIGTERM, as an operator would: the signer must exit 0 and remove its socket. Its
// directory is removed either way.
func (d *signerDaemon) stop() error {
	defer d.env.Close()
	var stopped struct {
		Status     *int `json:"status"` // null: ended by a signal
		SocketGone bool `json:"socket_gone"`
	}
	if err := d.env.Request("stop", &stopped); err != nil {
		return err
	}
	var problem error
	switch {
	case stopped.Status == nil:
		problem = errors.New("on SIGTERM the signer died of a signal")
	case *stopped.Status != 0:
		problem = fmt.Errorf("on SIGTERM the signer exited with %d", *stopped.Status)
	case !stopped.SocketGone:
		problem = errors.New("the signer left its socket behind")
	default:
		return nil
	}
	var log struct{ Log string }
	if err := d.env.Request("log", &log); err == nil {
		problem = fmt.Errorf("%w; its log:\n%s", problem, log.Log)
	}
	return problem
}

// kill is SIGKILL (a crash): testenv kills it when its stdin closes, waits for it and removes what
// it left. Safe to repeat.
func (d *signerDaemon) kill() {
	d.env.Close()
}
