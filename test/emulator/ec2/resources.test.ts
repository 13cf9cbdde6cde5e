/**
 * EC2's resources around instances through the real SDK v3 client: key pairs,
 * volumes (attach, detach, VolumeInUse), security groups in the default VPC
 * (rules, DependencyViolation while used), tags, the default VPC, subnets,
 * zones, regions, instance types and network interfaces; state kept across a
 * restart of the emulator.
 */

import {generateKeyPairSync} from 'node:crypto'
import {
  AttachVolumeCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DeleteVolumeCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInstanceTypesCommand,
  DescribeKeyPairsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRegionsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
  DetachVolumeCommand,
  ImportKeyPairCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceTerminated,
  waitUntilVolumeAvailable,
  waitUntilVolumeInUse,
} from '@aws-sdk/client-ec2'
import test from 'ava'
import {startServer} from '../../../src/emulator/server.js'
import {clientFor, type Ec2Fixture, startEc2} from './helpers.js'

let f: Ec2Fixture

test.before(async () => {
  f = await startEc2('resources')
})
test.after.always(async () => {
  await f?.server.close()
})

const errorOf = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error as {name: string; message: string}
  }
  throw new Error('expected an error')
}
const wait = () => ({client: f.ec2, maxWaitTime: 30, minDelay: 1, maxDelay: 1})

test.serial('key pairs: create (RSA and ED25519), import, describe, duplicate, delete', async (t) => {
  const made = await f.ec2.send(
    new CreateKeyPairCommand({KeyName: 'lab', TagSpecifications: [{ResourceType: 'key-pair', Tags: [{Key: 'o', Value: 'x'}]}]}),
  )
  t.regex(made.KeyMaterial!, /^-----BEGIN RSA PRIVATE KEY-----/)
  t.regex(made.KeyFingerprint!, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/)
  t.regex(made.KeyPairId!, /^key-[0-9a-f]{17}$/)
  const ed = await f.ec2.send(new CreateKeyPairCommand({KeyName: 'lab-ed', KeyType: 'ed25519'}))
  t.regex(ed.KeyMaterial!, /BEGIN PRIVATE KEY/)
  const {publicKey} = generateKeyPairSync('rsa', {modulusLength: 2048})
  const jwk = publicKey.export({format: 'jwk'})
  const ssh = (() => {
    const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, (b.length >> 8) & 255, b.length & 255]), b])
    const mp = (b: Buffer) => str(b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b)
    return `ssh-rsa ${Buffer.concat([str(Buffer.from('ssh-rsa')), mp(Buffer.from(jwk.e!, 'base64url')), mp(Buffer.from(jwk.n!, 'base64url'))]).toString('base64')} me@lab`
  })()
  const imported = await f.ec2.send(new ImportKeyPairCommand({KeyName: 'mine', PublicKeyMaterial: Buffer.from(ssh)}))
  t.regex(imported.KeyFingerprint!, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/)
  const bad = await errorOf(f.ec2.send(new ImportKeyPairCommand({KeyName: 'bad', PublicKeyMaterial: Buffer.from('not a key')})))
  t.is(bad.name, 'InvalidKey.Format')
  const duplicate = await errorOf(f.ec2.send(new CreateKeyPairCommand({KeyName: 'lab'})))
  t.is(duplicate.name, 'InvalidKeyPair.Duplicate')
  const {KeyPairs} = await f.ec2.send(new DescribeKeyPairsCommand({KeyNames: ['lab'], IncludePublicKey: true}))
  t.is(KeyPairs?.[0]?.KeyFingerprint, made.KeyFingerprint)
  t.regex(KeyPairs?.[0]?.PublicKey ?? '', /^ssh-rsa /)
  t.deepEqual(KeyPairs?.[0]?.Tags, [{Key: 'o', Value: 'x'}])
  const byType = await f.ec2.send(new DescribeKeyPairsCommand({Filters: [{Name: 'key-type', Values: ['ed25519']}]}))
  t.deepEqual(
    byType.KeyPairs?.map((k) => k.KeyName),
    ['lab-ed'],
  )
  const missing = await errorOf(f.ec2.send(new DescribeKeyPairsCommand({KeyNames: ['nope']})))
  t.is(missing.name, 'InvalidKeyPair.NotFound')
  // A key pair named at launch is shown on the instance.
  const {Instances} = await f.ec2.send(new RunInstancesCommand({ImageId: f.image.ImageId, MinCount: 1, MaxCount: 1, KeyName: 'lab'}))
  t.is(Instances?.[0]?.KeyName, 'lab')
  await f.ec2.send(new TerminateInstancesCommand({InstanceIds: [Instances![0]!.InstanceId!]}))
  await f.ec2.send(new DeleteKeyPairCommand({KeyName: 'mine'}))
  const after = await f.ec2.send(new DescribeKeyPairsCommand({}))
  t.deepEqual(after.KeyPairs?.map((k) => k.KeyName).sort(), ['lab', 'lab-ed'])
})

