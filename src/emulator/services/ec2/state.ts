/**
 * EC2's state and behaviour (no HTTP): images from the local registry, instances
 * and their states, volumes, security groups, key pairs, tags, and the default
 * VPC of each region. Instances are driven through the instance runtime
 * (instances/types.ts): EC2 decides the state, the runtime makes it so.
 * Persisted durably in `${stateDir}/ec2/state.json`.
 */
import {readFileSync} from 'node:fs'
import {appendFile, mkdir, rm} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {readJsonIfExists, writeJsonAtomic} from '../../../store/atomic.js'
import {AwsError} from '../../errors.js'
import type {InstanceRuntime, InstanceSandbox, RoleCredentials} from '../../instances/types.js'
import type {InstanceExec, InstanceView, RunningExec} from '../../internal.js'
import {ACCOUNT_ID, type ServiceEnvironment} from '../../types.js'
import {instanceTypeInfo, zonesOf} from './catalog.js'
import * as E from './errors.js'
import {IMAGE_ID, type ImageRecord, readRegistry, registryStamp} from './images.js'
import {
  type BlockDevice,
  type Ec2Data,
  emptyData,
  type GroupRecord,
  type InstanceRecord,
  type InstanceStateName,
  type KeyPairRecord,
  newId,
  type PermissionRecord,
  type Reason,
  STATE_CODES,
  stableId,
  type Tags,
  userInitiated,
  type VolumeRecord,
} from './model.js'

/** Terminated instances stay listed this long on the emulator clock, as on AWS. */
export const TERMINATED_LISTED_MS = 60 * 60 * 1000

export const INSTANCE_SHUTDOWN: Reason = {
  Code: 'Client.InstanceInitiatedShutdown',
  Message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown',
}
export const USER_SHUTDOWN: Reason = {
  Code: 'Client.UserInitiatedShutdown',
  Message: 'Client.UserInitiatedShutdown: User initiated shutdown',
}
export const EMULATOR_RESTARTED: Reason = {
  Code: 'Server.InternalError',
  Message: "Server.InternalError: the ncap emulator restarted; the instance's processes ended with the previous emulator process",
}

export interface StateChange {
  InstanceId: string
  PreviousState: {Code: number; Name: InstanceStateName}
  CurrentState: {Code: number; Name: InstanceStateName}
}

interface Live {
  sandbox?: InstanceSandbox
  chain: Promise<void>
  console: Buffer[]
  consoleBytes: number
  consoleWrite?: Promise<void>
  credentials?: RoleCredentials
}

const CONSOLE_LIMIT = 64 * 1024

export const stateOf = (name: InstanceStateName) => ({Code: STATE_CODES[name], Name: name})

export interface LaunchInput {
  region: string
  imageId: string
  minCount: number
  maxCount: number
  instanceType: string
  keyName?: string
  groupNames: string[]
  groupIds: string[]
  subnetId?: string
  profileName?: string
  profileArn?: string
  shutdownBehavior?: string
  userData?: string
  disableApiTermination?: boolean
  clientToken?: string
  ebsOptimized?: boolean
  monitoring?: boolean
  instanceTags: Tags
  volumeTags: Tags
  blockDevices: {
    DeviceName: string
    NoDevice?: boolean
    VirtualName?: string
    Ebs?: {VolumeSize?: number; VolumeType?: string; DeleteOnTermination?: boolean; Iops?: number; Encrypted?: boolean; SnapshotId?: string}
  }[]
  placementZone?: string
  /** Throws unless the caller may pass the profile's role to the instance (iam:PassRole, as AWS checks at launch). */
  passRole?: (roleArn: string) => void
}

export class Ec2State {
  readonly data: Ec2Data
  private images: Record<string, ImageRecord> = {}
  private imagesStamp = -1
  private readonly live = new Map<string, Live>()
  private writing: Promise<void> = Promise.resolve()
  private dirty = false
  private saving = false
  private readonly purgeTimers = new Map<string, {cancel(): void}>()
  private iamSaveQueued = false

  private constructor(
    readonly env: ServiceEnvironment,
    data: Ec2Data,
    private readonly runtime: () => Promise<InstanceRuntime>,
  ) {
    this.data = data
  }

  static async open(env: ServiceEnvironment, runtime: () => Promise<InstanceRuntime>): Promise<Ec2State> {
    const loaded = await readJsonIfExists<Partial<Ec2Data>>(Ec2State.fileOf(env.stateDir))
    const state = new Ec2State(env, {...emptyData(), ...loaded}, runtime)
    await state.refreshImages()
    return state
  }

  static fileOf(stateDir: string): string {
    return join(stateDir, 'ec2', 'state.json')
  }

  get dir(): string {
    return join(this.env.stateDir, 'ec2')
  }

  now(): number {
    return this.env.clock.now()
  }

  iso(): string {
    return new Date(this.now()).toISOString()
  }

  /** Writes the state durably; writes coalesce (one write in flight, one more queued at most). */
  save(): Promise<void> {
    this.dirty = true
    if (this.saving) return this.writing
    this.saving = true
    const next = (async () => {
      try {
        while (this.dirty) {
          this.dirty = false
          await writeJsonAtomic(Ec2State.fileOf(this.env.stateDir), this.data, 0o600)
        }
      } finally {
        this.saving = false
      }
    })()
    this.writing = next.catch(() => undefined)
    return next
  }

  async flush(): Promise<void> {
    while (this.saving) await this.writing
  }

  // ---- images ----

  /** Re-reads the image registry when its file changed (images are added by the CLI while the emulator runs). */
  async refreshImages(): Promise<void> {
    const stamp = registryStamp(this.env.stateDir)
    if (stamp === this.imagesStamp) return
    this.imagesStamp = stamp
    this.images = (await readRegistry(this.env.stateDir)).images
  }

  allImages(): ImageRecord[] {
    return Object.values(this.images)
  }

  image(imageId: string): ImageRecord {
    if (!IMAGE_ID.test(imageId)) throw E.amiMalformed(imageId)
    const image = this.images[imageId]
    if (!image) throw E.amiNotFound([imageId])
    return image
  }

  // ---- the default VPC ----

