/**
 * EC2's wire (EC2-Query, version 2016-11-15): reads each action's parameters,
 * calls the state, and answers in EC2's XML (SDK member names renamed to the
 * wire's by wire.ts); errors in EC2's <Response><Errors> shape. Unserved actions
 * are refused by name with InvalidAction.
 */
import {AwsError} from '../../errors.js'
import {asAwsError, sendError} from '../../protocols/errors.js'
import {parseQuery, type QueryParams, queryList, queryStructs, sendQueryResult} from '../../protocols/query.js'
import type {EmulatedService, RequestContext} from '../../types.js'
import {ACCOUNT_ID} from '../../types.js'
import {INSTANCE_TYPES, instanceTypeInfo, instanceTypeView, REGIONS, zoneId, zonesOf} from './catalog.js'
import * as E from './errors.js'
import {applyFilters, type Filter} from './filters.js'
import type {ImageRecord} from './images.js'
import {createKey, importKey} from './keys.js'
import {
  type GroupRecord,
  type InstanceRecord,
  type KeyPairRecord,
  newId,
  type PermissionRecord,
  STATE_CODES,
  type Tags,
  tagList,
  type VolumeRecord,
} from './model.js'
import {type Ec2State, type LaunchInput, stateOf} from './state.js'
import {toWire} from './wire.js'

/** The operations this service answers; any other action is refused with InvalidAction. */
export const EC2_ACTIONS: readonly string[] = [
  'DescribeImages',
  'RunInstances',
  'DescribeInstances',
  'DescribeInstanceStatus',
  'StartInstances',
  'StopInstances',
  'RebootInstances',
  'TerminateInstances',
  'ModifyInstanceAttribute',
  'DescribeInstanceAttribute',
  'CreateTags',
  'DeleteTags',
  'DescribeTags',
  'CreateKeyPair',
  'ImportKeyPair',
  'DescribeKeyPairs',
  'DeleteKeyPair',
  'CreateVolume',
  'DescribeVolumes',
  'AttachVolume',
  'DetachVolume',
  'DeleteVolume',
  'CreateSecurityGroup',
  'DescribeSecurityGroups',
  'AuthorizeSecurityGroupIngress',
  'AuthorizeSecurityGroupEgress',
  'RevokeSecurityGroupIngress',
  'RevokeSecurityGroupEgress',
  'DeleteSecurityGroup',
  'DescribeVpcs',
  'DescribeSubnets',
  'DescribeAvailabilityZones',
  'DescribeRegions',
  'DescribeInstanceTypes',
  'DescribeNetworkInterfaces',
  'GetConsoleOutput',
]
const SERVED = new Set(EC2_ACTIONS)

type Result = Record<string, unknown>

const bool = (value: string | undefined) => value === 'true'
const int = (params: QueryParams, name: string): number | undefined => {
  const value = params[name]
  if (value === undefined) return undefined
  if (!/^-?\d+$/.test(value)) throw E.invalidParameterValue(`Invalid value '${value}' for ${name}`)
  return Number(value)
}
const need = (params: QueryParams, name: string): string => {
  const value = params[name]
  if (value === undefined || value === '') throw E.missingParameter(name)
  return value
}

const filtersOf = (params: QueryParams): Filter[] =>
  queryStructs(params, 'Filter').map((entry) => ({name: entry.Name ?? '', values: queryList(entry, 'Value')}))

const tagsFrom = (params: QueryParams, prefix = 'Tag'): Tags => {
  const tags: Tags = {}
  for (const entry of queryStructs(params, prefix)) {
    const key = entry.Key
    if (key === undefined) throw E.missingParameter(`${prefix}.Key`)
    if (key.toLowerCase().startsWith('aws:')) throw E.invalidParameterValue(`Tag keys starting with 'aws:' are reserved for internal use`)
    tags[key] = entry.Value ?? ''
  }
  return tags
}

const RESOURCE_TYPES = new Set(['instance', 'volume', 'security-group', 'key-pair', 'network-interface'])

function tagSpecs(params: QueryParams): Record<string, Tags> {
  const out: Record<string, Tags> = {}
  for (const spec of queryStructs(params, 'TagSpecification')) {
    const type = spec.ResourceType
    if (!type) throw E.missingParameter('TagSpecification.ResourceType')
    out[type] = {...out[type], ...tagsFrom(spec)}
  }
  return out
}

function checkSpecTypes(specs: Record<string, Tags>, allowed: readonly string[]): void {
  for (const type of Object.keys(specs))
    if (!allowed.includes(type) || !RESOURCE_TYPES.has(type))
      throw E.invalidParameterValue(`'${type}' is not a valid taggable resource type for this operation.`)
}

/** Pages over a list with EC2's MaxResults/NextToken (the token is the next offset, opaque to clients). */
function page<T>(items: readonly T[], params: QueryParams, limits: {min: number; max: number}): {items: T[]; NextToken?: string} {
  const max = int(params, 'MaxResults')
  const token = params.NextToken
  let start = 0
  if (token) {
    const decoded = Number(Buffer.from(token, 'base64url').toString('utf8'))
    if (!Number.isInteger(decoded) || decoded < 0) throw E.invalidParameterValue(`Invalid value '${token}' for NextToken`)
    start = decoded
  }
  if (max === undefined) return {items: items.slice(start)}
  if (max < limits.min || max > limits.max)
    throw E.invalidParameterValue(
      `Value ( ${max} ) for parameter maxResults is invalid. Expecting a value between ${limits.min} and ${limits.max}.`,
    )
  const end = start + max
  return {items: items.slice(start, end), ...(end < items.length ? {NextToken: Buffer.from(String(end)).toString('base64url')} : {})}
}

function permissionsFrom(params: QueryParams, group: GroupRecord, state: Ec2State, region: string): PermissionRecord[] {
  const permissions = queryStructs(params, 'IpPermissions').map((entry): PermissionRecord => {
    const protocol = entry.IpProtocol
    if (!protocol) throw E.missingParameter('IpPermissions.IpProtocol')
    const ports = protocol === '-1' || protocol.toLowerCase() === 'all'
    return {
      IpProtocol: protocol,
      ...(!ports && entry.FromPort !== undefined ? {FromPort: Number(entry.FromPort)} : {}),
      ...(!ports && entry.ToPort !== undefined ? {ToPort: Number(entry.ToPort)} : {}),
      IpRanges: queryStructs(entry, 'IpRanges').map((range) => ({
        CidrIp: checkCidr(range.CidrIp ?? ''),
        ...(range.Description ? {Description: range.Description} : {}),
      })),
      Ipv6Ranges: queryStructs(entry, 'Ipv6Ranges').map((range) => ({
        CidrIpv6: range.CidrIpv6 ?? '',
        ...(range.Description ? {Description: range.Description} : {}),
      })),
      UserIdGroupPairs: queryStructs(entry, 'Groups').map((pair) => ({
        GroupId: pair.GroupId ?? (pair.GroupName ? state.groupByName(region, pair.GroupName).GroupId : ''),
        UserId: pair.UserId ?? ACCOUNT_ID,
        ...(pair.Description ? {Description: pair.Description} : {}),
      })),
      PrefixListIds: queryStructs(entry, 'PrefixListIds').map((list) => ({PrefixListId: list.PrefixListId ?? ''})),
    }
  })
  // The older flat form: IpProtocol, FromPort, ToPort with CidrIp or SourceSecurityGroupName.
  if (params.IpProtocol || params.CidrIp || params.SourceSecurityGroupName) {
    const protocol = params.IpProtocol ?? '-1'
    permissions.push({
      IpProtocol: protocol,
      ...(params.FromPort !== undefined && protocol !== '-1' ? {FromPort: Number(params.FromPort)} : {}),
      ...(params.ToPort !== undefined && protocol !== '-1' ? {ToPort: Number(params.ToPort)} : {}),
      IpRanges: params.CidrIp ? [{CidrIp: checkCidr(params.CidrIp)}] : [],
      Ipv6Ranges: [],
      UserIdGroupPairs: params.SourceSecurityGroupName
        ? [{GroupId: state.groupByName(region, params.SourceSecurityGroupName).GroupId, UserId: ACCOUNT_ID}]
        : [],
      PrefixListIds: [],
    })
  }
  if (permissions.length === 0) throw E.missingParameter('IpPermissions')
  for (const permission of permissions) {
    const protocol = permission.IpProtocol.toLowerCase()
    if (!['-1', 'all', 'tcp', 'udp', 'icmp', 'icmpv6', '6', '17', '1', '58'].includes(protocol))
      throw E.invalidParameterValue(`Invalid value '${permission.IpProtocol}' for IP protocol. Unknown protocol.`)
    if ((protocol === 'tcp' || protocol === 'udp') && (permission.FromPort === undefined || permission.ToPort === undefined))
      throw new AwsError('InvalidParameterValue', `Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange`)
    if (
      permission.IpRanges.length + permission.Ipv6Ranges.length + permission.UserIdGroupPairs.length + permission.PrefixListIds.length ===
      0
    )
      throw E.missingParameter('IpPermissions.IpRanges')
  }
  void group
  return permissions
}

