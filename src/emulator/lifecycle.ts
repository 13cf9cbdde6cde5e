/**
 * The emulator's life as a process: start it detached (or serve in this process),
 * find it again through the record it writes in its state folder, stop it, and
 * wipe its state. Kept free of heavy imports: main.ts loads this on every start (the
 * server and node:child_process are imported where they are used).
 */
import {existsSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {mkdir, open, readdir, readFile, rm} from 'node:fs/promises'
import {request} from 'node:http'
import {createServer} from 'node:net'
import {join, resolve} from 'node:path'
import type {Readable} from 'node:stream'
import {fileURLToPath} from 'node:url'
import {NcapError, UsageError} from '../errors.js'
import {readJsonIfExists, tempPathFor} from '../store/atomic.js'
import {DEFAULT_EMULATOR_HOST, DEFAULT_EMULATOR_PORT, logPath, ncapVersion, recordPath, startLockPath} from './paths.js'

/** What a running emulator writes to `<stateDir>/emulator.json`. */
export interface EmulatorRecord {
  pid: number
  port: number
  endpoint: string
  host: string
  stateDir: string
  startedAt: string
  version: string
}

export type EmulatorStatus =
  | {running: true; endpoint: string; pid: number; stateDir: string}
  /** pid is set when a process still holds the record but its endpoint does not answer. */
  | {running: false; stateDir: string; pid?: number; reason?: string}

export interface StartResult {
  endpoint: string
  pid: number
  stateDir: string
  alreadyRunning: boolean
}

export interface StartOptions {
  stateDir: string
  /** 0 = any free port; default 4599. */
  port?: number
  host?: string
  /** How long to wait for the detached emulator to answer (default 10 s). */
  timeoutMs?: number
}

export interface StopResult {
  stopped: boolean
  stateDir: string
  pid?: number
  /** true when SIGTERM did not end it within the grace period and SIGKILL did. */
  forced?: boolean
}

export interface ResetResult {
  stateDir: string
  removed: string[]
  /** The pid of the emulator that was stopped first, if one ran. */
  stoppedPid?: number
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

export async function readRecord(stateDir: string): Promise<EmulatorRecord | undefined> {
  try {
    return await readJsonIfExists<EmulatorRecord>(recordPath(stateDir))
  } catch (error) {
    // Records are written atomically, so bad JSON means someone else wrote the file: treat it as absent.
    if (error instanceof SyntaxError) return undefined
    throw error
  }
}

/**
 * Writes the record as temp + rename, so a reader never sees half of it, but without
 * fsync: it describes a live process, and after a crash there is none (a record lost or
 * torn by one reads as "not running"). Synchronous, so what start-up queues once the
 * server listens (services resuming, the signer warming up) runs after the record is
 * written and the readiness announced, not before.
 */
function writeRecord(stateDir: string, record: EmulatorRecord): void {
  const path = recordPath(stateDir)
  const temp = tempPathFor(path)
  try {
    writeFileSync(temp, `${JSON.stringify(record)}\n`)
    renameSync(temp, path)
  } catch (error) {
    rmSync(temp, {force: true})
    throw error
  }
}

/** Removes the record only if it still names `pid`, so a newer emulator's record survives. */
async function removeRecord(stateDir: string, pid: number): Promise<void> {
  const record = await readRecord(stateDir)
  if (record?.pid === pid) await rm(recordPath(stateDir), {force: true})
}

/** Alive and not a zombie (a zombie still answers kill(pid, 0) until its parent reaps it). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true // no /proc (macOS): kill(pid, 0) is all we have
  }
}

/** Guards against pid reuse: on Linux, the process must look like an emulator before we signal it. */
function looksLikeEmulator(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('emulator')
  } catch {
    return true
  }
}

/** Any HTTP answer counts: an unsigned request gets AccessDenied, which still proves the server is up. */
export function endpointAnswers(endpoint: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const req = request(`${endpoint}/`, {method: 'GET', agent: false, timeout: timeoutMs}, (res) => {
      res.resume()
      done(true)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => done(false))
    req.end()
  })
}

