/**
 * EC2 instances through the real SDK v3 client against the emulator with the
 * real instance runtime: RunInstances from a registered image, each state
 * transition with its StateReason, StateTransitionReason and state-change events,
 * the SDK's waiters, describe filters and pagination, attributes, user data in the
 * console output, a poweroff inside ending the instance by its shutdown
 * behaviour, and AWS's codes for every missing reference.
 */
import {
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  EC2Client,
  GetConsoleOutputCommand,
  type Instance,
  ModifyInstanceAttributeCommand,
  RebootInstancesCommand,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStatusOk,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
  waitUntilSystemStatusOk,
} from '@aws-sdk/client-ec2'
import {
  AddRoleToInstanceProfileCommand,
  CreateAccessKeyCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam'
import test from 'ava'
import type {EmulatorEvent} from '../../../src/emulator/event-record.js'
import type {Ec2Internal} from '../../../src/emulator/internal.js'
import {type Ec2Fixture, startEc2, until} from './helpers.js'

let f: Ec2Fixture
const events: EmulatorEvent[] = []
let internal: Ec2Internal

test.before(async () => {
  f = await startEc2('instances')
  f.server.events.subscribe((event) => events.push(event))
  internal = ((await f.server.getService('ec2')) as {internal: Ec2Internal}).internal
})
test.after.always(async () => {
  await f?.server.close()
})

const run = async (input: Partial<RunInstancesCommandInput> = {}) => {
  const answer = await f.ec2.send(
    new RunInstancesCommand({ImageId: f.image.ImageId, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', ...input}),
  )
  return answer.Instances!
}
const describe = async (id: string): Promise<Instance> => {
  const answer = await f.ec2.send(new DescribeInstancesCommand({InstanceIds: [id]}))
  return answer.Reservations![0]!.Instances![0]!
}
const waiter = {client: () => f.ec2, maxWaitTime: 30, minDelay: 1, maxDelay: 1}
const wait = () => ({...waiter, client: f.ec2})

const errorOf = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error as {name: string; message: string; $metadata: {httpStatusCode?: number}}
  }
  throw new Error('expected an error')
}

test.serial('DescribeImages lists the registered folder with its root device and size', async (t) => {
  const {Images} = await f.ec2.send(new DescribeImagesCommand({Owners: ['self']}))
  t.is(Images?.length, 1)
  const image = Images![0]!
  t.is(image.ImageId, f.image.ImageId)
  t.regex(image.ImageId!, /^ami-[0-9a-f]{17}$/)
  t.is(image.State, 'available')
  t.is(image.RootDeviceName, '/dev/sda1')
  t.is(image.BlockDeviceMappings?.[0]?.Ebs?.VolumeSize, 1)
  t.is(image.OwnerId, '000000000000')
  t.is(image.Name, 'instances-image')
  const missing = await errorOf(f.ec2.send(new DescribeImagesCommand({ImageIds: ['ami-00000000000000000']})))
  t.is(missing.name, 'InvalidAMIID.NotFound')
  const malformed = await errorOf(f.ec2.send(new DescribeImagesCommand({ImageIds: ['image-1']})))
  t.is(malformed.name, 'InvalidAMIID.Malformed')
})

test.serial('RunInstances: pending, then running (waiters instance-running, instance-status-ok, system-status-ok)', async (t) => {
  const [launched] = await run({
    TagSpecifications: [
      {
        ResourceType: 'instance',
        Tags: [
          {Key: 'job', Value: 'j1'},
          {Key: 'pipeline', Value: 'p'},
        ],
      },
      {ResourceType: 'volume', Tags: [{Key: 'job', Value: 'j1'}]},
    ],
  })
  t.is(launched!.State?.Name, 'pending')
  t.is(launched!.State?.Code, 0)
  t.regex(launched!.InstanceId!, /^i-[0-9a-f]{17}$/)
  const id = launched!.InstanceId!
  await waitUntilInstanceRunning(wait(), {InstanceIds: [id]})
  await waitUntilInstanceStatusOk(wait(), {InstanceIds: [id]})
  await waitUntilSystemStatusOk(wait(), {InstanceIds: [id]})
  const instance = await describe(id)
  t.is(instance.State?.Name, 'running')
  t.is(instance.State?.Code, 16)
  t.deepEqual(
    instance.Tags?.find((tag) => tag.Key === 'job'),
    {Key: 'job', Value: 'j1'},
  )
  t.is(instance.RootDeviceName, '/dev/sda1')
  const root = instance.BlockDeviceMappings?.[0]
  t.is(root?.DeviceName, '/dev/sda1')
  t.true(root?.Ebs?.DeleteOnTermination)
  const {Volumes} = await f.ec2.send(new DescribeVolumesCommand({Filters: [{Name: 'attachment.instance-id', Values: [id]}]}))
  t.is(Volumes?.length, 1)
  t.is(Volumes![0]!.State, 'in-use')
  t.deepEqual(Volumes![0]!.Tags, [{Key: 'job', Value: 'j1'}])
  t.is(instance.SecurityGroups?.[0]?.GroupName, 'default')
  t.is(instance.NetworkInterfaces?.[0]?.Status, 'in-use')
  const status = await f.ec2.send(new DescribeInstanceStatusCommand({InstanceIds: [id]}))
  t.is(status.InstanceStatuses?.[0]?.InstanceStatus?.Status, 'ok')
  t.is(status.InstanceStatuses?.[0]?.SystemStatus?.Status, 'ok')
  // Terminate for the next tests' counts; root volume deleted on termination.
  await f.ec2.send(new TerminateInstancesCommand({InstanceIds: [id]}))
  await waitUntilInstanceTerminated(wait(), {InstanceIds: [id]})
  const after = await f.ec2.send(new DescribeVolumesCommand({Filters: [{Name: 'attachment.instance-id', Values: [id]}]}))
  t.is(after.Volumes?.length, 0)
})

test.serial('stop, start, reboot and terminate with previous and current states, reasons and state-change events', async (t) => {
  const [launched] = await run({InstanceType: 't2.micro'})
  const id = launched!.InstanceId!
  await waitUntilInstanceRunning(wait(), {InstanceIds: [id]})
  const stopping = await f.ec2.send(new StopInstancesCommand({InstanceIds: [id]}))
  t.deepEqual(stopping.StoppingInstances?.[0], {
    InstanceId: id,
    PreviousState: {Code: 16, Name: 'running'},
    CurrentState: {Code: 64, Name: 'stopping'},
  })
  await waitUntilInstanceStopped(wait(), {InstanceIds: [id]})
  const stopped = await describe(id)
  t.is(stopped.StateReason?.Code, 'Client.UserInitiatedShutdown')
  t.regex(stopped.StateTransitionReason!, /^User initiated \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT\)$/)
  // Instance type changes only while stopped.
  await f.ec2.send(new ModifyInstanceAttributeCommand({InstanceId: id, InstanceType: {Value: 't3.small'}}))
  const type = await f.ec2.send(new DescribeInstanceAttributeCommand({InstanceId: id, Attribute: 'instanceType'}))
  t.is(type.InstanceType?.Value, 't3.small')
  const starting = await f.ec2.send(new StartInstancesCommand({InstanceIds: [id]}))
  t.is(starting.StartingInstances?.[0]?.PreviousState?.Name, 'stopped')
  t.is(starting.StartingInstances?.[0]?.CurrentState?.Name, 'pending')
  await waitUntilInstanceRunning(wait(), {InstanceIds: [id]})
  const notStopped = await errorOf(f.ec2.send(new ModifyInstanceAttributeCommand({InstanceId: id, InstanceType: {Value: 't3.large'}})))
  t.is(notStopped.name, 'IncorrectInstanceState')
  await f.ec2.send(new RebootInstancesCommand({InstanceIds: [id]}))
  t.is((await describe(id)).State?.Name, 'running')
  const terminating = await f.ec2.send(new TerminateInstancesCommand({InstanceIds: [id]}))
  t.is(terminating.TerminatingInstances?.[0]?.CurrentState?.Name, 'shutting-down')
  await waitUntilInstanceTerminated(wait(), {InstanceIds: [id]})
  const gone = await describe(id)
  t.is(gone.State?.Code, 48)
  const again = await errorOf(f.ec2.send(new StartInstancesCommand({InstanceIds: [id]})))
  t.is(again.name, 'IncorrectInstanceState')
  // Every change was recorded as ec2.state-change, in order.
  const lines = await until(
    'the state changes in the event record',
    async () => events,
    (list) => list.filter((e) => e.kind === 'ec2.state-change' && e.correlation?.instanceId === id && e.outcome === 'ok').length >= 8,
  )
  const states = lines
    .filter((e) => e.kind === 'ec2.state-change' && e.correlation?.instanceId === id && e.outcome === 'ok')
    .map((e) => e.detail?.state)
  t.deepEqual(states, ['pending', 'running', 'stopping', 'stopped', 'pending', 'running', 'shutting-down', 'terminated'])
  // EventBridge took every one ("EC2 Instance State-change Notification" on the default bus): none was skipped.
  t.deepEqual(
    events.filter((e) => e.kind === 'ec2.state-change' && e.outcome === 'skipped').map((e) => e.reason),
    [],
  )
})

