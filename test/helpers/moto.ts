/**
 * moto_server as a child process on a free 127.0.0.1 port: the peer emulator for
 * differential tests and benchmarks. Resolves once it answers HTTP.
 */
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {request} from 'node:http'
import {createServer} from 'node:net'

export interface RunningMoto {
  endpoint: string
  port: number
  pid: number
  process: ChildProcess
  stop(): Promise<void>
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer()
    probe.once('error', fail)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))))
    })
  })
}

function answers(url: string): Promise<boolean> {
  return new Promise((done) => {
    const req = request(url, {timeout: 500, agent: false}, (res) => {
      res.resume()
      done(true)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => done(false))
    req.end()
  })
}

/** Whether moto_server is installed (tests that need it skip with a message when not). */
export function hasMoto(): boolean {
  try {
    execFileSync('moto_server', ['--help'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

export async function startMoto(options: {timeoutMs?: number; env?: NodeJS.ProcessEnv} = {}): Promise<RunningMoto> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const port = await freePort()
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {...process.env, ...options.env},
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000)
  })
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  const endpoint = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (exited) return
    const gone = new Promise((done) => child.once('exit', done))
    child.kill('SIGTERM')
    await gone
  }
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (exited) throw new Error(`moto_server exited before answering:\n${stderr}`)
    if (await answers(`${endpoint}/moto-api/`)) return {endpoint, port, pid: child.pid!, process: child, stop}
    await new Promise((done) => setTimeout(done, 100))
  }
  await stop()
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs / 1000} s:\n${stderr}`)
}
