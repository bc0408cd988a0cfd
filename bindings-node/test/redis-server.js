'use strict'
// A real `redis-server` for the tests (as core/tests/support/redis_server.rs): a free loopback
// port, in memory only (`--save "" --appendonly no`), started for a test file and stopped after.
// redis-server missing is a failure that says how to install it, never a skip.

const net = require('node:net')
const { spawn, spawnSync } = require('node:child_process')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// a test that fails half-way, or a run that is interrupted, must not leave a server behind
const running = new Set()
const killAll = () => {
  for (const child of running) child.kill('SIGKILL')
}
process.once('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAll()
    process.kill(process.pid, signal)
  })
}

/** The redis-server binary: $REDIS_SERVER, else `redis-server` on PATH; throws when there is none. */
function redisBinary() {
  const binary = process.env.REDIS_SERVER || 'redis-server'
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `${binary} not found (${probe.error ? probe.error.code : `exit ${probe.status}`}): the Redis tests need a real ` +
        'redis-server: run `make setup-redis` (Debian package redis-server) or set REDIS_SERVER',
    )
  }
  return binary
}

/** A port nobody listens on right now (the kernel's pick). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Whether `PING` on 127.0.0.1:port answers `+PONG` within 200 ms. */
function answersPing(port) {
  return new Promise((resolve) => {
    const conn = net.createConnection({ host: '127.0.0.1', port })
    let reply = ''
    const done = (ok) => {
      conn.destroy()
      resolve(ok)
    }
    conn.setTimeout(200, () => done(false))
    conn.once('error', () => done(false))
    conn.on('data', (chunk) => {
      reply += chunk.toString('latin1')
      if (reply.length >= 7) done(reply.startsWith('+PONG\r\n'))
    })
    conn.once('connect', () => conn.write('PING\r\n'))
  })
}

/** One command as RESP, its first reply line (enough for `DBSIZE`, `SCARD`, `PING`). */
function command(port, ...args) {
  return new Promise((resolve, reject) => {
    const conn = net.createConnection({ host: '127.0.0.1', port })
    let reply = ''
    conn.setTimeout(5000, () => conn.destroy(new Error('redis did not answer within 5 s')))
    conn.once('error', reject)
    conn.on('data', (chunk) => {
      reply += chunk.toString('utf8')
      const end = reply.indexOf('\r\n')
      if (end >= 0) {
        conn.destroy()
        resolve(reply.slice(0, end))
      }
    })
    conn.once('connect', () => {
      conn.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`)
    })
  })
}

class RedisServer {
  constructor(port) {
    this.port = port
    this.child = null
    this.exited = null
  }

  /** Start on a free loopback port and wait until it answers PING. */
  static async start() {
    const server = new RedisServer(await freePort())
    await server.restart()
    return server
  }

  get url() {
    return `redis://127.0.0.1:${this.port}/`
  }

  /** (Re)start on the same port, in memory only. */
  async restart() {
    if (this.child) throw new Error('redis-server is already running')
    const args = ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no']
    const child = spawn(redisBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] })
    running.add(child)
    let stderr = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)))
    let gone = null
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        running.delete(child)
        gone = { code, signal }
        resolve(gone)
      }),
    )
    this.child = child
    const deadline = Date.now() + 10_000
    while (!(await answersPing(this.port))) {
      if (gone) throw new Error(`redis-server exited (${JSON.stringify(gone)}) on port ${this.port}: ${stderr}`)
      if (Date.now() > deadline) {
        await this.stop()
        throw new Error(`redis-server did not answer on port ${this.port} within 10 s: ${stderr}`)
      }
      await sleep(10)
    }
  }

  /** Kill it (SIGKILL: no goodbye to the clients) and wait until it is gone. */
  async stop() {
    const child = this.child
    if (!child) return
    this.child = null
    child.kill('SIGKILL')
    await this.exited
  }

  /** SIGSTOP / SIGCONT: Redis still accepts connections (the kernel does) but answers nothing. */
  pause() {
    this.child.kill('SIGSTOP')
  }

  resume() {
    this.child.kill('SIGCONT')
  }

  command(...args) {
    return command(this.port, ...args)
  }
}

module.exports = { RedisServer, redisBinary, freePort, sleep }
