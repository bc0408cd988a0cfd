package trustcore

// A real `trustcore signer serve` for the tests: its seed in a 0600 key file in a fresh temp
// directory, listening on a Unix socket there, started with os/exec.

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

type signerDaemon struct {
	cmd    *exec.Cmd
	dir    string
	socket string
	done   chan struct{} // closed once the process has ended
	ended  error         // cmd.Wait's result, set before done is closed
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

// startSignerDaemon starts `trustcore signer serve --key-file K --socket S args...` and waits (up to
// 10 s) until its socket accepts.
func startSignerDaemon(seedHex string, args ...string) (*signerDaemon, error) {
	bin, err := signerBinary()
	if err != nil {
		return nil, err
	}
	// not t.TempDir(): its paths (named after the test) can pass the 108 bytes a socket path may have
	dir, err := os.MkdirTemp("", "trustcore-go-signer-")
	if err != nil {
		return nil, err
	}
	keyFile := filepath.Join(dir, "issuer.key")
	if err := os.WriteFile(keyFile, []byte(seedHex), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := os.Chmod(keyFile, 0o600); err != nil { // whatever the umask
		os.RemoveAll(dir)
		return nil, err
	}
	socket := filepath.Join(dir, "signer.sock")
	d := &signerDaemon{dir: dir, socket: socket, done: make(chan struct{})}
	d.cmd = exec.Command(bin, append([]string{"signer", "serve", "--key-file", keyFile, "--socket", socket}, args...)...)
	// stdout and stderr (its per-request log lines) go to the null device
	if err := d.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		d.ended = d.cmd.Wait()
		close(d.done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if conn, err := net.Dial("unix", socket); err == nil {
			conn.Close()
			return d, nil
		}
		select {
		case <-d.done:
			os.RemoveAll(dir)
			return nil, fmt.Errorf("the signer exited before listening: %v", d.ended)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.kill()
			return nil, errors.New("the signer did not start listening within 10 s")
		}
	}
}

// stop sends SIGTERM, as an operator would: the signer must exit 0 and remove its socket.
func (d *signerDaemon) stop() error {
	defer os.RemoveAll(d.dir)
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	<-d.done
	if d.ended != nil {
		return fmt.Errorf("on SIGTERM the signer ended with %v", d.ended)
	}
	if _, err := os.Lstat(d.socket); !errors.Is(err, fs.ErrNotExist) {
		return errors.New("the signer left its socket behind")
	}
	return nil
}

// kill is SIGKILL (a crash); it waits for the process and removes what it left. Safe to repeat.
func (d *signerDaemon) kill() {
	_ = d.cmd.Process.Kill()
	<-d.done
	os.RemoveAll(d.dir)
}
