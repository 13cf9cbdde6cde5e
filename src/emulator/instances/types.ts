/**
 * The contract between EC2 (services/ec2: the API, instance records, states and
 * their events) and the instance runtime (instances/: the sandbox an instance
 * really runs in, its processes, metadata endpoint and `aws` on PATH). EC2 decides
 * what state an instance is in; the runtime makes it so and reports what happens
 * inside it (a `poweroff`, the user data's output). SSM runs commands through
 * EC2's internal exec, which hands them to the instance's sandbox.
 */
import type {InstanceExec, RunningExec} from '../internal.js'

export interface RoleCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
  expiration: Date
  /** The role's name, as the metadata endpoint lists it under iam/security-credentials/. */
  roleName: string
}

export interface SandboxSpec {
  instanceId: string
  region: string
  imageId: string
  /** The registered image's folder on the host: the instance's /home/ubuntu. */
  imageDir: string
  /** Where this instance keeps what it writes (its upper layer, /tmp, logs), under the state folder. */
  instanceDir: string
  instanceType: string
  /** The emulator's endpoint, for the `aws` on PATH and AWS_ENDPOINT_URL. */
  endpoint: string
  /** Fresh credentials of the instance profile's role (renewed before they expire); undefined without a profile. */
  credentials?: () => Promise<RoleCredentials | undefined>
  /** Base64-decoded user data, run once at first boot (its output goes to the console output). */
  userData?: string
  /** The emulator clock's offset, so processes inside agree with it. */
  clockOffsetMs: () => number
}

export interface SandboxEvents {
  /** A process inside asked to power off (`poweroff`, `shutdown -h now`, `halt`) or to reboot. */
  onShutdownRequest(kind: 'poweroff' | 'reboot'): void
  /** Output for GetConsoleOutput (user data, boot lines). */
  onConsoleOutput(chunk: Buffer): void
}

export interface InstanceSandbox {
  /** 'namespace': a private mount and pid namespace where the image is /home/ubuntu; 'folder': runs in its folder with HOME set to it. */
  readonly mode: 'namespace' | 'folder'
  /** Boots: prepares the filesystem view, starts the metadata endpoint, runs user data on first boot. */
  start(): Promise<void>
  /** Runs a script inside the running instance. */
  exec(command: InstanceExec): RunningExec
  /** Kills every process of the instance (stop, terminate, reboot); the instance's files stay for a later start. */
  halt(): Promise<void>
  /** Removes the instance's own files (terminate). */
  destroy(): Promise<void>
}

export interface InstanceRuntime {
  create(spec: SandboxSpec, events: SandboxEvents): Promise<InstanceSandbox>
  /** Kills any process left from instances of an earlier emulator run (after a SIGKILL), by the pids it recorded. */
  reapOrphans(stateDir: string): Promise<number>
}