test.serial('terminated instances stay listed for an hour on the emulator clock', async (t) => {
  const [launched] = await run()
  const id = launched!.InstanceId!
  await f.ec2.send(new TerminateInstancesCommand({InstanceIds: [id]}))
  await waitUntilInstanceTerminated(wait(), {InstanceIds: [id]})
  await f.server.clock.advance(59 * 60 * 1000)
  t.is((await describe(id)).State?.Name, 'terminated')
  await f.server.clock.advance(2 * 60 * 1000)
  const error = await errorOf(f.ec2.send(new DescribeInstancesCommand({InstanceIds: [id]})))
  t.is(error.name, 'InvalidInstanceID.NotFound')
})

test.serial('user data runs at boot and its output is in GetConsoleOutput', async (t) => {
  const script = '#!/bin/bash\necho "hello from user data $((6 * 7))"\n'
  const [launched] = await run({UserData: Buffer.from(script).toString('base64')})
  const id = launched!.InstanceId!
  await waitUntilInstanceRunning(wait(), {InstanceIds: [id]})
  const output = await until(
    'the console output',
    () => f.ec2.send(new GetConsoleOutputCommand({InstanceId: id})),
    (answer) =>
      Buffer.from(answer.Output ?? '', 'base64')
        .toString()
        .includes('hello from user data 42'),
  )
  t.truthy(output.Timestamp)
  const attribute = await f.ec2.send(new DescribeInstanceAttributeCommand({InstanceId: id, Attribute: 'userData'}))
  t.is(Buffer.from(attribute.UserData?.Value ?? '', 'base64').toString(), script)
  await f.ec2.send(new TerminateInstancesCommand({InstanceIds: [id]}))
})

