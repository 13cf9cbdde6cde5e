/**
 * The IAM account's state: the data of model.ts, the look-ups every IAM
 * operation shares, and durable persistence. No HTTP here (handler.ts does the
 * wire); the operations live in users.ts, policies.ts and roles.ts, and
 * credential resolution and policy evaluation in identity.ts.
 */
import {join} from 'node:path'
import {readJsonIfExists, writeJsonAtomic} from '../../../store/atomic.js'
import {ACCOUNT_ID} from '../../types.js'
import {AWS_MANAGED_POLICIES} from './aws-managed.js'
import {entityNotFound, noSuchEntity} from './errors.js'
import {
  type GroupRecord,
  type IamData,
  type InstanceProfileRecord,
  iamData,
  type ManagedPolicyRecord,
  nameKey,
  type RoleRecord,
  type UserRecord,
} from './model.js'

export class IamState {
  /** Bumped on every mutation so derived indexes (access keys → user) know to rebuild. */
  private generation = 0
  private indexedGeneration = -1
  private keyIndex = new Map<string, string>()
  private writing: Promise<void> = Promise.resolve()
  /** A write queued behind the current one, not yet begun: mutations until it begins share it. */
  private queued: Promise<void> | undefined

  private constructor(
    readonly stateDir: string,
    readonly data: IamData,
    /** Milliseconds since the epoch; injectable so expiry can be tested without waiting. */
    readonly clock: () => number = Date.now,
  ) {}

  static async open(stateDir: string, clock?: () => number): Promise<IamState> {
    const loaded = await readJsonIfExists<Partial<IamData>>(IamState.fileOf(stateDir))
    return new IamState(stateDir, iamData(loaded ?? {}), clock)
  }

  static fileOf(stateDir: string): string {
    return join(stateDir, 'iam', 'state.json')
  }

  /**
   * Records a mutation and writes the state durably; writes are serialized so the file always holds the
   * latest state. Mutations made while a write is queued share it (group commit): each caller's promise
   * settles after a write that began after its mutation, so a stack creating thousands of users costs a
   * handful of full-state writes, not one per user.
   */
  save(): Promise<void> {
    this.generation++
    if (this.queued) return this.queued
    const next = this.writing.then(() => {
      this.queued = undefined
      return writeJsonAtomic(IamState.fileOf(this.stateDir), this.data, 0o600)
    })
    this.queued = next
    this.writing = next.catch(() => undefined)
    return next
  }

  /** Waits for pending writes (on shutdown). */
  async flush(): Promise<void> {
    await this.writing
  }

  arn(kind: 'user' | 'group' | 'role' | 'policy' | 'instance-profile', path: string, name: string): string {
    return `arn:aws:iam::${ACCOUNT_ID}:${kind}${path}${name}`
  }

  findUser(name: string): UserRecord | undefined {
    return this.data.users[nameKey(name)]
  }

  user(name: string): UserRecord {
    const user = this.findUser(name)
    if (!user) throw entityNotFound('user', name)
    return user
  }

  group(name: string): GroupRecord {
    const group = this.data.groups[nameKey(name)]
    if (!group) throw entityNotFound('group', name)
    return group
  }

  findRole(name: string): RoleRecord | undefined {
    return this.data.roles[nameKey(name)]
  }

  role(name: string): RoleRecord {
    const role = this.findRole(name)
    if (!role) throw entityNotFound('role', name)
    return role
  }

  instanceProfile(name: string): InstanceProfileRecord {
    const profile = this.data.instanceProfiles[nameKey(name)]
    if (!profile) throw noSuchEntity(`Instance Profile ${name} cannot be found.`)
    return profile
  }

  /** A customer managed policy of this account or an AWS managed one. */
  findPolicy(arn: string): ManagedPolicyRecord | undefined {
    return this.data.policies[arn] ?? AWS_MANAGED_POLICIES.get(arn)
  }

  policy(arn: string): ManagedPolicyRecord {
    const policy = this.findPolicy(arn)
    if (!policy) throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`)
    return policy
  }

  /** The owner (user name) of a long-term access key. */
  userOfAccessKey(accessKeyId: string): UserRecord | undefined {
    if (this.indexedGeneration !== this.generation) {
      this.keyIndex = new Map()
      for (const [key, user] of Object.entries(this.data.users)) {
        for (const accessKey of user.AccessKeys) this.keyIndex.set(accessKey.AccessKeyId, key)
      }
      this.indexedGeneration = this.generation
    }
    const key = this.keyIndex.get(accessKeyId)
    return key === undefined ? undefined : this.data.users[key]
  }

  /** How many users, groups and roles a managed policy is attached to. */
  attachmentCount(arn: string): number {
    let count = 0
    for (const holders of [this.data.users, this.data.groups, this.data.roles]) {
      for (const holder of Object.values(holders)) if (holder.AttachedPolicyArns.includes(arn)) count++
    }
    return count
  }

  now(): Date {
    return new Date(this.clock())
  }
}