test.serial('volumes: create, describe with filters, attach, VolumeInUse while attached, detach, delete', async (t) => {
  const created = await f.ec2.send(
    new CreateVolumeCommand({
      AvailabilityZone: 'us-east-1a',
      Size: 10,
      VolumeType: 'gp3',
      TagSpecifications: [{ResourceType: 'volume', Tags: [{Key: 'data', Value: 'set1'}]}],
    }),
  )
  t.is(created.State, 'creating')
  const volumeId = created.VolumeId!
  await waitUntilVolumeAvailable(wait(), {VolumeIds: [volumeId]})
  const {Instances} = await f.ec2.send(
    new RunInstancesCommand({ImageId: f.image.ImageId, MinCount: 1, MaxCount: 1, Placement: {AvailabilityZone: 'us-east-1a'}}),
  )
  const instanceId = Instances![0]!.InstanceId!
  await waitUntilInstanceRunning(wait(), {InstanceIds: [instanceId]})
  const attached = await f.ec2.send(new AttachVolumeCommand({VolumeId: volumeId, InstanceId: instanceId, Device: '/dev/sdh'}))
  t.is(attached.State, 'attaching')
  await waitUntilVolumeInUse(wait(), {VolumeIds: [volumeId]})
  const byInstance = await f.ec2.send(new DescribeVolumesCommand({Filters: [{Name: 'attachment.instance-id', Values: [instanceId]}]}))
  t.is(byInstance.Volumes?.length, 2)
  const byTag = await f.ec2.send(
    new DescribeVolumesCommand({
      Filters: [
        {Name: 'tag:data', Values: ['set1']},
        {Name: 'status', Values: ['in-use']},
      ],
    }),
  )
  t.deepEqual(
    byTag.Volumes?.map((v) => v.VolumeId),
    [volumeId],
  )
  const inUse = await errorOf(f.ec2.send(new DeleteVolumeCommand({VolumeId: volumeId})))
  t.is(inUse.name, 'VolumeInUse')
  const again = await errorOf(f.ec2.send(new AttachVolumeCommand({VolumeId: volumeId, InstanceId: instanceId, Device: '/dev/sdi'})))
  t.is(again.name, 'VolumeInUse')
  const detached = await f.ec2.send(new DetachVolumeCommand({VolumeId: volumeId}))
  t.is(detached.State, 'detaching')
  await waitUntilVolumeAvailable(wait(), {VolumeIds: [volumeId]})
  await f.ec2.send(new DeleteVolumeCommand({VolumeId: volumeId}))
  const gone = await errorOf(f.ec2.send(new DescribeVolumesCommand({VolumeIds: [volumeId]})))
  t.is(gone.name, 'InvalidVolume.NotFound')
  const otherZone = await f.ec2.send(new CreateVolumeCommand({AvailabilityZone: 'us-east-1b', Size: 1}))
  const zone = await errorOf(
    f.ec2.send(new AttachVolumeCommand({VolumeId: otherZone.VolumeId!, InstanceId: instanceId, Device: '/dev/sdj'})),
  )
  t.is(zone.name, 'InvalidParameterValue')
  await f.ec2.send(new TerminateInstancesCommand({InstanceIds: [instanceId]}))
})

