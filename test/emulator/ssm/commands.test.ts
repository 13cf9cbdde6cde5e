/**
 * SSM Run Command with the real SDK v3 client, against real instance sandboxes
 * run by a small stand-in for EC2 (fake-ec2.ts: services/ec2 is written in
 * parallel; its instances are real sandboxes from src/emulator/instances).
 */
import {existsSync} from 'node:fs'
import {chmod, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {CreateRoleCommand, IAMClient, PutRolePolicyCommand} from '@aws-sdk/client-iam'
import {CreateBucketCommand, GetObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
  waitUntilCommandExecuted,
} from '@aws-sdk/client-ssm'
import test from 'ava'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'
import {PICKUP_MS} from '../../../src/emulator/services/ssm/commands.js'
import {type FakeEc2, fakeEc2} from './fake-ec2.js'

const credentials = {accessKeyId: 'test', secretAccessKey: 'test'}
const region = 'us-east-1'
let server: RunningServer
let dir: string
let ec2: FakeEc2
let ssm: SSMClient
let s3: S3Client
let image: string
const ROLE_ARN = 'arn:aws:iam::000000000000:role/instance-role'

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ncap-ssm-'))
  image = join(dir, 'image')
  await mkdir(join(image, 'bin'), {recursive: true})
  await mkdir(join(image, 'neurocaas_remote'), {recursive: true})
  await writeFile(join(image, 'bin', 'run.sh'), '#!/bin/bash\necho "run.sh got [$1] [$2] [$3] [$4] in $(pwd)"\necho "analysis log" >&2\n')
  await writeFile(join(image, 'neurocaas_remote', 'run_main.sh'), '#!/bin/bash\necho "run_main $* in $(pwd) as $(id -u)"\n')
  await chmod(join(image, 'bin', 'run.sh'), 0o755)
  await chmod(join(image, 'neurocaas_remote', 'run_main.sh'), 0o755)
  const fake = fakeEc2()
  server = await startServer({stateDir: join(dir, 'state'), services: {ec2: fake.factory}})
  const endpoint = server.endpoint
  ssm = new SSMClient({region, endpoint, credentials})
  s3 = new S3Client({region, endpoint, credentials, forcePathStyle: true})
  const iam = new IAMClient({region, endpoint, credentials})
  await iam.send(
    new CreateRoleCommand({
      RoleName: 'instance-role',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {Effect: 'Allow', Principal: {Service: 'ec2.amazonaws.com', AWS: 'arn:aws:iam::000000000000:root'}, Action: 'sts:AssumeRole'},
        ],
      }),
    }),
  )
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: 'instance-role',
      PolicyName: 'output',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::ssm-output/*'}],
      }),
    }),
  )
  await s3.send(new CreateBucketCommand({Bucket: 'ssm-output'}))
  await s3.send(new CreateBucketCommand({Bucket: 'not-allowed'}))
  await server.getService('ec2')
  ec2 = fake.api()
})

test.after.always(async () => {
  await server?.close()
  await rm(dir, {recursive: true, force: true})
})

const send = (instanceId: string, commands: string[], extra: Record<string, unknown> = {}) =>
  ssm.send(
    new SendCommandCommand({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [instanceId],
      Parameters: {commands, ...((extra.parameters as Record<string, string[]>) ?? {})},
      ...(extra as object),
    }),
  )

async function waitFor(commandId: string, instanceId: string) {
  await waitUntilCommandExecuted(
    {client: ssm, maxWaitTime: 30, minDelay: 1, maxDelay: 1},
    {CommandId: commandId, InstanceId: instanceId},
  ).catch(() => undefined)
  return ssm.send(new GetCommandInvocationCommand({CommandId: commandId, InstanceId: instanceId}))
}

test('a command with full shell syntax runs in the instance: InvocationDoesNotExist at first, then Success with its stdout and stderr', async (t) => {
  const id = await ec2.launch({imageDir: image, roleArn: ROLE_ARN})
  const script = [
    'for n in 1 2 3; do echo "line $n"; done | tr a-z A-Z',
    'x=$(( 6 * 7 )); echo "answer=$x" >&2',
    'if [ -d /home/ubuntu/bin ]; then echo home-ok; fi',
  ]
  const sentAt = Date.now()
  const {Command} = await send(id, script, {Comment: 'shell syntax'})
  t.is(Command?.Status, 'Pending')
  t.is(Command?.DocumentName, 'AWS-RunShellScript')
  const early = await ssm
    .send(new GetCommandInvocationCommand({CommandId: Command!.CommandId, InstanceId: id}))
    .catch((error: Error) => error)
  // On this busy machine the answer may come after the agent's pickup; then at least PICKUP_MS has passed.
  if ((early as Error).name !== 'InvocationDoesNotExist') t.true(Date.now() - sentAt >= PICKUP_MS, 'visible before the pickup delay')
  else t.pass()
  const result = await waitFor(Command!.CommandId!, id)
  t.is(result.Status, 'Success')
  t.is(result.ResponseCode, 0)
  t.is(result.StandardOutputContent, 'LINE 1\nLINE 2\nLINE 3\nhome-ok\n')
  t.is(result.StandardErrorContent, 'answer=42\n')
  t.is(result.PluginName, 'aws:runShellScript')
  t.regex(result.ExecutionElapsedTime ?? '', /^PT\d+\.\d+S$/)
  const listed = await ssm.send(new ListCommandsCommand({CommandId: Command!.CommandId}))
  t.is(listed.Commands?.[0]?.Status, 'Success')
  t.is(listed.Commands?.[0]?.CompletedCount, 1)
  const invocations = await ssm.send(new ListCommandInvocationsCommand({CommandId: Command!.CommandId, Details: true}))
  t.is(
    invocations.CommandInvocations?.[0]?.CommandPlugins?.[0]?.Output,
    'LINE 1\nLINE 2\nLINE 3\nhome-ok\n\n----------ERROR-------\nanswer=42\n',
  )
})

test('a failing command is Failed with its exit code, its stdout and stderr kept', async (t) => {
  const id = await ec2.launch({imageDir: image, roleArn: ROLE_ARN})
  const {Command} = await send(id, ['echo before', 'echo oops >&2', 'exit 7', 'echo never'])
  const result = await waitFor(Command!.CommandId!, id)
  t.is(result.Status, 'Failed')
  t.is(result.StatusDetails, 'Failed')
  t.is(result.ResponseCode, 7)
  t.is(result.StandardOutputContent, 'before\n')
  t.regex(result.StandardErrorContent ?? '', /^oops\n/)
  const command = await ssm.send(new ListCommandsCommand({CommandId: Command!.CommandId}))
  t.is(command.Commands?.[0]?.Status, 'Failed')
  t.is(command.Commands?.[0]?.ErrorCount, 1)
})

test("the seed's COMMAND from WORKING_DIRECTORY ~/bin and a NeuroCAAS-style one run unchanged", async (t) => {
  const id = await ec2.launch({imageDir: image, roleArn: ROLE_ARN})
  const seed = 'ls; cd ../../../home/ubuntu; bin/run.sh "bucket" "inputs/data.zip" "results" "config.yaml"'
  const first = await send(id, [seed], {parameters: {workingDirectory: ['~/bin']}})
  const seedResult = await waitFor(first.Command!.CommandId!, id)
  t.is(seedResult.Status, 'Success', seedResult.StandardErrorContent)
  t.is(seedResult.StandardOutputContent, 'run.sh\nrun.sh got [bucket] [inputs/data.zip] [results] [config.yaml] in /home/ubuntu\n')
  t.is(seedResult.StandardErrorContent, 'analysis log\n')
  const second = await send(id, ['cd /home/ubuntu; neurocaas_remote/run_main.sh "s3://b/in" "s3://b/cfg"'])
  const neurocaas = await waitFor(second.Command!.CommandId!, id)
  t.is(neurocaas.Status, 'Success', neurocaas.StandardErrorContent)
  t.is(neurocaas.StandardOutputContent, 'run_main s3://b/in s3://b/cfg in /home/ubuntu as 0\n')
})

test('output goes to S3 in AWS layout with the instance role’s rights; a bucket the role may not write is recorded as failed', async (t) => {
  const id = await ec2.launch({imageDir: image, roleArn: ROLE_ARN})
  const {Command} = await send(id, ['echo to-s3', 'echo err-s3 >&2'], {OutputS3BucketName: 'ssm-output', OutputS3KeyPrefix: 'runs/'})
  const result = await waitFor(Command!.CommandId!, id)
  t.is(result.Status, 'Success')
  const base = `runs/${Command!.CommandId}/${id}/awsrunShellScript/0.awsrunShellScript`
  const stdout = await s3.send(new GetObjectCommand({Bucket: 'ssm-output', Key: `${base}/stdout`}))
  t.is(await stdout.Body?.transformToString(), 'to-s3\n')
  const stderr = await s3.send(new GetObjectCommand({Bucket: 'ssm-output', Key: `${base}/stderr`}))
  t.is(await stderr.Body?.transformToString(), 'err-s3\n')
  t.is(result.StandardOutputUrl, `${server.endpoint}/ssm-output/${base}/stdout`)
  const denied = await send(id, ['echo x'], {OutputS3BucketName: 'not-allowed'})
  const second = await waitFor(denied.Command!.CommandId!, id)
  t.is(second.Status, 'Success')
  await server.events.drain()
  const {readFile} = await import('node:fs/promises')
  const outputs = (await readFile(join(dir, 'state', 'events.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as {kind: string; outcome: string; reason?: string; correlation?: Record<string, string>})
    .filter((event) => event.kind === 'ssm.output' && event.correlation?.commandId === denied.Command!.CommandId)
  t.is(outputs[0]?.outcome, 'failed')
  t.regex(outputs[0]?.reason ?? '', /AccessDenied/)
})

test('executionTimeout on the emulator clock: the command is TimedOut and its processes killed', async (t) => {
  const id = await ec2.launch({imageDir: image, roleArn: ROLE_ARN})
  const {Command} = await send(id, ['echo started', 'touch /tmp/started', 'sleep 300', 'echo never'], {
    parameters: {executionTimeout: ['120']},
  })
  // The instance's /tmp is its own folder on the host: wait until the script reached its sleep.
  const marker = join(dir, 'state', 'ec2', 'instances', id, 'tmp', 'started')
  for (let i = 0; i < 250 && !existsSync(marker); i++) await new Promise((resolve) => setTimeout(resolve, 20))
  t.true(existsSync(marker))
  await server.clock.advance(121_000)
  const result = await waitFor(Command!.CommandId!, id)
  t.is(result.Status, 'TimedOut')
  t.is(result.StatusDetails, 'ExecutionTimedOut')
  t.is(result.StandardOutputContent, 'started\n')
})

test('CancelCommand ends a running invocation Cancelled', async (t) => {
  const id = await ec2.launch({imageDir: image, roleArn: ROLE_ARN})
  const {Command} = await send(id, ['sleep 300'])
  await new Promise((resolve) => setTimeout(resolve, 200))
  await ssm.send(new CancelCommandCommand({CommandId: Command!.CommandId}))
  const result = await waitFor(Command!.CommandId!, id)
  t.is(result.Status, 'Cancelled')
  const missing = await ssm
    .send(new CancelCommandCommand({CommandId: '00000000-0000-0000-0000-000000000000'}))
    .catch((error: Error) => error)
  t.is((missing as Error).name, 'InvalidCommandId')
})

test('commands only go to running managed instances (else InvalidInstanceId); unknown documents are InvalidDocument', async (t) => {
  const unmanaged = await ec2.launch({imageDir: image})
  const error = await send(unmanaged, ['true']).catch((failure: Error) => failure)
  t.is((error as Error).name, 'InvalidInstanceId')
  const gone = await ec2.launch({imageDir: image, roleArn: ROLE_ARN})
  await ec2.terminate(gone)
  t.is(((await send(gone, ['true']).catch((failure: Error) => failure)) as Error).name, 'InvalidInstanceId')
  const unknown = await send('i-0000000000000dead', ['true']).catch((failure: Error) => failure)
  t.is((unknown as Error).name, 'InvalidInstanceId')
  const doc = await ssm
    .send(new SendCommandCommand({DocumentName: 'AWS-RunPowerShellScript', InstanceIds: [gone], Parameters: {commands: ['x']}}))
    .catch((failure: Error) => failure)
  t.is((doc as Error).name, 'InvalidDocument')
})

test('DescribeInstanceInformation lists running instances with a profile as Online; Targets by tag reach them', async (t) => {
  const id = await ec2.launch({imageDir: image, roleArn: ROLE_ARN, tags: {Team: 'ssm-tag-test'}})
  const info = await ssm.send(new DescribeInstanceInformationCommand({Filters: [{Key: 'InstanceIds', Values: [id]}]}))
  t.is(info.InstanceInformationList?.length, 1)
  t.is(info.InstanceInformationList?.[0]?.PingStatus, 'Online')
  t.is(info.InstanceInformationList?.[0]?.PlatformType, 'Linux')
  const {Command} = await ssm.send(
    new SendCommandCommand({
      DocumentName: 'AWS-RunShellScript',
      Targets: [{Key: 'tag:Team', Values: ['ssm-tag-test']}],
      Parameters: {commands: ['echo tagged']},
    }),
  )
  t.is(Command?.TargetCount, 1)
  const result = await waitFor(Command!.CommandId!, id)
  t.is(result.StandardOutputContent, 'tagged\n')
})

test('sudo runs its command and `sudo poweroff` asks the instance to power off', async (t) => {
  const id = await ec2.launch({imageDir: image, roleArn: ROLE_ARN})
  const {Command} = await send(id, ['sudo -E echo via-sudo', 'sudo mkdir -p /home/ubuntu/auxvolume && echo made', 'sudo poweroff'])
  const result = await waitFor(Command!.CommandId!, id)
  t.is(result.StandardOutputContent, 'via-sudo\nmade\n')
  for (let i = 0; i < 100 && !ec2.shutdowns.some((entry) => entry.instanceId === id); i++)
    await new Promise((resolve) => setTimeout(resolve, 20))
  t.deepEqual(
    ec2.shutdowns.filter((entry) => entry.instanceId === id),
    [{instanceId: id, kind: 'poweroff'}],
  )
})

test('every transition is in the event record as ssm.command', async (t) => {
  const id = await ec2.launch({imageDir: image, roleArn: ROLE_ARN})
  const {Command} = await send(id, ['true'])
  await waitFor(Command!.CommandId!, id)
  await server.events.drain()
  const {readFile} = await import('node:fs/promises')
  const lines = (await readFile(join(dir, 'state', 'events.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as {kind: string; correlation?: Record<string, string>; detail?: {status?: string}})
    .filter((event) => event.kind === 'ssm.command' && event.correlation?.commandId === Command!.CommandId)
  const statuses = lines.map((event) => event.detail?.status)
  t.true(statuses.includes('InProgress'))
  t.true(statuses.includes('Success'))
})
