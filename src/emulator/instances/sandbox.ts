/**
 * One instance's sandbox.
 *
 * 'namespace' mode (root here): `setpriv --pdeathsig KILL unshare --mount --pid
 * --fork --kill-child --mount-proc` starts the instance's init (a small bash
 * that reaps orphans) in a private mount and pid namespace. Before it settles,
 * it assembles the instance's view: the image overlaid (lower: the registered
 * image folder, never written; upper: the instance's own folder) as
 * /home/ubuntu, the instance's own /tmp, and /home/.ncap holding the shims. It
 * keeps the host's network, so the emulator is on 127.0.0.1. Commands enter it
 * with `nsenter` as their own process group. If the emulator dies, even by
 * SIGKILL, the kernel sends SIGKILL to `unshare`, which takes the namespace's
 * init with it, and the pid namespace ends every process in it: nothing outlives
 * the emulator.
 *
 * 'folder' mode (no namespaces): a copy of the image (reflink where the
 * filesystem shares blocks, else hard links) is the instance's home, HOME is set
 * to it, and commands run there as their own process group with a parent-death
 * signal; their pids are recorded so a restarted emulator can reap any
 * descendant that escaped.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {mkdir, rm, writeFile} from 'node:fs/promises'
import {delimiter, dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {InstanceExec, RunningExec} from '../internal.js'
import type {HostAbilities} from './host.js'
import {type MetadataServer, startMetadataServer} from './metadata.js'
import {hostAwsCli, writeShims} from './shims.js'
import type {InstanceSandbox, RoleCredentials, SandboxEvents, SandboxSpec} from './types.js'

/** Where the image is inside the instance, and where the shims are. */
export const HOME_IN_VIEW = '/home/ubuntu'

/**
 * Host folders an instance still needs that the instance's private /home and /tmp
 * would hide: the PATH's folders, node's, and ncap's own package (the `aws`
 * stand-in runs from it), when they live under /home or /tmp. Each is bound, read
 * only, at the same path inside the instance.
 */
export function hostPathsToKeep(env: NodeJS.ProcessEnv = process.env): string[] {
  const here = dirname(fileURLToPath(import.meta.url))
  // ncap's package root: the folder holding node_modules above this file (src/ or dist/src/).
  let root = here
  while (root !== dirname(root) && !existsSync(join(root, 'node_modules'))) root = dirname(root)
  const candidates = [...(env.PATH ?? '').split(delimiter), dirname(process.execPath), root]
  const hidden = (p: string) => p.startsWith('/home/') || p.startsWith('/tmp/')
  const kept = [...new Set(candidates.filter((p) => p?.startsWith('/')).map((p) => resolve(p)))]
    .filter((p) => hidden(p) && !p.startsWith(HOME_IN_VIEW) && existsSync(p))
    .sort()
  // A folder inside another kept folder comes with it.
  return kept.filter((p, i) => !kept.some((q, j) => j !== i && p.startsWith(`${q}/`)))
}
const NCAP_IN_VIEW = '/home/.ncap'

/** overlay: an empty upper layer over the image; copy: a copy sharing the image's blocks (reflink) or, failing that, its inodes (hard links). */
export type Layering = 'overlay' | 'copy'

