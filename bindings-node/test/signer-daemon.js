'use strict'
// The real signer daemon for the tests: `$TRUSTCORE_BIN signer serve` (built by `make signer-bin`)
// as a child process, its key in a 0600 file and its socket in a fresh temporary directory.

const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')

const REPO = path.resolve(__dirname, '..', '..')

/** The `trustcore` binary: $TRUSTCORE_BIN, else the workspace's release or debug build. */
function signerBinary() {
  if (process.env.TRUSTCORE_BIN) return process.env.TRUSTCORE_BIN
  const found = ['release', 'debug'].map((p) => path.join(REPO, 'target', p, 'trustcore')).find((p) => fs.existsSync(p))
  if (!found) throw new Error('no trustcore binary: run `make signer-bin` or set TRUSTCORE_BIN')
  return found
}

/** A fresh private temporary directory. */
function tempDir(prefix = 'trustcore-node-signer-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** Resolves once a connection to `address` (`unix:PATH` or `tcp:HOST:PORT`) succeeds, then closes it. */
function connectOnce(address) {
  return new Promise((resolve, reject) => {
    const tcp = /^tcp:(.*):(\d+)$/.exec(address)
    const conn = tcp
      ? net.createConnection({ host: tcp[1], port: Number(tcp[2]) })
      : net.createConnection(address.replace(/^unix:/, ''))
    conn.once('connect', () => {
      conn.destroy()
      resolve()
    })
    conn.once('error', reject)
  })
}

// a test that fails half-way, or a run that is interrupted, must not leave a daemon behind (only a
// signal no process can catch, SIGKILL or SIGBUS, still can)
const running = new Set()
const killAll = () => {
  for (const child of running) child.kill('SIGKILL')
}
process.once('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAll()
    process.kill(process.pid, signal) // then die of it, as without this handler
  })
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** The address the daemon logged in its `listening` event (`--log-format json`), or null. */
function listeningAddress(stderr) {
  for (const line of stderr.split('\n')) {
    try {
      const event = JSON.parse(line)
      if (event.event === 'listening') return event.address
    } catch {
      // not a whole JSON line (yet)
    }
  }
  return null
}

/**
 * Start `trustcore signer serve --key-file K --socket S ...args` and wait until the socket accepts.
 * `seedHex` is the issuer seed written to K (mode 0600); `dir` holds K and S (made when not given);
 * `socket` overrides S (to restart a daemon on the same path). With `tcp: true` it listens on
 * `--tcp 127.0.0.1:0` instead and the port it got is read from its JSON log.
 */
async function startSigner({ seedHex, args = [], dir = tempDir(), socket = path.join(dir, 'signer.sock'), tcp = false } = {}) {
  const keyFile = path.join(dir, `issuer-${process.pid}-${Date.now()}.key`)
  fs.writeFileSync(keyFile, seedHex, { mode: 0o600 })
  fs.chmodSync(keyFile, 0o600)
  const listen = tcp ? ['--tcp', '127.0.0.1:0', '--tcp-without-peer-check', '--log-format', 'json'] : ['--socket', socket]
  const child = spawn(signerBinary(), ['signer', 'serve', '--key-file', keyFile, ...listen, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  running.add(child)
  let stderr = ''
  let address = tcp ? null : `unix:${socket}`
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk) => {
    if (!address) address = listeningAddress(stderr + chunk)
    // keep the last few lines only: enough to say why it stopped
    stderr = (stderr + chunk).slice(-4000)
  })
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
    }),
  )
  let gone = null
  exited.then((status) => (gone = status))
  const deadline = Date.now() + 10_000
  for (;;) {
    if (gone) throw new Error(`the signer exited (${JSON.stringify(gone)}) before listening: ${stderr}`)
    try {
      if (!address) throw new Error('no listening address logged yet')
      await connectOnce(address)
      break
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new Error(`the signer did not start listening: ${err.message}; ${stderr}`)
      }
      await sleep(10)
    }
  }
  return {
    dir,
    socket: tcp ? null : socket,
    /** What SignerClient takes: `unix:PATH` or `tcp:127.0.0.1:PORT`. */
    address,
    child,
    exited,
    stderr: () => stderr,
    /** SIGTERM, as an operator stops it; resolves to its exit status. */
    async stop() {
      if (!gone) child.kill('SIGTERM')
      return exited
    },
    /** SIGKILL: no draining, the socket file stays behind. */
    async kill() {
      if (!gone) child.kill('SIGKILL')
      return exited
    },
  }
}

module.exports = { startSigner, signerBinary, tempDir, connectOnce }
