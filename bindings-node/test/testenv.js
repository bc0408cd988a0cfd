'use strict'
// The shared test environment's client (tools/src/bin/testenv.rs has the protocol): a redis-server
// or a signer started by $TRUSTCORE_TESTENV (the Makefile exports it; `make signer-bin` builds it),
// driven over its stdin and stdout, one JSON line each way. Free ports, readiness, key files and
// cleanup live there: when its stdin closes (close(), or this process ending in any way, SIGKILL
// included) it kills what it started and removes its files. It never keeps this process alive: its
// handles are referenced only while an answer (or its exit, after close) is awaited.

const fs = require('node:fs')
const { spawn } = require('node:child_process')

function testenvBinary() {
  const binary = process.env.TRUSTCORE_TESTENV
  if (!binary) throw new Error('TRUSTCORE_TESTENV is not set: run the tests through make (`make signer-bin` builds it)')
  if (!fs.existsSync(binary)) throw new Error(`no testenv at ${binary} ($TRUSTCORE_TESTENV): \`make signer-bin\` builds it`)
  return binary
}

class Launched {
  /** `testenv ...args`, resolved once its first line says it is ready (rejected with its error if not). */
  static async start(...args) {
    const env = new Launched(args)
    const ready = await env.answer(args[0])
    if (ready.ok === false) {
      await env.close()
      throw new Error(`testenv ${args[0]}: ${ready.error}`)
    }
    env.ready = ready
    return env
  }

  constructor(args) {
    // stderr inherited: what testenv says there shows in the test's output. A session of its own
    // (detached): a Ctrl-C meant for the tests must not kill it before it cleans up (their end does)
    this.child = spawn(testenvBinary(), args, { stdio: ['pipe', 'pipe', 'inherit'], detached: true })
    this.waiting = [] // one per line still to come, in order
    this.held = 0
    this.gone = null
    this.exited = new Promise((resolve) => this.child.once('close', (code, signal) => resolve({ code, signal })))
    const fail = (why) => {
      this.gone = why
      for (const { reject } of this.waiting.splice(0)) reject(why)
    }
    this.child.once('error', fail)
    this.exited.then((status) => fail(new Error(`testenv exited (${JSON.stringify(status)}) without answering`)))
    let buffered = ''
    this.child.stdout.setEncoding('utf8')
    this.child.stdout.on('data', (chunk) => {
      buffered += chunk
      for (let end; (end = buffered.indexOf('\n')) >= 0; buffered = buffered.slice(end + 1)) {
        this.waiting.shift()?.resolve(JSON.parse(buffered.slice(0, end)))
      }
    })
    this.child.stdin.on('error', () => {}) // a write after it died: the answer's rejection says so
    this.hold(0)
  }

  /** Reference testenv's handles while something is awaited from it, and only then. */
  hold(delta) {
    this.held += delta
    const how = this.held > 0 ? 'ref' : 'unref'
    for (const handle of [this.child, this.child.stdin, this.child.stdout]) if (!handle.destroyed) handle[how]()
  }

  /** The next line, as JSON. */
  answer(what) {
    if (this.gone) return Promise.reject(this.gone)
    this.hold(1)
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject })).finally(() => this.hold(-1))
  }

  /**
   * Send one command (with `options`: as a JSON object, `{cmd: command, ...options}`); resolves to
   * its answer (its `ok` taken out), rejects on a refusal.
   */
  async request(command, options) {
    const answer = this.answer(command)
    this.child.stdin.write(`${options ? JSON.stringify({ cmd: command, ...options }) : command}\n`)
    const { ok, ...rest } = await answer
    if (!ok) throw new Error(`testenv ${command}: ${rest.error}`)
    return rest
  }

  /** Close its stdin: it kills what it started, removes its files and exits. Idempotent. */
  async close() {
    this.child.stdin.end()
    this.hold(1)
    try {
      await this.exited
    } finally {
      this.hold(-1)
    }
  }
}

module.exports = { Launched }
