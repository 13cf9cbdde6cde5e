import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand, IAMClient} from '@aws-sdk/client-iam'
import test from 'ava'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'
import {registerImage} from '../../../src/emulator/services/ec2/images.js'
import {AWS_V2, type AwsRun, hasAwsV2, runAwsV2} from '../../helpers/awscli.js'
import {makeImageFolder} from '../ec2/helpers.js'

const smoke = hasAwsV2 ? test.serial : test.skip
if (!hasAwsV2) console.log(`Skipping the SSM AWS CLI v2 smoke tests: ${AWS_V2} is absent (apt-get install -y awscli).`)

let server: RunningServer | undefined
let work = ''
let imageId = ''
let instanceId = ''

test.before(async () => {
  if (!hasAwsV2) return
  work = await mkdtemp(join(tmpdir(), 'ncap-smoke-ssm-'))
  const stateDir = join(work, 'state')
  imageId = (await registerImage(stateDir, {dir: await makeImageFolder(join(work, 'image')), name: 'cli-image'})).ImageId
  server = await startServer({stateDir, port: 0, log: () => {}})
  const iam = new IAMClient({region: 'us-east-1', endpoint: server.endpoint, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}})
  await iam.send(
    new CreateRoleCommand({
      RoleName: 'cli-role',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{Effect: 'Allow', Principal: {Service: 'ec2.amazonaws.com'}, Action: 'sts:AssumeRole'}],
      }),
    }),
  )
  await iam.send(new CreateInstanceProfileCommand({InstanceProfileName: 'cli-profile'}))
  await iam.send(new AddRoleToInstanceProfileCommand({InstanceProfileName: 'cli-profile', RoleName: 'cli-role'}))
})

test.after.always(async () => {
  await server?.close()
  if (work) await rm(work, {recursive: true, force: true})
})

type Run = AwsRun

const aws = (args: string[]): Promise<Run> => runAwsV2(server!.endpoint, work, args)

async function json(t: {is(a: unknown, b: unknown, m?: string): void}, args: string[]) {
  const run = await aws(args)
  t.is(run.code, 0, `aws ${args.join(' ')}: ${run.stderr}`)
  return run.stdout.trim() ? (JSON.parse(run.stdout) as Record<string, any>) : {}
}

async function sendAndWait(t: {is(a: unknown, b: unknown, m?: string): void}, commands: string[]) {
  const sent = await json(t, [
    'ssm',
    'send-command',
    '--document-name',
    'AWS-RunShellScript',
    '--instance-ids',
    instanceId,
    '--parameters',
    JSON.stringify({commands}),
  ])
  const commandId = sent.Command.CommandId as string
  // The waiter retries on InvocationDoesNotExist, then polls until a terminal status (exit 255 when it is a failure).
  await aws(['ssm', 'wait', 'command-executed', '--command-id', commandId, '--instance-id', instanceId])
  return json(t, ['ssm', 'get-command-invocation', '--command-id', commandId, '--instance-id', instanceId])
}

smoke('ec2 run-instances from a registered image with a profile and shutdown behaviour terminate; instance-running waiter', async (t) => {
  const run = await json(t, [
    'ec2',
    'run-instances',
    '--image-id',
    imageId,
    '--count',
    '1',
    '--instance-type',
    't3.micro',
    '--iam-instance-profile',
    'Name=cli-profile',
    '--instance-initiated-shutdown-behavior',
    'terminate',
  ])
  instanceId = run.Instances[0].InstanceId
  const waited = await aws(['ec2', 'wait', 'instance-running', '--instance-ids', instanceId])
  t.is(waited.code, 0, waited.stderr)
})

smoke('ssm send-command then get-command-invocation: the real stdout and stderr of a script with shell syntax', async (t) => {
  const view = await sendAndWait(t, [
    'cd /home/ubuntu && for f in bin/*; do echo "file: $f"; done',
    'name=world; echo "hello ${name^^}" | sed s/hello/hi/',
    'echo "to stderr: $((2 ** 10))" >&2',
    'bin/run.sh a "b c"',
  ])
  t.is(view.Status, 'Success')
  t.is(view.ResponseCode, 0)
  t.is(view.StandardOutputContent, 'file: bin/run.sh\nhi WORLD\nrun.sh ran in /home/ubuntu with a b c\n')
  t.is(view.StandardErrorContent, 'to stderr: 1024\n')
})

smoke('a failing command is Failed with its exit code and its output', async (t) => {
  const view = await sendAndWait(t, ['echo partial output', 'echo "cannot find input" >&2', 'exit 3'])
  t.is(view.Status, 'Failed')
  t.is(view.ResponseCode, 3)
  t.is(view.StandardOutputContent, 'partial output\n')
  t.regex(view.StandardErrorContent, /^cannot find input\n/)
})

smoke('Parameter Store through the CLI: put, get with decryption, get-parameters-by-path', async (t) => {
  await json(t, ['ssm', 'put-parameter', '--name', '/cli/secret', '--value', 'hunter2', '--type', 'SecureString'])
  const got = await json(t, ['ssm', 'get-parameter', '--name', '/cli/secret', '--with-decryption'])
  t.is(got.Parameter.Value, 'hunter2')
  const listed = await json(t, ['ssm', 'get-parameters-by-path', '--path', '/cli'])
  t.is(listed.Parameters.length, 1)
})

smoke('`sudo poweroff` inside terminates the instance (its shutdown behaviour); instance-terminated waiter', async (t) => {
  await sendAndWait(t, ['echo bye', 'sudo poweroff'])
  const waited = await aws(['ec2', 'wait', 'instance-terminated', '--instance-ids', instanceId])
  t.is(waited.code, 0, waited.stderr)
  const described = await json(t, ['ec2', 'describe-instances', '--instance-ids', instanceId])
  const instance = described.Reservations[0].Instances[0]
  t.is(instance.State.Name, 'terminated')
  t.regex(instance.StateReason?.Message ?? '', /[Ii]nstance initiated shutdown/)
})
