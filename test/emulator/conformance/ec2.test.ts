/**
 * EC2 against botocore's model through boto3: every served operation answers
 * in its output shape (a registered image folder is prepared in the state
 * folder first), EC2's error codes where a reference is missing (the EC2 model
 * names no error shapes, so the wire codes are checked), and every other EC2
 * operation refused with InvalidAction naming it.
 */
import {generateKeyPairSync} from 'node:crypto'
import {mkdir, mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import {EC2_ACTIONS} from '../../../src/emulator/services/ec2/handler.js'
import {registerImage} from '../../../src/emulator/services/ec2/images.js'
import {ref} from './drive.js'
import {conformanceSuite, type Step} from './suite.js'

const IMAGE = 'ami-0c0f0c0f0c0f0c0f0'

let counter = 0
const call = (op: string, params: Record<string, unknown> = {}, id = `${op}#${++counter}`): Step => ({
  id,
  service: 'ec2' as Step['service'],
  op,
  params,
})
const fails = (step: Step, expect: string): Step => ({...step, expect})

const sshPublicKey = (() => {
  const jwk = generateKeyPairSync('rsa', {modulusLength: 2048}).publicKey.export({format: 'jwk'})
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, (b.length >> 8) & 255, b.length & 255]), b])
  const mp = (b: Buffer) => str(b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b)
  const blob = Buffer.concat([str(Buffer.from('ssh-rsa')), mp(Buffer.from(jwk.e!, 'base64url')), mp(Buffer.from(jwk.n!, 'base64url'))])
  return `ssh-rsa ${blob.toString('base64')} conformance`
})()

const instance = ref('run', 'Instances.0.InstanceId')
const group = ref('sg', 'GroupId')
const rule = {IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{CidrIp: '10.1.0.0/16'}]}
const egress = {IpProtocol: 'udp', FromPort: 53, ToPort: 53, IpRanges: [{CidrIp: '10.2.0.0/16'}]}

