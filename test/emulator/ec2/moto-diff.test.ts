/**
 * Differential test against moto_server on EC2's describe shapes: the same calls
 * to both, then every member moto answers must be in the emulator's answer too
 * (a few moto gets wrong are listed with the reason), and values both must agree
 * on (states, codes, default VPC layout, error codes for missing ids) compared.
 */
import {
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateVolumeCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
  type EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2'
import test from 'ava'
import {hasMoto, type RunningMoto, startMoto} from '../../helpers/moto.js'
import {clientFor, type Ec2Fixture, startEc2, until} from './helpers.js'

const motoPresent = hasMoto()
const diff = motoPresent ? test.serial : test.skip
if (!motoPresent) console.log('Skipping the EC2 moto differential tests: moto_server is not installed.')

let moto: RunningMoto | undefined
let motoEc2: EC2Client
let f: Ec2Fixture
let motoImage = ''

test.before(async () => {
  if (!motoPresent) return
  moto = await startMoto()
  motoEc2 = clientFor(moto.endpoint)
  f = await startEc2('moto')
  const {Images} = await motoEc2.send(new DescribeImagesCommand({Filters: [{Name: 'architecture', Values: ['x86_64']}]}))
  motoImage = Images![0]!.ImageId!
})
test.after.always(async () => {
  await moto?.stop()
  await f?.server.close()
})

/** Dotted paths of every member present (list items merged under []). */
function paths(value: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) paths(item, `${prefix}[]`, out)
    return out
  }
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    for (const [key, member] of Object.entries(value)) {
      if (key === '$metadata' || member === undefined) continue
      const path = prefix ? `${prefix}.${key}` : key
      out.add(path)
      paths(member, path, out)
    }
  }
  return out
}

/** Members moto answers that the emulator leaves out, with why. */
const MOTO_EXTRAS: Record<string, string> = {
  'Reservations[].Instances[].PublicDnsName': 'kept (empty) by both; moto adds a public IP the default VPC would not give here',
  'Reservations[].Instances[].PublicIpAddress': 'the emulator gives instances no public address: nothing reaches them from outside',
  'Reservations[].Instances[].NetworkInterfaces[].Association': 'the public address association moto invents',
  'Reservations[].Instances[].NetworkInterfaces[].PrivateIpAddresses[].Association': 'the public address association moto invents',
  'Reservations[].Instances[].KernelId': 'moto reports a kernel of paravirtual images; these are hvm',
  'Reservations[].Instances[].RamdiskId': 'moto reports a ramdisk of paravirtual images; these are hvm',
  'Reservations[].Instances[].Placement.HostId': 'moto answers an empty HostId; no dedicated hosts here',
  'Reservations[].Instances[].Ipv6Address': 'no IPv6 in the default VPC here',
  'Reservations[].Instances[].Platform': 'AWS sends Platform only for Windows; moto sends it for Linux images too',
  'Reservations[].Instances[].SriovNetSupport':
    'moto copies the image attribute onto the instance; AWS answers it only through DescribeInstanceAttribute',
}

const missingFromOurs = (ours: unknown, theirs: unknown) =>
  [...paths(theirs)].filter((path) => !paths(ours).has(path) && !Object.keys(MOTO_EXTRAS).some((extra) => path.startsWith(extra))).sort()

const errorCode = async (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (error: {name: string}) => error.name,
  )