export async function emulatorStatus(stateDir: string): Promise<EmulatorStatus> {
  const dir = resolve(stateDir)
  const record = await readRecord(dir)
  if (!record) return {running: false, stateDir: dir}
  if (!isProcessAlive(record.pid)) {
    await removeRecord(dir, record.pid)
    return {running: false, stateDir: dir, reason: `stale record removed: process ${record.pid} is gone`}
  }
  if (!(await endpointAnswers(record.endpoint))) {
    return {running: false, stateDir: dir, pid: record.pid, reason: `process ${record.pid} is alive but ${record.endpoint} does not answer`}
  }
  return {running: true, endpoint: record.endpoint, pid: record.pid, stateDir: dir}
}

export function portInUse(host: string, port: number): NcapError {
  return new NcapError(`Port ${port} on ${host} is already in use by another program.`, {
    code: 'PortInUse',
    suggestions: ['ncap emulator start --port <another port>', 'ncap emulator start --port 0   (any free port)'],
  })
}

async function assertPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((done, fail) => {
    const probe = createServer()
    probe.once('error', (error: NodeJS.ErrnoException) => {
      fail(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? portInUse(host, port) : error)
    })
    probe.listen({port, host, exclusive: true}, () => probe.close(() => done()))
  })
}

/** One starter per state folder: concurrent auto-starts wait for the first instead of spawning twice. */
async function acquireStartLock(stateDir: string, timeoutMs: number): Promise<() => Promise<void>> {
  const lock = startLockPath(stateDir)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const handle = await open(lock, 'wx')
      await handle.writeFile(String(process.pid))
      await handle.close()
      return () => rm(lock, {force: true})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const holder = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10)
    if (Number.isInteger(holder) && holder > 0 && !isProcessAlive(holder)) {
      await rm(lock, {force: true})
      continue
    }
    if (Date.now() > deadline) {
      throw new NcapError(`Another process (${holder}) has been starting the emulator in ${stateDir} for too long.`, {
        code: 'EmulatorStartLocked',
        suggestions: [`remove ${lock} if no ncap process is running`],
      })
    }
    await sleep(100)
  }
}

/** main.js beside this file; in dev mode (tsx) only main.ts exists and tsx runs it. */
function mainScript(): string {
  const js = fileURLToPath(new URL('./main.js', import.meta.url))
  return existsSync(js) ? js : fileURLToPath(new URL('./main.ts', import.meta.url))
}

/** Node flags to pass on (tsx's --import in dev mode), without -e/-p scripts or debugger ports. */
function childExecArgv(): string[] {
  const out: string[] = []
  const args = process.execArgv
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (['-e', '--eval', '-p', '--print'].includes(arg)) {
      i++
      continue
    }
    if (arg.startsWith('--eval=') || arg.startsWith('--print=') || arg.startsWith('--inspect') || arg === '--test') continue
    out.push(arg)
  }
  return out
}

async function logTail(stateDir: string, lines = 20): Promise<string> {
  const text = await readFile(logPath(stateDir), 'utf8').catch(() => '')
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}

/** Starts the emulator as a detached process and returns once its endpoint answers. Idempotent per state folder. */
export async function startEmulator(options: StartOptions): Promise<StartResult> {
  const stateDir = resolve(options.stateDir)
  const host = options.host ?? DEFAULT_EMULATOR_HOST
  const port = options.port ?? DEFAULT_EMULATOR_PORT
  const timeoutMs = options.timeoutMs ?? 10_000
  await mkdir(stateDir, {recursive: true})

  const running = async (): Promise<StartResult | undefined> => {
    const status = await emulatorStatus(stateDir)
    if (status.running) return {endpoint: status.endpoint, pid: status.pid, stateDir, alreadyRunning: true}
    if (status.pid !== undefined) {
      throw new NcapError(`An emulator process (${status.pid}) holds ${stateDir} but does not answer.`, {
        code: 'EmulatorNotAnswering',
        suggestions: [`ncap emulator stop --state-dir ${stateDir}`],
      })
    }
    return undefined
  }
  const existing = await running()
  if (existing) return existing

  const release = await acquireStartLock(stateDir, timeoutMs + 2000)
  try {
    const startedMeanwhile = await running()
    if (startedMeanwhile) return startedMeanwhile
    if (port !== 0) await assertPortFree(host, port)
    return await spawnDetached(stateDir, host, port, timeoutMs)
  } finally {
    await release()
  }
}

