'use strict'
// The real signer daemon for the tests and the bench: `$TRUSTCORE_BIN signer serve` (built by `make
// signer-bin`), started by `testenv signer` (test/testenv.js) with its key in a 0600 file and its
// socket in a private temporary directory (or on a free loopback port), ready when it resolves;
// close() (or this process ending) kills it and removes that directory.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Launched } = require('./testenv.js')

/** A fresh private temporary directory (for the tests' own sockets and files). */
function tempDir(prefix = 'trustcore-node-signer-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/**
 * Start `trustcore signer serve` with the issuer seed `seedHex` and `args` after its key and address:
 * on a Unix socket, or with `tcp: true` on 127.0.0.1 (a free port). Resolves once it accepts.
 */
async function startSigner({ seedHex, args = [], tcp = false }) {
  const env = await Launched.start('signer', '--seed-hex', seedHex, ...(tcp ? ['--tcp'] : []), '--', ...args)
  const { address, socket, port, dir, log, pid } = env.ready
  return {
    /** What SignerClient takes: `unix:PATH` or `tcp:127.0.0.1:PORT`. */
    address,
    socket, // null on TCP
    port, // null on a socket
    dir,
    pid,
    /** What it wrote to stdout and stderr, every run of it. */
    log: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''),
    /** SIGTERM, as an operator stops it: `{ status, socketGone }`, its exit code and whether it removed its socket. */
    async stop() {
      const { status, socket_gone: socketGone } = await env.request('stop')
      return { status, socketGone }
    },
    /** SIGKILL: no draining, the socket file stays behind. Resolves once it is gone. */
    async kill() {
      await env.request('kill')
    },
    /**
     * Start it again on the same socket or port: with the same arguments, or `args` from now on; with
     * the same issuer key, or `seedHex` (a successor after a key rotation).
     */
    async restart({ args, seedHex } = {}) {
      const options = { ...(args && { args }), ...(seedHex && { seed_hex: seedHex }) }
      this.pid = (await env.request('restart', Object.keys(options).length ? options : undefined)).pid
    },
    pause: () => env.request('pause'),
    resume: () => env.request('resume'),
    /** Kill it if it runs and remove its directory (testenv exits). */
    close: () => env.close(),
  }
}

module.exports = { startSigner, tempDir }