diff('default VPC, subnets and zones: the same layout and members', async (t) => {
  const [ours, theirs] = await Promise.all([f.ec2.send(new DescribeVpcsCommand({})), motoEc2.send(new DescribeVpcsCommand({}))])
  t.deepEqual(missingFromOurs(ours, theirs), [])
  t.is(ours.Vpcs![0]!.CidrBlock, theirs.Vpcs!.find((v) => v.IsDefault)!.CidrBlock)
  const [oursSubnets, theirSubnets] = await Promise.all([
    f.ec2.send(new DescribeSubnetsCommand({})),
    motoEc2.send(new DescribeSubnetsCommand({})),
  ])
  const subnetGaps = missingFromOurs(oursSubnets, theirSubnets).filter(
    (path) => !/Ipv6CidrBlockAssociationSet|EnableLniAtDeviceIndex|MapCustomerOwnedIpOnLaunch|BlockPublicAccessStates/.test(path),
  )
  t.deepEqual(subnetGaps, [])
  t.deepEqual(
    oursSubnets.Subnets!.map((s) => s.CidrBlock).sort(),
    theirSubnets
      .Subnets!.filter((s) => s.DefaultForAz)
      .map((s) => s.CidrBlock)
      .sort(),
  )
  const [oursZones, theirZones] = await Promise.all([
    f.ec2.send(new DescribeAvailabilityZonesCommand({})),
    motoEc2.send(new DescribeAvailabilityZonesCommand({})),
  ])
  t.deepEqual(
    oursZones.AvailabilityZones!.map((z) => z.ZoneName),
    theirZones.AvailabilityZones!.map((z) => z.ZoneName),
  )
})

diff('instances: RunInstances and DescribeInstances answer every member moto does; terminated is 48 in both', async (t) => {
  const input = {
    MinCount: 1,
    MaxCount: 1,
    InstanceType: 't3.micro' as const,
    TagSpecifications: [{ResourceType: 'instance' as const, Tags: [{Key: 'k', Value: 'v'}]}],
  }
  const [ours, theirs] = await Promise.all([
    f.ec2.send(new RunInstancesCommand({...input, ImageId: f.image.ImageId})),
    motoEc2.send(new RunInstancesCommand({...input, ImageId: motoImage})),
  ])
  const runGaps = missingFromOurs({Reservations: [ours]}, {Reservations: [theirs]})
  t.deepEqual(runGaps, [])
  const ourId = ours.Instances![0]!.InstanceId!
  const theirId = theirs.Instances![0]!.InstanceId!
  await until(
    'running',
    () => f.ec2.send(new DescribeInstancesCommand({InstanceIds: [ourId]})),
    (a) => a.Reservations![0]!.Instances![0]!.State?.Name === 'running',
  )
  const [oursDescribed, theirsDescribed] = await Promise.all([
    f.ec2.send(new DescribeInstancesCommand({InstanceIds: [ourId]})),
    motoEc2.send(new DescribeInstancesCommand({InstanceIds: [theirId]})),
  ])
  // moto keeps the launch's 'pending' StateReason on a running instance; AWS clears it.
  t.deepEqual(
    missingFromOurs(oursDescribed, theirsDescribed).filter((path) => !path.includes('StateReason')),
    [],
  )
  const pick = (i: Record<string, unknown>) => ({
    State: i.State,
    RootDeviceName: i.RootDeviceName,
    InstanceType: i.InstanceType,
    Tags: i.Tags,
  })
  t.deepEqual(
    pick(oursDescribed.Reservations![0]!.Instances![0]! as never),
    pick(theirsDescribed.Reservations![0]!.Instances![0]! as never),
  )
  const [ourStop, theirStop] = await Promise.all([
    f.ec2.send(new StopInstancesCommand({InstanceIds: [ourId]})),
    motoEc2.send(new StopInstancesCommand({InstanceIds: [theirId]})),
  ])
  t.deepEqual(ourStop.StoppingInstances![0]!.PreviousState, theirStop.StoppingInstances![0]!.PreviousState)
  t.deepEqual(ourStop.StoppingInstances![0]!.CurrentState, theirStop.StoppingInstances![0]!.CurrentState)
  await until(
    'stopped',
    () => f.ec2.send(new DescribeInstancesCommand({InstanceIds: [ourId]})),
    (a) => a.Reservations![0]!.Instances![0]!.State?.Name === 'stopped',
  )
  const [ourEnd, theirEnd] = await Promise.all([
    f.ec2.send(new TerminateInstancesCommand({InstanceIds: [ourId]})),
    motoEc2.send(new TerminateInstancesCommand({InstanceIds: [theirId]})),
  ])
  t.deepEqual(ourEnd.TerminatingInstances![0]!.PreviousState, theirEnd.TerminatingInstances![0]!.PreviousState)
  await until(
    'terminated',
    () => f.ec2.send(new DescribeInstancesCommand({InstanceIds: [ourId]})),
    (a) => a.Reservations![0]!.Instances![0]!.State?.Name === 'terminated',
  )
  const [ourGone, theirGone] = await Promise.all([
    f.ec2.send(new DescribeInstancesCommand({InstanceIds: [ourId]})),
    motoEc2.send(new DescribeInstancesCommand({InstanceIds: [theirId]})),
  ])
  t.deepEqual(ourGone.Reservations![0]!.Instances![0]!.State, theirGone.Reservations![0]!.Instances![0]!.State)
})

