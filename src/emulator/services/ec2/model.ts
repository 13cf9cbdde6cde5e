/** EC2's records as the state keeps them (JSON in `${stateDir}/ec2/state.json`), and the ids AWS gives them. */
import {createHash, randomBytes} from 'node:crypto'

export type InstanceStateName = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated'

export const STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
}

export type Tags = Record<string, string>

export interface Reason {
  Code: string
  Message: string
}

export interface BlockDevice {
  DeviceName: string
  VolumeId: string
  DeleteOnTermination: boolean
  AttachTime: string
}

export interface InstanceRecord {
  InstanceId: string
  Region: string
  ReservationId: string
  AmiLaunchIndex: number
  ImageId: string
  InstanceType: string
  KeyName?: string
  LaunchTime: string
  State: InstanceStateName
  StateTransitionReason: string
  StateReason?: Reason
  AvailabilityZone: string
  SubnetId: string
  VpcId: string
  PrivateIpAddress: string
  MacAddress: string
  NetworkInterfaceId: string
  SecurityGroupIds: string[]
  IamInstanceProfile?: {Arn: string; Id: string}
  ShutdownBehavior: 'stop' | 'terminate'
  DisableApiTermination: boolean
  /** Base64, as given. */
  UserData?: string
  Tags: Tags
  RootDeviceName: string
  BlockDevices: BlockDevice[]
  ClientToken: string
  EbsOptimized: boolean
  Monitoring: 'disabled' | 'enabled'
  /** Epoch ms on the emulator clock when it reached terminated (listed for an hour after). */
  TerminatedAt?: number
}

export interface VolumeAttachmentRecord {
  InstanceId: string
  Device: string
  AttachTime: string
  DeleteOnTermination: boolean
  State: 'attaching' | 'attached' | 'detaching'
}

export interface VolumeRecord {
  VolumeId: string
  Region: string
  AvailabilityZone: string
  Size: number
  SnapshotId: string
  VolumeType: string
  Iops?: number
  Throughput?: number
  Encrypted: boolean
  CreateTime: string
  State: 'creating' | 'available' | 'in-use' | 'deleting'
  Attachment?: VolumeAttachmentRecord
  Tags: Tags
}

export interface IpRangeRecord {
  CidrIp: string
  Description?: string
}

export interface PermissionRecord {
  IpProtocol: string
  FromPort?: number
  ToPort?: number
  IpRanges: IpRangeRecord[]
  Ipv6Ranges: {CidrIpv6: string; Description?: string}[]
  UserIdGroupPairs: {GroupId: string; UserId: string; Description?: string}[]
  PrefixListIds: {PrefixListId: string; Description?: string}[]
}

export interface GroupRecord {
  GroupId: string
  GroupName: string
  Description: string
  Region: string
  VpcId: string
  IpPermissions: PermissionRecord[]
  IpPermissionsEgress: PermissionRecord[]
  Tags: Tags
}

export interface KeyPairRecord {
  KeyPairId: string
  KeyName: string
  Region: string
  KeyType: 'rsa' | 'ed25519'
  KeyFingerprint: string
  PublicKey: string
  CreateTime: string
  Tags: Tags
}

export interface Ec2Data {
  instances: Record<string, InstanceRecord>
  volumes: Record<string, VolumeRecord>
  groups: Record<string, GroupRecord>
  keyPairs: Record<string, KeyPairRecord>
  /** Tags on resources the state does not own a record of (images, VPCs, subnets, network interfaces). */
  tags: Record<string, Tags>
  /** Hosts handed out per subnet, for private addresses. */
  addresses: Record<string, number>
}

export const emptyData = (): Ec2Data => ({instances: {}, volumes: {}, groups: {}, keyPairs: {}, tags: {}, addresses: {}})

/** prefix-<17 hex>, as AWS's newer ids. */
export const newId = (prefix: string): string => `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`

/** A stable id for what AWS creates once per account and region (the default VPC, its subnets and group). */
export const stableId = (prefix: string, seed: string): string =>
  `${prefix}-${createHash('sha256').update(seed).digest('hex').slice(0, 17)}`

export const tagList = (tags: Tags) => Object.entries(tags).map(([Key, Value]) => ({Key, Value}))

/** AWS's "User initiated (YYYY-MM-DD HH:MM:SS GMT)". */
export const userInitiated = (now: number) => `User initiated (${new Date(now).toISOString().slice(0, 19).replace('T', ' ')} GMT)`
