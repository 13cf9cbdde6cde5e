/**
 * The whole chain through SDK calls only, on one emulator with every real
 * service: an S3 upload triggers a Lambda (bucket notification) that runs an
 * instance from a registered image and sends it an SSM command; the command
 * writes a result object with the instance role's rights and powers off; the
 * instance's shutting-down and terminated changes reach a second Lambda through
 * an EventBridge rule; `ncap emulator events` shows each link.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {EventBridgeClient, PutRuleCommand, PutTargetsCommand} from '@aws-sdk/client-eventbridge'
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam'
import {AddPermissionCommand, CreateFunctionCommand, LambdaClient} from '@aws-sdk/client-lambda'
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import test from 'ava'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'
import {registerImage} from '../../../src/emulator/services/ec2/images.js'
import {runCli} from '../../helpers/cli.js'
import {makeImageFolder, until} from '../ec2/helpers.js'
import {TRUST_EC2, TRUST_LAMBDA, zipOf} from '../lambda/helpers.js'
import {SUBMIT, WATCH} from './handlers.js'

const credentials = {accessKeyId: 'test', secretAccessKey: 'test'}
const region = 'us-east-1'
const BUCKET = 'chain-bucket'
let server: RunningServer
let work: string
let stateDir: string
let imageId: string

const ALLOW_ALL = {Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: '*', Resource: '*'}]}

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'ncap-chain-'))
  stateDir = join(work, 'state')
  imageId = (await registerImage(stateDir, {dir: await makeImageFolder(join(work, 'image')), name: 'chain-image'})).ImageId
  server = await startServer({stateDir, port: 0, log: () => {}})
})

test.afterEach.always(async (t) => {
  if (t.passed) return
  const {readEvents} = await import('../../../src/emulator/event-record.js')
  await server.events.drain()
  for (const e of await readEvents(stateDir)) t.log(`${e.service} ${e.kind} ${e.outcome} ${e.summary} ${e.reason ?? ''}`)
})

test.after.always(async () => {
  await server?.close()
  await rm(work, {recursive: true, force: true, maxRetries: 5})
})

test('S3 upload → Lambda → RunInstances → SSM command writes a result and powers off → shutting-down and terminated reach a second Lambda', async (t) => {
  const config = {region, endpoint: server.endpoint, credentials}
  const iam = new IAMClient(config)
  const lambda = new LambdaClient(config)
  const s3 = new S3Client({...config, forcePathStyle: true})
  const events = new EventBridgeClient(config)
  // Roles: the submit function may do anything; the instance may write results; the watcher writes state markers.
  const submitRole = (await iam.send(new CreateRoleCommand({RoleName: 'chain-submit', AssumeRolePolicyDocument: TRUST_LAMBDA}))).Role!.Arn!
  await iam.send(new PutRolePolicyCommand({RoleName: 'chain-submit', PolicyName: 'all', PolicyDocument: JSON.stringify(ALLOW_ALL)}))
  const watchRole = (await iam.send(new CreateRoleCommand({RoleName: 'chain-watch', AssumeRolePolicyDocument: TRUST_LAMBDA}))).Role!.Arn!
  await iam.send(new PutRolePolicyCommand({RoleName: 'chain-watch', PolicyName: 'all', PolicyDocument: JSON.stringify(ALLOW_ALL)}))
  await iam.send(new CreateRoleCommand({RoleName: 'chain-instance', AssumeRolePolicyDocument: TRUST_EC2}))
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: 'chain-instance',
      PolicyName: 'results',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/results/*`}],
      }),
    }),
  )
  await iam.send(new CreateInstanceProfileCommand({InstanceProfileName: 'chain-profile'}))
  await iam.send(new AddRoleToInstanceProfileCommand({InstanceProfileName: 'chain-profile', RoleName: 'chain-instance'}))
  await s3.send(new CreateBucketCommand({Bucket: BUCKET}))
  const submit = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'chain-submit',
      Runtime: 'nodejs22.x',
      Role: submitRole,
      Handler: 'index.handler',
      Timeout: 60,
      // The EC2 and SSM clients together take more than Lambda's default 128 MB in Node.
      MemorySize: 512,
      Environment: {Variables: {AMI: imageId, PROFILE: 'chain-profile'}},
      Code: {ZipFile: await zipOf({'index.mjs': SUBMIT})},
    }),
  )
  const watch = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'chain-watch',
      Runtime: 'nodejs22.x',
      Role: watchRole,
      Handler: 'index.handler',
      Environment: {Variables: {BUCKET}},
      Code: {ZipFile: await zipOf({'index.mjs': WATCH})},
    }),
  )
  await lambda.send(
    new AddPermissionCommand({
      FunctionName: 'chain-submit',
      StatementId: 's3',
      Action: 'lambda:InvokeFunction',
      Principal: 's3.amazonaws.com',
      SourceArn: `arn:aws:s3:::${BUCKET}`,
    }),
  )
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: BUCKET,
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {
            LambdaFunctionArn: submit.FunctionArn,
            Events: ['s3:ObjectCreated:*'],
            Filter: {Key: {FilterRules: [{Name: 'prefix', Value: 'inputs/'}]}},
          },
        ],
      },
    }),
  )
  const rule = await events.send(
    new PutRuleCommand({
      Name: 'chain-states',
      EventPattern: JSON.stringify({
        source: ['aws.ec2'],
        'detail-type': ['EC2 Instance State-change Notification'],
        detail: {state: ['shutting-down', 'terminated']},
      }),
    }),
  )
  await lambda.send(
    new AddPermissionCommand({
      FunctionName: 'chain-watch',
      StatementId: 'events',
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: rule.RuleArn,
    }),
  )
  await events.send(new PutTargetsCommand({Rule: 'chain-states', Targets: [{Id: 'watch', Arn: watch.FunctionArn}]}))

  await s3.send(new PutObjectCommand({Bucket: BUCKET, Key: 'inputs/data.txt', Body: 'raw data\n'}))

  const result = await until(
    'the result object',
    () =>
      s3.send(new GetObjectCommand({Bucket: BUCKET, Key: 'results/inputs/data.txt.txt'})).then(
        (o) => o.Body!.transformToString(),
        () => '',
      ),
    (text) => text.length > 0,
    75_000,
  )
  t.is(result, `run.sh ran in /home/ubuntu with ${BUCKET} inputs/data.txt\n`)
  const states = await until(
    'both state changes at the second Lambda',
    async () =>
      ((await s3.send(new ListObjectsV2Command({Bucket: BUCKET, Prefix: 'states/'}))).Contents ?? []).map((o) => o.Key!.split('/').at(-1)),
    (list) => list.includes('shutting-down') && list.includes('terminated'),
    75_000,
  )
  t.deepEqual([...states].sort(), ['shutting-down', 'terminated'])

  await server.events.drain()
  const shown = await runCli(['emulator', 'events', '--state-dir', stateDir])
  t.is(shown.code, 0, shown.stderr)
  const out = shown.stdout
  t.regex(out, /s3\b.*inputs\/data\.txt/, 'the S3 notification')
  t.regex(out, /lambda\b.*chain-submit/, 'the submit function invoked')
  t.regex(out, /ec2\b.*pending/, 'the instance launched')
  t.regex(out, /ssm\b.*Success/, 'the SSM command')
  t.regex(out, /ec2\b.*shutting-down/, 'the power-off')
  t.regex(out, /ec2\b.*terminated/, 'terminated')
  t.regex(out, /chain-watch/, 'the second function reached')
})