test.serial('a poweroff inside ends the instance by its shutdown behaviour, with Client.InstanceInitiatedShutdown', async (t) => {
  t.truthy(internal, 'the EC2 service exposes its internal API')
  const [toStop] = await run()
  const [toTerminate] = await run({InstanceInitiatedShutdownBehavior: 'terminate'})
  const ids = [toStop!.InstanceId!, toTerminate!.InstanceId!]
  await waitUntilInstanceRunning(wait(), {InstanceIds: ids})
  const view = internal.describeInstance('us-east-1', ids[0]!)
  t.is(view?.state, 'running')
  for (const id of ids) {
    const exec = internal.exec('us-east-1', id, {script: 'sudo poweroff'})
    await exec.done
  }
  await waitUntilInstanceStopped(wait(), {InstanceIds: [ids[0]!]})
  await waitUntilInstanceTerminated(wait(), {InstanceIds: [ids[1]!]})
  for (const id of ids) {
    const instance = await describe(id)
    t.is(instance.StateReason?.Code, 'Client.InstanceInitiatedShutdown')
    t.is(instance.StateReason?.Message, 'Client.InstanceInitiatedShutdown: Instance initiated shutdown')
  }
  t.throws(() => internal.exec('us-east-1', ids[0]!, {script: 'true'}), {code: 'InvalidInstanceId'} as never)
  await f.ec2.send(new TerminateInstancesCommand({InstanceIds: [ids[0]!]}))
})