export interface SandboxContext {
  abilities: HostAbilities
  /** 'folder' forces folder mode even where namespaces work (tests of the fallback). */
  forceMode?: 'folder' | 'namespace'
  now: () => number
  /** Records the pids the runtime must reap after a crash (written synchronously before they run). */
  recordPids(instanceId: string, pids: number[]): void
  /** The AWS CLI the instance's `aws` wraps: a path, null for ncap's stand-in, undefined to find the host's. */
  awsCli?: string | null
  /** Told once when an instance runs without a namespace. */
  noteFolderMode(reason: string): void
}

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`

function stillAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function killGroup(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      // Gone already.
    }
  }
}

export class Sandbox implements InstanceSandbox {
  readonly mode: 'namespace' | 'folder'
  readonly layering: Layering
  /** How a copy was made: reflink, hardlink or a full copy (another filesystem); undefined for overlay. */
  copiedAs: 'reflink' | 'hardlink' | 'full' | undefined
  private init: ChildProcess | undefined
  /** The namespace init's pid on the host (the target of nsenter). */
  private initPid = 0
  private metadata: MetadataServer | undefined
  private credentialsCache: RoleCredentials | undefined
  private readonly running = new Set<{pid: number; kill: (signal?: NodeJS.Signals) => void; done: Promise<unknown>}>()
  private execCount = 0
  private started = false

  constructor(
    readonly spec: SandboxSpec,
    private readonly events: SandboxEvents,
    private readonly context: SandboxContext,
  ) {
    const {abilities, forceMode} = context
    this.mode = forceMode === 'folder' || !abilities.namespaces ? 'folder' : 'namespace'
    this.layering = this.mode === 'namespace' && abilities.overlay ? 'overlay' : 'copy'
  }

  get root(): string {
    return join(this.spec.instanceDir, this.layering === 'overlay' ? 'upper' : 'root')
  }
  private get runtimeDir(): string {
    return join(this.spec.instanceDir, 'runtime')
  }
  private get shimDir(): string {
    return join(this.runtimeDir, 'bin')
  }
  /** The metadata endpoint, for SDKs inside and for SSM's agent side (output uploads with the role's rights). */
  get metadataEndpoint(): string | undefined {
    return this.metadata?.endpoint
  }
  get isRunning(): boolean {
    return this.started
  }

  /** The role's current credentials (renewed near expiry), as the metadata endpoint serves them. */
  async roleCredentials(): Promise<RoleCredentials | undefined> {
    if (!this.spec.credentials) return undefined
    if (!this.credentialsCache || this.credentialsCache.expiration.getTime() - this.context.now() < 5 * 60_000) {
      this.credentialsCache = await this.spec.credentials()
    }
    return this.credentialsCache
  }

  async start(): Promise<void> {
    if (this.started) return
    const {instanceDir} = this.spec
    await mkdir(instanceDir, {recursive: true})
    this.copiedAs = await prepareRoot(this.spec, this.layering, this.root)
    await rm(join(instanceDir, 'tmp'), {recursive: true, force: true})
    await mkdir(join(instanceDir, 'tmp'), {recursive: true, mode: 0o1777})
    await mkdir(join(this.runtimeDir, 'exec'), {recursive: true})
    this.metadata = await startMetadataServer(this.spec, (kind) => this.events.onShutdownRequest(kind), this.context.now)
    const viewDir = this.mode === 'namespace' ? `${NCAP_IN_VIEW}/bin` : this.shimDir
    await writeShims({
      dir: this.shimDir,
      viewDir,
      port: this.metadata.port,
      controlPath: this.metadata.controlPath,
      awsCli: this.context.awsCli === null ? undefined : (this.context.awsCli ?? hostAwsCli(this.shimDir)),
    })
    if (this.mode === 'namespace') await this.startNamespace()
    else
      this.context.noteFolderMode(
        this.context.abilities.namespaces ? 'folder mode was asked for' : 'this host allows no private mount and pid namespace',
      )
    this.started = true
    const firstBoot = join(instanceDir, 'booted')
    if (this.spec.userData !== undefined && !existsSync(firstBoot)) {
      await writeFile(firstBoot, new Date(this.context.now()).toISOString())
      this.runUserData(this.spec.userData)
    } else if (!existsSync(firstBoot)) {
      await writeFile(firstBoot, new Date(this.context.now()).toISOString())
    }
  }

  private async startNamespace(): Promise<void> {
    const {instanceDir, imageDir} = this.spec
    const stage = this.context.abilities.stage
    const lines = [
      'set -e',
      // Every source path is reached before anything is mounted over it (the state folder may live under /tmp or /home).
      `mount -t tmpfs -o mode=755 ncap-stage ${quote(stage)}`,
      `mkdir -p ${quote(`${stage}/home`)} ${quote(`${stage}/tmp`)}`,
      `mount --bind ${quote(join(instanceDir, 'tmp'))} ${quote(`${stage}/tmp`)}`,
      `mount -t tmpfs -o mode=755 ncap-home ${quote(`${stage}/home`)}`,
      `mkdir -p ${quote(`${stage}/home/ubuntu`)} ${quote(`${stage}/home/.ncap`)}`,
      this.layering === 'overlay'
        ? `mount -t overlay overlay -o ${quote(`lowerdir=${imageDir},upperdir=${this.root},workdir=${join(instanceDir, 'work')}`)} ${quote(`${stage}/home/ubuntu`)}`
        : `mount --bind ${quote(this.root)} ${quote(`${stage}/home/ubuntu`)}`,
      `mount --bind ${quote(this.runtimeDir)} ${quote(`${stage}/home/.ncap`)}`,
      // The host's own tools (node, ncap, the PATH) stay reachable when they live under /home or /tmp (nvm, ~/.local).
      ...hostPathsToKeep().flatMap((path) => {
        const inStage = `${stage}${path}`
        return [
          `mkdir -p ${quote(inStage)}`,
          `mount --bind ${quote(path)} ${quote(inStage)}`,
          `mount -o remount,bind,ro ${quote(inStage)} || true`,
        ]
      }),
      `mount --move ${quote(`${stage}/home`)} /home`,
      `mount --move ${quote(`${stage}/tmp`)} /tmp`,
      `umount ${quote(stage)}`,
      'set +e',
      'echo ncap-ready',
      'exec </dev/null >/dev/null 2>&1',
      // The namespace's init: reaps orphans until the instance halts.
      'trap "" TERM INT HUP',
      'while :; do sleep 86400 & wait $!; done',
    ]
    if (this.layering === 'overlay') await mkdir(join(instanceDir, 'work'), {recursive: true})
    const args = ['unshare', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc', 'bash', '-c', lines.join('\n')]
    const command = this.context.abilities.setpriv ? 'setpriv' : args.shift()!
    if (this.context.abilities.setpriv) args.unshift('--pdeathsig', 'KILL')
    const child = spawn(command, args, {stdio: ['ignore', 'pipe', 'pipe'], detached: true})
    this.init = child
    let stderr = ''
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const onData = (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('ncap-ready')) {
          child.stdout!.off('data', onData)
          child.off('exit', onExit)
          resolve()
        }
      }
      const onExit = (code: number | null) =>
        reject(new Error(`instance ${this.spec.instanceId} could not boot its namespace (exit ${code}): ${stderr.trim()}`))
      child.stdout!.on('data', onData)
      child.once('exit', onExit)
      child.once('error', reject)
    })
    child.stdout!.resume()
    child.stderr!.resume()
    this.initPid = findChild(child.pid!)
    if (!this.initPid) throw new Error(`instance ${this.spec.instanceId}: its namespace init is gone`)
    this.context.recordPids(this.spec.instanceId, [child.pid!, this.initPid])
    child.once('exit', () => {
      this.initPid = 0
    })
  }

  /** The environment of every process in the instance: the role's credentials, region, endpoint, metadata endpoint, PATH with the shims first. */
  private async environment(extra: Record<string, string> | undefined): Promise<Record<string, string>> {
    const home = this.mode === 'namespace' ? HOME_IN_VIEW : this.root
    const shims = this.mode === 'namespace' ? `${NCAP_IN_VIEW}/bin` : this.shimDir
    const hostPath = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'
    const env: Record<string, string> = {
      PATH: `${shims}:${hostPath}:/usr/local/sbin:/usr/sbin:/sbin`,
      HOME: home,
      USER: 'root',
      LOGNAME: 'root',
      SHELL: '/bin/bash',
      LANG: process.env.LANG ?? 'C.UTF-8',
      AWS_REGION: this.spec.region,
      AWS_DEFAULT_REGION: this.spec.region,
      AWS_ENDPOINT_URL: this.spec.endpoint,
      // A trailing slash: botocore (AWS CLI) appends latest/api/token to it as it is.
      AWS_EC2_METADATA_SERVICE_ENDPOINT: this.metadata ? `${this.metadata.endpoint}/` : '',
      AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'IPv4',
      NCAP_INSTANCE_ID: this.spec.instanceId,
      NCAP_CLOCK_OFFSET_MS: String(this.spec.clockOffsetMs()),
    }
    if (this.mode === 'namespace') env.TMPDIR = '/tmp'
    else env.TMPDIR = join(this.spec.instanceDir, 'tmp')
    const pyenv = process.env.PYENV_ROOT
    if (pyenv) env.PYENV_ROOT = pyenv
    const credentials = await this.roleCredentials().catch(() => undefined)
    if (credentials) {
      env.AWS_ACCESS_KEY_ID = credentials.accessKeyId
      env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey
      env.AWS_SESSION_TOKEN = credentials.sessionToken
    }
    return {...env, ...extra}
  }

  /** A working folder named inside the instance, as the host reaches it in folder mode (`~` is the home). */
  private workingFolder(requested: string | undefined): string {
    const home = this.mode === 'namespace' ? HOME_IN_VIEW : this.root
    if (!requested) return home
    let path = requested.trim()
    if (path === '~' || path.startsWith('~/')) path = home + path.slice(1)
    if (this.mode === 'folder' && (path === HOME_IN_VIEW || path.startsWith(`${HOME_IN_VIEW}/`)))
      path = this.root + path.slice(HOME_IN_VIEW.length)
    return path
  }

  exec(command: InstanceExec): RunningExec {
    if (!this.started || (this.mode === 'namespace' && !this.initPid)) {
      throw new Error(`instance ${this.spec.instanceId} is not running`)
    }
    const id = ++this.execCount
    const scriptHost = join(this.runtimeDir, 'exec', `${id}.sh`)
    const scriptView = this.mode === 'namespace' ? `${NCAP_IN_VIEW}/exec/${id}.sh` : scriptHost
    writeFileSync(scriptHost, command.script, {mode: 0o700})
    const cwd = this.workingFolder(command.workingDirectory)
    const wrapper = [
      `cd -- ${quote(cwd)} 2>/dev/null || { echo ${quote(`failed to run commands: the working directory ${command.workingDirectory ?? cwd} does not exist`)} >&2; exit 1; }`,
      `exec bash ${quote(scriptView)}`,
    ].join('\n')
    let exitResolve!: (value: {exitCode: number | null; signal: string | null}) => void
    const done = new Promise<{exitCode: number | null; signal: string | null}>((resolve) => {
      exitResolve = resolve
    })
    const prefix = this.context.abilities.setpriv ? ['setpriv', '--pdeathsig', 'KILL'] : []
    const core =
      this.mode === 'namespace'
        ? ['nsenter', '--target', String(this.initPid), '--mount', '--pid', '--', 'bash', '-c', wrapper]
        : ['bash', '-c', wrapper]
    const argv = [...prefix, ...core]
    const spawnEnv = this.environment(command.env)
    // The environment needs the role's credentials (async); the process starts as soon as they are known.
    let child: ChildProcess | undefined
    let killedWith: NodeJS.Signals | undefined
    const entry = {
      pid: 0,
      kill: (signal: NodeJS.Signals = 'SIGKILL') => {
        killedWith = signal
        if (child?.pid) killGroup(child.pid, signal)
      },
      done,
    }
    const handle: RunningExec = {
      get pid() {
        return entry.pid
      },
      done,
      kill: (signal) => entry.kill(signal),
    }
    this.running.add(entry)
    void spawnEnv.then(
      (env) => {
        if (killedWith) {
          exitResolve({exitCode: null, signal: killedWith})
          return
        }
        child = spawn(argv[0]!, argv.slice(1), {env, stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: '/'})
        entry.pid = child.pid ?? 0
        if (this.mode === 'folder' && child.pid) this.context.recordPids(this.spec.instanceId, [child.pid])
        child.stdout!.on('data', (chunk: Buffer) => command.onStdout?.(chunk))
        child.stderr!.on('data', (chunk: Buffer) => command.onStderr?.(chunk))
        child.once('error', (error) => {
          command.onStderr?.(Buffer.from(`${error.message}\n`))
          exitResolve({exitCode: 127, signal: null})
        })
        child.once('close', (code, signal) => {
          this.running.delete(entry)
          void rm(scriptHost, {force: true})
          // Killed from outside the namespace (halt), nsenter reports the signal its child died of as its own exit code 128+n.
          if (killedWith && code !== 0 && !signal) exitResolve({exitCode: null, signal: killedWith})
          else exitResolve({exitCode: code, signal})
        })
      },
      (error: Error) => {
        this.running.delete(entry)
        command.onStderr?.(Buffer.from(`${error.message}\n`))
        exitResolve({exitCode: 1, signal: null})
      },
    )
    // pid is filled once spawned; callers that need it at once read it after a tick.
    return handle
  }

  private runUserData(userData: string): void {
    const script = userData.startsWith('#!') ? userData : `#!/bin/bash\n${userData}`
    const path = join(this.runtimeDir, 'user-data')
    writeFileSync(path, script, {mode: 0o700})
    const inView = this.mode === 'namespace' ? `${NCAP_IN_VIEW}/user-data` : path
    this.events.onConsoleOutput(Buffer.from(`Cloud-init: running user data of ${this.spec.instanceId}\n`))
    try {
      this.exec({
        script: `exec ${quote(inView)}`,
        onStdout: (chunk) => this.events.onConsoleOutput(chunk),
        onStderr: (chunk) => this.events.onConsoleOutput(chunk),
      }).done.then(({exitCode, signal}) =>
        this.events.onConsoleOutput(Buffer.from(`Cloud-init: user data finished (${signal ? `signal ${signal}` : `exit ${exitCode}`})\n`)),
      )
    } catch (error) {
      this.events.onConsoleOutput(Buffer.from(`Cloud-init: user data not run: ${(error as Error).message}\n`))
    }
  }

  async halt(): Promise<void> {
    this.started = false
    for (const entry of this.running) entry.kill('SIGKILL')
    const init = this.init
    this.init = undefined
    if (init && init.exitCode === null && init.signalCode === null) {
      const exited = new Promise<void>((resolve) => init.once('exit', () => resolve()))
      // SIGKILL to the namespace's init ends every process in the pid namespace; unshare follows.
      if (this.initPid) killGroup(this.initPid)
      killGroup(init.pid!)
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())])
    }
    this.initPid = 0
    await Promise.race([
      Promise.allSettled([...this.running].map((entry) => entry.done)),
      new Promise((resolve) => setTimeout(resolve, 2000).unref()),
    ])
    this.running.clear()
    await this.metadata?.close()
    this.metadata = undefined
    this.context.recordPids(this.spec.instanceId, [])
  }

  async destroy(): Promise<void> {
    if (this.started) await this.halt()
    await rm(this.spec.instanceDir, {recursive: true, force: true})
  }

  /** Pids of processes in the instance still alive (for tests and the kill check). */
  livePids(): number[] {
    return [this.init?.pid, this.initPid, ...[...this.running].map((entry) => entry.pid)].filter(
      (pid): pid is number => !!pid && stillAlive(pid),
    )
  }
}

