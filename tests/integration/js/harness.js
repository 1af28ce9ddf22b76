'use strict'
// Mirrors ../harness.py: starts build/strata (env STRATA_BIN) on a fresh temp
// data dir and an ephemeral loopback port, waits for "listening on
// PLAINTEXT://127.0.0.1:<port>" then "started in" (bounded), drains the output
// to a log file, and always cleans the process up by PID (process 'exit' hook,
// and setpriv --pdeathsig KILL so a SIGKILLed node leaves no broker behind).

const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const assert = require('node:assert')

const REPO = path.resolve(__dirname, '..', '..', '..')
const STRATA_BIN = process.env.STRATA_BIN || path.join(REPO, 'build', 'strata')
const LISTEN_RE = /listening on PLAINTEXT:\/\/127\.0\.0\.1:(\d+)/
const SSL_RE = /listening on SSL:\/\/127\.0\.0\.1:(\d+)/
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p))

const live = new Set()
process.on('exit', () => {
  for (const b of live) b.killNow()
})
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const b of live) b.killNow()
    process.exit(128 + (sig === 'SIGINT' ? 2 : 15))
  })
}

function sleep (ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

// Polls cond() (sync or async) until truthy or the deadline passes.
async function waitUntil (cond, timeoutMs, what = 'condition', intervalMs = 50) {
  const end = Date.now() + timeoutMs
  let lastErr
  for (;;) {
    try {
      const v = await cond()
      if (v) return v
    } catch (e) {
      lastErr = e
    }
    if (Date.now() >= end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` + (lastErr ? ` (last error: ${lastErr})` : ''))
    }
    await sleep(Math.min(intervalMs, Math.max(1, end - Date.now())))
  }
}

class Broker {
  constructor ({ overrides = {}, name = 'strata-js', startupTimeoutMs = 30000 } = {}) {
    this.name = name
    this.overrides = overrides
    this.startupTimeoutMs = startupTimeoutMs
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `strata-it-${name}-`))
    this.dataDir = path.join(this.tmp, 'data')
    this.logPath = path.join(this.tmp, 'broker.log')
    this.lines = []
    this.proc = null
    this.port = null
    this.sslPort = null // set when the broker logs an SSL listener
    this.exitCodes = []
  }

  get sslBootstrap () {
    assert.ok(this.sslPort, 'broker has no SSL listener')
    return `127.0.0.1:${this.sslPort}`
  }

  get bootstrap () {
    assert.ok(this.port, 'broker not started')
    return `127.0.0.1:${this.port}`
  }

  alive () {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null
  }

  note (line) {
    this.lines.push(line)
    fs.appendFileSync(this.logPath, line + '\n')
  }

  async start () {
    assert.ok(!this.alive(), 'broker already running')
    try {
      fs.accessSync(STRATA_BIN, fs.constants.X_OK)
    } catch (e) {
      throw new Error(`broker binary ${STRATA_BIN} not found or not executable (build it, or set STRATA_BIN)`)
    }
    const args = ['serve', '--override', 'listeners=PLAINTEXT://127.0.0.1:0', '--override', `log.dirs=${this.dataDir}`]
    for (const [k, v] of Object.entries(this.overrides)) args.push('--override', `${k}=${v}`)
    const [cmd, argv] = SETPRIV
      ? [SETPRIV, ['--pdeathsig', 'KILL', '--', STRATA_BIN, ...args]]
      : [STRATA_BIN, args]
    const first = this.lines.length
    this.note(`---- starting: ${STRATA_BIN} ${args.join(' ')}`)
    this.port = null
    const proc = spawn(cmd, argv, { cwd: this.tmp, stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc = proc
    live.add(this)
    this.exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
      this.note(`---- pid ${proc.pid} exited with ${code !== null ? code : signal}`)
      this.exitCodes.push(code !== null ? code : signal)
      live.delete(this)
      resolve({ code, signal })
    }))
    let partial = ''
    const onData = (chunk) => {
      partial += chunk.toString('utf8')
      const parts = partial.split('\n')
      partial = parts.pop()
      for (const l of parts) this.note(l)
    }
    proc.stdout.on('data', onData)
    proc.stderr.on('data', onData)
    try {
      await waitUntil(() => {
        if (!this.alive()) throw new Error(`broker exited during startup\n${this.logTail()}`)
        const lines = this.lines.slice(first)
        const i = lines.findIndex((l) => LISTEN_RE.test(l))
        if (i < 0) return false
        if (!lines.slice(i).some((l) => l.includes('started in'))) return false
        this.port = Number(LISTEN_RE.exec(lines[i])[1])
        const ssl = lines.find((l) => SSL_RE.test(l))
        this.sslPort = ssl ? Number(SSL_RE.exec(ssl)[1]) : null
        return true
      }, this.startupTimeoutMs, 'broker startup', 20)
    } catch (e) {
      this.killNow()
      throw new Error(`${e.message}\n${this.logTail()}`)
    }
    return this
  }

  // SIGTERM; waits <= timeoutMs; asserts exit code 0.
  async stop (timeoutMs = 10000) {
    if (!this.proc) return
    if (this.alive()) {
      this.proc.kill('SIGTERM')
      const timer = sleep(timeoutMs).then(() => 'timeout')
      const r = await Promise.race([this.exited, timer])
      if (r === 'timeout') {
        this.killNow()
        throw new Error(`broker pid ${this.proc.pid} did not exit within ${timeoutMs} ms of SIGTERM\n${this.logTail()}`)
      }
    }
    const { code, signal } = await this.exited
    assert.strictEqual(code, 0, `broker exit code (signal ${signal})\n${this.logTail()}`)
  }

  async kill9 () {
    this.killNow()
    await this.exited
  }

  killNow () {
    if (this.alive()) {
      try {
        process.kill(this.proc.pid, 'SIGKILL')
      } catch (e) {}
    }
  }

  async restart () {
    await this.stop()
    return this.start()
  }

  async close () {
    this.killNow()
    if (this.exited) await this.exited
    if (process.env.STRATA_IT_KEEP !== '1') fs.rmSync(this.tmp, { recursive: true, force: true })
  }

  logTail (n = 200) {
    const l = this.lines.slice(-n)
    return [`==== broker log (${this.name}, ${this.logPath}, last ${l.length} of ${this.lines.length} lines) ====`,
      ...l, '==== end of broker log ===='].join('\n')
  }
}

// Runs fn; on failure prints the broker log tail before rethrowing.
async function withLog (broker, fn) {
  try {
    return await fn()
  } catch (e) {
    process.stderr.write('\n' + broker.logTail() + '\n')
    throw e
  }
}

// Runs a helper process (bounded); returns {code, stdout, stderr}.
function runSync (cmd, args, timeoutMs = 60000) {
  const r = spawnSync(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 256 * 1024 * 1024 })
  if (r.error) throw r.error
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr.toString() }
}

module.exports = { Broker, waitUntil, withLog, runSync, REPO, STRATA_BIN }