test.serial('DescribeInstances filters and pagination', async (t) => {
  const launched = await run({
    MinCount: 3,
    MaxCount: 3,
    InstanceType: 'c5.large',
    TagSpecifications: [{ResourceType: 'instance', Tags: [{Key: 'batch', Value: 'b7'}]}],
  })
  t.is(launched.length, 3)
  t.deepEqual(
    launched.map((i) => i.AmiLaunchIndex),
    [0, 1, 2],
  )
  const ids = launched.map((i) => i.InstanceId!)
  await waitUntilInstanceRunning(wait(), {InstanceIds: ids})
  const count = async (filters: {Name: string; Values: string[]}[]) => {
    const answer = await f.ec2.send(new DescribeInstancesCommand({Filters: filters}))
    return answer.Reservations!.flatMap((r) => r.Instances!).length
  }
  t.is(await count([{Name: 'tag:batch', Values: ['b7']}]), 3)
  t.is(await count([{Name: 'tag:batch', Values: ['b*']}]), 3)
  t.is(
    await count([
      {Name: 'tag-key', Values: ['batch']},
      {Name: 'instance-state-name', Values: ['running']},
    ]),
    3,
  )
  t.is(await count([{Name: 'instance-type', Values: ['c5.large']}]), 3)
  t.is(await count([{Name: 'instance-id', Values: [ids[1]!]}]), 1)
  t.is(
    await count([
      {Name: 'image-id', Values: [f.image.ImageId]},
      {Name: 'tag:batch', Values: ['b7']},
    ]),
    3,
  )
  t.is(
    await count([
      {Name: 'instance.group-name', Values: ['default']},
      {Name: 'tag:batch', Values: ['b7']},
    ]),
    3,
  )
  t.is(await count([{Name: 'instance.group-id', Values: ['sg-0000']}]), 0)
  t.is(await count([{Name: 'tag:batch', Values: ['other']}]), 0)
  const bad = await errorOf(f.ec2.send(new DescribeInstancesCommand({Filters: [{Name: 'no-such-filter', Values: ['x']}]})))
  t.is(bad.name, 'InvalidParameterValue')
  const seen: string[] = []
  let token: string | undefined
  let pages = 0
  do {
    const answer = await f.ec2.send(
      new DescribeInstancesCommand({
        MaxResults: 5,
        NextToken: token,
        Filters: [{Name: 'instance-state-name', Values: ['pending', 'running', 'stopped', 'terminated']}],
      }),
    )
    pages++
    for (const reservation of answer.Reservations ?? []) for (const instance of reservation.Instances ?? []) seen.push(instance.InstanceId!)
    token = answer.NextToken
  } while (token)
  t.true(pages >= 2)
  t.is(new Set(seen).size, seen.length)
  for (const id of ids) t.true(seen.includes(id))
  const combined = await errorOf(f.ec2.send(new DescribeInstancesCommand({InstanceIds: ids, MaxResults: 5})))
  t.is(combined.name, 'InvalidParameterCombination')
  const all = await f.ec2.send(new DescribeInstanceStatusCommand({IncludeAllInstances: true}))
  t.true((all.InstanceStatuses ?? []).some((s) => s.InstanceState?.Name === 'terminated'))
  const running = await f.ec2.send(new DescribeInstanceStatusCommand({}))
  t.true((running.InstanceStatuses ?? []).every((s) => s.InstanceState?.Name === 'running'))
  await f.ec2.send(new TerminateInstancesCommand({InstanceIds: ids}))
})

