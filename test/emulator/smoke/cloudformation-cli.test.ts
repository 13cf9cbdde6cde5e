import {mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {S3Client} from '@aws-sdk/client-s3'
import {PutParameterCommand, SSMClient} from '@aws-sdk/client-ssm'
import test from 'ava'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'
import {AWS_V2, type AwsRun, hasAwsV2, runAwsV2} from '../../helpers/awscli.js'
import {seedPipeline} from '../../template/pipelines.js'
import {prepareDeploy} from '../cloudformation/deploy-helpers.js'

const smoke = hasAwsV2 ? test.serial : test.skip
if (!hasAwsV2) console.log(`Skipping the AWS CLI v2 CloudFormation smoke tests: ${AWS_V2} is absent (apt-get install awscli).`)

let server: RunningServer | undefined
let work = ''
const credentials = {accessKeyId: 'test', secretAccessKey: 'test'}

test.before(async () => {
  if (!hasAwsV2) return
  work = await mkdtemp(join(tmpdir(), 'ncap-smoke-cfn-'))
  server = await startServer({stateDir: join(work, 'state'), port: 0})
  const ssm = new SSMClient({endpoint: server.endpoint, region: 'us-east-1', credentials})
  await ssm.send(new PutParameterCommand({Name: '/cfn/test/prefix', Value: 'cli', Type: 'String'}))
})
test.after.always(async () => {
  await server?.close()
})

type Run = AwsRun

const aws = (args: string[]): Promise<Run> => runAwsV2(server!.endpoint, work, args)

async function describe(name: string): Promise<{StackStatus: string; Outputs?: {OutputKey: string; OutputValue: string}[]}> {
  const run = await aws(['cloudformation', 'describe-stacks', '--stack-name', name])
  if (run.code !== 0) throw new Error(run.stderr)
  return JSON.parse(run.stdout).Stacks[0]
}

const fixture = new URL('../cloudformation/fixtures/every-intrinsic.yaml', import.meta.url).pathname

smoke('cloudformation deploy of a template using every intrinsic: create, update, no changes, delete-stack and its waiter', async (t) => {
  t.timeout(180_000)
  const create = await aws([
    'cloudformation',
    'deploy',
    '--template-file',
    fixture,
    '--stack-name',
    'cli-all',
    '--capabilities',
    'CAPABILITY_IAM',
  ])
  t.is(create.code, 0, create.stderr + create.stdout)
  t.regex(create.stdout, /Successfully created\/updated stack - cli-all/)
  t.is((await describe('cli-all')).StackStatus, 'CREATE_COMPLETE')

  const update = await aws([
    'cloudformation',
    'deploy',
    '--template-file',
    fixture,
    '--stack-name',
    'cli-all',
    '--capabilities',
    'CAPABILITY_IAM',
    '--parameter-overrides',
    'Env=prod',
  ])
  t.is(update.code, 0, update.stderr + update.stdout)
  const updated = await describe('cli-all')
  t.is(updated.StackStatus, 'UPDATE_COMPLETE')
  t.is(updated.Outputs?.find((o) => o.OutputKey === 'Echo')?.OutputValue, 'big!')

  const same = await aws([
    'cloudformation',
    'deploy',
    '--template-file',
    fixture,
    '--stack-name',
    'cli-all',
    '--capabilities',
    'CAPABILITY_IAM',
    '--parameter-overrides',
    'Env=prod',
  ])
  // CLI v2 reports an empty change set and exits 0 unless told to fail on it.
  t.is(same.code, 0, same.stderr)
  t.regex(same.stdout + same.stderr, /No changes to deploy\. Stack cli-all is up to date/)
  const strict = await aws([
    'cloudformation',
    'deploy',
    '--template-file',
    fixture,
    '--stack-name',
    'cli-all',
    '--capabilities',
    'CAPABILITY_IAM',
    '--parameter-overrides',
    'Env=prod',
    '--fail-on-empty-changeset',
  ])
  t.is(strict.code, 255, strict.stderr)

  const change = await aws(['cloudformation', 'list-change-sets', '--stack-name', 'cli-all'])
  t.is(change.code, 0)
  t.true(JSON.parse(change.stdout).Summaries.length >= 2)

  const del = await aws(['cloudformation', 'delete-stack', '--stack-name', 'cli-all'])
  t.is(del.code, 0, del.stderr)
  const wait = await aws(['cloudformation', 'wait', 'stack-delete-complete', '--stack-name', 'cli-all'])
  t.is(wait.code, 0, wait.stderr)
  const gone = await aws(['cloudformation', 'describe-stacks', '--stack-name', 'cli-all'])
  t.is(gone.code, 254)
  t.regex(gone.stderr, /ValidationError.*Stack with id cli-all does not exist/)
})

smoke("cloudformation deploy of ncap's compiled seed template, then delete-stack", async (t) => {
  t.timeout(180_000)
  const s3 = new S3Client({endpoint: server!.endpoint, region: 'us-east-1', credentials, forcePathStyle: true})
  const deploy = await prepareDeploy(s3, seedPipeline())
  const file = join(work, 'compiled_template.json')
  await writeFile(file, deploy.templateBody)
  const run = await aws([
    'cloudformation',
    'deploy',
    '--template-file',
    file,
    '--stack-name',
    'dlcmonitored1',
    '--capabilities',
    'CAPABILITY_NAMED_IAM',
    '--parameter-overrides',
    ...deploy.parameters.map((p) => `${p.ParameterKey}=${p.ParameterValue}`),
  ])
  const events = await aws(['cloudformation', 'describe-stack-events', '--stack-name', 'dlcmonitored1'])
  const failed =
    run.code === 0
      ? ''
      : JSON.parse(events.stdout)
          .StackEvents.filter((e: {ResourceStatus: string}) => e.ResourceStatus.endsWith('FAILED'))
          .map((e: {LogicalResourceId: string; ResourceStatusReason: string}) => `${e.LogicalResourceId}: ${e.ResourceStatusReason}`)
          .join('\n')
  t.is(run.code, 0, `${run.stderr}\n${failed}`)
  t.is((await describe('dlcmonitored1')).StackStatus, 'CREATE_COMPLETE')
  t.is((await aws(['cloudformation', 'delete-stack', '--stack-name', 'dlcmonitored1'])).code, 0)
  const wait = await aws(['cloudformation', 'wait', 'stack-delete-complete', '--stack-name', 'dlcmonitored1'])
  const why =
    wait.code === 0
      ? ''
      : JSON.parse((await aws(['cloudformation', 'describe-stack-events', '--stack-name', 'dlcmonitored1'])).stdout)
          .StackEvents.filter((e: {ResourceStatus: string}) => e.ResourceStatus.endsWith('FAILED'))
          .map((e: {LogicalResourceId: string; ResourceStatusReason: string}) => `${e.LogicalResourceId}: ${e.ResourceStatusReason}`)
          .join('\n')
  t.is(wait.code, 0, `${wait.stderr}\n${why}`)
})