function checkCidr(cidr: string): string {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr)
  if (!match || match.slice(1, 5).some((part) => Number(part) > 255) || Number(match[5]) > 32)
    throw E.invalidParameterValue(`CIDR block ${cidr} is malformed`)
  return cidr
}

const permissionView = (permission: PermissionRecord) => ({
  IpProtocol: permission.IpProtocol,
  FromPort: permission.FromPort,
  ToPort: permission.ToPort,
  UserIdGroupPairs: permission.UserIdGroupPairs,
  IpRanges: permission.IpRanges,
  Ipv6Ranges: permission.Ipv6Ranges,
  PrefixListIds: permission.PrefixListIds,
})

const groupView = (group: GroupRecord) => ({
  GroupId: group.GroupId,
  GroupName: group.GroupName,
  Description: group.Description,
  OwnerId: ACCOUNT_ID,
  VpcId: group.VpcId,
  SecurityGroupArn: `arn:aws:ec2:${group.Region}:${ACCOUNT_ID}:security-group/${group.GroupId}`,
  IpPermissions: group.IpPermissions.map(permissionView),
  IpPermissionsEgress: group.IpPermissionsEgress.map(permissionView),
  Tags: tagList(group.Tags),
})

const volumeView = (volume: VolumeRecord) => ({
  VolumeId: volume.VolumeId,
  Size: volume.Size,
  SnapshotId: volume.SnapshotId,
  AvailabilityZone: volume.AvailabilityZone,
  State: volume.State,
  CreateTime: volume.CreateTime,
  Attachments: volume.Attachment
    ? [
        {
          VolumeId: volume.VolumeId,
          InstanceId: volume.Attachment.InstanceId,
          Device: volume.Attachment.Device,
          State: volume.Attachment.State,
          AttachTime: volume.Attachment.AttachTime,
          DeleteOnTermination: volume.Attachment.DeleteOnTermination,
        },
      ]
    : [],
  VolumeType: volume.VolumeType,
  Iops: volume.Iops ?? (volume.VolumeType === 'gp2' ? Math.min(16_000, Math.max(100, volume.Size * 3)) : undefined),
  Encrypted: volume.Encrypted,
  MultiAttachEnabled: false,
  Tags: tagList(volume.Tags),
})

const keyView = (key: KeyPairRecord, includePublic: boolean) => ({
  KeyPairId: key.KeyPairId,
  KeyType: key.KeyType,
  Tags: tagList(key.Tags),
  ...(includePublic ? {PublicKey: key.PublicKey} : {}),
  CreateTime: key.CreateTime,
  KeyName: key.KeyName,
  KeyFingerprint: key.KeyFingerprint,
})

const imageView = (image: ImageRecord, tags: Tags) => ({
  Architecture: 'x86_64',
  CreationDate: image.CreationDate,
  ImageId: image.ImageId,
  ImageLocation: `${ACCOUNT_ID}/${image.Name}`,
  ImageType: 'machine',
  Public: false,
  OwnerId: ACCOUNT_ID,
  PlatformDetails: 'Linux/UNIX',
  UsageOperation: 'RunInstances',
  State: 'available',
  BlockDeviceMappings: [
    {
      DeviceName: '/dev/sda1',
      Ebs: {
        DeleteOnTermination: true,
        SnapshotId: image.SnapshotId,
        VolumeSize: image.RootSizeGiB,
        VolumeType: 'gp2',
        Encrypted: false,
      },
    },
  ],
  Description: image.Description,
  EnaSupport: true,
  Hypervisor: 'xen',
  Name: image.Name,
  RootDeviceName: '/dev/sda1',
  RootDeviceType: 'ebs',
  SriovNetSupport: 'simple',
  Tags: tagList(tags),
  VirtualizationType: 'hvm',
  BootMode: 'uefi-preferred',
})

export class Ec2Service implements EmulatedService {
  readonly signingName = 'ec2'

  constructor(
    readonly state: Ec2State,
    private readonly ready: () => Promise<void>,
  ) {}

  async handle(ctx: RequestContext): Promise<void> {
    try {
      const {action, params} = await parseQuery(ctx)
      if (!SERVED.has(action)) throw E.unsupported(action)
      await this.ready()
      const authorize = (name: string, resource: string) => {
        try {
          ctx.authorize(name, resource)
        } catch (error) {
          // EC2 names a refusal UnauthorizedOperation, not AccessDenied.
          if (error instanceof AwsError && error.code === 'AccessDenied')
            throw new AwsError('UnauthorizedOperation', `You are not authorized to perform this operation. ${error.message}`, 403)
          throw error
        }
      }
      authorize(`ec2:${action}`, '*')
      // Tagging at creation also needs ec2:CreateTags, as on AWS.
      if (action !== 'CreateTags' && Object.keys(params).some((name) => name.startsWith('TagSpecification.')))
        authorize('ec2:CreateTags', '*')
      const result = await this.run(ctx.region, action, params, (roleArn) => authorize('iam:PassRole', roleArn))
      sendQueryResult(ctx, action, toWire(action, result), {ec2: true})
    } catch (error) {
      sendError(ctx, 'ec2', asAwsError(error))
    }
  }