test.serial('an instance profile by name or ARN; every missing reference refused with AWS codes; DryRun', async (t) => {
  const iam = new IAMClient({endpoint: f.server.endpoint, region: 'us-east-1', credentials: {accessKeyId: 'test', secretAccessKey: 'test'}})
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{Effect: 'Allow', Principal: {Service: 'ec2.amazonaws.com'}, Action: 'sts:AssumeRole'}],
  })
  await iam.send(new CreateRoleCommand({RoleName: 'worker', AssumeRolePolicyDocument: trust}))
  const {InstanceProfile} = await iam.send(new CreateInstanceProfileCommand({InstanceProfileName: 'worker-profile'}))
  await iam.send(new AddRoleToInstanceProfileCommand({InstanceProfileName: 'worker-profile', RoleName: 'worker'}))
  const [byName] = await run({IamInstanceProfile: {Name: 'worker-profile'}})
  t.is(byName!.IamInstanceProfile?.Arn, InstanceProfile!.Arn)
  const [byArn] = await run({IamInstanceProfile: {Arn: InstanceProfile!.Arn}})
  const count = await f.ec2.send(
    new DescribeInstancesCommand({Filters: [{Name: 'iam-instance-profile.arn', Values: [InstanceProfile!.Arn!]}]}),
  )
  t.is(count.Reservations!.flatMap((r) => r.Instances!).length, 2)
  await f.ec2.send(new TerminateInstancesCommand({InstanceIds: [byName!.InstanceId!, byArn!.InstanceId!]}))

  // An IAM user needs ec2:RunInstances and iam:PassRole on the profile's role, refused as EC2 does (UnauthorizedOperation).
  await iam.send(new CreateUserCommand({UserName: 'launcher'}))
  const policy = (actions: string[]) =>
    JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: actions, Resource: '*'}]})
  await iam.send(new PutUserPolicyCommand({UserName: 'launcher', PolicyName: 'ec2', PolicyDocument: policy(['ec2:RunInstances'])}))
  const {AccessKey} = await iam.send(new CreateAccessKeyCommand({UserName: 'launcher'}))
  const launcher = new EC2Client({
    endpoint: f.server.endpoint,
    region: 'us-east-1',
    credentials: {accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey!},
  })
  const input = {ImageId: f.image.ImageId, MinCount: 1, MaxCount: 1, IamInstanceProfile: {Name: 'worker-profile'}}
  const noPass = await errorOf(launcher.send(new RunInstancesCommand(input)))
  t.is(noPass.name, 'UnauthorizedOperation')
  t.regex(noPass.message, /iam:PassRole on resource: arn:aws:iam::000000000000:role\/worker/)
  const noDescribe = await errorOf(launcher.send(new DescribeInstancesCommand({})))
  t.is(noDescribe.name, 'UnauthorizedOperation')
  await iam.send(
    new PutUserPolicyCommand({UserName: 'launcher', PolicyName: 'ec2', PolicyDocument: policy(['ec2:RunInstances', 'iam:PassRole'])}),
  )
  const passed = await launcher.send(new RunInstancesCommand(input))
  await f.ec2.send(new TerminateInstancesCommand({InstanceIds: [passed.Instances![0]!.InstanceId!]}))

  const refusals: [Partial<RunInstancesCommandInput>, string, RegExp?][] = [
    [{ImageId: 'ami-0123456789abcdef0'}, 'InvalidAMIID.NotFound'],
    [{ImageId: 'bogus'}, 'InvalidAMIID.Malformed'],
    [{SecurityGroups: ['no-such-group']}, 'InvalidGroup.NotFound'],
    [{SecurityGroupIds: ['sg-0123456789abcdef0']}, 'InvalidGroup.NotFound'],
    [{KeyName: 'no-such-key'}, 'InvalidKeyPair.NotFound'],
    [
      {IamInstanceProfile: {Name: 'nobody'}},
      'InvalidParameterValue',
      /^Value \(nobody\) for parameter iamInstanceProfile\.name is invalid\. Invalid IAM Instance Profile name$/,
    ],
    [{InstanceType: 'x9.huge' as never}, 'InvalidParameterValue'],
    [{MinCount: 3, MaxCount: 2}, 'InvalidParameterValue'],
    [{DryRun: true}, 'DryRunOperation'],
  ]
  for (const [input, code, message] of refusals) {
    const error = await errorOf(run(input))
    t.is(error.name, code, JSON.stringify(input))
    if (message) t.regex(error.message, message)
  }
  // The same ClientToken is the same launch: its instance answered again, nothing more started.
  const [first] = await run({ClientToken: 'token-1'})
  const [second] = await run({ClientToken: 'token-1'})
  t.is(second!.InstanceId, first!.InstanceId)
  const tokened = await f.ec2.send(new DescribeInstancesCommand({Filters: [{Name: 'client-token', Values: ['token-1']}]}))
  t.is(tokened.Reservations!.flatMap((r) => r.Instances!).length, 1)
  await f.ec2.send(new TerminateInstancesCommand({InstanceIds: [first!.InstanceId!]}))
  const dry = await errorOf(run({DryRun: true}))
  t.is(dry.$metadata.httpStatusCode, 412)
  const missing = await errorOf(f.ec2.send(new StopInstancesCommand({InstanceIds: ['i-0123456789abcdef0']})))
  t.is(missing.name, 'InvalidInstanceID.NotFound')
  const malformed = await errorOf(f.ec2.send(new TerminateInstancesCommand({InstanceIds: ['instance-1']})))
  t.is(malformed.name, 'InvalidInstanceID.Malformed')
})

test.serial('block device mappings: root DeleteOnTermination true by default, extra volumes false and kept', async (t) => {
  const [launched] = await run({
    BlockDeviceMappings: [
      {DeviceName: '/dev/sda1', Ebs: {VolumeSize: 20}},
      {DeviceName: '/dev/sdf', Ebs: {VolumeSize: 5, VolumeType: 'gp3'}},
    ],
  })
  const id = launched!.InstanceId!
  const mappings = launched!.BlockDeviceMappings!
  t.is(mappings.length, 2)
  t.true(mappings[0]!.Ebs?.DeleteOnTermination)
  t.false(mappings[1]!.Ebs?.DeleteOnTermination)
  const extra = mappings[1]!.Ebs!.VolumeId!
  await f.ec2.send(new TerminateInstancesCommand({InstanceIds: [id]}))
  await waitUntilInstanceTerminated(wait(), {InstanceIds: [id]})
  const {Volumes} = await f.ec2.send(new DescribeVolumesCommand({VolumeIds: [extra]}))
  t.is(Volumes?.[0]?.State, 'available')
  t.is(Volumes?.[0]?.Size, 5)
  const small = await errorOf(run({BlockDeviceMappings: [{DeviceName: '/dev/sda1', Ebs: {VolumeSize: 0}}]}))
  t.is(small.name, 'InvalidBlockDeviceMapping')
  void waiter
})
