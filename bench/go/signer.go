package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// signerDaemon is `$TRUSTCORE_BIN signer serve` (no audit log) on a Unix socket in a fresh temporary
// directory, its seed in a 0600 key file there; stop kills it and removes the directory.
type signerDaemon struct {
	cmd    *exec.Cmd
	dir    string
	socket string
}

func startSigner(seedHex string) (*signerDaemon, error) {
	bin := os.Getenv("TRUSTCORE_BIN")
	if bin == "" {
		bin = "target/release/trustcore"
	}
	// not under a long path: a socket path must fit sockaddr_un
	dir, err := os.MkdirTemp("", "tc-go-bench-")
	if err != nil {
		return nil, err
	}
	keyFile := filepath.Join(dir, "issuer.key")
	if err := os.WriteFile(keyFile, []byte(seedHex), 0o600); err == nil {
		err = os.Chmod(keyFile, 0o600) // whatever the umask
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	d := &signerDaemon{dir: dir, socket: filepath.Join(dir, "signer.sock")}
	// --max-ttl: a day, far more than the fixture's hour
	d.cmd = exec.Command(bin, "signer", "serve", "--key-file", keyFile, "--socket", d.socket, "--max-ttl", "86400")
	if err := d.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%s: %w (make signer-bin builds it)", bin, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if conn, err := net.Dial("unix", d.socket); err == nil {
			conn.Close()
			return d, nil
		}
		if time.Now().After(deadline) {
			d.stop()
			return nil, fmt.Errorf("the signer (%s) did not listen within 10 s", bin)
		}
	}
}

func (d *signerDaemon) stop() {
	d.cmd.Process.Kill()
	d.cmd.Wait()
	os.RemoveAll(d.dir)
}
