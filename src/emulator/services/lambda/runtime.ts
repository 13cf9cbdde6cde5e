/**
 * The Lambda runtime: worker processes (Node or Python, child processes so a
 * memory limit or a timeout can kill them) that load a function's handler once
 * and then answer invocations, one at a time each; a warm pool per function
 * that grows when invocations overlap (serverless-offline's handler-runner idea).
 *
 * Reusable outside the emulator — `ncap invoke` runs a pipeline's function in
 * the very worker the emulator uses:
 *
 *   import {runInvocation} from '…/emulator/services/lambda/runtime.js'
 *   const {result, error, logs} = await runInvocation({
 *     codeDir: 'functions/onUpload', handler: 'index.handler', runtime: 'nodejs22.x',
 *     environment: {BUCKET: 'x'}, timeout: 3, memory: 128, event: {...},
 *   })
 *
 * Function code imports `@aws-sdk/*` as on AWS: CommonJS through NODE_PATH, ESM
 * through a `node_modules` link the emulator puts beside each function's code
 * (or, for a source folder from which no node_modules with @aws-sdk is reachable,
 * a module-resolution hook, which costs the worker a little start-up time).
 *
 * `result` is the handler's JSON-decoded answer, `error` AWS's error shape
 * ({errorType, errorMessage, trace|stackTrace}) when it threw, timed out or ran
 * out of memory, `logs` the invocation's log text with START/END/REPORT lines.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {createHash, randomBytes, randomUUID} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import type {Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {NODE_WORKER, PYTHON_WORKER} from './worker-scripts.js'

/** The clock a pool decides time on: the emulator's (clock.ts) or the host's. */
export interface RuntimeClock {
  now(): number
  readonly offsetMs: number
  at(dueAt: number, fire: () => unknown): {cancel(): void}
  onAdvance?(listener: (offsetMs: number) => void): () => void
}

export const hostClock: RuntimeClock = {
  now: () => Date.now(),
  offsetMs: 0,
  at(dueAt, fire) {
    const handle = setTimeout(fire, Math.max(0, dueAt - Date.now()))
    handle.unref()
    return {cancel: () => clearTimeout(handle)}
  },
}

export interface FunctionSpec {
  functionName: string
  functionArn: string
  functionVersion: string
  runtime: string
  /** The unpacked code (LAMBDA_TASK_ROOT). */
  codeDir: string
  handler: string
  memoryMb: number
  timeoutSec: number
  region: string
  /** The function's own variables plus the AWS_* ones the emulator sets (runtime.ts adds the AWS_LAMBDA_* ones). */
  environment: Record<string, string>
  logGroup: string
}

export interface InvokeError {
  errorType: string
  errorMessage: string
  trace?: string[]
  stackTrace?: string[]
  requestId?: string
}

export interface InvokeOutcome {
  requestId: string
  /** The answer as JSON text ('null' when the handler returned nothing); the error shape's JSON when it failed. */
  payload: string
  error?: InvokeError
  /** Everything this invocation logged, START to REPORT. */
  logs: string
  durationMs: number
  billedMs: number
  maxMemoryMb: number
  /** Set on a cold start (the first invocation a worker answers). */
  initMs?: number
  /** Set on a cold start of a worker started before this invocation arrived (a prewarm): how much of its init it waited for. */
  prewarmed?: {initWaitMs: number}
  logStream: string
  /** The interpreter that answered: v20.20.2, Python 3.11.7. */
  runtimeVersion: string
}

export interface PoolOptions {
  clock?: RuntimeClock
  /** Most workers a function may run at once; invocations past it wait for a free one. */
  maxWorkers?: number
  /** Idle workers are ended after this long (host time). */
  idleMs?: number
  /** Receives log lines as they are written, by stream (the emulator forwards them to CloudWatch Logs). */
  onLog?(stream: string, events: {timestamp: number; message: string}[]): void
}

export interface InvokeRequest {
  payload: string
  requestId?: string
  /** Variables set in the worker before this invocation (renewed role credentials). */
  env?: Record<string, string>
  invokedArn?: string
}