/** The fd on which the detached emulator announces its record once it listens (main.ts --ready-fd). */
const READY_FD = 3

/**
 * Spawns main.js detached and waits for it to announce its record on a pipe (fd 3):
 * readiness is known the moment it listens, with no polling of the record and no
 * request that would wait behind the start-up work the emulator does once it answers.
 */
async function spawnDetached(stateDir: string, host: string, port: number, timeoutMs: number): Promise<StartResult> {
  // Imported here: the emulator's own process (main.ts loads this file) never spawns through it.
  const {spawn} = await import('node:child_process')
  const log = await open(logPath(stateDir), 'a')
  const args = [...childExecArgv(), mainScript(), '--state-dir', stateDir, '--port', String(port), '--host', host]
  args.push('--ready-fd', String(READY_FD))
  const child = spawn(process.execPath, args, {detached: true, stdio: ['ignore', log.fd, log.fd, 'pipe'], env: process.env})
  await log.close()
  const ready = child.stdio[READY_FD] as Readable
  let timer: NodeJS.Timeout | undefined
  try {
    const outcome = await new Promise<{record: EmulatorRecord} | {exited: string} | {timedOut: true}>((done) => {
      let text = ''
      ready.setEncoding('utf8')
      ready.on('data', (chunk: string) => {
        text += chunk
        const newline = text.indexOf('\n')
        if (newline === -1) return
        try {
          done({record: JSON.parse(text.slice(0, newline)) as EmulatorRecord})
        } catch {
          done({exited: `announced something other than its record (${text.slice(0, 200)})`})
        }
      })
      // A read error means the emulator's end is gone: its exit says why.
      ready.on('error', () => undefined)
      child.once('exit', (code, signal) => done({exited: signal ? `was killed by ${signal}` : `exited with code ${code}`}))
      child.once('error', (error) => done({exited: `could not be spawned (${error.message})`}))
      timer = setTimeout(() => done({timedOut: true}), timeoutMs)
    })
    if ('record' in outcome && outcome.record.pid === child.pid) {
      const {record} = outcome
      return {endpoint: record.endpoint, pid: record.pid, stateDir, alreadyRunning: false}
    }
    // Whatever went wrong, a child still running is not left behind.
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGTERM')
    if ('timedOut' in outcome) {
      throw new NcapError(
        `The emulator did not answer within ${timeoutMs / 1000} s. Last lines of ${logPath(stateDir)}:\n${await logTail(stateDir)}`,
        {code: 'EmulatorStartTimeout'},
      )
    }
    const why = 'exited' in outcome ? outcome.exited : `announced the record of another process (${outcome.record.pid})`
    throw new NcapError(`The emulator ${why} before answering. Last lines of ${logPath(stateDir)}:\n${await logTail(stateDir)}`, {
      code: 'EmulatorStartFailed',
    })
  } finally {
    clearTimeout(timer)
    ready.destroy()
    child.unref()
  }
}

export interface ServingEmulator {
  record: EmulatorRecord
  close(): Promise<void>
}

/** Runs the server in this process and writes its record (main.ts and `start --foreground`). */
export async function serveEmulator(options: {stateDir: string; port?: number; host?: string}): Promise<ServingEmulator> {
  const stateDir = resolve(options.stateDir)
  const host = options.host ?? DEFAULT_EMULATOR_HOST
  const port = options.port ?? DEFAULT_EMULATOR_PORT
  await mkdir(stateDir, {recursive: true})
  const other = await emulatorStatus(stateDir)
  if (other.running) {
    throw new NcapError(`An emulator already runs on ${stateDir} at ${other.endpoint} (pid ${other.pid}).`, {
      code: 'EmulatorAlreadyRunning',
    })
  }
  const {startServer} = await import('./server.js')
  let server: Awaited<ReturnType<typeof startServer>>
  try {
    server = await startServer({stateDir, port, host})
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE' || code === 'EACCES') throw portInUse(host, port)
    throw error
  }
  const record: EmulatorRecord = {
    pid: process.pid,
    port: server.port,
    endpoint: server.endpoint,
    host,
    stateDir,
    startedAt: new Date().toISOString(),
    version: ncapVersion(),
  }
  writeRecord(stateDir, record)
  return {
    record,
    close: async () => {
      await removeRecord(stateDir, process.pid)
      await server.close()
    },
  }
}