test.serial('security groups: create in the default VPC, rules, DependencyViolation while an instance or a rule uses it', async (t) => {
  const {Vpcs} = await f.ec2.send(new DescribeVpcsCommand({Filters: [{Name: 'is-default', Values: ['true']}]}))
  const vpcId = Vpcs![0]!.VpcId!
  t.is(Vpcs![0]!.CidrBlock, '172.31.0.0/16')
  const web = await f.ec2.send(new CreateSecurityGroupCommand({GroupName: 'web', Description: 'web servers', VpcId: vpcId}))
  const db = await f.ec2.send(new CreateSecurityGroupCommand({GroupName: 'db', Description: 'databases'}))
  const duplicate = await errorOf(f.ec2.send(new CreateSecurityGroupCommand({GroupName: 'web', Description: 'again'})))
  t.is(duplicate.name, 'InvalidGroup.Duplicate')
  const rules = await f.ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: web.GroupId,
      IpPermissions: [{IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{CidrIp: '10.0.0.0/8'}]}],
    }),
  )
  t.true(rules.Return)
  t.is(rules.SecurityGroupRules?.[0]?.CidrIpv4, '10.0.0.0/8')
  const twice = await errorOf(
    f.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: web.GroupId,
        IpPermissions: [{IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{CidrIp: '10.0.0.0/8'}]}],
      }),
    ),
  )
  t.is(twice.name, 'InvalidPermission.Duplicate')
  await f.ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: db.GroupId,
      IpPermissions: [{IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{GroupId: web.GroupId}]}],
    }),
  )
  await f.ec2.send(
    new AuthorizeSecurityGroupEgressCommand({
      GroupId: web.GroupId,
      IpPermissions: [{IpProtocol: 'udp', FromPort: 53, ToPort: 53, IpRanges: [{CidrIp: '8.8.8.8/32'}]}],
    }),
  )
  const described = await f.ec2.send(new DescribeSecurityGroupsCommand({GroupIds: [web.GroupId!]}))
  const group = described.SecurityGroups![0]!
  t.is(group.VpcId, vpcId)
  t.deepEqual(group.IpPermissions?.[0]?.IpRanges, [{CidrIp: '10.0.0.0/8'}])
  t.is(group.IpPermissionsEgress?.length, 2)
  const byName = await f.ec2.send(new DescribeSecurityGroupsCommand({Filters: [{Name: 'group-name', Values: ['db', 'default']}]}))
  t.deepEqual(byName.SecurityGroups?.map((g) => g.GroupName).sort(), ['db', 'default'])
  // Referenced by db's rule: refused.
  const referenced = await errorOf(f.ec2.send(new DeleteSecurityGroupCommand({GroupId: web.GroupId})))
  t.is(referenced.name, 'DependencyViolation')
  await f.ec2.send(
    new RevokeSecurityGroupIngressCommand({
      GroupId: db.GroupId,
      IpPermissions: [{IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{GroupId: web.GroupId}]}],
    }),
  )
  await f.ec2.send(
    new RevokeSecurityGroupEgressCommand({
      GroupId: web.GroupId,
      IpPermissions: [{IpProtocol: 'udp', FromPort: 53, ToPort: 53, IpRanges: [{CidrIp: '8.8.8.8/32'}]}],
    }),
  )
  const notThere = await errorOf(
    f.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: db.GroupId,
        IpPermissions: [{IpProtocol: 'tcp', FromPort: 1, ToPort: 1, IpRanges: [{CidrIp: '1.1.1.1/32'}]}],
      }),
    ),
  )
  t.is(notThere.name, 'InvalidPermission.NotFound')
  // Used by an instance's network interface: refused until it is terminated.
  const {Instances} = await f.ec2.send(
    new RunInstancesCommand({ImageId: f.image.ImageId, MinCount: 1, MaxCount: 1, SecurityGroups: ['web']}),
  )
  const instanceId = Instances![0]!.InstanceId!
  t.deepEqual(Instances![0]!.SecurityGroups, [{GroupId: web.GroupId, GroupName: 'web'}])
  const enis = await f.ec2.send(new DescribeNetworkInterfacesCommand({Filters: [{Name: 'group-id', Values: [web.GroupId!]}]}))
  t.is(enis.NetworkInterfaces?.length, 1)
  t.is(enis.NetworkInterfaces?.[0]?.Attachment?.InstanceId, instanceId)
  t.is(enis.NetworkInterfaces?.[0]?.Status, 'in-use')
  const used = await errorOf(f.ec2.send(new DeleteSecurityGroupCommand({GroupId: web.GroupId})))
  t.is(used.name, 'DependencyViolation')
  await f.ec2.send(new TerminateInstancesCommand({InstanceIds: [instanceId]}))
  await waitUntilInstanceTerminated(wait(), {InstanceIds: [instanceId]})
  await f.ec2.send(new DeleteSecurityGroupCommand({GroupId: web.GroupId}))
  await f.ec2.send(new DeleteSecurityGroupCommand({GroupName: 'db'}))
  const defaultGroup = (await f.ec2.send(new DescribeSecurityGroupsCommand({GroupNames: ['default']}))).SecurityGroups![0]!
  const cannot = await errorOf(f.ec2.send(new DeleteSecurityGroupCommand({GroupId: defaultGroup.GroupId})))
  t.is(cannot.name, 'CannotDelete')
  const missing = await errorOf(f.ec2.send(new DescribeSecurityGroupsCommand({GroupIds: ['sg-0123456789abcdef0']})))
  t.is(missing.name, 'InvalidGroup.NotFound')
})

