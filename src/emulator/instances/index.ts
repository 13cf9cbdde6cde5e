/**
 * The instance runtime EC2 calls (types.ts is the contract): it makes each
 * instance's sandbox, remembers which host processes belong to instances (so a
 * restarted emulator can reap any that escaped), and keeps a registry of live
 * sandboxes in this process for SSM's agent side (which instances are managed,
 * the role an instance's output is uploaded with).
 */
import {readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import type {EventRecord} from '../event-record.js'
import {hostAbilities} from './host.js'
import {Sandbox} from './sandbox.js'
import type {InstanceRuntime, InstanceSandbox, SandboxEvents, SandboxSpec} from './types.js'

export {Sandbox} from './sandbox.js'
export type {InstanceRuntime, InstanceSandbox, RoleCredentials, SandboxEvents, SandboxSpec} from './types.js'

export interface InstanceRuntimeOptions {
  /** The emulator's state folder: pid records live in `${stateDir}/instances/`. */
  stateDir: string
  /** Where the one-time notice of folder mode goes (besides the event record). */
  log?: (line: string) => void
  events?: EventRecord
  /** The emulator clock's now(); Date.now by default. */
  now?: () => number
  /** 'folder' runs instances without namespaces even where the host allows them (tests of the fallback). */
  mode?: 'folder' | 'namespace'
  /** The AWS CLI instances' `aws` wraps: a path, null for ncap's Node stand-in, undefined to use the host's (NCAP_INSTANCE_AWS=standin|PATH overrides). */
  awsCli?: string | null
}

/** Live sandboxes of this process by instance id (SSM's agent side reads it). */
const live = new Map<string, Sandbox>()

/** The running sandbox of an instance in this process, if any. */
export function runningSandbox(instanceId: string): Sandbox | undefined {
  const sandbox = live.get(instanceId)
  return sandbox?.isRunning ? sandbox : undefined
}

/** Every running sandbox of this process (DescribeInstanceInformation's candidates; EC2 says which are its own). */
export function runningSandboxes(): Sandbox[] {
  return [...live.values()].filter((sandbox) => sandbox.isRunning)
}

export const pidFolder = (stateDir: string) => join(stateDir, 'instances')

/** The start time of a pid (field 22 of /proc/PID/stat), so a recycled pid is never taken for ours. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

export function createInstanceRuntime(options: InstanceRuntimeOptions): InstanceRuntime {
  const now = options.now ?? Date.now
  const folder = pidFolder(options.stateDir)
  let noted = false
  const recordPids = (instanceId: string, pids: number[]) => {
    const path = join(folder, `${instanceId}.pids.json`)
    try {
      if (pids.length === 0) {
        rmSync(path, {force: true})
        return
      }
      let known: {pid: number; start?: string}[] = []
      try {
        known = JSON.parse(readFileSync(path, 'utf8')) as typeof known
      } catch {
        // First record for this instance.
      }
      const alive = known.filter((entry) => startTimeOf(entry.pid) === entry.start)
      for (const pid of pids) alive.push({pid, start: startTimeOf(pid)})
      // Written synchronously: a SIGKILL right after must still find it.
      writeFileSync(path, JSON.stringify(alive))
    } catch {
      // The state folder went away (tests clean up while instances halt).
    }
  }
  const noteFolderMode = (reason: string) => {
    if (noted) return
    noted = true
    const line = `emulator: instances run in their own folders with HOME set to them (${reason}); the image is not /home/ubuntu and processes are reaped by recorded pid`
    options.log?.(line)
    options.events?.record({service: 'ec2', kind: 'ec2.instance-runtime', outcome: 'info', summary: line})
  }
  return {
    async create(spec: SandboxSpec, events: SandboxEvents): Promise<InstanceSandbox> {
      await mkdir(folder, {recursive: true})
      const abilities = await hostAbilities(dirname(spec.instanceDir))
      const sandbox = new Sandbox(spec, events, {
        abilities,
        forceMode: options.mode,
        awsCli: options.awsCli,
        now,
        recordPids,
        noteFolderMode,
      })
      live.set(spec.instanceId, sandbox)
      const destroy = sandbox.destroy.bind(sandbox)
      sandbox.destroy = async () => {
        await destroy()
        live.delete(spec.instanceId)
      }
      return sandbox
    },
    async reapOrphans(stateDir: string): Promise<number> {
      const dir = pidFolder(stateDir)
      let reaped = 0
      let names: string[] = []
      try {
        names = readdirSync(dir).filter((name) => name.endsWith('.pids.json'))
      } catch {
        return 0
      }
      for (const name of names) {
        const instanceId = name.slice(0, -'.pids.json'.length)
        if (runningSandbox(instanceId)) continue
        let entries: {pid: number; start?: string}[] = []
        try {
          entries = JSON.parse(readFileSync(join(dir, name), 'utf8')) as typeof entries
        } catch {
          // A torn record: nothing to trust in it.
        }
        for (const {pid, start} of entries) {
          if (!start || startTimeOf(pid) !== start) continue
          for (const target of [-pid, pid]) {
            try {
              process.kill(target, 'SIGKILL')
            } catch {
              // Not a group leader, or gone.
            }
          }
          reaped++
        }
        rmSync(join(dir, name), {force: true})
      }
      return reaped
    },
  }
}