  private instanceView(instance: InstanceRecord): Result {
    const state = this.state
    const groups = instance.SecurityGroupIds.map((id) => ({GroupId: id, GroupName: state.data.groups[id]?.GroupName ?? ''}))
    const live = instance.State !== 'terminated'
    const dns = `ip-${instance.PrivateIpAddress.replace(/\./g, '-')}.ec2.internal`
    return {
      AmiLaunchIndex: instance.AmiLaunchIndex,
      ImageId: instance.ImageId,
      InstanceId: instance.InstanceId,
      InstanceType: instance.InstanceType,
      KeyName: instance.KeyName,
      LaunchTime: instance.LaunchTime,
      Monitoring: {State: instance.Monitoring},
      Placement: {AvailabilityZone: instance.AvailabilityZone, GroupName: '', Tenancy: 'default'},
      PrivateDnsName: live ? dns : '',
      PrivateIpAddress: live ? instance.PrivateIpAddress : undefined,
      ProductCodes: [],
      PublicDnsName: '',
      State: stateOf(instance.State),
      StateTransitionReason: instance.StateTransitionReason,
      SubnetId: live ? instance.SubnetId : undefined,
      VpcId: live ? instance.VpcId : undefined,
      Architecture: 'x86_64',
      BlockDeviceMappings: instance.BlockDevices.map((device) => ({
        DeviceName: device.DeviceName,
        Ebs: {
          AttachTime: device.AttachTime,
          DeleteOnTermination: device.DeleteOnTermination,
          Status: 'attached',
          VolumeId: device.VolumeId,
        },
      })),
      ClientToken: instance.ClientToken,
      EbsOptimized: instance.EbsOptimized,
      EnaSupport: true,
      Hypervisor: 'xen',
      IamInstanceProfile: instance.IamInstanceProfile,
      NetworkInterfaces: live
        ? [
            {
              Attachment: {
                AttachTime: instance.LaunchTime,
                AttachmentId: `eni-attach-${instance.NetworkInterfaceId.slice(4)}`,
                DeleteOnTermination: true,
                DeviceIndex: 0,
                Status: 'attached',
                NetworkCardIndex: 0,
              },
              Description: '',
              Groups: groups,
              Ipv6Addresses: [],
              MacAddress: instance.MacAddress,
              NetworkInterfaceId: instance.NetworkInterfaceId,
              OwnerId: ACCOUNT_ID,
              PrivateDnsName: dns,
              PrivateIpAddress: instance.PrivateIpAddress,
              PrivateIpAddresses: [{Primary: true, PrivateDnsName: dns, PrivateIpAddress: instance.PrivateIpAddress}],
              SourceDestCheck: true,
              Status: 'in-use',
              SubnetId: instance.SubnetId,
              VpcId: instance.VpcId,
              InterfaceType: 'interface',
            },
          ]
        : [],
      RootDeviceName: instance.RootDeviceName,
      RootDeviceType: 'ebs',
      SecurityGroups: groups,
      SourceDestCheck: true,
      StateReason: instance.StateReason ?? (instance.State === 'pending' ? {Code: 'pending', Message: 'pending'} : undefined),
      Tags: tagList(instance.Tags),
      VirtualizationType: 'hvm',
      CpuOptions: {CoreCount: Math.max(1, (instanceTypeInfo(instance.InstanceType)?.vcpus ?? 1) / 2), ThreadsPerCore: 2},
      HibernationOptions: {Configured: false},
      MetadataOptions: {
        State: 'applied',
        HttpTokens: 'optional',
        HttpPutResponseHopLimit: 1,
        HttpEndpoint: 'enabled',
        HttpProtocolIpv6: 'disabled',
        InstanceMetadataTags: 'disabled',
      },
      PlatformDetails: 'Linux/UNIX',
      UsageOperation: 'RunInstances',
      BootMode: 'legacy-bios',
    }
  }

  private instanceFields() {
    const state = this.state
    return {
      'instance-state-name': (i: InstanceRecord) => i.State,
      'instance-state-code': (i: InstanceRecord) => STATE_CODES[i.State],
      'image-id': (i: InstanceRecord) => i.ImageId,
      'instance-type': (i: InstanceRecord) => i.InstanceType,
      'instance-id': (i: InstanceRecord) => i.InstanceId,
      'iam-instance-profile.arn': (i: InstanceRecord) => i.IamInstanceProfile?.Arn,
      'iam-instance-profile.id': (i: InstanceRecord) => i.IamInstanceProfile?.Id,
      'instance.group-id': (i: InstanceRecord) => i.SecurityGroupIds,
      'instance.group-name': (i: InstanceRecord) => i.SecurityGroupIds.map((id) => state.data.groups[id]?.GroupName),
      'group-id': (i: InstanceRecord) => i.SecurityGroupIds,
      'group-name': (i: InstanceRecord) => i.SecurityGroupIds.map((id) => state.data.groups[id]?.GroupName),
      'availability-zone': (i: InstanceRecord) => i.AvailabilityZone,
      'subnet-id': (i: InstanceRecord) => i.SubnetId,
      'vpc-id': (i: InstanceRecord) => i.VpcId,
      'key-name': (i: InstanceRecord) => i.KeyName,
      'reservation-id': (i: InstanceRecord) => i.ReservationId,
      'private-ip-address': (i: InstanceRecord) => i.PrivateIpAddress,
      'network-interface.network-interface-id': (i: InstanceRecord) => i.NetworkInterfaceId,
      'launch-index': (i: InstanceRecord) => i.AmiLaunchIndex,
      'launch-time': (i: InstanceRecord) => i.LaunchTime,
      'owner-id': () => ACCOUNT_ID,
      'root-device-name': (i: InstanceRecord) => i.RootDeviceName,
      'root-device-type': () => 'ebs',
      'state-reason-code': (i: InstanceRecord) => i.StateReason?.Code,
      'block-device-mapping.volume-id': (i: InstanceRecord) => i.BlockDevices.map((d) => d.VolumeId),
      'client-token': (i: InstanceRecord) => i.ClientToken,
      architecture: () => 'x86_64',
    }
  }

  private selectInstances(region: string, params: QueryParams): InstanceRecord[] {
    const ids = queryList(params, 'InstanceId')
    const base = ids.length > 0 ? this.state.instances(region, ids) : this.state.instancesIn(region)
    return applyFilters(base, filtersOf(params), this.instanceFields(), (i) => i.Tags)
  }

