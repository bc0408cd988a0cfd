'use strict'
// A real `redis-server` for the tests and the bench: `testenv redis` (test/testenv.js) starts it on a
// free loopback port, in memory only, kills it (SIGKILL), pauses it and restarts it on the same
// port; close() (or this process ending) ends it. redis-server missing is a failure that says how
// to install it (`make setup-redis`), never a skip.

const net = require('node:net')
const { Launched } = require('./testenv.js')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

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
  constructor(env) {
    this.env = env
    this.port = env.ready.port
    this.pid = env.ready.pid
  }

  /** Start on a free loopback port; resolves once it answers PING. */
  static async start() {
    return new RedisServer(await Launched.start('redis'))
  }

  get url() {
    return `redis://127.0.0.1:${this.port}/`
  }

  /** Start again on the same port, empty; resolves once it answers PING. */
  async restart() {
    this.pid = (await this.env.request('restart')).pid
  }

  /** Kill it (SIGKILL: no goodbye to the clients); resolves once it is gone. */
  async stop() {
    await this.env.request('kill')
  }

  /** SIGSTOP / SIGCONT: Redis still accepts connections (the kernel does) but answers nothing. */
  pause() {
    return this.env.request('pause')
  }

  resume() {
    return this.env.request('resume')
  }

  /** Kill it for good (testenv exits). */
  close() {
    return this.env.close()
  }

  command(...args) {
    return command(this.port, ...args)
  }
}

module.exports = { RedisServer, sleep }