  vpcId(region: string): string {
    return stableId('vpc', `default-vpc:${region}`)
  }

  subnets(region: string) {
    return zonesOf(region).map((zone, index) => ({
      SubnetId: stableId('subnet', `default-subnet:${zone}`),
      AvailabilityZone: zone,
      index,
      CidrBlock: `172.31.${index * 16}.0/20`,
    }))
  }

  subnet(region: string, subnetId: string) {
    const found = this.subnets(region).find((subnet) => subnet.SubnetId === subnetId)
    if (!found) throw new AwsError('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`)
    return found
  }

  defaultGroupId(region: string): string {
    return stableId('sg', `default-group:${region}`)
  }

  /** The default VPC's default group exists from the start, as on AWS; made on first look so its rules can change. */
  ensureRegion(region: string): void {
    const id = this.defaultGroupId(region)
    if (this.data.groups[id]) return
    this.data.groups[id] = {
      GroupId: id,
      GroupName: 'default',
      Description: 'default VPC security group',
      Region: region,
      VpcId: this.vpcId(region),
      IpPermissions: [
        {IpProtocol: '-1', IpRanges: [], Ipv6Ranges: [], UserIdGroupPairs: [{GroupId: id, UserId: ACCOUNT_ID}], PrefixListIds: []},
      ],
      IpPermissionsEgress: [allTraffic()],
      Tags: {},
    }
  }

  // ---- security groups ----

  groupsIn(region: string): GroupRecord[] {
    this.ensureRegion(region)
    return Object.values(this.data.groups).filter((group) => group.Region === region)
  }

  groupById(region: string, id: string): GroupRecord {
    if (!/^sg-[0-9a-f]+$/.test(id)) throw E.groupIdMalformed(id)
    const group = this.groupsIn(region).find((g) => g.GroupId === id)
    if (!group) throw E.groupNotFound([id], true)
    return group
  }

  groupByName(region: string, name: string): GroupRecord {
    const group = this.groupsIn(region).find((g) => g.GroupName === name && g.VpcId === this.vpcId(region))
    if (!group) throw E.groupNotFound([name], false)
    return group
  }

  createGroup(region: string, input: {GroupName: string; Description: string; VpcId?: string; Tags: Tags}): GroupRecord {
    const vpcId = input.VpcId ?? this.vpcId(region)
    if (vpcId !== this.vpcId(region)) throw new AwsError('InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`)
    if (input.GroupName.toLowerCase().startsWith('sg-')) throw E.invalidParameterValue('Group names may not be in the format sg-*.')
    if (input.GroupName.length > 255 || input.Description.length > 255)
      throw E.invalidParameterValue('Group names and descriptions are at most 255 characters.')
    if (this.groupsIn(region).some((g) => g.GroupName === input.GroupName && g.VpcId === vpcId))
      throw new AwsError('InvalidGroup.Duplicate', `The security group '${input.GroupName}' already exists for VPC '${vpcId}'`)
    const group: GroupRecord = {
      GroupId: newId('sg'),
      GroupName: input.GroupName,
      Description: input.Description,
      Region: region,
      VpcId: vpcId,
      IpPermissions: [],
      IpPermissionsEgress: [allTraffic()],
      Tags: input.Tags,
    }
    this.data.groups[group.GroupId] = group
    return group
  }

  deleteGroup(region: string, group: GroupRecord): void {
    if (group.GroupName === 'default')
      throw new AwsError('CannotDelete', `the specified group: "${group.GroupId}" name: "default" cannot be deleted by a user`)
    const user = this.instancesIn(region).find((i) => i.State !== 'terminated' && i.SecurityGroupIds.includes(group.GroupId))
    if (user)
      throw E.dependencyViolation(group.GroupId, `network interface ${user.NetworkInterfaceId} of instance ${user.InstanceId} uses it`)
    const referrer = this.groupsIn(region).find(
      (g) =>
        g.GroupId !== group.GroupId &&
        [...g.IpPermissions, ...g.IpPermissionsEgress].some((p) => p.UserIdGroupPairs.some((pair) => pair.GroupId === group.GroupId)),
    )
    if (referrer) throw E.dependencyViolation(group.GroupId, `a rule of security group ${referrer.GroupId} references it`)
    delete this.data.groups[group.GroupId]
  }

  authorize(region: string, group: GroupRecord, egress: boolean, permissions: PermissionRecord[]): PermissionRecord[] {
    const rules = egress ? group.IpPermissionsEgress : group.IpPermissions
    for (const permission of permissions)
      for (const pair of permission.UserIdGroupPairs) {
        this.groupById(region, pair.GroupId)
        pair.UserId ||= ACCOUNT_ID
      }
    const added: PermissionRecord[] = []
    for (const permission of permissions) {
      for (const single of splitPermission(permission)) {
        if (rules.some((rule) => containsRule(rule, single))) {
          throw new AwsError(
            'InvalidPermission.Duplicate',
            `the specified rule "peer: ${describePeer(single)}, ${single.IpProtocol.toUpperCase()}, from port: ${single.FromPort ?? 'ALL'}, to port: ${single.ToPort ?? 'ALL'}, ALLOW" already exists`,
          )
        }
        mergeRule(rules, single)
        added.push(single)
      }
    }
    return added
  }

  revoke(group: GroupRecord, egress: boolean, permissions: PermissionRecord[]): void {
    const key = egress ? 'IpPermissionsEgress' : 'IpPermissions'
    let rules = group[key]
    for (const permission of permissions) {
      for (const single of splitPermission(permission)) {
        if (!rules.some((rule) => containsRule(rule, single)))
          throw new AwsError(
            'InvalidPermission.NotFound',
            `The specified rule does not exist in this security group (${describePeer(single)}, ${single.IpProtocol}).`,
          )
        rules = removeRule(rules, single)
      }
    }
    group[key] = rules
  }

  // ---- key pairs ----

  keyPairsIn(region: string): KeyPairRecord[] {
    return Object.values(this.data.keyPairs).filter((key) => key.Region === region)
  }

  keyPair(region: string, name: string): KeyPairRecord {
    const key = this.keyPairsIn(region).find((k) => k.KeyName === name)
    if (!key) throw E.keyPairNotFound(name)
    return key
  }

  // ---- volumes ----

  volumesIn(region: string): VolumeRecord[] {
    return Object.values(this.data.volumes).filter((volume) => volume.Region === region)
  }

  volume(region: string, id: string): VolumeRecord {
    if (!/^vol-[0-9a-f]+$/.test(id)) throw E.volumeMalformed(id)
    const volume = this.data.volumes[id]
    if (!volume || volume.Region !== region) throw E.volumeNotFound([id])
    return volume
  }

  createVolume(input: Omit<VolumeRecord, 'VolumeId' | 'CreateTime' | 'State'> & {State?: VolumeRecord['State']}): VolumeRecord {
    const volume: VolumeRecord = {VolumeId: newId('vol'), CreateTime: this.iso(), State: 'available', ...input}
    this.data.volumes[volume.VolumeId] = volume
    return volume
  }

  attachVolume(region: string, volume: VolumeRecord, instanceId: string, device: string): VolumeRecord {
    const instance = this.instance(region, instanceId)
    if (volume.State !== 'available') throw new AwsError('VolumeInUse', `${volume.VolumeId} is already attached to an instance`)
    if (instance.State === 'terminated' || instance.State === 'shutting-down')
      throw E.incorrectInstanceState(instance.InstanceId, instance.State, 'attached to')
    if (volume.AvailabilityZone !== instance.AvailabilityZone)
      throw E.invalidParameterValue(
        `Volume ${volume.VolumeId} and instance ${instance.InstanceId} are in different availability zones (${volume.AvailabilityZone}, ${instance.AvailabilityZone}).`,
      )
    if (instance.BlockDevices.some((d) => d.DeviceName === device))
      throw E.invalidParameterValue(`Invalid value '${device}' for unixDevice. Attachment point ${device} is already in use`)
    const attachTime = this.iso()
    volume.State = 'in-use'
    volume.Attachment = {
      InstanceId: instance.InstanceId,
      Device: device,
      AttachTime: attachTime,
      DeleteOnTermination: false,
      State: 'attached',
    }
    instance.BlockDevices.push({DeviceName: device, VolumeId: volume.VolumeId, DeleteOnTermination: false, AttachTime: attachTime})
    return volume
  }

  detachVolume(region: string, volume: VolumeRecord, instanceId?: string): VolumeRecord {
    const attachment = volume.Attachment
    if (!attachment || (instanceId && attachment.InstanceId !== instanceId))
      throw new AwsError('IncorrectState', `Volume '${volume.VolumeId}' is in the '${volume.State}' state.`)
    const instance = this.data.instances[attachment.InstanceId]
    if (instance && instance.RootDeviceName === attachment.Device && instance.State !== 'stopped' && instance.State !== 'terminated')
      throw new AwsError(
        'OperationNotPermitted',
        `Unable to detach root volume '${volume.VolumeId}' from instance '${instance.InstanceId}' unless it is stopped`,
      )
    if (instance) instance.BlockDevices = instance.BlockDevices.filter((d) => d.VolumeId !== volume.VolumeId)
    volume.State = 'available'
    delete volume.Attachment
    void region
    return volume
  }

  deleteVolume(volume: VolumeRecord): void {
    if (volume.Attachment || volume.State === 'in-use')
      throw new AwsError('VolumeInUse', `Volume ${volume.VolumeId} is currently attached to ${volume.Attachment?.InstanceId}`)
    delete this.data.volumes[volume.VolumeId]
  }

  // ---- tags on any resource ----

  /** The tag map of a resource by id, or a NotFound error in the resource's own code. */
  tagsOf(region: string, id: string): Tags {
    const prefix = id.split('-')[0]
    switch (prefix) {
      case 'i':
        return this.instance(region, id).Tags
      case 'vol':
        return this.volume(region, id).Tags
      case 'sg':
        return this.groupById(region, id).Tags
      case 'key': {
        const key = this.data.keyPairs[id]
        if (!key || key.Region !== region) throw new AwsError('InvalidKeyPair.NotFound', `The key pair '${id}' does not exist`)
        return key.Tags
      }
      case 'ami':
        this.image(id)
        break
      case 'vpc':
        if (id !== this.vpcId(region)) throw new AwsError('InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`)
        break
      case 'subnet':
        this.subnet(region, id)
        break
      case 'eni':
        if (!this.instancesIn(region).some((i) => i.NetworkInterfaceId === id && i.State !== 'terminated'))
          throw new AwsError('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id}' does not exist`)
        break
      default:
        throw new AwsError('InvalidID', `The ID '${id}' is not valid`)
    }
    this.data.tags[id] ??= {}
    return this.data.tags[id]
  }

  // ---- instances ----

  instancesIn(region: string): InstanceRecord[] {
    const cutoff = this.now() - TERMINATED_LISTED_MS
    return Object.values(this.data.instances).filter(
      (instance) => instance.Region === region && !(instance.TerminatedAt !== undefined && instance.TerminatedAt <= cutoff),
    )
  }

  instance(region: string, id: string): InstanceRecord {
    if (!/^i-[0-9a-f]{8,17}$/.test(id)) throw E.instanceMalformed(id)
    const found = this.instancesIn(region).find((i) => i.InstanceId === id)
    if (!found) throw E.instanceNotFound([id])
    return found
  }

  instances(region: string, ids: readonly string[]): InstanceRecord[] {
    for (const id of ids) if (!/^i-[0-9a-f]{8,17}$/.test(id)) throw E.instanceMalformed(id)
    const known = new Map(this.instancesIn(region).map((i) => [i.InstanceId, i]))
    const missing = ids.filter((id) => !known.has(id))
    if (missing.length > 0) throw E.instanceNotFound(missing)
    return ids.map((id) => known.get(id)!)
  }

  arnOf(instance: InstanceRecord): string {
    return `arn:aws:ec2:${instance.Region}:${ACCOUNT_ID}:instance/${instance.InstanceId}`
  }

  view(instance: InstanceRecord): InstanceView {
    return {
      instanceId: instance.InstanceId,
      region: instance.Region,
      state: instance.State,
      imageId: instance.ImageId,
      instanceType: instance.InstanceType,
      ...(instance.IamInstanceProfile ? {iamInstanceProfileArn: instance.IamInstanceProfile.Arn} : {}),
      tags: {...instance.Tags},
      launchTime: new Date(instance.LaunchTime),
    }
  }

  private liveOf(id: string): Live {
    let live = this.live.get(id)
    if (!live) {
      live = {chain: Promise.resolve(), console: [], consoleBytes: 0}
      this.live.set(id, live)
    }
    return live
  }

  /** Runs `step` after the instance's earlier transitions, so they never interleave. */
  private queue(id: string, step: () => Promise<void>): Promise<void> {
    const live = this.liveOf(id)
    const next = live.chain.then(step).catch((error: unknown) => {
      this.env.events.record({
        service: 'ec2',
        kind: 'ec2.runtime',
        outcome: 'error',
        summary: `instance ${id}: ${error instanceof Error ? error.message : String(error)}`,
        resource: id,
        correlation: {instanceId: id},
      })
    })
    live.chain = next
    return next
  }

  /** The instance's transitions so far have finished (tests and the bench wait on it). */
  settled(id: string): Promise<void> {
    return this.live.get(id)?.chain ?? Promise.resolve()
  }

  private resolveProfile(region: string, input: LaunchInput): Promise<{Arn: string; Id: string} | undefined> {
    void region
    if (!input.profileArn && !input.profileName) return Promise.resolve(undefined)
    return import('../iam/index.js')
      .then(({identityFor}) => identityFor(this.env.stateDir))
      .then((identity) => {
        const profiles = Object.values(identity.state.data.instanceProfiles)
        const profile = input.profileArn
          ? profiles.find((p) => p.Arn === input.profileArn)
          : profiles.find((p) => p.InstanceProfileName === input.profileName)
        if (!profile) {
          const value = input.profileArn ?? input.profileName
          const parameter = input.profileArn ? 'iamInstanceProfile.arn' : 'iamInstanceProfile.name'
          throw E.invalidParameterValue(
            `Value (${value}) for parameter ${parameter} is invalid. Invalid IAM Instance Profile ${input.profileArn ? 'ARN' : 'name'}`,
          )
        }
        const role = profile.Roles[0] ? identity.state.data.roles[profile.Roles[0]] : undefined
        if (role) input.passRole?.(role.Arn)
        return {Arn: profile.Arn, Id: profile.InstanceProfileId}
      })
  }

  /** RunInstances: validates every reference, records the instances as pending, and boots them in the background. */
  async launch(input: LaunchInput, dryRun: boolean): Promise<{reservationId: string; instances: InstanceRecord[]}> {
    const region = input.region
    await this.refreshImages()
    const image = this.image(input.imageId)
    if (!instanceTypeInfo(input.instanceType)) throw E.invalidParameterValue(`Invalid value '${input.instanceType}' for InstanceType.`)
    if (!Number.isInteger(input.minCount) || input.minCount < 1)
      throw E.invalidParameterValue(`Invalid value '${input.minCount}' for minCount. Must be a positive integer`)
    if (!Number.isInteger(input.maxCount) || input.maxCount < input.minCount)
      throw E.invalidParameterValue(`Invalid value '${input.maxCount}' for maxCount: it must be at least minCount (${input.minCount})`)
    if (input.keyName !== undefined) this.keyPair(region, input.keyName)
    const groups = [
      ...input.groupIds.map((id) => this.groupById(region, id)),
      ...input.groupNames.map((name) => this.groupByName(region, name)),
    ]
    if (groups.length === 0) groups.push(this.groupById(region, this.defaultGroupId(region)))
    const behaviour = input.shutdownBehavior ?? 'stop'
    if (behaviour !== 'stop' && behaviour !== 'terminate')
      throw E.invalidParameterValue(`Invalid value '${behaviour}' for instanceInitiatedShutdownBehavior`)
    const subnets = this.subnets(region)
    let subnet = subnets[0]!
    if (input.subnetId) subnet = this.subnet(region, input.subnetId)
    else if (input.placementZone) {
      const found = subnets.find((s) => s.AvailabilityZone === input.placementZone)
      if (!found) throw E.invalidParameterValue(`Invalid availability zone: [${input.placementZone}]`)
      subnet = found
    }
    const profile = await this.resolveProfile(region, input)
    if (input.userData !== undefined && Buffer.from(input.userData, 'base64').length > 16 * 1024)
      throw E.invalidParameterValue('User data is limited to 16384 bytes')
    const rootName = '/dev/sda1'
    const mappings = input.blockDevices.filter((m) => !m.NoDevice && !m.VirtualName)
    for (const mapping of mappings) {
      const size = mapping.Ebs?.VolumeSize
      if (mapping.DeviceName === rootName && size !== undefined && size < image.RootSizeGiB)
        throw new AwsError(
          'InvalidBlockDeviceMapping',
          `Volume of size ${size}GB is smaller than snapshot '${image.SnapshotId}', expect size >= ${image.RootSizeGiB}GB`,
        )
      if (mapping.DeviceName !== rootName && size === undefined && !mapping.Ebs?.SnapshotId)
        throw new AwsError('InvalidBlockDeviceMapping', `The device '${mapping.DeviceName}' needs a volume size or a snapshot id.`)
    }
    if (dryRun) throw E.dryRunOk()
    // The same ClientToken is the same launch, as on AWS: its instances are answered again, none started.
    if (input.clientToken) {
      const earlier = this.instancesIn(region).filter((instance) => instance.ClientToken === input.clientToken)
      if (earlier.length > 0) return {reservationId: earlier[0]!.ReservationId, instances: earlier}
    }

    const reservationId = newId('r')
    const launchTime = this.iso()
    const made: InstanceRecord[] = []
    for (let index = 0; index < input.maxCount; index++) {
      const instanceId = newId('i')
      const host = (this.data.addresses[subnet.SubnetId] ?? 3) + 1
      this.data.addresses[subnet.SubnetId] = host
      const base = subnet.index * 16
      const devices: BlockDevice[] = []
      const root = mappings.find((m) => m.DeviceName === rootName)
      const rootVolume = this.createVolume({
        Region: region,
        AvailabilityZone: subnet.AvailabilityZone,
        Size: root?.Ebs?.VolumeSize ?? image.RootSizeGiB,
        SnapshotId: image.SnapshotId,
        VolumeType: root?.Ebs?.VolumeType ?? 'gp2',
        Encrypted: root?.Ebs?.Encrypted ?? false,
        ...(root?.Ebs?.Iops !== undefined ? {Iops: root.Ebs.Iops} : {}),
        State: 'in-use',
        Tags: {...input.volumeTags},
      })
      const dot = root?.Ebs?.DeleteOnTermination ?? true
      devices.push({DeviceName: rootName, VolumeId: rootVolume.VolumeId, DeleteOnTermination: dot, AttachTime: launchTime})
      rootVolume.Attachment = {
        InstanceId: instanceId,
        Device: rootName,
        AttachTime: launchTime,
        DeleteOnTermination: dot,
        State: 'attached',
      }
      for (const mapping of mappings) {
        if (mapping.DeviceName === rootName) continue
        const extraDot = mapping.Ebs?.DeleteOnTermination ?? false
        const volume = this.createVolume({
          Region: region,
          AvailabilityZone: subnet.AvailabilityZone,
          Size: mapping.Ebs?.VolumeSize ?? 8,
          SnapshotId: mapping.Ebs?.SnapshotId ?? '',
          VolumeType: mapping.Ebs?.VolumeType ?? 'gp2',
          Encrypted: mapping.Ebs?.Encrypted ?? false,
          State: 'in-use',
          Tags: {...input.volumeTags},
        })
        volume.Attachment = {
          InstanceId: instanceId,
          Device: mapping.DeviceName,
          AttachTime: launchTime,
          DeleteOnTermination: extraDot,
          State: 'attached',
        }
        devices.push({DeviceName: mapping.DeviceName, VolumeId: volume.VolumeId, DeleteOnTermination: extraDot, AttachTime: launchTime})
      }
      const record: InstanceRecord = {
        InstanceId: instanceId,
        Region: region,
        ReservationId: reservationId,
        AmiLaunchIndex: index,
        ImageId: image.ImageId,
        InstanceType: input.instanceType,
        ...(input.keyName !== undefined ? {KeyName: input.keyName} : {}),
        LaunchTime: launchTime,
        State: 'pending',
        StateTransitionReason: '',
        AvailabilityZone: subnet.AvailabilityZone,
        SubnetId: subnet.SubnetId,
        VpcId: this.vpcId(region),
        PrivateIpAddress: `172.31.${base + Math.floor(host / 256)}.${host % 256}`,
        MacAddress: macOf(instanceId),
        NetworkInterfaceId: newId('eni'),
        SecurityGroupIds: [...new Set(groups.map((g) => g.GroupId))],
        ...(profile ? {IamInstanceProfile: profile} : {}),
        ShutdownBehavior: behaviour,
        DisableApiTermination: input.disableApiTermination ?? false,
        ...(input.userData !== undefined ? {UserData: input.userData} : {}),
        Tags: {...input.instanceTags},
        RootDeviceName: rootName,
        BlockDevices: devices,
        ClientToken: input.clientToken ?? '',
        EbsOptimized: input.ebsOptimized ?? false,
        Monitoring: input.monitoring ? 'enabled' : 'disabled',
      }
      this.data.instances[instanceId] = record
      made.push(record)
    }
    const saved = this.save()
    for (const instance of made) this.publish(instance, 'pending')
    const boot = () => {
      for (const instance of made) void this.queue(instance.InstanceId, () => this.boot(instance))
    }
    // One instance boots while its record is written (the sandbox's start-up overlaps the fsync);
    // a batch boots once the answer is on its way, so spawning many sandboxes does not hold the answer up.
    if (made.length === 1) boot()
    await saved
    if (made.length > 1) setImmediate(boot)
    return {reservationId, instances: made}
  }

  private spec(instance: InstanceRecord) {
    const image = this.images[instance.ImageId]
    if (!image) throw new Error(`the image ${instance.ImageId} of ${instance.InstanceId} is no longer registered`)
    const live = this.liveOf(instance.InstanceId)
    return {
      instanceId: instance.InstanceId,
      region: instance.Region,
      imageId: instance.ImageId,
      imageDir: image.Dir,
      instanceDir: join(this.dir, 'instances', instance.InstanceId),
      instanceType: instance.InstanceType,
      endpoint: this.env.endpoint,
      ...(instance.IamInstanceProfile ? {credentials: () => this.roleCredentials(instance, live)} : {}),
      ...(instance.UserData !== undefined ? {userData: Buffer.from(instance.UserData, 'base64').toString('utf8')} : {}),
      clockOffsetMs: () => this.env.clock.offsetMs,
    }
  }

  /** The instance profile's role as an STS session, reissued when less than 15 minutes remain. */
  private async roleCredentials(instance: InstanceRecord, live: Live): Promise<RoleCredentials | undefined> {
    if (live.credentials && live.credentials.expiration.getTime() - Date.now() > 15 * 60 * 1000) return live.credentials
    const [{identityFor}, {issueRoleSession}] = await Promise.all([import('../iam/index.js'), import('../iam/roles.js')])
    const identity = await identityFor(this.env.stateDir)
    const state = identity.state
    const profile = Object.values(state.data.instanceProfiles).find((p) => p.Arn === instance.IamInstanceProfile?.Arn)
    const role = profile?.Roles[0] ? state.data.roles[profile.Roles[0]] : undefined
    if (!role) return undefined
    const issued = issueRoleSession(state, {RoleArn: role.Arn, RoleSessionName: instance.InstanceId})
    // The session resolves from memory at once; one IAM write covers a whole batch of booting instances.
    if (!this.iamSaveQueued) {
      this.iamSaveQueued = true
      setTimeout(() => {
        this.iamSaveQueued = false
        state.save().catch(() => undefined)
      }, 20)
    }
    live.credentials = {
      accessKeyId: issued.Credentials.AccessKeyId,
      secretAccessKey: issued.Credentials.SecretAccessKey,
      sessionToken: issued.Credentials.SessionToken,
      expiration: new Date(issued.Credentials.Expiration),
      roleName: role.RoleName,
    }
    return live.credentials
  }

  private async sandboxOf(instance: InstanceRecord): Promise<InstanceSandbox> {
    const live = this.liveOf(instance.InstanceId)
    if (live.sandbox) return live.sandbox
    const runtime = await this.runtime()
    const id = instance.InstanceId
    live.sandbox = await runtime.create(this.spec(instance), {
      onShutdownRequest: (kind) => this.onShutdownRequest(instance.Region, id, kind),
      onConsoleOutput: (chunk) => this.appendConsole(id, chunk),
    })
    return live.sandbox
  }

  /** pending → running once the sandbox has started; a sandbox that cannot start ends the instance terminated. */
  private async boot(instance: InstanceRecord): Promise<void> {
    if (instance.State !== 'pending') return
    try {
      const sandbox = await this.sandboxOf(instance)
      await sandbox.start()
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      this.env.events.record({
        service: 'ec2',
        kind: 'ec2.boot',
        outcome: 'failed',
        summary: `instance ${instance.InstanceId} could not boot`,
        reason: message,
        resource: this.arnOf(instance),
        correlation: {instanceId: instance.InstanceId},
      })
      await this.finishTermination(instance, {
        Code: 'Server.InternalError',
        Message: `Server.InternalError: Internal error on launch: ${message}`,
      })
      return
    }
    if (instance.State !== 'pending') return
    await this.transition(instance, 'running')
  }

  private async transition(instance: InstanceRecord, state: InstanceStateName): Promise<void> {
    const previous = instance.State
    instance.State = state
    await this.save()
    this.publish(instance, state, previous)
  }

  private change(instance: InstanceRecord, previous: InstanceStateName): StateChange {
    return {InstanceId: instance.InstanceId, PreviousState: stateOf(previous), CurrentState: stateOf(instance.State)}
  }

  async stop(region: string, ids: readonly string[], reason: Reason = USER_SHUTDOWN, transitionReason?: string): Promise<StateChange[]> {
    const instances = this.instances(region, ids)
    for (const instance of instances)
      if (instance.State === 'terminated' || instance.State === 'shutting-down')
        throw E.incorrectInstanceState(instance.InstanceId, instance.State, 'stopped')
    const changes: StateChange[] = []
    for (const instance of instances) {
      const previous = instance.State
      if (previous === 'pending' || previous === 'running') {
        instance.State = 'stopping'
        instance.StateReason = reason
        instance.StateTransitionReason = transitionReason ?? userInitiated(this.now())
        this.publish(instance, 'stopping', previous)
        void this.queue(instance.InstanceId, async () => {
          const live = this.live.get(instance.InstanceId)
          await live?.sandbox?.halt()
          if (instance.State === 'stopping') await this.transition(instance, 'stopped')
        })
      }
      changes.push(this.change(instance, previous))
    }
    await this.save()
    return changes
  }

  async start(region: string, ids: readonly string[]): Promise<StateChange[]> {
    const instances = this.instances(region, ids)
    await this.refreshImages()
    for (const instance of instances) {
      if (instance.State === 'stopping' || instance.State === 'terminated' || instance.State === 'shutting-down')
        throw E.incorrectInstanceState(instance.InstanceId, instance.State, 'started')
      if (instance.State === 'stopped' && !this.images[instance.ImageId]) throw E.amiNotFound([instance.ImageId])
    }
    const changes: StateChange[] = []
    for (const instance of instances) {
      const previous = instance.State
      if (previous === 'stopped') {
        instance.State = 'pending'
        instance.StateTransitionReason = ''
        delete instance.StateReason
        this.publish(instance, 'pending', previous)
        void this.queue(instance.InstanceId, () => this.boot(instance))
      }
      changes.push(this.change(instance, previous))
    }
    await this.save()
    return changes
  }

  reboot(region: string, ids: readonly string[]): void {
    const instances = this.instances(region, ids)
    for (const instance of instances)
      if (instance.State === 'terminated' || instance.State === 'shutting-down')
        throw E.incorrectInstanceState(instance.InstanceId, instance.State, 'rebooted')
    for (const instance of instances) if (instance.State === 'running') this.rebootOne(instance)
  }

  private rebootOne(instance: InstanceRecord): void {
    this.env.events.record({
      service: 'ec2',
      kind: 'ec2.reboot',
      outcome: 'ok',
      summary: `instance ${instance.InstanceId} reboots`,
      resource: this.arnOf(instance),
      correlation: {instanceId: instance.InstanceId},
    })
    void this.queue(instance.InstanceId, async () => {
      const sandbox = this.live.get(instance.InstanceId)?.sandbox
      if (!sandbox || instance.State !== 'running') return
      await sandbox.halt()
      if (instance.State === 'running') await sandbox.start()
    })
  }

  async terminate(
    region: string,
    ids: readonly string[],
    reason: Reason = USER_SHUTDOWN,
    transitionReason?: string,
  ): Promise<StateChange[]> {
    const instances = this.instances(region, ids)
    for (const instance of instances)
      if (instance.DisableApiTermination && instance.State !== 'terminated')
        throw new AwsError(
          'OperationNotPermitted',
          `The instance '${instance.InstanceId}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`,
        )
    const changes: StateChange[] = []
    for (const instance of instances) {
      const previous = instance.State
      if (previous !== 'terminated' && previous !== 'shutting-down') {
        instance.State = 'shutting-down'
        instance.StateReason = reason
        instance.StateTransitionReason = transitionReason ?? userInitiated(this.now())
        this.publish(instance, 'shutting-down', previous)
        void this.queue(instance.InstanceId, async () => {
          await this.finishTermination(instance, reason)
        })
      }
      changes.push(this.change(instance, previous))
    }
    await this.save()
    return changes
  }

  /** Halts and destroys the sandbox, then terminated: volumes deleted per DeleteOnTermination, the rest detached. */
  private async finishTermination(instance: InstanceRecord, reason: Reason): Promise<void> {
    const live = this.live.get(instance.InstanceId)
    const previous = instance.State
    if (previous !== 'shutting-down') {
      instance.State = 'shutting-down'
      instance.StateReason = reason
      instance.StateTransitionReason ||= reason.Message
      this.publish(instance, 'shutting-down', previous)
    }
    try {
      if (live?.sandbox) {
        await live.sandbox.halt()
        await live.sandbox.destroy()
      }
    } finally {
      if (live) delete live.sandbox
      this.releaseResources(instance)
      instance.TerminatedAt = this.now()
      this.schedulePurge(instance)
      await this.transition(instance, 'terminated')
    }
  }

  private releaseResources(instance: InstanceRecord): void {
    for (const device of instance.BlockDevices) {
      const volume = this.data.volumes[device.VolumeId]
      if (!volume) continue
      if (device.DeleteOnTermination) delete this.data.volumes[device.VolumeId]
      else {
        volume.State = 'available'
        delete volume.Attachment
      }
    }
    instance.BlockDevices = []
    delete this.data.tags[instance.NetworkInterfaceId]
  }

  /** Terminated instances leave the listing an hour later on the emulator clock; the record goes then too. */
  schedulePurge(instance: InstanceRecord): void {
    if (instance.TerminatedAt === undefined) return
    this.purgeTimers.get(instance.InstanceId)?.cancel()
    const timer = this.env.clock.at(instance.TerminatedAt + TERMINATED_LISTED_MS, () => {
      this.purgeTimers.delete(instance.InstanceId)
      delete this.data.instances[instance.InstanceId]
      this.live.delete(instance.InstanceId)
      return Promise.all([this.save(), rm(this.consolePath(instance.InstanceId), {force: true})])
    })
    this.purgeTimers.set(instance.InstanceId, timer)
  }

  /** A `poweroff` (or `reboot`) inside the instance: ends it by its InstanceInitiatedShutdownBehavior. */
  private onShutdownRequest(region: string, id: string, kind: 'poweroff' | 'reboot'): void {
    const instance = this.data.instances[id]
    if (instance?.State !== 'running') return
    if (kind === 'reboot') {
      this.rebootOne(instance)
      return
    }
    const ending =
      instance.ShutdownBehavior === 'terminate'
        ? this.terminate(region, [id], INSTANCE_SHUTDOWN, INSTANCE_SHUTDOWN.Message)
        : this.stop(region, [id], INSTANCE_SHUTDOWN, INSTANCE_SHUTDOWN.Message)
    ending.catch(() => undefined)
  }

  consolePath(id: string): string {
    return join(this.dir, 'console', `${id}.log`)
  }

  /** Console output is kept in memory and appended to `${stateDir}/ec2/console/<id>.log`, so it survives a restart. */
  private appendConsole(id: string, chunk: Buffer): void {
    const live = this.liveOf(id)
    if (live.consoleBytes === 0 && live.console.length === 0)
      for (const saved of this.savedConsole(id)) {
        live.console.push(saved)
        live.consoleBytes += saved.length
      }
    live.console.push(chunk)
    live.consoleBytes += chunk.length
    while (live.consoleBytes > CONSOLE_LIMIT && live.console.length > 1) live.consoleBytes -= live.console.shift()!.length
    const path = this.consolePath(id)
    live.consoleWrite = (live.consoleWrite ?? mkdir(dirname(path), {recursive: true}).then(() => undefined))
      .then(() => appendFile(path, chunk))
      .catch(() => undefined)
  }

  private savedConsole(id: string): Buffer[] {
    try {
      const saved = readFileSync(this.consolePath(id))
      return saved.length > 0 ? [saved.subarray(Math.max(0, saved.length - CONSOLE_LIMIT))] : []
    } catch {
      return []
    }
  }

  consoleOutput(id: string): Buffer {
    const live = this.live.get(id)
    const all = live && live.console.length > 0 ? Buffer.concat(live.console) : Buffer.concat(this.savedConsole(id))
    return all.length > CONSOLE_LIMIT ? all.subarray(all.length - CONSOLE_LIMIT) : all
  }

  /** Hands a script to a running instance's sandbox (SSM's agent). */
  exec(region: string, id: string, command: InstanceExec): RunningExec {
    const instance = this.instancesIn(region).find((i) => i.InstanceId === id)
    const sandbox = this.live.get(id)?.sandbox
    if (instance?.State !== 'running' || !sandbox)
      throw new AwsError(
        'InvalidInstanceId',
        `Instance ${id} is not in a valid state for this operation: it is ${instance?.State ?? 'unknown'}.`,
      )
    return sandbox.exec(command)
  }

  /** Publishes a state change to EventBridge's default bus and records it. */
  private publish(instance: InstanceRecord, state: InstanceStateName, previous?: InstanceStateName): void {
    const arn = this.arnOf(instance)
    this.env.events.record({
      service: 'ec2',
      kind: 'ec2.state-change',
      outcome: 'ok',
      summary: `instance ${instance.InstanceId} ${previous ? `${previous} → ` : ''}${state}`,
      resource: arn,
      correlation: {instanceId: instance.InstanceId, ...(instance.Tags.job ? {jobId: instance.Tags.job} : {})},
      detail: {state, ...(previous ? {previous} : {}), ...(instance.StateReason ? {reason: instance.StateReason.Code} : {})},
    })
    const event = {
      source: 'aws.ec2',
      detailType: 'EC2 Instance State-change Notification',
      detail: {'instance-id': instance.InstanceId, state},
      resources: [arn],
      region: instance.Region,
      time: new Date(this.now()),
    }
    this.env
      .internal('events')
      .then((events) => events.publish([event]))
      .catch((error: unknown) => {
        this.env.events.record({
          service: 'ec2',
          kind: 'ec2.state-change',
          outcome: 'skipped',
          summary: `state change of ${instance.InstanceId} to ${state} not published to EventBridge`,
          reason: error instanceof Error ? error.message : String(error),
          resource: arn,
          correlation: {instanceId: instance.InstanceId},
        })
      })
  }

  /**
   * After a restart: processes of the previous emulator are gone (the runtime reaps any left),
   * so instances recorded as pending, running, stopping or shutting-down end terminated with a
   * state reason naming the restart; stopped ones stay stopped.
   */
  async reconcile(): Promise<number> {
    // Only a state with instances that were not terminated can have left processes behind: start-up stays lazy otherwise.
    const mayHaveProcesses = Object.values(this.data.instances).some((instance) => instance.State !== 'terminated')
    if (mayHaveProcesses) {
      const runtime = await this.runtime().catch(() => undefined)
      if (runtime) await runtime.reapOrphans(this.env.stateDir)
    }
    let ended = 0
    for (const instance of Object.values(this.data.instances)) {
      if (instance.State === 'terminated') {
        this.schedulePurge(instance)
        continue
      }
      if (instance.State === 'stopped' || this.live.has(instance.InstanceId)) continue
      ended++
      const previous = instance.State
      instance.State = 'shutting-down'
      instance.StateReason = EMULATOR_RESTARTED
      instance.StateTransitionReason = EMULATOR_RESTARTED.Message
      this.publish(instance, 'shutting-down', previous)
      this.releaseResources(instance)
      instance.TerminatedAt = this.now()
      this.schedulePurge(instance)
      instance.State = 'terminated'
      this.publish(instance, 'terminated', 'shutting-down')
    }
    if (ended > 0) await this.save()
    return ended
  }

  /** On shutdown: every sandbox halted (nothing outlives the emulator), the state flushed. */
  async close(): Promise<void> {
    for (const timer of this.purgeTimers.values()) timer.cancel()
    await Promise.allSettled([...this.live.values()].map((live) => live.sandbox?.halt()))
    await this.flush()
  }

  static stateCode(state: InstanceStateName): number {
    return STATE_CODES[state]
  }
}

const allTraffic = (): PermissionRecord => ({
  IpProtocol: '-1',
  IpRanges: [{CidrIp: '0.0.0.0/0'}],
  Ipv6Ranges: [],
  UserIdGroupPairs: [],
  PrefixListIds: [],
})

const macOf = (id: string) => `0e:${id.slice(2, 12).match(/../g)!.join(':')}`

/** One permission per peer, so duplicates and removals are judged peer by peer as AWS does. */
function splitPermission(permission: PermissionRecord): PermissionRecord[] {
  const base = {IpProtocol: permission.IpProtocol, FromPort: permission.FromPort, ToPort: permission.ToPort}
  const empty = {IpRanges: [], Ipv6Ranges: [], UserIdGroupPairs: [], PrefixListIds: []}
  return [
    ...permission.IpRanges.map((range) => ({...base, ...empty, IpRanges: [range]})),
    ...permission.Ipv6Ranges.map((range) => ({...base, ...empty, Ipv6Ranges: [range]})),
    ...permission.UserIdGroupPairs.map((pair) => ({...base, ...empty, UserIdGroupPairs: [pair]})),
    ...permission.PrefixListIds.map((list) => ({...base, ...empty, PrefixListIds: [list]})),
  ]
}

const sameProtocol = (a: PermissionRecord, b: PermissionRecord) =>
  normalProtocol(a.IpProtocol) === normalProtocol(b.IpProtocol) &&
  (normalProtocol(a.IpProtocol) === '-1' || (a.FromPort === b.FromPort && a.ToPort === b.ToPort))

function normalProtocol(protocol: string): string {
  const names: Record<string, string> = {'6': 'tcp', '17': 'udp', '1': 'icmp', all: '-1'}
  return names[protocol.toLowerCase()] ?? protocol.toLowerCase()
}

function containsRule(rule: PermissionRecord, single: PermissionRecord): boolean {
  if (!sameProtocol(rule, single)) return false
  return (
    single.IpRanges.some((r) => rule.IpRanges.some((x) => x.CidrIp === r.CidrIp)) ||
    single.Ipv6Ranges.some((r) => rule.Ipv6Ranges.some((x) => x.CidrIpv6 === r.CidrIpv6)) ||
    single.UserIdGroupPairs.some((r) => rule.UserIdGroupPairs.some((x) => x.GroupId === r.GroupId)) ||
    single.PrefixListIds.some((r) => rule.PrefixListIds.some((x) => x.PrefixListId === r.PrefixListId))
  )
}

function mergeRule(rules: PermissionRecord[], single: PermissionRecord): void {
  const rule = rules.find((r) => sameProtocol(r, single))
  if (!rule) {
    rules.push({...single, IpProtocol: normalProtocol(single.IpProtocol)})
    return
  }
  rule.IpRanges.push(...single.IpRanges)
  rule.Ipv6Ranges.push(...single.Ipv6Ranges)
  rule.UserIdGroupPairs.push(...single.UserIdGroupPairs)
  rule.PrefixListIds.push(...single.PrefixListIds)
}

function removeRule(rules: PermissionRecord[], single: PermissionRecord): PermissionRecord[] {
  return rules
    .map((rule) => {
      if (!sameProtocol(rule, single)) return rule
      return {
        ...rule,
        IpRanges: rule.IpRanges.filter((x) => !single.IpRanges.some((r) => r.CidrIp === x.CidrIp)),
        Ipv6Ranges: rule.Ipv6Ranges.filter((x) => !single.Ipv6Ranges.some((r) => r.CidrIpv6 === x.CidrIpv6)),
        UserIdGroupPairs: rule.UserIdGroupPairs.filter((x) => !single.UserIdGroupPairs.some((r) => r.GroupId === x.GroupId)),
        PrefixListIds: rule.PrefixListIds.filter((x) => !single.PrefixListIds.some((r) => r.PrefixListId === x.PrefixListId)),
      }
    })
    .filter((rule) => rule.IpRanges.length + rule.Ipv6Ranges.length + rule.UserIdGroupPairs.length + rule.PrefixListIds.length > 0)
}

function describePeer(single: PermissionRecord): string {
  return (
    single.IpRanges[0]?.CidrIp ??
    single.Ipv6Ranges[0]?.CidrIpv6 ??
    single.UserIdGroupPairs[0]?.GroupId ??
    single.PrefixListIds[0]?.PrefixListId ??
    'none'
  )
}