/** Where ncap's own node_modules is, so function code can import the AWS SDK v3 as AWS's Node runtimes provide it. */
export function ncapNodeModules(): string | undefined {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules')
    if (existsSync(join(candidate, '@aws-sdk'))) return candidate
    if (dirname(dir) === dir) return undefined
  }
}

let scripts: {node: string; python: string; nodeModules?: string} | undefined
/** Writes the worker programs once, under a folder named by their hash. */
function workerScripts(): {node: string; python: string; nodeModules?: string} {
  if (scripts) return scripts
  const hash = createHash('sha256').update(NODE_WORKER).update(PYTHON_WORKER).digest('hex').slice(0, 12)
  const dir = join(tmpdir(), `ncap-lambda-runtime-${hash}`)
  mkdirSync(dir, {recursive: true})
  const write = (name: string, text: string) => {
    const path = join(dir, name)
    if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
      const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`
      writeFileSync(temp, text)
      renameSync(temp, path)
    }
    return path
  }
  scripts = {node: write('node-worker.mjs', NODE_WORKER), python: write('python-worker.py', PYTHON_WORKER), nodeModules: ncapNodeModules()}
  return scripts
}

const SETPRIV = '/usr/bin/setpriv'
const hasSetpriv = existsSync(SETPRIV)

export const isNodeRuntime = (runtime: string) => runtime.startsWith('nodejs')
export const isPythonRuntime = (runtime: string) => runtime.startsWith('python')

/** The stream name AWS gives an execution environment: 2026/12/01/[$LATEST]<32 hex>. */
export function logStreamName(version: string, now: number): string {
  const day = new Date(now).toISOString().slice(0, 10).replaceAll('-', '/')
  return `${day}/[${version}]${randomBytes(16).toString('hex')}`
}

/** Peak and current resident memory of a process, in MB, from /proc (undefined where there is none). */
function memoryOf(pid: number | undefined): {rss: number; peak: number} | undefined {
  if (!pid) return undefined
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const rss = /VmRSS:\s+(\d+)/.exec(status)
    const peak = /VmHWM:\s+(\d+)/.exec(status)
    return {rss: Number(rss?.[1] ?? 0) / 1024, peak: Number(peak?.[1] ?? 0) / 1024}
  } catch {
    return undefined
  }
}

interface Pending {
  id: string
  resolve(outcome: {payload?: string; error?: InvokeError; exit?: boolean}): void
}

/** One worker process: spawned, initialised (the handler loaded), then invoked one at a time. */
export class Worker {
  readonly logStream: string
  private child: ChildProcess
  private ctl: Socket
  private buffer = ''
  private pending: Pending | undefined
  private readyWait: Promise<{initMs: number; version: string}>
  initMs = 0
  /** When the handler was loaded (performance.now()). */
  readyAt: number | undefined
  version = ''
  dead = false
  deathReason: string | undefined
  /** Set when an invocation goes to it; the idle timer ends it otherwise. */
  idleTimer: NodeJS.Timeout | undefined
  coldPending = true
  /** Started ahead of any invocation (WorkerPool.prewarm): its init did not hold an invocation up unless one waited for it. */
  prewarmed = false
  readonly spawnedAt = performance.now()
  /** Set (seconds) when the handler did not load in time and the worker was killed for it. */
  initTimedOutAfter: number | undefined
  /** The highest resident memory seen, in MB (kept after the process is gone). */
  peakMb = 0
  private readonly deathWaiters = new Set<(reason: string) => void>()
  private stderrTail = ''

  constructor(
    spec: FunctionSpec,
    clock: RuntimeClock,
    private readonly onLogText: (text: string) => void,
    /** Variables of the invocation that made this worker (the role's credentials), in its environment from the start. */
    readonly startEnv: Record<string, string> = {},
  ) {
    const {node, python, nodeModules} = workerScripts()
    this.logStream = logStreamName(spec.functionVersion, clock.now())
    const config = {
      codeDir: spec.codeDir,
      handler: spec.handler,
      functionName: spec.functionName,
      functionVersion: spec.functionVersion,
      functionArn: spec.functionArn,
      memoryMb: spec.memoryMb,
      logGroup: spec.logGroup,
      logStream: this.logStream,
      offsetMs: clock.offsetMs,
      nodeModules,
    }
    const environment: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      HOME: process.env.HOME ?? '/tmp',
      ...spec.environment,
      AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: spec.functionVersion,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: spec.logGroup,
      AWS_LAMBDA_LOG_STREAM_NAME: this.logStream,
      AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      LAMBDA_TASK_ROOT: spec.codeDir,
      LAMBDA_RUNTIME_DIR: dirname(node),
      _HANDLER: spec.handler,
      ...startEnv,
      NCAP_WORKER: JSON.stringify(config),
    }
    if (spec.environment.AWS_REGION) environment.AWS_DEFAULT_REGION ??= spec.environment.AWS_REGION
    let command: string
    let args: string[]
    if (isPythonRuntime(spec.runtime)) {
      command = 'python3'
      args = ['-u', python]
      environment.PYTHONPATH = spec.codeDir
    } else {
      command = process.execPath
      // V8's heap stops at the function's memory; the RSS watch below catches the rest.
      args = [`--max-old-space-size=${Math.max(64, spec.memoryMb)}`, node]
      if (nodeModules) environment.NODE_PATH = nodeModules
    }
    if (hasSetpriv) {
      args = ['--pdeathsig', 'KILL', '--', command, ...args]
      command = SETPRIV
    }
    this.child = spawn(command, args, {cwd: spec.codeDir, env: environment, stdio: ['ignore', 'pipe', 'pipe', 'pipe']})
    this.ctl = this.child.stdio[3] as Socket
    this.ctl.setEncoding('utf8')
    // Output that bypasses the worker's own capture (a native write, a grandchild) is still the function's log.
    this.child.stdout?.setEncoding('utf8')
    this.child.stdout?.on('data', (text: string) => this.onLogText(text))
    this.child.stderr?.setEncoding('utf8')
    this.child.stderr?.on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-4096)
      this.onLogText(text)
    })
    let ready: (value: {initMs: number; version: string}) => void = () => {}
    let failed: (error: InvokeError) => void = () => {}
    this.readyWait = new Promise((resolve, reject) => {
      ready = resolve
      failed = reject
    })
    this.readyWait.catch(() => undefined)
    this.ctl.on('data', (chunk: string) => {
      this.buffer += chunk
      for (let end = this.buffer.indexOf('\n'); end >= 0; end = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, end)
        this.buffer = this.buffer.slice(end + 1)
        let message: {t: string; [key: string]: unknown}
        try {
          message = JSON.parse(line)
        } catch {
          continue
        }
        if (message.t === 'log') this.onLogText(String(message.text))
        else if (message.t === 'ready') {
          // From spawn to the handler loaded, as the host saw it (the process start included).
          this.readyAt = performance.now()
          this.initMs = this.readyAt - this.spawnedAt
          this.version = String(message.version)
          ready({initMs: this.initMs, version: this.version})
        } else if (message.t === 'initError') failed(message.error as InvokeError)
        else if ((message.t === 'result' || message.t === 'error') && this.pending?.id === message.id) {
          const pending = this.pending!
          this.pending = undefined
          pending.resolve(
            message.t === 'result'
              ? {payload: String(message.payload)}
              : {error: message.error as InvokeError, exit: message.exit === true},
          )
        }
      }
    })
    this.ctl.on('error', () => undefined)
    this.child.on('error', (error) => this.died(`the worker could not start: ${error.message}`))
    this.child.on('exit', (code, signal) => {
      const reason = signal
        ? `signal: ${signal === 'SIGKILL' ? 'killed' : signal.replace(/^SIG/, '').toLowerCase()}`
        : `exit status ${code}`
      // What the worker said last (an init error) may still be in fd 3: read it before calling the worker dead.
      if (this.ctl.readableEnded || this.ctl.destroyed) this.died(reason)
      else {
        const timer = setTimeout(() => this.died(reason), 100)
        this.ctl.once('close', () => {
          clearTimeout(timer)
          this.died(reason)
        })
      }
    })
    setImmediate(() => {
      if (this.dead) failed({errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with error: ${this.deathReason}`})
    })
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  /** Resolves once the handler is loaded; rejects with the init error's shape. */
  ready(): Promise<{initMs: number; version: string}> {
    return Promise.race([
      this.readyWait,
      new Promise<never>((_, reject) =>
        this.onDeath((reason) =>
          reject(
            (this.initTimedOutAfter !== undefined
              ? {
                  errorType: 'Sandbox.Timedout',
                  errorMessage: `The init phase did not finish within ${fmt2(this.initTimedOutAfter)} seconds`,
                }
              : {
                  errorType: /heap out of memory/i.test(this.stderrTail) ? 'Runtime.OutOfMemory' : 'Runtime.ExitError',
                  errorMessage: `Runtime exited with error: ${reason}`,
                }) satisfies InvokeError,
          ),
        ),
      ),
    ])
  }

  onDeath(listener: (reason: string) => void): void {
    if (this.dead) listener(this.deathReason ?? 'exited')
    else this.deathWaiters.add(listener)
  }

  private died(reason: string): void {
    if (this.dead) return
    this.dead = true
    this.deathReason = reason
    if (this.idleTimer) clearTimeout(this.idleTimer)
    for (const waiter of this.deathWaiters) waiter(reason)
    this.deathWaiters.clear()
    const pending = this.pending
    this.pending = undefined
    pending?.resolve({
      error: {
        errorType: /heap out of memory/i.test(this.stderrTail) ? 'Runtime.OutOfMemory' : 'Runtime.ExitError',
        errorMessage: `RequestId: ${pending.id} Error: Runtime exited with error: ${reason}`,
      },
      exit: true,
    })
  }

  send(message: Record<string, unknown>): void {
    if (!this.dead) this.ctl.write(`${JSON.stringify(message)}\n`)
  }

  /** Runs one invocation to its end: the handler's answer or error, a timeout, or the worker's death. */
  run(id: string, message: Record<string, unknown>): Promise<{payload?: string; error?: InvokeError; exit?: boolean}> {
    return new Promise((resolve) => {
      if (this.dead) {
        resolve({
          error: {errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${id} Error: Runtime exited with error: ${this.deathReason}`},
        })
        return
      }
      this.pending = {id, resolve}
      this.send({t: 'invoke', id, ...message})
    })
  }

  memory(): {rss: number; peak: number} | undefined {
    return memoryOf(this.child.pid)
  }

  kill(): void {
    if (this.dead) return
    try {
      this.child.kill('SIGKILL')
    } catch {
      // Already gone.
    }
  }

  /** Ends the worker gently: closing fd 3 makes it exit; SIGKILL if it does not. */
  close(): void {
    if (this.dead) return
    this.ctl.end()
    const force = setTimeout(() => this.kill(), 500)
    force.unref()
  }
}

const fmt2 = (ms: number) => ms.toFixed(2)
/** A moving average that follows recent values (a third of the weight on the newest). */
const average = (previous: number | undefined, value: number) => (previous === undefined ? value : previous * (2 / 3) + value / 3)

/** A warm pool of workers for one function (one code and configuration revision). */
export class WorkerPool {
  private readonly idle: Worker[] = []
  private readonly all = new Set<Worker>()
  private readonly waiting: ((worker: Worker | undefined) => void)[] = []
  private readonly clock: RuntimeClock
  private readonly maxWorkers: number
  private readonly idleMs: number
  private closed = false
  private stopClock: (() => void) | undefined
  /** Log text by worker, collected for the invocation it is running. */
  private readonly collecting = new Map<Worker, string[]>()

  constructor(
    readonly spec: FunctionSpec,
    private readonly options: PoolOptions = {},
  ) {
    this.clock = options.clock ?? hostClock
    this.maxWorkers = options.maxWorkers ?? 16
    this.idleMs = options.idleMs ?? 10 * 60_000
    this.stopClock = this.clock.onAdvance?.((offsetMs) => {
      for (const worker of this.all) worker.send({t: 'clock', offsetMs})
    })
  }

  get size(): number {
    return this.all.size
  }

  private emit(worker: Worker, text: string): void {
    if (!text) return
    this.collecting.get(worker)?.push(text)
    const timestamp = this.clock.now()
    const lines = text.replace(/\n$/, '').split('\n')
    this.options.onLog?.(
      worker.logStream,
      lines.map((message) => ({timestamp, message})),
    )
  }

  private spawnWorker(env: Record<string, string>): Worker {
    const holder: {worker?: Worker} = {}
    const worker = new Worker(
      this.spec,
      this.clock,
      (text) => {
        if (holder.worker) this.emit(holder.worker, text)
      },
      env,
    )
    holder.worker = worker
    this.all.add(worker)
    // Nothing waits forever: a handler that does not load within AWS's 10 s init limit plus the function's timeout is killed.
    const limit = 10 + this.spec.timeoutSec
    const initTimer = this.clock.at(this.clock.now() + limit * 1000, () => {
      worker.initTimedOutAfter = limit
      worker.kill()
    })
    worker.ready().then(
      () => initTimer.cancel(),
      () => initTimer.cancel(),
    )
    worker.onDeath(() => {
      this.all.delete(worker)
      this.busy.delete(worker)
      const at = this.idle.indexOf(worker)
      if (at >= 0) this.idle.splice(at, 1)
      // A waiting invocation can now have a worker of its own.
      const next = this.waiting.shift()
      if (next) next(undefined)
    })
    return worker
  }

  /** Workers spawned and not yet ready. */
  private starting = 0
  /** Typical invocation and init durations here (ms, moving averages), once one of each has been seen. */
  private durationEstimate: number | undefined
  private initEstimate: number | undefined
  /** Busy workers and when their invocation started. */
  private readonly busy = new Map<Worker, number>()
  private regrow: NodeJS.Timeout | undefined
  private growEnv: Record<string, string> = {}

  private startWorker(env: Record<string, string>): Worker {
    const worker = this.spawnWorker(env)
    this.starting++
    const started = () => {
      this.starting--
      if (worker.readyAt !== undefined) this.initEstimate = average(this.initEstimate, worker.initMs)
      this.offer(worker)
    }
    worker.ready().then(started, started)
    return worker
  }

  /**
   * How many waiting invocations the busy workers are expected to start before a new worker could
   * load: each worker whose invocation runs about as long as they usually do frees up in time for
   * (init time / invocation time) of them. 0 until both times are known, and a worker running past
   * both three times the usual and an init time counts for none (a new worker would have been ready:
   * a slow or stuck handler gets company).
   */
  private servableBeforeInit(now: number): number {
    const duration = this.durationEstimate
    const init = this.initEstimate
    if (duration === undefined || init === undefined) return 0
    let servable = 0
    for (const startedAt of this.busy.values()) {
      const elapsed = now - startedAt
      if (elapsed > Math.max(3 * duration, init)) continue
      const freeIn = Math.max(0, duration - elapsed)
      if (freeIn < init) servable += 1 + Math.floor((init - freeIn) / Math.max(1, duration))
    }
    return servable
  }

  /**
   * Adds workers (up to maxWorkers) for the waiting invocations that neither a worker starting nor a
   * busy one about to free up will take sooner: a burst of short invocations is answered by the warm
   * workers in turn rather than by cold starts that would end later (each a process loading its
   * handler, competing for the host's CPU). Looked at again every 25 ms while invocations wait, so a
   * busy worker that runs long still brings a new one.
   */
  private grow(env: Record<string, string>): void {
    this.growEnv = env
    if (this.closed) return
    const wanted = this.waiting.length - this.servableBeforeInit(performance.now())
    while (this.all.size < this.maxWorkers && this.starting < wanted) this.startWorker(env)
    if (!this.regrow && this.waiting.length > this.starting && this.all.size < this.maxWorkers) {
      this.regrow = setTimeout(() => {
        this.regrow = undefined
        if (this.waiting.length > 0) this.grow(this.growEnv)
      }, 25)
      this.regrow.unref()
    }
  }

  /**
   * Starts one worker ahead of any invocation (SAM CLI's `--warm-containers EAGER`):
   * the function's init (process start, handler load) runs now, so the first
   * invocation finds it loaded. Its first invocation still reports the init
   * (INIT_START, Init Duration), marked as run ahead (`prewarmed`). Nothing
   * happens when the pool already has a worker.
   */
  prewarm(env: Record<string, string>): void {
    if (this.closed || this.all.size > 0) return
    this.startWorker(env).prewarmed = true
  }

  /**
   * A worker for one invocation: an idle one at once; otherwise it waits for the
   * first worker to come free, adding a worker (up to maxWorkers) for each waiting
   * invocation that no worker is starting for yet. A new worker goes to whoever
   * waits longest once its handler is loaded, so an invocation is never held up
   * by a cold start when a warm worker frees up sooner.
   */
  private async acquire(env: Record<string, string>): Promise<Worker> {
    const stamp = JSON.stringify(env)
    for (;;) {
      const idle = this.idle.pop()
      if (idle && !idle.dead) {
        if (idle.idleTimer) clearTimeout(idle.idleTimer)
        // Code that made its clients at init holds the credentials it started with: renewed ones need a new worker.
        if (JSON.stringify(idle.startEnv) !== stamp) {
          this.all.delete(idle)
          idle.close()
          continue
        }
        this.busy.set(idle, performance.now())
        return idle
      }
      if (this.closed) throw new Error(`the worker pool of ${this.spec.functionName} was retired`)
      const waiting = new Promise<Worker | undefined>((resolve) => this.waiting.push(resolve))
      this.grow(env)
      const handed = await waiting
      // A worker whose init failed is handed over too: its invocation reports the init error, as on AWS.
      if (handed && (!handed.dead || handed.coldPending)) return handed
    }
  }

  /** Gives a free (or just started) worker to the longest-waiting invocation, else keeps it idle. */
  private offer(worker: Worker): void {
    if (this.closed) {
      worker.close()
      return
    }
    const next = this.waiting.shift()
    if (next) {
      // Busy from now: invocations arriving before it starts count on it.
      if (!worker.dead) this.busy.set(worker, performance.now())
      next(worker)
      return
    }
    if (worker.dead) return
    worker.idleTimer = setTimeout(() => {
      const at = this.idle.indexOf(worker)
      if (at >= 0) this.idle.splice(at, 1)
      this.all.delete(worker)
      worker.close()
    }, this.idleMs)
    worker.idleTimer.unref()
    this.idle.push(worker)
  }

  private release(worker: Worker): void {
    if (worker.dead) return
    this.offer(worker)
  }

  /** Runs one invocation on a warm worker, or a new one when all are busy. */
  async invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    if (this.closed) throw new Error(`the worker pool of ${this.spec.functionName} is closed`)
    const requestId = request.requestId ?? randomUUID()
    const arrivedAt = performance.now()
    const worker = await this.acquire(request.env ?? {})
    const logs: string[] = []
    this.collecting.set(worker, logs)
    const cold = worker.coldPending
    worker.coldPending = false
    let initMs: number | undefined
    let runtimeVersion = worker.version
    const finish = (outcome: {payload?: string; error?: InvokeError}, startedAt: number, killed: boolean): InvokeOutcome => {
      const durationMs = Math.max(0, performance.now() - startedAt)
      const memory = worker.memory()
      const maxMemoryMb = Math.max(1, Math.round(Math.max(memory?.peak ?? 0, worker.peakMb)))
      const billedMs = Math.max(1, Math.ceil(durationMs + (initMs ?? 0)))
      if (this.busy.delete(worker) && !killed && !outcome.error) this.durationEstimate = average(this.durationEstimate, durationMs)
      this.emit(worker, `END RequestId: ${requestId}\n`)
      const init = initMs !== undefined ? `\tInit Duration: ${fmt2(initMs)} ms` : ''
      this.emit(
        worker,
        `REPORT RequestId: ${requestId}\tDuration: ${fmt2(durationMs)} ms\tBilled Duration: ${billedMs} ms\tMemory Size: ${this.spec.memoryMb} MB\tMax Memory Used: ${maxMemoryMb} MB${init}\t\n`,
      )
      this.collecting.delete(worker)
      if (killed || worker.dead) {
        worker.kill()
        this.all.delete(worker)
      } else this.release(worker)
      const error = outcome.error
      return {
        requestId,
        payload: error ? JSON.stringify(error) : (outcome.payload ?? 'null'),
        ...(error ? {error} : {}),
        logs: logs.join(''),
        durationMs,
        billedMs,
        maxMemoryMb,
        ...(initMs !== undefined ? {initMs} : {}),
        // Started before this invocation arrived: pre-warmed, or spawned for another invocation a warm worker then took.
        ...(initMs !== undefined && (worker.prewarmed || worker.spawnedAt < arrivedAt)
          ? {prewarmed: {initWaitMs: Math.max(0, Math.min(initMs, (worker.readyAt ?? performance.now()) - arrivedAt))}}
          : {}),
        logStream: worker.logStream,
        runtimeVersion,
      }
    }
    if (cold) {
      try {
        const ready = await worker.ready()
        initMs = worker.initMs
        runtimeVersion = ready.version
        this.emit(
          worker,
          `INIT_START Runtime Version: ${this.spec.runtime} on the host's ${isPythonRuntime(this.spec.runtime) ? ready.version : `Node ${ready.version}`}\tRuntime Version ARN: arn:aws:lambda:${this.spec.region}::runtime:ncap-host-${runtimeVersion.replace(/[^\w.]/g, '')}\n`,
        )
      } catch (thrown) {
        initMs = performance.now() - worker.spawnedAt
        const error = {...(thrown as InvokeError)}
        this.emit(worker, `INIT_REPORT Init Duration: ${fmt2(initMs)} ms\tPhase: init\tStatus: error\tError Type: ${error.errorType}\n`)
        this.emit(worker, `START RequestId: ${requestId} Version: ${this.spec.functionVersion}\n`)
        this.emit(worker, `${JSON.stringify(error)}\n`)
        return finish({error}, performance.now(), true)
      }
    }
    const startedAt = performance.now()
    this.busy.set(worker, startedAt)
    const startClock = this.clock.now()
    const deadline = startClock + this.spec.timeoutSec * 1000
    this.emit(worker, `START RequestId: ${requestId} Version: ${this.spec.functionVersion}\n`)
    let killedFor: InvokeError | undefined
    const running = worker.run(requestId, {
      payload: request.payload,
      deadline,
      // The clock may have moved since the last advance notice (a timer fired mid-advance): the worker takes it from here.
      offsetMs: this.clock.offsetMs,
      env: request.env ?? {},
      ...(request.invokedArn ? {invokedArn: request.invokedArn} : {}),
    })
    const timedOut = new Promise<{error: InvokeError}>((resolve) => {
      const timer = this.clock.at(deadline, () => {
        killedFor = {
          errorType: 'Sandbox.Timedout',
          errorMessage: `${new Date(this.clock.now()).toISOString()} ${requestId} Task timed out after ${fmt2(this.spec.timeoutSec)} seconds`,
        }
        resolve({error: killedFor})
      })
      running.finally(() => timer.cancel())
    })
    const limit = this.spec.memoryMb
    const overMemory = new Promise<{error: InvokeError}>((resolve) => {
      const watch = setInterval(() => {
        const memory = worker.memory()
        if (memory) worker.peakMb = Math.max(worker.peakMb, memory.peak)
        if (memory && memory.rss > limit) {
          killedFor = {
            errorType: 'Runtime.OutOfMemory',
            errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed`,
          }
          resolve({error: killedFor})
        }
      }, 25)
      running.finally(() => clearInterval(watch))
    })
    const outcome = await Promise.race([running, timedOut, overMemory])
    if (killedFor) {
      worker.kill()
      this.emit(worker, `${killedFor.errorMessage}\n`)
      return finish({error: killedFor}, startedAt, true)
    }
    if (outcome.error) {
      const error = outcome.error
      if (error.errorType === 'Runtime.OutOfMemory' && !error.errorMessage.startsWith('RequestId'))
        error.errorMessage = `RequestId: ${requestId} Error: ${error.errorMessage}`
      if (isNodeRuntime(this.spec.runtime) && !error.errorType.startsWith('Runtime.')) {
        this.emit(worker, `${new Date(this.clock.now()).toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(error)}\n`)
      } else if (isPythonRuntime(this.spec.runtime)) {
        this.emit(worker, `[ERROR] ${error.errorType}: ${error.errorMessage}\n${(error.stackTrace ?? []).join('')}`)
      }
    }
    return finish(outcome, startedAt, (outcome as {exit?: boolean}).exit === true)
  }

  /** Retires the pool (function deleted or updated): idle workers end now, busy ones when their invocation ends. */
  close(): void {
    this.closed = true
    if (this.regrow) clearTimeout(this.regrow)
    this.stopClock?.()
    for (const worker of this.idle.splice(0)) {
      if (worker.idleTimer) clearTimeout(worker.idleTimer)
      worker.close()
    }
    for (const waiter of this.waiting.splice(0)) waiter(undefined)
  }

  /** Kills every worker at once (the emulator is closing). */
  terminate(): void {
    this.close()
    for (const worker of this.all) worker.kill()
    this.all.clear()
  }
}

export interface RunInvocationOptions {
  /** The function's code folder (unpacked). */
  codeDir: string
  /** file.function, as in CreateFunction's Handler. */
  handler: string
  /** nodejs22.x, nodejs24.x, python3.12, … */
  runtime: string
  environment?: Record<string, string>
  /** Seconds (default 3, as AWS). */
  timeout?: number
  /** MB (default 128, as AWS). */
  memory?: number
  event: unknown
  functionName?: string
  region?: string
  clock?: RuntimeClock
}

export interface RunInvocationResult {
  /** The handler's answer, JSON-decoded; absent when it failed. */
  result?: unknown
  error?: InvokeError
  logs: string
  requestId: string
  durationMs: number
  maxMemoryMb: number
  runtimeVersion: string
}

/** Runs one invocation of a function from its source folder, in the worker the emulator uses, and ends the worker. */
export async function runInvocation(options: RunInvocationOptions): Promise<RunInvocationResult> {
  const functionName = options.functionName ?? 'local'
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1'
  const pool = new WorkerPool(
    {
      functionName,
      functionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
      functionVersion: '$LATEST',
      runtime: options.runtime,
      codeDir: resolve(options.codeDir),
      handler: options.handler,
      memoryMb: options.memory ?? 128,
      timeoutSec: options.timeout ?? 3,
      region,
      environment: {AWS_REGION: region, ...options.environment},
      logGroup: `/aws/lambda/${functionName}`,
    },
    {clock: options.clock, maxWorkers: 1},
  )
  try {
    const outcome = await pool.invoke({payload: JSON.stringify(options.event ?? {})})
    let result: unknown
    if (!outcome.error) {
      try {
        result = JSON.parse(outcome.payload)
      } catch {
        result = outcome.payload
      }
    }
    return {
      ...(outcome.error ? {error: outcome.error} : {result}),
      logs: outcome.logs,
      requestId: outcome.requestId,
      durationMs: outcome.durationMs,
      maxMemoryMb: outcome.maxMemoryMb,
      runtimeVersion: outcome.runtimeVersion,
    }
  } finally {
    pool.close()
  }
}
