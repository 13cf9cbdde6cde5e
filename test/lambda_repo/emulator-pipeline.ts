/**
 * A pipeline wired into the emulator the way the stack wires it, without
 * CloudFormation: roles made with IAM (the policies the compiler writes), the
 * handlers bundled with bundle.ts and created with CreateFunction, S3's
 * permission and the bucket's notification to the submit function, the job
 * rules' permission on the monitor, and a registered image folder.
 */
import {cp, mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {EC2Client} from '@aws-sdk/client-ec2'
import {EventBridgeClient} from '@aws-sdk/client-eventbridge'
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam'
import {AddPermissionCommand, CreateFunctionCommand, LambdaClient} from '@aws-sdk/client-lambda'
import {CreateBucketCommand, GetObjectCommand, PutBucketNotificationConfigurationCommand, S3Client} from '@aws-sdk/client-s3'
import {SSMClient} from '@aws-sdk/client-ssm'
import {bundleHandler} from '../../src/deploy/bundle.js'
import {type RunningServer, startServer} from '../../src/emulator/server.js'
import {registerImage} from '../../src/emulator/services/ec2/images.js'
import {repoRoot} from '../helpers/cli.js'

export const region = 'us-east-1'
const account = '000000000000'
const credentials = {accessKeyId: 'test', secretAccessKey: 'test'}

export interface Emulator {
  server: RunningServer
  stateDir: string
  imageId: string
  imageDir: string
  s3: S3Client
  ec2: EC2Client
  ssm: SSMClient
  events: EventBridgeClient
  iam: IAMClient
  lambda: LambdaClient
}

const trust = (service: string) =>
  JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Principal: {Service: service}, Action: 'sts:AssumeRole'}]})

/** An emulator with the scaffold's image (templates/pipeline/image) registered from a copy. */
export async function startEmulator(): Promise<Emulator> {
  const work = await mkdtemp(join(tmpdir(), 'ncap-job-'))
  const imageDir = join(work, 'image')
  await cp(join(repoRoot, 'templates', 'pipeline', 'image'), imageDir, {recursive: true})
  const stateDir = join(work, 'state')
  const image = await registerImage(stateDir, {dir: imageDir, name: 'ncap-scaffold-image'})
  const server = await startServer({stateDir, port: 0, log: () => {}})
  const config = {region, endpoint: server.endpoint, credentials, maxAttempts: 2}
  return {
    server,
    stateDir,
    imageId: image.ImageId,
    imageDir,
    s3: new S3Client({...config, forcePathStyle: true}),
    ec2: new EC2Client(config),
    ssm: new SSMClient(config),
    events: new EventBridgeClient(config),
    iam: new IAMClient(config),
    lambda: new LambdaClient(config),
  }
}

let bundles: Promise<{submit: Buffer; monitor: Buffer}> | undefined
function handlerZips() {
  bundles ??= (async () => ({
    submit: (await bundleHandler(join(repoRoot, 'lambda_repo', 'submit_start'))).zip,
    monitor: (await bundleHandler(join(repoRoot, 'lambda_repo', 'monitor'))).zip,
  }))()
  return bundles
}

export interface PipelineOptions {
  command?: string
  deployLimit?: number
  maxCost?: number
  shutdownBehavior?: 'terminate' | 'stop'
}