test.serial('tags: create, describe with filters, delete', async (t) => {
  const {Instances} = await f.ec2.send(new RunInstancesCommand({ImageId: f.image.ImageId, MinCount: 1, MaxCount: 1}))
  const id = Instances![0]!.InstanceId!
  await f.ec2.send(
    new CreateTagsCommand({
      Resources: [id, f.image.ImageId],
      Tags: [
        {Key: 'stage', Value: 'test'},
        {Key: 'owner', Value: 'lab'},
      ],
    }),
  )
  const byResource = await f.ec2.send(new DescribeTagsCommand({Filters: [{Name: 'resource-id', Values: [id]}]}))
  t.deepEqual(byResource.Tags?.map((tag) => [tag.Key, tag.Value, tag.ResourceType]).sort(), [
    ['owner', 'lab', 'instance'],
    ['stage', 'test', 'instance'],
  ])
  const byKey = await f.ec2.send(new DescribeTagsCommand({Filters: [{Name: 'key', Values: ['stage']}]}))
  t.deepEqual(byKey.Tags?.map((tag) => tag.ResourceType).sort(), ['image', 'instance'])
  await f.ec2.send(new DeleteTagsCommand({Resources: [id], Tags: [{Key: 'stage'}]}))
  const left = await f.ec2.send(new DescribeTagsCommand({Filters: [{Name: 'resource-id', Values: [id]}]}))
  t.deepEqual(
    left.Tags?.map((tag) => tag.Key),
    ['owner'],
  )
  const missing = await errorOf(f.ec2.send(new CreateTagsCommand({Resources: ['i-0123456789abcdef0'], Tags: [{Key: 'a', Value: 'b'}]})))
  t.is(missing.name, 'InvalidInstanceID.NotFound')
  await f.ec2.send(new TerminateInstancesCommand({InstanceIds: [id]}))
})

test.serial('the default VPC, its subnets (one per zone), zones, regions and instance types', async (t) => {
  const {Subnets} = await f.ec2.send(new DescribeSubnetsCommand({}))
  const {AvailabilityZones} = await f.ec2.send(new DescribeAvailabilityZonesCommand({}))
  t.is(Subnets?.length, AvailabilityZones?.length)
  t.is(AvailabilityZones?.length, 6)
  t.true(Subnets!.every((s) => s.DefaultForAz && s.State === 'available'))
  t.deepEqual(Subnets!.map((s) => s.AvailabilityZone).sort(), AvailabilityZones!.map((z) => z.ZoneName).sort())
  const one = await f.ec2.send(new DescribeSubnetsCommand({Filters: [{Name: 'availability-zone', Values: ['us-east-1c']}]}))
  t.is(one.Subnets?.[0]?.CidrBlock, '172.31.32.0/20')
  const {Regions} = await f.ec2.send(new DescribeRegionsCommand({}))
  t.true(Regions!.some((r) => r.RegionName === 'eu-west-1' && r.Endpoint === 'ec2.eu-west-1.amazonaws.com'))
  const west = clientFor(f.server.endpoint, 'us-west-2')
  const westZones = await west.send(new DescribeAvailabilityZonesCommand({}))
  t.deepEqual(
    westZones.AvailabilityZones?.map((z) => z.ZoneName),
    ['us-west-2a', 'us-west-2b', 'us-west-2c'],
  )
  const {InstanceTypes} = await f.ec2.send(new DescribeInstanceTypesCommand({InstanceTypes: ['p3.2xlarge', 't3.micro', 'g4dn.xlarge']}))
  const p3 = InstanceTypes!.find((i) => i.InstanceType === 'p3.2xlarge')!
  t.is(p3.VCpuInfo?.DefaultVCpus, 8)
  t.is(p3.MemoryInfo?.SizeInMiB, 62_464)
  t.is(p3.GpuInfo?.Gpus?.[0]?.Name, 'V100')
  const unknown = await errorOf(f.ec2.send(new DescribeInstanceTypesCommand({InstanceTypes: ['z9.mega' as never]})))
  t.is(unknown.name, 'InvalidInstanceType')
})

test.serial('everything persists across a restart of the emulator on the same state folder', async (t) => {
  await f.ec2.send(new CreateSecurityGroupCommand({GroupName: 'kept', Description: 'survives restarts'}))
  const volume = await f.ec2.send(new CreateVolumeCommand({AvailabilityZone: 'us-east-1a', Size: 3}))
  await f.server.close()
  const server = await startServer({stateDir: f.stateDir, port: 0, log: () => {}})
  f = {...f, server, ec2: clientFor(server.endpoint)}
  const groups = await f.ec2.send(new DescribeSecurityGroupsCommand({GroupNames: ['kept']}))
  t.is(groups.SecurityGroups?.[0]?.Description, 'survives restarts')
  const volumes = await f.ec2.send(new DescribeVolumesCommand({VolumeIds: [volume.VolumeId!]}))
  t.is(volumes.Volumes?.[0]?.Size, 3)
  const keys = await f.ec2.send(new DescribeKeyPairsCommand({KeyNames: ['lab']}))
  t.is(keys.KeyPairs?.length, 1)
})