/** Serves until SIGINT or SIGTERM, then closes cleanly (a second signal forces the exit). */
export async function serveUntilSignal(
  options: {stateDir: string; port?: number; host?: string},
  onReady: (record: EmulatorRecord) => void,
): Promise<NodeJS.Signals> {
  const serving = await serveEmulator(options)
  onReady(serving.record)
  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once('SIGINT', () => done('SIGINT'))
    process.once('SIGTERM', () => done('SIGTERM'))
  })
  const force = () => process.exit(1)
  process.once('SIGINT', force)
  process.once('SIGTERM', force)
  try {
    await serving.close()
  } finally {
    process.off('SIGINT', force)
    process.off('SIGTERM', force)
  }
  return signal
}

/** Starts the emulator when it is not running (any command that targets `local`); falls back to any free port when 4599 is taken. */
export async function ensureEmulator(options: {stateDir: string; port?: number}): Promise<StartResult> {
  try {
    return await startEmulator({stateDir: options.stateDir, port: options.port ?? DEFAULT_EMULATOR_PORT})
  } catch (error) {
    if (error instanceof NcapError && error.code === 'PortInUse' && options.port === undefined) {
      return startEmulator({stateDir: options.stateDir, port: 0})
    }
    throw error
  }
}

/** SIGTERM, up to `graceMs` to exit, then SIGKILL; the record is removed either way. */
export async function stopEmulator(stateDir: string, graceMs = 5000): Promise<StopResult> {
  const dir = resolve(stateDir)
  const record = await readRecord(dir)
  if (!record) return {stopped: false, stateDir: dir}
  const {pid} = record
  if (!isProcessAlive(pid) || !looksLikeEmulator(pid)) {
    await removeRecord(dir, pid)
    return {stopped: false, stateDir: dir}
  }
  process.kill(pid, 'SIGTERM')
  let forced = false
  const deadline = Date.now() + graceMs
  while (isProcessAlive(pid) && Date.now() < deadline) await sleep(50)
  if (isProcessAlive(pid)) {
    forced = true
    process.kill(pid, 'SIGKILL')
    const killDeadline = Date.now() + 2000
    while (isProcessAlive(pid) && Date.now() < killDeadline) await sleep(20)
  }
  await removeRecord(dir, pid)
  return {stopped: true, stateDir: dir, pid, forced}
}

/** What marks a folder as the emulator's, so a wrongly passed `--state-dir /` is never wiped. */
const STATE_MARKERS = ['emulator.json', 'emulator.log', 's3', 'iam', 'sts']

/** Stops a running emulator, then deletes everything inside its state folder (the folder itself stays). */
export async function resetEmulator(stateDir: string): Promise<ResetResult> {
  const dir = resolve(stateDir)
  if (!existsSync(dir)) return {stateDir: dir, removed: []}
  const entries = await readdir(dir)
  if (entries.length > 0 && !entries.some((name) => STATE_MARKERS.includes(name))) {
    throw new UsageError(
      `${dir} does not look like an emulator state folder (it has none of ${STATE_MARKERS.join(', ')}); nothing was deleted.`,
      {
        code: 'NotAnEmulatorStateDir',
        suggestions: ['pass the folder given to `ncap emulator start --state-dir`'],
      },
    )
  }
  const stopped = await stopEmulator(dir)
  const removed: string[] = []
  for (const name of await readdir(dir)) {
    await rm(join(dir, name), {recursive: true, force: true})
    removed.push(name)
  }
  return {stateDir: dir, removed: removed.sort(), stoppedPid: stopped.stopped ? stopped.pid : undefined}
}