/** Deploys one pipeline (bucket = name) into the emulator and returns the submit function's environment. */
export async function deployPipeline(e: Emulator, name: string, options: PipelineOptions = {}): Promise<Record<string, string>> {
  const bucketArn = `arn:aws:s3:::${name}`
  const rulePrefix = `job__${name}`
  const rulesArn = `arn:aws:events:${region}:${account}:rule/${rulePrefix}*`
  await e.s3.send(new CreateBucketCommand({Bucket: name}))

  // What the instances run as: the bucket and SSM's needs (compiler: jobs.ts addInstanceIdentity).
  await e.iam.send(new CreateRoleCommand({RoleName: `${name}-instance`, AssumeRolePolicyDocument: trust('ec2.amazonaws.com')}))
  await e.iam.send(
    new PutRolePolicyCommand({
      RoleName: `${name}-instance`,
      PolicyName: 'InstanceBucketAccess',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], Resource: `${bucketArn}/*`},
          {Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn},
        ],
      }),
    }),
  )
  await e.iam.send(new CreateInstanceProfileCommand({InstanceProfileName: `${name}-profile`}))
  await e.iam.send(new AddRoleToInstanceProfileCommand({InstanceProfileName: `${name}-profile`, RoleName: `${name}-instance`}))

  const role = async (roleName: string, statements: object[]) => {
    const out = await e.iam.send(new CreateRoleCommand({RoleName: roleName, AssumeRolePolicyDocument: trust('lambda.amazonaws.com')}))
    await e.iam.send(
      new PutRolePolicyCommand({
        RoleName: roleName,
        PolicyName: 'policy',
        PolicyDocument: JSON.stringify({Version: '2012-10-17', Statement: statements}),
      }),
    )
    return out.Role!.Arn!
  }
  const logs = (fn: string) => ({
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: `arn:aws:logs:${region}:${account}:log-group:/aws/lambda/${fn}:*`,
  })
  // The compiler's statements (src/template/jobs.ts, monitoring.ts).
  const submitRole = await role(`${name}-submit`, [
    logs(`${name}-submit`),
    {Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: `${bucketArn}/*`},
    {Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn},
    {
      Effect: 'Allow',
      Action: [
        'ec2:RunInstances',
        'ec2:CreateTags',
        'ec2:TerminateInstances',
        'ec2:DescribeInstances',
        'ec2:DescribeInstanceStatus',
        'ec2:DescribeImages',
        'ec2:DescribeSecurityGroups',
      ],
      Resource: '*',
    },
    {Effect: 'Allow', Action: 'iam:PassRole', Resource: `arn:aws:iam::${account}:role/${name}-instance`},
    {Effect: 'Allow', Action: ['ssm:SendCommand', 'ssm:GetCommandInvocation', 'ssm:ListCommandInvocations'], Resource: '*'},
    {Effect: 'Allow', Action: 'ssm:GetParameter', Resource: `arn:aws:ssm:${region}:${account}:parameter/ncap/${name}/budgets/*`},
    {
      Effect: 'Allow',
      Action: ['events:PutRule', 'events:PutTargets', 'events:DeleteRule', 'events:RemoveTargets', 'events:DescribeRule'],
      Resource: rulesArn,
    },
  ])
  const monitorRole = await role(`${name}-monitor`, [
    logs(`${name}-monitor`),
    {Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: `${bucketArn}/*`},
    {Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn},
    {Effect: 'Allow', Action: ['ec2:DescribeInstances', 'ec2:DescribeInstanceStatus'], Resource: '*'},
    // The compiler limits this to instances tagged pipeline=<name> (aws:ResourceTag/pipeline); the emulator's EC2
    // authorizes Stop/TerminateInstances on "*" rather than on each instance's ARN, so no tag condition can match there yet.
    {Effect: 'Allow', Action: ['ec2:StopInstances', 'ec2:TerminateInstances'], Resource: '*'},
    {Effect: 'Allow', Action: ['ssm:GetCommandInvocation'], Resource: '*'},
    {Effect: 'Allow', Action: ['events:DeleteRule', 'events:RemoveTargets', 'events:ListTargetsByRule'], Resource: rulesArn},
  ])

  const zips = await handlerZips()
  const monitorEnv = {
    PIPELINE_NAME: name,
    BUCKET_NAME: name,
    REGION: region,
    OUTDIR: 'results',
    LOGDIR: 'logs',
    SHUTDOWN_BEHAVIOR: options.shutdownBehavior ?? 'terminate',
    JOB_RULE_PREFIX: rulePrefix,
  }
  const monitor = await e.lambda.send(
    new CreateFunctionCommand({
      FunctionName: `${name}-monitor`,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Role: monitorRole,
      Code: {ZipFile: zips.monitor},
      Timeout: 300,
      MemorySize: 256,
      Environment: {Variables: monitorEnv},
    }),
  )
  await e.lambda.send(
    new AddPermissionCommand({
      FunctionName: `${name}-monitor`,
      StatementId: 'job-rules',
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: rulesArn,
    }),
  )
  const submitEnv: Record<string, string> = {
    PIPELINE_NAME: name,
    BUCKET_NAME: name,
    REGION: region,
    AMI: e.imageId,
    INSTANCE_TYPE: 't3.micro',
    COMMAND: options.command ?? 'ls; cd ../../../home/ubuntu; bin/run.sh "{}" "{}" "{}" "{}"',
    COMMAND_SLOTS: '4',
    WORKING_DIRECTORY: '',
    EXECUTION_TIMEOUT: '300',
    SSM_TIMEOUT: '172000',
    DEPLOY_LIMIT: String(options.deployLimit ?? 10),
    MAXCOST: String(options.maxCost ?? 100),
    LAUNCH: 'true',
    MONITOR: 'true',
    INDIR: 'inputs',
    OUTDIR: 'results',
    LOGDIR: 'logs',
    CONFIGDIR: 'configs',
    SUBMITDIR: 'submissions',
    LOGFILE: 'lambda_log.txt',
    CONFIG: 'config.yaml',
    MISSING_CONFIG_ERROR: 'We need a config file to analyze data.',
    SHUTDOWN_BEHAVIOR: options.shutdownBehavior ?? 'terminate',
    INSTANCE_PROFILE: `${name}-profile`,
    SECURITY_GROUPS: '',
    KEY_NAME: '',
    MONITOR_FUNCTION_ARN: monitor.FunctionArn!,
    JOB_RULE_PREFIX: rulePrefix,
  }
  const submit = await e.lambda.send(
    new CreateFunctionCommand({
      FunctionName: `${name}-submit`,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Role: submitRole,
      Code: {ZipFile: zips.submit},
      Timeout: 300,
      MemorySize: 256,
      Environment: {Variables: submitEnv},
    }),
  )
  await e.lambda.send(
    new AddPermissionCommand({
      FunctionName: `${name}-submit`,
      StatementId: 's3',
      Action: 'lambda:InvokeFunction',
      Principal: 's3.amazonaws.com',
      SourceArn: bucketArn,
      SourceAccount: account,
    }),
  )
  await e.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: name,
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {
            LambdaFunctionArn: submit.FunctionArn!,
            Events: ['s3:ObjectCreated:*'],
            Filter: {
              Key: {
                FilterRules: [
                  {Name: 'prefix', Value: 'lab/submissions/'},
                  {Name: 'suffix', Value: 'submit.json'},
                ],
              },
            },
          },
        ],
      },
    }),
  )
  return submitEnv
}

export async function text(e: Emulator, bucket: string, key: string): Promise<string | undefined> {
  try {
    return await (await e.s3.send(new GetObjectCommand({Bucket: bucket, Key: key}))).Body!.transformToString()
  } catch (error) {
    if ((error as {name?: string}).name === 'NoSuchKey') return undefined
    throw error
  }
}

/** Polls until `probe` gives a value (the pipeline runs in the background). */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