diff('security groups, volumes and key pairs: the same members', async (t) => {
  for (const client of [f.ec2, motoEc2]) await client.send(new CreateSecurityGroupCommand({GroupName: 'diff', Description: 'differential'}))
  const [ours, theirs] = await Promise.all([
    f.ec2.send(new DescribeSecurityGroupsCommand({GroupNames: ['diff']})),
    motoEc2.send(new DescribeSecurityGroupsCommand({GroupNames: ['diff']})),
  ])
  t.deepEqual(missingFromOurs(ours, theirs), [])
  t.deepEqual(ours.SecurityGroups![0]!.IpPermissionsEgress, theirs.SecurityGroups![0]!.IpPermissionsEgress)
  const volumes = await Promise.all(
    [f.ec2, motoEc2].map(async (client) => {
      const {VolumeId} = await client.send(new CreateVolumeCommand({AvailabilityZone: 'us-east-1a', Size: 4}))
      return client.send(new DescribeVolumesCommand({VolumeIds: [VolumeId!]}))
    }),
  )
  t.deepEqual(missingFromOurs(volumes[0], volumes[1]), [])
  t.is(volumes[0]!.Volumes![0]!.State, volumes[1]!.Volumes![0]!.State)
  const keys = await Promise.all(
    [f.ec2, motoEc2].map(async (client) => {
      await client.send(new CreateKeyPairCommand({KeyName: 'diff-key'}))
      return client.send(new DescribeKeyPairsCommand({KeyNames: ['diff-key']}))
    }),
  )
  t.deepEqual(missingFromOurs(keys[0], keys[1]), [])
  const types = await Promise.all(
    [f.ec2, motoEc2].map((client) => client.send(new DescribeInstanceTypesCommand({InstanceTypes: ['m5.large']}))),
  )
  const essentials = (answer: (typeof types)[number]) => {
    const info = answer.InstanceTypes![0]!
    return {vcpus: info.VCpuInfo?.DefaultVCpus, memory: info.MemoryInfo?.SizeInMiB}
  }
  t.deepEqual(essentials(types[0]!), essentials(types[1]!))
})

diff('missing ids: the same error codes', async (t) => {
  const pairs: [string, (c: EC2Client) => Promise<unknown>][] = [
    ['instance', (c) => c.send(new DescribeInstancesCommand({InstanceIds: ['i-0123456789abcdef0']}))],
    ['volume', (c) => c.send(new DescribeVolumesCommand({VolumeIds: ['vol-0123456789abcdef0']}))],
    ['group', (c) => c.send(new DescribeSecurityGroupsCommand({GroupIds: ['sg-0123456789abcdef0']}))],
    ['key', (c) => c.send(new DescribeKeyPairsCommand({KeyNames: ['no-such-key']}))],
    ['image', (c) => c.send(new DescribeImagesCommand({ImageIds: ['ami-0123456789abcdef0']}))],
    ['stop', (c) => c.send(new StopInstancesCommand({InstanceIds: ['i-0123456789abcdef0']}))],
  ]
  for (const [what, call] of pairs) {
    const [ours, theirs] = await Promise.all([errorCode(call(f.ec2)), errorCode(call(motoEc2))])
    t.is(ours, theirs, what)
  }
})