  /** `passRole` checks that the caller may pass an instance profile's role (iam:PassRole, as AWS checks at launch). */
  private async run(region: string, action: string, params: QueryParams, passRole: (roleArn: string) => void): Promise<Result> {
    const state = this.state
    state.ensureRegion(region)
    const dryRun = bool(params.DryRun)
    // Read-only actions answer DryRunOperation once the request is valid; mutating ones check their references first.
    const readOnly = action.startsWith('Describe') || action === 'GetConsoleOutput'
    if (dryRun && readOnly) throw E.dryRunOk()
    switch (action) {
      case 'DescribeImages': {
        await state.refreshImages()
        const ids = queryList(params, 'ImageId')
        const owners = queryList(params, 'Owner')
        for (const id of ids) if (!/^ami-[0-9a-f]{8,17}$/.test(id)) throw E.amiMalformed(id)
        const all = state.allImages()
        const missing = ids.filter((id) => !all.some((image) => image.ImageId === id))
        if (missing.length > 0) throw E.amiNotFound(missing)
        let images = ids.length > 0 ? all.filter((image) => ids.includes(image.ImageId)) : all
        if (owners.length > 0) images = images.filter(() => owners.some((owner) => owner === 'self' || owner === ACCOUNT_ID))
        images = applyFilters(
          images,
          filtersOf(params),
          {
            'image-id': (image) => image.ImageId,
            name: (image) => image.Name,
            state: () => 'available',
            'owner-id': () => ACCOUNT_ID,
            'image-type': () => 'machine',
            architecture: () => 'x86_64',
            'root-device-type': () => 'ebs',
            'root-device-name': () => '/dev/sda1',
            'is-public': () => false,
            'virtualization-type': () => 'hvm',
            description: (image) => image.Description,
          },
          (image) => state.data.tags[image.ImageId] ?? {},
        )
        images.sort((a, b) => a.ImageId.localeCompare(b.ImageId))
        const paged = page(images, params, {min: 1, max: 1000})
        return {Images: paged.items.map((image) => imageView(image, state.data.tags[image.ImageId] ?? {})), NextToken: paged.NextToken}
      }
      case 'RunInstances': {
        const specs = tagSpecs(params)
        checkSpecTypes(specs, ['instance', 'volume', 'network-interface'])
        const minCount = int(params, 'MinCount')
        const maxCount = int(params, 'MaxCount')
        if (minCount === undefined) throw E.missingParameter('MinCount')
        if (maxCount === undefined) throw E.missingParameter('MaxCount')
        const input: LaunchInput = {
          region,
          imageId: need(params, 'ImageId'),
          minCount,
          maxCount,
          instanceType: params.InstanceType ?? 'm1.small',
          ...(params.KeyName !== undefined ? {keyName: params.KeyName} : {}),
          groupNames: queryList(params, 'SecurityGroup'),
          groupIds: queryList(params, 'SecurityGroupId'),
          ...(params.SubnetId ? {subnetId: params.SubnetId} : {}),
          ...(params['IamInstanceProfile.Name'] ? {profileName: params['IamInstanceProfile.Name']} : {}),
          ...(params['IamInstanceProfile.Arn'] ? {profileArn: params['IamInstanceProfile.Arn']} : {}),
          ...(params.InstanceInitiatedShutdownBehavior ? {shutdownBehavior: params.InstanceInitiatedShutdownBehavior} : {}),
          ...(params.UserData !== undefined ? {userData: params.UserData} : {}),
          disableApiTermination: bool(params.DisableApiTermination),
          ...(params.ClientToken ? {clientToken: params.ClientToken} : {}),
          ebsOptimized: bool(params.EbsOptimized),
          monitoring: bool(params['Monitoring.Enabled']),
          instanceTags: specs.instance ?? {},
          volumeTags: specs.volume ?? {},
          blockDevices: queryStructs(params, 'BlockDeviceMapping').map((entry) => {
            const ebsSize = int(entry, 'Ebs.VolumeSize')
            const iops = int(entry, 'Ebs.Iops')
            return {
              DeviceName: entry.DeviceName ?? '',
              ...(entry.NoDevice !== undefined ? {NoDevice: true} : {}),
              ...(entry.VirtualName ? {VirtualName: entry.VirtualName} : {}),
              Ebs: {
                ...(ebsSize !== undefined ? {VolumeSize: ebsSize} : {}),
                ...(entry['Ebs.VolumeType'] ? {VolumeType: entry['Ebs.VolumeType']} : {}),
                ...(entry['Ebs.DeleteOnTermination'] !== undefined ? {DeleteOnTermination: bool(entry['Ebs.DeleteOnTermination'])} : {}),
                ...(iops !== undefined ? {Iops: iops} : {}),
                ...(entry['Ebs.Encrypted'] !== undefined ? {Encrypted: bool(entry['Ebs.Encrypted'])} : {}),
                ...(entry['Ebs.SnapshotId'] ? {SnapshotId: entry['Ebs.SnapshotId']} : {}),
              },
            }
          }),
          ...(params['Placement.AvailabilityZone'] ? {placementZone: params['Placement.AvailabilityZone']} : {}),
          passRole,
        }
        const {reservationId, instances} = await state.launch(input, dryRun)
        return {
          ReservationId: reservationId,
          OwnerId: ACCOUNT_ID,
          Groups: [],
          Instances: instances.map((instance) => this.instanceView(instance)),
        }
      }
      case 'DescribeInstances': {
        const ids = queryList(params, 'InstanceId')
        if (ids.length > 0 && params.MaxResults !== undefined)
          throw E.invalidParameterCombination('The parameter instancesSet cannot be used with the parameter maxResults')
        const selected = this.selectInstances(region, params)
        const paged = page(selected, params, {min: 5, max: 1000})
        const reservations = new Map<string, InstanceRecord[]>()
        for (const instance of paged.items) {
          const list = reservations.get(instance.ReservationId)
          if (list) list.push(instance)
          else reservations.set(instance.ReservationId, [instance])
        }
        return {
          Reservations: [...reservations].map(([id, instances]) => ({
            ReservationId: id,
            OwnerId: ACCOUNT_ID,
            Groups: [],
            Instances: instances.map((instance) => this.instanceView(instance)),
          })),
          NextToken: paged.NextToken,
        }
      }
      case 'DescribeInstanceStatus': {
        const ids = queryList(params, 'InstanceId')
        const all = bool(params.IncludeAllInstances)
        let instances = ids.length > 0 ? state.instances(region, ids) : state.instancesIn(region)
        if (!all) instances = instances.filter((i) => i.State === 'running')
        const status = (i: InstanceRecord) => (i.State === 'running' ? 'ok' : 'not-applicable')
        instances = applyFilters(instances, filtersOf(params), {
          'instance-state-name': (i) => i.State,
          'instance-state-code': (i) => STATE_CODES[i.State],
          'availability-zone': (i) => i.AvailabilityZone,
          'instance-status.status': status,
          'system-status.status': status,
          'instance-status.reachability': (i) => (i.State === 'running' ? 'passed' : undefined),
          'system-status.reachability': (i) => (i.State === 'running' ? 'passed' : undefined),
        })
        const paged = page(instances, params, {min: 5, max: 1000})
        return {
          InstanceStatuses: paged.items.map((i) => {
            const summary = {Status: status(i), ...(i.State === 'running' ? {Details: [{Name: 'reachability', Status: 'passed'}]} : {})}
            return {
              AvailabilityZone: i.AvailabilityZone,
              InstanceId: i.InstanceId,
              InstanceState: stateOf(i.State),
              InstanceStatus: summary,
              SystemStatus: summary,
              AttachedEbsStatus: summary,
              Events: [],
            }
          }),
          NextToken: paged.NextToken,
        }
      }
      case 'StartInstances': {
        const ids = this.ids(params)
        if (dryRun) {
          state.instances(region, ids)
          throw E.dryRunOk()
        }
        return {StartingInstances: await state.start(region, ids)}
      }
      case 'StopInstances': {
        const ids = this.ids(params)
        if (dryRun) {
          state.instances(region, ids)
          throw E.dryRunOk()
        }
        return {StoppingInstances: await state.stop(region, ids)}
      }
      case 'RebootInstances': {
        const ids = this.ids(params)
        if (dryRun) {
          state.instances(region, ids)
          throw E.dryRunOk()
        }
        state.reboot(region, ids)
        return {}
      }
      case 'TerminateInstances': {
        const ids = this.ids(params)
        if (dryRun) {
          state.instances(region, ids)
          throw E.dryRunOk()
        }
        return {TerminatingInstances: await state.terminate(region, ids)}
      }
      case 'ModifyInstanceAttribute':
        return this.modifyAttribute(region, params, dryRun)
      case 'DescribeInstanceAttribute':
        return this.describeAttribute(region, params)
      case 'CreateTags':
      case 'DeleteTags': {
        const ids = queryList(params, 'ResourceId')
        if (ids.length === 0) throw E.missingParameter('ResourceId')
        const entries = queryStructs(params, 'Tag')
        if (action === 'CreateTags' && entries.length === 0) throw E.missingParameter('Tag')
        const maps = ids.map((id) => state.tagsOf(region, id))
        if (dryRun) throw E.dryRunOk()
        if (action === 'CreateTags') {
          const tags = tagsFrom(params)
          for (const map of maps) {
            if (Object.keys({...map, ...tags}).length > 50)
              throw new AwsError('TagLimitExceeded', 'The maximum number of Tags for a resource has been reached.')
            Object.assign(map, tags)
          }
        } else {
          for (const map of maps) {
            if (entries.length === 0) for (const key of Object.keys(map)) delete map[key]
            for (const entry of entries) {
              const key = entry.Key ?? ''
              if (map[key] !== undefined && (entry.Value === undefined || map[key] === entry.Value)) delete map[key]
            }
          }
        }
        await state.save()
        return {}
      }
      case 'DescribeTags':
        return this.describeTags(region, params)
      case 'CreateKeyPair':
      case 'ImportKeyPair': {
        const name = need(params, 'KeyName')
        const specs = tagSpecs(params)
        checkSpecTypes(specs, ['key-pair'])
        if (state.keyPairsIn(region).some((k) => k.KeyName === name))
          throw new AwsError('InvalidKeyPair.Duplicate', `The keypair '${name}' already exists.`)
        if (name.length > 255) throw E.invalidParameterValue('Key pair names are at most 255 characters.')
        let made: {fingerprint: string; publicKey: string; type: 'rsa' | 'ed25519'; keyMaterial?: string}
        if (action === 'ImportKeyPair') {
          const material = Buffer.from(need(params, 'PublicKeyMaterial'), 'base64').toString('utf8')
          made = importKey(material)
        } else {
          const type = (params.KeyType ?? 'rsa') as 'rsa' | 'ed25519'
          if (type !== 'rsa' && type !== 'ed25519') throw E.invalidParameterValue(`Invalid value '${type}' for KeyType`)
          if (dryRun) throw E.dryRunOk()
          made = {...(await createKey(type, (params.KeyFormat ?? 'pem') as 'pem')), type}
        }
        if (dryRun) throw E.dryRunOk()
        const key: KeyPairRecord = {
          KeyPairId: newId('key'),
          KeyName: name,
          Region: region,
          KeyType: made.type,
          KeyFingerprint: made.fingerprint,
          PublicKey: made.publicKey,
          CreateTime: state.iso(),
          Tags: specs['key-pair'] ?? {},
        }
        state.data.keyPairs[key.KeyPairId] = key
        await state.save()
        const base = {KeyFingerprint: key.KeyFingerprint, KeyName: key.KeyName, KeyPairId: key.KeyPairId, Tags: tagList(key.Tags)}
        return action === 'CreateKeyPair' ? {...base, KeyMaterial: made.keyMaterial} : base
      }
      case 'DescribeKeyPairs': {
        const names = queryList(params, 'KeyName')
        const ids = queryList(params, 'KeyPairId')
        const all = state.keyPairsIn(region)
        for (const name of names) if (!all.some((k) => k.KeyName === name)) throw E.keyPairNotFound(name)
        for (const id of ids)
          if (!all.some((k) => k.KeyPairId === id)) throw new AwsError('InvalidKeyPair.NotFound', `The key pair '${id}' does not exist`)
        let keys = all.filter((k) => (names.length === 0 || names.includes(k.KeyName)) && (ids.length === 0 || ids.includes(k.KeyPairId)))
        keys = applyFilters(
          keys,
          filtersOf(params),
          {
            'key-name': (k) => k.KeyName,
            'key-pair-id': (k) => k.KeyPairId,
            fingerprint: (k) => k.KeyFingerprint,
            'key-type': (k) => k.KeyType,
          },
          (k) => k.Tags,
        )
        return {KeyPairs: keys.map((k) => keyView(k, bool(params.IncludePublicKey)))}
      }
      case 'DeleteKeyPair': {
        const name = params.KeyName
        const id = params.KeyPairId
        if (!name && !id) throw E.missingParameter('KeyName')
        const key = state.keyPairsIn(region).find((k) => (id ? k.KeyPairId === id : k.KeyName === name))
        if (dryRun) throw E.dryRunOk()
        // AWS answers success for a name that does not exist; an unknown id is an error.
        if (!key && id) throw new AwsError('InvalidKeyPair.NotFound', `The key pair '${id}' does not exist`)
        if (key) {
          delete state.data.keyPairs[key.KeyPairId]
          await state.save()
        }
        return {Return: true, KeyPairId: key?.KeyPairId}
      }
      case 'CreateVolume': {
        const zone = params.AvailabilityZone
        if (!zone) throw E.missingParameter('AvailabilityZone')
        if (!zonesOf(region).includes(zone)) throw E.invalidParameterValue(`Invalid availability zone: [${zone}]`)
        const size = int(params, 'Size')
        if (size === undefined && !params.SnapshotId) throw E.missingParameter('Size')
        const type = params.VolumeType ?? 'gp2'
        const types = ['standard', 'io1', 'io2', 'gp2', 'gp3', 'sc1', 'st1']
        if (!types.includes(type)) throw E.invalidParameterValue(`Invalid value '${type}' for volumeType`)
        if (size !== undefined && (size < 1 || size > 16_384))
          throw E.invalidParameterValue(`Volume of ${size}GiB is outside the allowed size of 1 to 16384 GiB for ${type}`)
        const specs = tagSpecs(params)
        checkSpecTypes(specs, ['volume'])
        if (dryRun) throw E.dryRunOk()
        const iops = int(params, 'Iops')
        const volume = state.createVolume({
          Region: region,
          AvailabilityZone: zone,
          Size: size ?? 8,
          SnapshotId: params.SnapshotId ?? '',
          VolumeType: type,
          ...(iops !== undefined ? {Iops: iops} : {}),
          Encrypted: bool(params.Encrypted),
          State: 'available',
          Tags: specs.volume ?? {},
        })
        await state.save()
        return {...volumeView(volume), State: 'creating'}
      }
      case 'DescribeVolumes': {
        const ids = queryList(params, 'VolumeId')
        for (const id of ids) state.volume(region, id)
        const missing = ids.filter((id) => !state.data.volumes[id])
        if (missing.length > 0) throw E.volumeNotFound(missing)
        let volumes = ids.length > 0 ? ids.map((id) => state.data.volumes[id]!) : state.volumesIn(region)
        volumes = applyFilters(
          volumes,
          filtersOf(params),
          {
            status: (v) => v.State,
            'volume-id': (v) => v.VolumeId,
            'volume-type': (v) => v.VolumeType,
            size: (v) => v.Size,
            'availability-zone': (v) => v.AvailabilityZone,
            'snapshot-id': (v) => v.SnapshotId,
            encrypted: (v) => v.Encrypted,
            'create-time': (v) => v.CreateTime,
            'attachment.instance-id': (v) => v.Attachment?.InstanceId,
            'attachment.device': (v) => v.Attachment?.Device,
            'attachment.status': (v) => v.Attachment?.State,
            'attachment.delete-on-termination': (v) => v.Attachment?.DeleteOnTermination,
            'attachment.attach-time': (v) => v.Attachment?.AttachTime,
          },
          (v) => v.Tags,
        )
        const paged = page(volumes, params, {min: 5, max: 500})
        return {Volumes: paged.items.map(volumeView), NextToken: paged.NextToken}
      }
      case 'AttachVolume': {
        const volume = state.volume(region, need(params, 'VolumeId'))
        const instanceId = need(params, 'InstanceId')
        const device = need(params, 'Device')
        if (dryRun) {
          state.instance(region, instanceId)
          throw E.dryRunOk()
        }
        state.attachVolume(region, volume, instanceId, device)
        await state.save()
        const attachment = volume.Attachment!
        return {
          AttachTime: attachment.AttachTime,
          Device: attachment.Device,
          InstanceId: attachment.InstanceId,
          State: 'attaching',
          VolumeId: volume.VolumeId,
          DeleteOnTermination: false,
        }
      }
      case 'DetachVolume': {
        const volume = state.volume(region, need(params, 'VolumeId'))
        const attachment = volume.Attachment
        if (dryRun) throw E.dryRunOk()
        state.detachVolume(region, volume, params.InstanceId)
        await state.save()
        return {
          AttachTime: attachment?.AttachTime,
          Device: attachment?.Device,
          InstanceId: attachment?.InstanceId,
          State: 'detaching',
          VolumeId: volume.VolumeId,
          DeleteOnTermination: attachment?.DeleteOnTermination,
        }
      }
      case 'DeleteVolume': {
        const volume = state.volume(region, need(params, 'VolumeId'))
        if (dryRun) throw E.dryRunOk()
        state.deleteVolume(volume)
        await state.save()
        return {}
      }
      case 'CreateSecurityGroup': {
        const specs = tagSpecs(params)
        checkSpecTypes(specs, ['security-group'])
        const name = need(params, 'GroupName')
        const description = need(params, 'GroupDescription')
        if (dryRun) throw E.dryRunOk()
        const group = state.createGroup(region, {
          GroupName: name,
          Description: description,
          ...(params.VpcId ? {VpcId: params.VpcId} : {}),
          Tags: specs['security-group'] ?? {},
        })
        await state.save()
        return {GroupId: group.GroupId, Tags: tagList(group.Tags), SecurityGroupArn: groupView(group).SecurityGroupArn}
      }
      case 'DescribeSecurityGroups': {
        const ids = queryList(params, 'GroupId')
        const names = queryList(params, 'GroupName')
        const picked = [...ids.map((id) => state.groupById(region, id)), ...names.map((name) => state.groupByName(region, name))]
        const base = ids.length + names.length > 0 ? [...new Set(picked)] : state.groupsIn(region)
        const groups = applyFilters(
          base,
          filtersOf(params),
          {
            'group-id': (g) => g.GroupId,
            'group-name': (g) => g.GroupName,
            description: (g) => g.Description,
            'vpc-id': (g) => g.VpcId,
            'owner-id': () => ACCOUNT_ID,
            'ip-permission.protocol': (g) => g.IpPermissions.map((p) => p.IpProtocol),
            'ip-permission.cidr': (g) => g.IpPermissions.flatMap((p) => p.IpRanges.map((r) => r.CidrIp)),
            'ip-permission.from-port': (g) => g.IpPermissions.map((p) => (p.FromPort === undefined ? undefined : String(p.FromPort))),
            'ip-permission.to-port': (g) => g.IpPermissions.map((p) => (p.ToPort === undefined ? undefined : String(p.ToPort))),
            'ip-permission.group-id': (g) => g.IpPermissions.flatMap((p) => p.UserIdGroupPairs.map((pair) => pair.GroupId)),
            'egress.ip-permission.cidr': (g) => g.IpPermissionsEgress.flatMap((p) => p.IpRanges.map((r) => r.CidrIp)),
          },
          (g) => g.Tags,
        )
        const paged = page(groups, params, {min: 5, max: 1000})
        return {SecurityGroups: paged.items.map(groupView), NextToken: paged.NextToken}
      }
      case 'AuthorizeSecurityGroupIngress':
      case 'AuthorizeSecurityGroupEgress':
      case 'RevokeSecurityGroupIngress':
      case 'RevokeSecurityGroupEgress': {
        const egress = action.endsWith('Egress')
        const group = params.GroupId
          ? state.groupById(region, params.GroupId)
          : !egress && params.GroupName
            ? state.groupByName(region, params.GroupName)
            : undefined
        if (!group) throw E.missingParameter('GroupId')
        if (queryList(params, 'SecurityGroupRuleId').length > 0)
          throw E.invalidParameterValue('The ncap emulator revokes rules by their permissions, not by SecurityGroupRuleIds.')
        const permissions = permissionsFrom(params, group, state, region)
        if (dryRun) throw E.dryRunOk()
        if (action.startsWith('Revoke')) {
          state.revoke(group, egress, permissions)
          await state.save()
          return {Return: true}
        }
        const added = state.authorize(region, group, egress, permissions)
        await state.save()
        return {
          Return: true,
          SecurityGroupRules: added.map((rule) => ({
            SecurityGroupRuleId: newId('sgr'),
            GroupId: group.GroupId,
            GroupOwnerId: ACCOUNT_ID,
            IsEgress: egress,
            IpProtocol: rule.IpProtocol,
            FromPort: rule.FromPort ?? -1,
            ToPort: rule.ToPort ?? -1,
            ...(rule.IpRanges[0] ? {CidrIpv4: rule.IpRanges[0].CidrIp} : {}),
            ...(rule.Ipv6Ranges[0] ? {CidrIpv6: rule.Ipv6Ranges[0].CidrIpv6} : {}),
            ...(rule.UserIdGroupPairs[0]
              ? {ReferencedGroupInfo: {GroupId: rule.UserIdGroupPairs[0].GroupId, UserId: rule.UserIdGroupPairs[0].UserId}}
              : {}),
            ...(rule.PrefixListIds[0] ? {PrefixListId: rule.PrefixListIds[0].PrefixListId} : {}),
          })),
        }
      }
      case 'DeleteSecurityGroup': {
        const group = params.GroupId
          ? state.groupById(region, params.GroupId)
          : params.GroupName
            ? state.groupByName(region, params.GroupName)
            : undefined
        if (!group) throw E.missingParameter('GroupId')
        if (dryRun) throw E.dryRunOk()
        state.deleteGroup(region, group)
        await state.save()
        return {Return: true, GroupId: group.GroupId}
      }
      case 'DescribeVpcs': {
        const id = state.vpcId(region)
        const ids = queryList(params, 'VpcId')
        const missing = ids.filter((v) => v !== id)
        if (missing.length > 0) throw new AwsError('InvalidVpcID.NotFound', `The vpc ID '${missing[0]}' does not exist`)
        const tags = state.data.tags[id] ?? {}
        const vpc = {id, tags}
        const vpcs = applyFilters(
          [vpc],
          filtersOf(params),
          {
            'vpc-id': (v) => v.id,
            'is-default': () => true,
            isDefault: () => true,
            'cidr-block': () => '172.31.0.0/16',
            cidr: () => '172.31.0.0/16',
            state: () => 'available',
            'owner-id': () => ACCOUNT_ID,
            'dhcp-options-id': () => 'default',
          },
          (v) => v.tags,
        )
        return {
          Vpcs: vpcs.map((v) => ({
            CidrBlock: '172.31.0.0/16',
            DhcpOptionsId: 'default',
            State: 'available',
            VpcId: v.id,
            OwnerId: ACCOUNT_ID,
            InstanceTenancy: 'default',
            CidrBlockAssociationSet: [
              {AssociationId: `vpc-cidr-assoc-${v.id.slice(4)}`, CidrBlock: '172.31.0.0/16', CidrBlockState: {State: 'associated'}},
            ],
            Ipv6CidrBlockAssociationSet: [],
            IsDefault: true,
            Tags: tagList(v.tags),
          })),
        }
      }
      case 'DescribeSubnets': {
        const all = state.subnets(region)
        const ids = queryList(params, 'SubnetId')
        for (const id of ids) state.subnet(region, id)
        const picked = ids.length > 0 ? all.filter((s) => ids.includes(s.SubnetId)) : all
        const used = (subnetId: string) =>
          state.instancesIn(region).filter((i) => i.SubnetId === subnetId && i.State !== 'terminated').length
        const subnets = applyFilters(
          picked,
          filtersOf(params),
          {
            'subnet-id': (s) => s.SubnetId,
            'vpc-id': () => state.vpcId(region),
            'availability-zone': (s) => s.AvailabilityZone,
            'availability-zone-id': (s) => zoneId(region, s.index),
            'default-for-az': () => true,
            defaultForAz: () => true,
            'cidr-block': (s) => s.CidrBlock,
            state: () => 'available',
            'owner-id': () => ACCOUNT_ID,
          },
          (s) => state.data.tags[s.SubnetId] ?? {},
        )
        return {
          Subnets: subnets.map((s) => ({
            AvailabilityZone: s.AvailabilityZone,
            AvailabilityZoneId: zoneId(region, s.index),
            AvailableIpAddressCount: 4091 - used(s.SubnetId),
            CidrBlock: s.CidrBlock,
            DefaultForAz: true,
            MapPublicIpOnLaunch: true,
            State: 'available',
            SubnetId: s.SubnetId,
            VpcId: state.vpcId(region),
            OwnerId: ACCOUNT_ID,
            AssignIpv6AddressOnCreation: false,
            Ipv6CidrBlockAssociationSet: [],
            Tags: tagList(state.data.tags[s.SubnetId] ?? {}),
            SubnetArn: `arn:aws:ec2:${region}:${ACCOUNT_ID}:subnet/${s.SubnetId}`,
            EnableDns64: false,
            Ipv6Native: false,
            PrivateDnsNameOptionsOnLaunch: {
              HostnameType: 'ip-name',
              EnableResourceNameDnsARecord: false,
              EnableResourceNameDnsAAAARecord: false,
            },
          })),
        }
      }
      case 'DescribeAvailabilityZones': {
        const names = queryList(params, 'ZoneName')
        const zoneIds = queryList(params, 'ZoneId')
        const zones = zonesOf(region).map((name, index) => ({name, id: zoneId(region, index)}))
        for (const name of names)
          if (!zones.some((z) => z.name === name)) throw E.invalidParameterValue(`Invalid availability zone: [${name}]`)
        for (const id of zoneIds) if (!zones.some((z) => z.id === id)) throw E.invalidParameterValue(`Invalid availability zone: [${id}]`)
        const picked = zones.filter(
          (z) => (names.length === 0 || names.includes(z.name)) && (zoneIds.length === 0 || zoneIds.includes(z.id)),
        )
        const filtered = applyFilters(picked, filtersOf(params), {
          'zone-name': (z) => z.name,
          'zone-id': (z) => z.id,
          state: () => 'available',
          'region-name': () => region,
          'zone-type': () => 'availability-zone',
          'opt-in-status': () => 'opt-in-not-required',
          'group-name': () => region,
        })
        return {
          AvailabilityZones: filtered.map((z) => ({
            State: 'available',
            OptInStatus: 'opt-in-not-required',
            Messages: [],
            RegionName: region,
            ZoneName: z.name,
            ZoneId: z.id,
            GroupName: region,
            NetworkBorderGroup: region,
            ZoneType: 'availability-zone',
          })),
        }
      }
      case 'DescribeRegions': {
        const names = queryList(params, 'RegionName')
        for (const name of names) if (!REGIONS.includes(name)) throw new AwsError('InvalidParameterValue', `Invalid region: ${name}`)
        const picked = REGIONS.filter((name) => names.length === 0 || names.includes(name))
        const filtered = applyFilters(picked, filtersOf(params), {
          'region-name': (name) => name,
          endpoint: (name) => `ec2.${name}.amazonaws.com`,
          'opt-in-status': () => 'opt-in-not-required',
        })
        return {
          Regions: filtered.map((name) => ({Endpoint: `ec2.${name}.amazonaws.com`, RegionName: name, OptInStatus: 'opt-in-not-required'})),
        }
      }
      case 'DescribeInstanceTypes': {
        const names = queryList(params, 'InstanceType')
        const unknown = names.filter((name) => !instanceTypeInfo(name))
        if (unknown.length > 0)
          throw new AwsError('InvalidInstanceType', `The following supplied instance types do not exist: [${unknown.join(', ')}]`)
        const picked = names.length > 0 ? INSTANCE_TYPES.filter((t) => names.includes(t.name)) : INSTANCE_TYPES
        const filtered = applyFilters(picked, filtersOf(params), {
          'instance-type': (t) => t.name,
          'vcpu-info.default-vcpus': (t) => t.vcpus,
          'memory-info.size-in-mib': (t) => t.memoryMiB,
          'current-generation': (t) => !t.name.startsWith('m1.'),
          'burstable-performance-supported': (t) => t.burstable === true,
          'gpu-info.gpus.manufacturer': (t) => t.gpus?.manufacturer,
          'processor-info.supported-architecture': () => 'x86_64',
        })
        const paged = page(filtered, params, {min: 5, max: 100})
        return {InstanceTypes: paged.items.map(instanceTypeView), NextToken: paged.NextToken}
      }
      case 'DescribeNetworkInterfaces': {
        const live = state.instancesIn(region).filter((i) => i.State !== 'terminated')
        const ids = queryList(params, 'NetworkInterfaceId')
        const missing = ids.filter((id) => !live.some((i) => i.NetworkInterfaceId === id))
        if (missing.length > 0)
          throw new AwsError('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${missing[0]}' does not exist`)
        const picked = ids.length > 0 ? live.filter((i) => ids.includes(i.NetworkInterfaceId)) : live
        const filtered = applyFilters(
          picked,
          filtersOf(params),
          {
            'network-interface-id': (i) => i.NetworkInterfaceId,
            'attachment.instance-id': (i) => i.InstanceId,
            'attachment.status': () => 'attached',
            'group-id': (i) => i.SecurityGroupIds,
            'group-name': (i) => i.SecurityGroupIds.map((id) => state.data.groups[id]?.GroupName),
            'vpc-id': (i) => i.VpcId,
            'subnet-id': (i) => i.SubnetId,
            'availability-zone': (i) => i.AvailabilityZone,
            status: () => 'in-use',
            'private-ip-address': (i) => i.PrivateIpAddress,
            'mac-address': (i) => i.MacAddress,
            'owner-id': () => ACCOUNT_ID,
          },
          (i) => state.data.tags[i.NetworkInterfaceId] ?? {},
        )
        const paged = page(filtered, params, {min: 5, max: 1000})
        return {
          NetworkInterfaces: paged.items.map((i) => {
            const dns = `ip-${i.PrivateIpAddress.replace(/\./g, '-')}.ec2.internal`
            return {
              Attachment: {
                AttachTime: i.LaunchTime,
                AttachmentId: `eni-attach-${i.NetworkInterfaceId.slice(4)}`,
                DeleteOnTermination: true,
                DeviceIndex: 0,
                NetworkCardIndex: 0,
                InstanceId: i.InstanceId,
                InstanceOwnerId: ACCOUNT_ID,
                Status: 'attached',
              },
              AvailabilityZone: i.AvailabilityZone,
              Description: '',
              Groups: i.SecurityGroupIds.map((id) => ({GroupId: id, GroupName: state.data.groups[id]?.GroupName ?? ''})),
              InterfaceType: 'interface',
              Ipv6Addresses: [],
              MacAddress: i.MacAddress,
              NetworkInterfaceId: i.NetworkInterfaceId,
              OwnerId: ACCOUNT_ID,
              PrivateDnsName: dns,
              PrivateIpAddress: i.PrivateIpAddress,
              PrivateIpAddresses: [{Primary: true, PrivateDnsName: dns, PrivateIpAddress: i.PrivateIpAddress}],
              RequesterManaged: false,
              SourceDestCheck: true,
              Status: 'in-use',
              SubnetId: i.SubnetId,
              TagSet: tagList(state.data.tags[i.NetworkInterfaceId] ?? {}),
              VpcId: i.VpcId,
            }
          }),
          NextToken: paged.NextToken,
        }
      }
      case 'GetConsoleOutput': {
        const instance = state.instance(region, need(params, 'InstanceId'))
        const output = state.consoleOutput(instance.InstanceId)
        return {InstanceId: instance.InstanceId, Timestamp: state.iso(), ...(output.length > 0 ? {Output: output.toString('base64')} : {})}
      }
    }
    throw E.unsupported(action)
  }

  private ids(params: QueryParams): string[] {
    const ids = queryList(params, 'InstanceId')
    if (ids.length === 0) throw E.missingParameter('InstanceId')
    return ids
  }

  private async modifyAttribute(region: string, params: QueryParams, dryRun: boolean): Promise<Result> {
    const state = this.state
    const instance = state.instance(region, need(params, 'InstanceId'))
    const attribute = params.Attribute
    const value = (name: string, attributeName: string) =>
      params[`${name}.Value`] ?? (attribute === attributeName ? params.Value : undefined)
    const type = value('InstanceType', 'instanceType')
    const behaviour = value('InstanceInitiatedShutdownBehavior', 'instanceInitiatedShutdownBehavior')
    const userData = value('UserData', 'userData')
    const disable = value('DisableApiTermination', 'disableApiTermination')
    const ebs = value('EbsOptimized', 'ebsOptimized')
    const groups = queryList(params, 'GroupId')
    if ([type, behaviour, userData, disable, ebs].every((v) => v === undefined) && groups.length === 0)
      throw E.missingParameter('Attribute')
    const stopped = instance.State === 'stopped'
    if (type !== undefined) {
      if (!instanceTypeInfo(type)) throw E.invalidParameterValue(`Invalid value '${type}' for InstanceType.`)
      if (!stopped) throw E.incorrectInstanceState(instance.InstanceId, instance.State, 'modified (instanceType needs it stopped)')
    }
    if (userData !== undefined && !stopped)
      throw E.incorrectInstanceState(instance.InstanceId, instance.State, 'modified (userData needs it stopped)')
    if (behaviour !== undefined && behaviour !== 'stop' && behaviour !== 'terminate')
      throw E.invalidParameterValue(`Invalid value '${behaviour}' for instanceInitiatedShutdownBehavior`)
    const groupRecords = groups.map((id) => state.groupById(region, id))
    if (dryRun) throw E.dryRunOk()
    if (type !== undefined) instance.InstanceType = type
    if (behaviour !== undefined) instance.ShutdownBehavior = behaviour as 'stop' | 'terminate'
    if (userData !== undefined) instance.UserData = userData
    if (disable !== undefined) instance.DisableApiTermination = disable === 'true'
    if (ebs !== undefined) instance.EbsOptimized = ebs === 'true'
    if (groupRecords.length > 0) instance.SecurityGroupIds = groupRecords.map((g) => g.GroupId)
    await state.save()
    return {}
  }

  private describeAttribute(region: string, params: QueryParams): Result {
    const instance = this.state.instance(region, need(params, 'InstanceId'))
    const attribute = need(params, 'Attribute')
    const base = {InstanceId: instance.InstanceId}
    switch (attribute) {
      case 'instanceType':
        return {...base, InstanceType: {Value: instance.InstanceType}}
      case 'instanceInitiatedShutdownBehavior':
        return {...base, InstanceInitiatedShutdownBehavior: {Value: instance.ShutdownBehavior}}
      case 'userData':
        return {...base, UserData: instance.UserData !== undefined ? {Value: instance.UserData} : {}}
      case 'disableApiTermination':
        return {...base, DisableApiTermination: {Value: instance.DisableApiTermination}}
      case 'disableApiStop':
        return {...base, DisableApiStop: {Value: false}}
      case 'ebsOptimized':
        return {...base, EbsOptimized: {Value: instance.EbsOptimized}}
      case 'rootDeviceName':
        return {...base, RootDeviceName: {Value: instance.RootDeviceName}}
      case 'groupSet':
        return {
          ...base,
          Groups: instance.SecurityGroupIds.map((id) => ({GroupId: id, GroupName: this.state.data.groups[id]?.GroupName ?? ''})),
        }
      case 'blockDeviceMapping':
        return {
          ...base,
          BlockDeviceMappings: instance.BlockDevices.map((device) => ({
            DeviceName: device.DeviceName,
            Ebs: {
              AttachTime: device.AttachTime,
              DeleteOnTermination: device.DeleteOnTermination,
              Status: 'attached',
              VolumeId: device.VolumeId,
            },
          })),
        }
      case 'sourceDestCheck':
        return {...base, SourceDestCheck: {Value: true}}
      case 'enaSupport':
        return {...base, EnaSupport: {Value: true}}
      case 'productCodes':
        return {...base, ProductCodes: []}
      case 'kernel':
      case 'ramdisk':
      case 'sriovNetSupport':
        return {...base, [attribute === 'kernel' ? 'KernelId' : attribute === 'ramdisk' ? 'RamdiskId' : 'SriovNetSupport']: {}}
      default:
        throw E.invalidParameterValue(`Value (${attribute}) for parameter attribute is invalid. Unknown attribute.`)
    }
  }

  private describeTags(region: string, params: QueryParams): Result {
    const state = this.state
    const typeOf = (id: string) =>
      ({
        i: 'instance',
        vol: 'volume',
        sg: 'security-group',
        key: 'key-pair',
        ami: 'image',
        vpc: 'vpc',
        subnet: 'subnet',
        eni: 'network-interface',
      })[id.split('-')[0]!] ?? 'unknown'
    const rows: {ResourceId: string; ResourceType: string; Key: string; Value: string}[] = []
    const add = (id: string, tags: Tags) => {
      for (const [Key, Value] of Object.entries(tags)) rows.push({ResourceId: id, ResourceType: typeOf(id), Key, Value})
    }
    for (const instance of state.instancesIn(region)) add(instance.InstanceId, instance.Tags)
    for (const volume of state.volumesIn(region)) add(volume.VolumeId, volume.Tags)
    for (const group of state.groupsIn(region)) add(group.GroupId, group.Tags)
    for (const key of state.keyPairsIn(region)) add(key.KeyPairId, key.Tags)
    const regional = new Set([state.vpcId(region), ...state.subnets(region).map((s) => s.SubnetId)])
    for (const [id, tags] of Object.entries(state.data.tags)) {
      const type = typeOf(id)
      if (
        type === 'image' ||
        regional.has(id) ||
        (type === 'network-interface' && state.instancesIn(region).some((i) => i.NetworkInterfaceId === id))
      )
        add(id, tags)
    }
    const filtered = applyFilters(rows, filtersOf(params), {
      key: (row) => row.Key,
      value: (row) => row.Value,
      'resource-id': (row) => row.ResourceId,
      'resource-type': (row) => row.ResourceType,
      'tag-key': (row) => row.Key,
      'tag-value': (row) => row.Value,
    })
    const paged = page(filtered, params, {min: 5, max: 1000})
    return {Tags: paged.items, NextToken: paged.NextToken}
  }
}
