import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {DescribeInstancesCommand} from '@aws-sdk/client-ec2'
import test from 'ava'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'
import {type ImageRecord, registerImage} from '../../../src/emulator/services/ec2/images.js'
import {AWS_V2, type AwsRun, hasAwsV2, runAwsV2} from '../../helpers/awscli.js'
import {clientFor, makeImageFolder, until} from '../ec2/helpers.js'

const smoke = hasAwsV2 ? test.serial : test.skip
if (!hasAwsV2) console.log(`Skipping the EC2 AWS CLI v2 smoke tests: ${AWS_V2} is absent (apt-get install awscli).`)

let work = ''
let server: RunningServer | undefined
let image: ImageRecord

test.before(async () => {
  if (!hasAwsV2) return
  work = await mkdtemp(join(tmpdir(), 'ncap-smoke-ec2-'))
  const stateDir = join(work, 'state')
  image = await registerImage(stateDir, {dir: await makeImageFolder(join(work, 'image')), name: 'cli-image'})
  server = await startServer({stateDir, port: 0, log: () => {}})
})
test.after.always(async () => {
  await server?.close()
})

type Run = AwsRun

const aws = (args: string[]): Promise<Run> => runAwsV2(server!.endpoint, work, args)

/**
 * The CLI's waiters poll every 15 s; reaching the state first (through the SDK) lets each waiter
 * answer on its first poll, so the suite stays short. Their retry path is tested with the SDK's waiters.
 */
async function reached(ids: string[], state: string): Promise<void> {
  const ec2 = clientFor(server!.endpoint)
  await until(
    `${ids.join(', ')} ${state}`,
    () => ec2.send(new DescribeInstancesCommand({InstanceIds: ids})),
    (answer) => answer.Reservations!.flatMap((r) => r.Instances!).every((i) => i.State?.Name === state),
  )
}

async function wait(waiter: string, state: string, ids: string[]): Promise<void> {
  await reached(ids, state)
  await ok(['ec2', 'wait', waiter, '--instance-ids', ...ids])
}

async function ok(args: string[]): Promise<unknown> {
  const run = await aws(args)
  if (run.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${run.code}: ${run.stderr}`)
  return run.stdout.trim() ? JSON.parse(run.stdout) : undefined
}

smoke('ec2 run-instances from a registered image, the waiters, filters, stop, start, terminate', async (t) => {
  const images = (await ok(['ec2', 'describe-images', '--owners', 'self'])) as {Images: {ImageId: string; RootDeviceName: string}[]}
  t.is(images.Images[0]?.ImageId, image.ImageId)
  const launched = (await ok([
    'ec2',
    'run-instances',
    '--image-id',
    image.ImageId,
    '--count',
    '2',
    '--instance-type',
    't3.micro',
    '--tag-specifications',
    'ResourceType=instance,Tags=[{Key=job,Value=cli}]',
  ])) as {Instances: {InstanceId: string; State: {Name: string}}[]}
  t.is(launched.Instances.length, 2)
  t.is(launched.Instances[0]?.State.Name, 'pending')
  const ids = launched.Instances.map((i) => i.InstanceId)
  await wait('instance-running', 'running', ids)
  await ok(['ec2', 'wait', 'instance-status-ok', '--instance-ids', ...ids])
  await ok(['ec2', 'wait', 'system-status-ok', '--instance-ids', ...ids])
  const running = (await ok([
    'ec2',
    'describe-instances',
    '--filters',
    'Name=tag:job,Values=cli',
    'Name=instance-state-name,Values=running',
    '--query',
    'Reservations[].Instances[].InstanceId',
  ])) as string[]
  t.deepEqual([...running].sort(), [...ids].sort())
  const stopped = (await ok(['ec2', 'stop-instances', '--instance-ids', ids[0]!])) as {StoppingInstances: {CurrentState: {Name: string}}[]}
  t.is(stopped.StoppingInstances[0]?.CurrentState.Name, 'stopping')
  await wait('instance-stopped', 'stopped', [ids[0]!])
  await ok(['ec2', 'start-instances', '--instance-ids', ids[0]!])
  await wait('instance-running', 'running', [ids[0]!])
  await ok(['ec2', 'terminate-instances', '--instance-ids', ...ids])
  await wait('instance-terminated', 'terminated', ids)
  const missing = await aws(['ec2', 'run-instances', '--image-id', 'ami-0123456789abcdef0', '--count', '1'])
  t.not(missing.code, 0)
  t.regex(missing.stderr, /InvalidAMIID\.NotFound/)
  const dry = await aws(['ec2', 'run-instances', '--image-id', image.ImageId, '--count', '1', '--dry-run'])
  t.regex(dry.stderr, /DryRunOperation/)
})

smoke('sudo poweroff sent by ssm send-command terminates an instance whose shutdown behaviour is terminate', async (t) => {
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{Effect: 'Allow', Principal: {Service: 'ec2.amazonaws.com'}, Action: 'sts:AssumeRole'}],
  })
  await ok(['iam', 'create-role', '--role-name', 'cli-worker', '--assume-role-policy-document', trust])
  await ok(['iam', 'create-instance-profile', '--instance-profile-name', 'cli-worker'])
  await ok(['iam', 'add-role-to-instance-profile', '--instance-profile-name', 'cli-worker', '--role-name', 'cli-worker'])
  const launched = (await ok([
    'ec2',
    'run-instances',
    '--image-id',
    image.ImageId,
    '--count',
    '1',
    '--iam-instance-profile',
    'Name=cli-worker',
    '--instance-initiated-shutdown-behavior',
    'terminate',
  ])) as {Instances: {InstanceId: string}[]}
  const id = launched.Instances[0]!.InstanceId
  await wait('instance-running', 'running', [id])
  await ok([
    'ssm',
    'send-command',
    '--document-name',
    'AWS-RunShellScript',
    '--instance-ids',
    id,
    '--parameters',
    'commands=["sudo poweroff"]',
  ])
  await wait('instance-terminated', 'terminated', [id])
  const reason = (await ok(['ec2', 'describe-instances', '--instance-ids', id, '--query', 'Reservations[0].Instances[0].StateReason'])) as {
    Code: string
  }
  t.is(reason.Code, 'Client.InstanceInitiatedShutdown')
})
