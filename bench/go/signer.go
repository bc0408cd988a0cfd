package main

import (
	"os"

	"go.trustcore.dev/trustcore/testenv"
)

// signerDaemon is `$TRUSTCORE_BIN signer serve` (no audit log) on a Unix socket in a fresh temporary
// directory, its seed in a 0600 key file there, from `testenv signer` (the binding's test helper,
// bindings-go/trustcore/testenv); stop kills it and removes the directory.
type signerDaemon struct {
	env    *testenv.Env
	socket string
}

func startSigner(seedHex string) (*signerDaemon, error) {
	bin := os.Getenv("TRUSTCORE_BIN")
	if bin == "" {
		bin = "target/release/trustcore"
	}
	var ready struct{ Socket string }
	// --max-ttl: a day, far more than the fixture's hour
	env, err := testenv.Start(&ready, "signer", "--seed-hex", seedHex, "--bin", bin, "--", "--max-ttl", "86400")
	if err != nil {
		return nil, err
	}
	return &signerDaemon{env: env, socket: ready.Socket}, nil
}

func (d *signerDaemon) stop() { d.env.Close() }