/** The child of `unshare` (the namespace's init) on the host. */
function findChild(pid: number): number {
  // setpriv execs unshare in place, so the spawned pid is unshare's; its one child is the init.
  // Read in place: a spawned `cat` would block the emulator's event loop for a process start per boot.
  try {
    const first = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(first) && first > 0 ? first : 0
  } catch {
    return 0
  }
}

/** The instance's writable layer: an empty overlay upper, or a copy sharing the image's blocks (reflink) or inodes (hard links). */
async function prepareRoot(spec: SandboxSpec, layering: Layering, root: string): Promise<'reflink' | 'hardlink' | 'full' | undefined> {
  if (layering === 'overlay') {
    await mkdir(root, {recursive: true})
    return undefined
  }
  const marker = join(spec.instanceDir, 'copied-as')
  if (existsSync(root)) return (readFileSafe(marker) as 'reflink' | 'hardlink' | 'full') || undefined
  await mkdir(spec.instanceDir, {recursive: true})
  const partial = `${root}.partial`
  // Reflink fails at once on filesystems without shared extents (ext4); hard links cannot cross filesystems; a full copy is the last resort.
  for (const [how, flag] of [
    ['reflink', '--reflink=always'],
    ['hardlink', '-l'],
    ['full', ''],
  ] as const) {
    await rm(partial, {recursive: true, force: true})
    const args = ['-a', ...(flag ? [flag] : []), '--', `${spec.imageDir}/.`, partial]
    const result = spawnSync('cp', args, {stdio: 'ignore'})
    if (result.status === 0) {
      spawnSync('mv', ['--', partial, root])
      await writeFile(marker, how)
      return how
    }
  }
  throw new Error(`could not lay out instance ${spec.instanceId} from ${spec.imageDir}`)
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return ''
  }
}