const steps: Step[] = [
  call('DescribeRegions'),
  call('DescribeAvailabilityZones'),
  call('DescribeVpcs'),
  call('DescribeSubnets', {Filters: [{Name: 'default-for-az', Values: ['true']}]}),
  call('DescribeInstanceTypes', {InstanceTypes: ['t3.micro', 'p3.2xlarge']}),
  fails(call('DescribeInstanceTypes', {InstanceTypes: ['z9.nothing']}), 'InvalidInstanceType'),
  call('DescribeImages', {Owners: ['self']}),
  fails(call('DescribeImages', {ImageIds: ['ami-00000000000000001']}), 'InvalidAMIID.NotFound'),
  call('CreateKeyPair', {KeyName: 'conf-key'}),
  fails(call('CreateKeyPair', {KeyName: 'conf-key'}), 'InvalidKeyPair.Duplicate'),
  call('ImportKeyPair', {KeyName: 'conf-imported', PublicKeyMaterial: {$blob: Buffer.from(sshPublicKey).toString('base64')}}),
  fails(
    call('ImportKeyPair', {KeyName: 'conf-bad', PublicKeyMaterial: {$blob: Buffer.from('nonsense').toString('base64')}}),
    'InvalidKey.Format',
  ),
  call('DescribeKeyPairs', {IncludePublicKey: true}),
  fails(call('DescribeKeyPairs', {KeyNames: ['conf-none']}), 'InvalidKeyPair.NotFound'),
  call('CreateSecurityGroup', {GroupName: 'conf-sg', Description: 'conformance'}, 'sg'),
  fails(call('CreateSecurityGroup', {GroupName: 'conf-sg', Description: 'again'}), 'InvalidGroup.Duplicate'),
  call('AuthorizeSecurityGroupIngress', {GroupId: group, IpPermissions: [rule]}),
  fails(call('AuthorizeSecurityGroupIngress', {GroupId: group, IpPermissions: [rule]}), 'InvalidPermission.Duplicate'),
  call('AuthorizeSecurityGroupEgress', {GroupId: group, IpPermissions: [egress]}),
  call('DescribeSecurityGroups', {GroupIds: [group]}),
  fails(call('DescribeSecurityGroups', {GroupIds: ['sg-0123456789abcdef0']}), 'InvalidGroup.NotFound'),
  call('RevokeSecurityGroupIngress', {GroupId: group, IpPermissions: [rule]}),
  fails(call('RevokeSecurityGroupIngress', {GroupId: group, IpPermissions: [rule]}), 'InvalidPermission.NotFound'),
  call('RevokeSecurityGroupEgress', {GroupId: group, IpPermissions: [egress]}),
  call(
    'RunInstances',
    {
      ImageId: IMAGE,
      MinCount: 1,
      MaxCount: 1,
      InstanceType: 't3.micro',
      KeyName: 'conf-key',
      SecurityGroupIds: [group],
      UserData: Buffer.from('#!/bin/bash\necho conformance\n').toString('base64'),
      TagSpecifications: [{ResourceType: 'instance', Tags: [{Key: 'suite', Value: 'conformance'}]}],
    },
    'run',
  ),
  fails(call('RunInstances', {ImageId: 'ami-00000000000000001', MinCount: 1, MaxCount: 1}), 'InvalidAMIID.NotFound'),
  fails(call('RunInstances', {ImageId: 'nonsense', MinCount: 1, MaxCount: 1}), 'InvalidAMIID.Malformed'),
  fails(call('RunInstances', {ImageId: IMAGE, MinCount: 1, MaxCount: 1, SecurityGroups: ['conf-none']}), 'InvalidGroup.NotFound'),
  fails(call('RunInstances', {ImageId: IMAGE, MinCount: 1, MaxCount: 1, KeyName: 'conf-none'}), 'InvalidKeyPair.NotFound'),
  fails(call('RunInstances', {ImageId: IMAGE, MinCount: 1, MaxCount: 1, IamInstanceProfile: {Name: 'conf-none'}}), 'InvalidParameterValue'),
  fails(call('RunInstances', {ImageId: IMAGE, MinCount: 1, MaxCount: 1, DryRun: true}), 'DryRunOperation'),
  call('DescribeInstances', {InstanceIds: [instance]}),
  call('DescribeInstances', {Filters: [{Name: 'tag:suite', Values: ['conformance']}], MaxResults: 5}),
  fails(call('DescribeInstances', {InstanceIds: ['i-0123456789abcdef0']}), 'InvalidInstanceID.NotFound'),
  call('DescribeInstanceStatus', {IncludeAllInstances: true}),
  call('DescribeInstanceAttribute', {InstanceId: instance, Attribute: 'instanceInitiatedShutdownBehavior'}),
  fails(call('DescribeInstanceAttribute', {InstanceId: 'i-0123456789abcdef0', Attribute: 'instanceType'}), 'InvalidInstanceID.NotFound'),
  call('ModifyInstanceAttribute', {InstanceId: instance, InstanceInitiatedShutdownBehavior: {Value: 'terminate'}}),
  fails(call('ModifyInstanceAttribute', {InstanceId: instance, InstanceType: {Value: 't3.large'}}), 'IncorrectInstanceState'),
  call('CreateTags', {Resources: [instance], Tags: [{Key: 'extra', Value: 'yes'}]}),
  fails(call('CreateTags', {Resources: ['i-0123456789abcdef0'], Tags: [{Key: 'a', Value: 'b'}]}), 'InvalidInstanceID.NotFound'),
  call('DescribeTags', {Filters: [{Name: 'resource-id', Values: [instance]}]}),
  call('DeleteTags', {Resources: [instance], Tags: [{Key: 'extra'}]}),
  call('DescribeNetworkInterfaces', {Filters: [{Name: 'attachment.instance-id', Values: [instance]}]}),
  call('GetConsoleOutput', {InstanceId: instance}),
  call('CreateVolume', {AvailabilityZone: 'us-east-1a', Size: 2}, 'volume'),
  fails(call('CreateVolume', {AvailabilityZone: 'us-east-1z', Size: 2}), 'InvalidParameterValue'),
  call('AttachVolume', {VolumeId: ref('volume', 'VolumeId'), InstanceId: instance, Device: '/dev/sdf'}),
  fails(call('AttachVolume', {VolumeId: 'vol-0123456789abcdef0', InstanceId: instance, Device: '/dev/sdg'}), 'InvalidVolume.NotFound'),
  call('DescribeVolumes', {Filters: [{Name: 'attachment.instance-id', Values: [instance]}]}),
  fails(call('DeleteVolume', {VolumeId: ref('volume', 'VolumeId')}), 'VolumeInUse'),
  call('DetachVolume', {VolumeId: ref('volume', 'VolumeId')}),
  fails(call('DetachVolume', {VolumeId: ref('volume', 'VolumeId')}), 'IncorrectState'),
  call('DeleteVolume', {VolumeId: ref('volume', 'VolumeId')}),
  call('StartInstances', {InstanceIds: [instance]}),
  fails(call('StartInstances', {InstanceIds: ['i-0123456789abcdef0']}), 'InvalidInstanceID.NotFound'),
  call('RebootInstances', {InstanceIds: [instance]}),
  fails(call('RebootInstances', {InstanceIds: ['bogus']}), 'InvalidInstanceID.Malformed'),
  call('StopInstances', {InstanceIds: [instance]}),
  fails(call('StopInstances', {InstanceIds: ['i-0123456789abcdef0']}), 'InvalidInstanceID.NotFound'),
  fails(call('DeleteSecurityGroup', {GroupId: group}), 'DependencyViolation'),
  call('TerminateInstances', {InstanceIds: [instance]}),
  fails(call('TerminateInstances', {InstanceIds: ['i-0123456789abcdef0']}), 'InvalidInstanceID.NotFound'),
  call('CreateSecurityGroup', {GroupName: 'conf-sg2', Description: 'to delete'}, 'sg2'),
  call('DeleteSecurityGroup', {GroupId: ref('sg2', 'GroupId')}),
  call('DeleteKeyPair', {KeyName: 'conf-imported'}),
  fails(call('DeleteKeyPair', {KeyPairId: 'key-0123456789abcdef0'}), 'InvalidKeyPair.NotFound'),
]

conformanceSuite(test, {
  service: 'ec2' as Step['service'],
  served: EC2_ACTIONS,
  steps,
  alive: call('DescribeVpcs'),
  refusals: ['InvalidAction'],
  prepare: async (stateDir) => {
    const dir = join(await mkdtemp(join(tmpdir(), 'ncap-conformance-image-')), 'image')
    await mkdir(join(dir, 'bin'), {recursive: true})
    await writeFile(join(dir, 'bin', 'run.sh'), '#!/bin/bash\necho ok\n')
    await registerImage(stateDir, {dir, imageId: IMAGE, name: 'conformance-image'})
  },
})
