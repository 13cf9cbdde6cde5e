/**
 * The submit handler in-process against moto_server (S3, EC2, SSM, EventBridge,
 * Parameter Store): validation, every refusal, duplicates, launch with tags,
 * commands from COMMAND's slots, rollback and cancel. moto runs no command, so
 * what happens on the instances is tested against the emulator.
 */
import {DescribeImagesCommand, DescribeInstancesCommand, EC2Client} from '@aws-sdk/client-ec2'
import {DescribeRuleCommand, EventBridgeClient, ListTargetsByRuleCommand} from '@aws-sdk/client-eventbridge'
import {CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {ListCommandsCommand, PutParameterCommand, SSMClient} from '@aws-sdk/client-ssm'
import test from 'ava'
import {makeClients} from '../../lambda_repo/lib/aws.js'
import {activeRecordKey, encodeEventKey, jobPaths, statusKey} from '../../lambda_repo/lib/layout.js'
import type {CostRecord, DatasetStatus, JobRecord} from '../../lambda_repo/lib/records.js'
import {readSettings, type SubmitSettings, submitSettingsSchema} from '../../lambda_repo/lib/settings.js'
import {handler} from '../../lambda_repo/submit_start/index.js'
import {handleUpload, type SubmitContext} from '../../lambda_repo/submit_start/submit.js'
import {hasMoto, type RunningMoto, startMoto} from '../helpers/moto.js'

const region = 'us-east-1'
const credentials = {accessKeyId: 'test', secretAccessKey: 'test'}
let moto: RunningMoto | undefined
let s3: S3Client
let ec2: EC2Client
let ssm: SSMClient
let events: EventBridgeClient
let ami = ''

const SEED_COMMAND = 'ls; cd ../../../home/ubuntu; bin/run.sh "{}" "{}" "{}" "{}"'

function env(bucket: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PIPELINE_NAME: bucket,
    BUCKET_NAME: bucket,
    REGION: region,
    AMI: ami,
    INSTANCE_TYPE: 't3.micro',
    COMMAND: SEED_COMMAND,
    COMMAND_SLOTS: '4',
    WORKING_DIRECTORY: '',
    EXECUTION_TIMEOUT: '60',
    SSM_TIMEOUT: '3600',
    DEPLOY_LIMIT: '10',
    MAXCOST: '100',
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
    SHUTDOWN_BEHAVIOR: 'terminate',
    INSTANCE_PROFILE: '',
    SECURITY_GROUPS: '',
    KEY_NAME: '',
    MONITOR_FUNCTION_ARN: `arn:aws:lambda:${region}:123456789012:function:${bucket}-monitor`,
    JOB_RULE_PREFIX: `job__${bucket}`,
    ...extra,
  }
}

function context(bucket: string, extra: Record<string, string> = {}, overrides: Partial<SubmitContext> = {}): SubmitContext {
  const settings: SubmitSettings = readSettings(submitSettingsSchema, env(bucket, extra))
  return {settings, clients: makeClients(region), remainingMs: () => 60_000, ...overrides}
}

function s3Event(bucket: string, key: string, principal = 'AWS:AIDAUSER') {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: '2026-12-01T08:00:00.000Z',
        eventName: 'ObjectCreated:Put',
        userIdentity: {principalId: principal},
        s3: {
          s3SchemaVersion: '1.0',
          bucket: {name: bucket, arn: `arn:aws:s3:::${bucket}`},
          object: {key: encodeEventKey(key), sequencer: '0A1B2C'},
        },
      },
    ],
  }
}

async function put(bucket: string, key: string, body: string) {
  await s3.send(new PutObjectCommand({Bucket: bucket, Key: key, Body: body}))
}

async function text(bucket: string, key: string): Promise<string> {
  return (await s3.send(new GetObjectCommand({Bucket: bucket, Key: key}))).Body!.transformToString()
}

async function bucketWithData(bucket: string, datasets = ['lab/inputs/a.mp4']) {
  await s3.send(new CreateBucketCommand({Bucket: bucket}))
  for (const d of datasets) await put(bucket, d, `data of ${d}`)
  await put(bucket, 'lab/configs/config.yaml', '__duration__: 30\n__dataset_size__: 2\nthreshold: 0.5\n')
}

/** Uploads a submit file and runs the handler on its event, as S3 would. */
async function submit(bucket: string, body: unknown, ctx: SubmitContext, key = 'lab/submissions/submit.json') {
  await put(bucket, key, typeof body === 'string' ? body : JSON.stringify(body))
  const upload = {
    bucket,
    key,
    eventName: 'ObjectCreated:Put',
    eventTime: '2026-12-01T08:00:00.000Z',
    principal: 'AWS:AIDAUSER',
    sequencer: '0A1B2C',
  }
  return handleUpload(upload, ctx)
}

const certificate = (bucket: string, job: string) => text(bucket, jobPaths(bucket, 'lab', 'results', job).certificate)

test.before(async () => {
  if (!hasMoto()) return
  moto = await startMoto()
  process.env.AWS_ENDPOINT_URL = moto.endpoint
  process.env.AWS_ACCESS_KEY_ID = 'test'
  process.env.AWS_SECRET_ACCESS_KEY = 'test'
  process.env.AWS_REGION = region
  const config = {region, endpoint: moto.endpoint, credentials}
  s3 = new S3Client({...config, forcePathStyle: true})
  ec2 = new EC2Client(config)
  ssm = new SSMClient(config)
  events = new EventBridgeClient(config)
  const images = await ec2.send(new DescribeImagesCommand({}))
  ami = images.Images?.find((i) => i.RootDeviceName && i.BlockDeviceMappings?.length)?.ImageId ?? images.Images![0]!.ImageId!
})

test.after.always(() => moto?.stop())

const withMoto = hasMoto() ? test.serial : test.skip

withMoto(
  'a valid 2-dataset job: instances tagged, active records, rule to the monitor, one command per dataset from the seed COMMAND',
  async (t) => {
    const bucket = 'sub-ok'
    await bucketWithData(bucket, ['lab/inputs/a.mp4', 'lab/inputs/b c.mp4'])
    const out = await submit(
      bucket,
      {dataname: ['lab/inputs/a.mp4', 'lab/inputs/b c.mp4'], configname: 'lab/configs/config.yaml', timestamp: '111'},
      context(bucket),
    )
    t.is(out.outcome, 'launched', JSON.stringify(out))
    if (out.outcome !== 'launched') return
    t.is(out.jobId, 'job__sub-ok_111')
    t.is(out.instances.length, 2)
    const described = await ec2.send(new DescribeInstancesCommand({InstanceIds: out.instances}))
    const instances = described.Reservations!.flatMap((r) => r.Instances!)
    for (const i of instances) {
      const tags = Object.fromEntries(i.Tags!.map((x) => [x.Key, x.Value]))
      t.like(tags, {pipeline: bucket, group: 'lab', job: 'job__sub-ok_111', timeout: '30'})
      t.true(['lab/inputs/a.mp4', 'lab/inputs/b c.mp4'].includes(tags.dataset!))
      t.is(i.InstanceType, 't3.micro')
    }
    const paths = jobPaths(bucket, 'lab', 'results', out.jobId)
    for (const id of out.instances) {
      const rec = JSON.parse(await text(bucket, activeRecordKey('logs', id))) as CostRecord
      t.like(rec, {group: 'lab', job: out.jobId, instanceType: 't3.micro', price: 0.0104, durationMinutes: 30})
      t.truthy(rec.commandId)
    }
    const status = JSON.parse(await text(bucket, statusKey(paths, 'lab/inputs/b c.mp4'))) as DatasetStatus
    t.is(status.status, 'IN PROGRESS')
    t.is(
      status.command,
      'ls; cd ../../../home/ubuntu; bin/run.sh "sub-ok" "lab/inputs/b c.mp4" "results/job__sub-ok_111" "lab/configs/config.yaml"',
    )
    const record = JSON.parse(await text(bucket, paths.record)) as JobRecord
    t.is(record.state, 'running')
    t.is(record.ruleName, 'job__sub-ok_111')
    const rule = await events.send(new DescribeRuleCommand({Name: record.ruleName!}))
    t.deepEqual(JSON.parse(rule.EventPattern!).detail['instance-id'].sort(), [...out.instances].sort())
    const targets = await events.send(new ListTargetsByRuleCommand({Rule: record.ruleName!}))
    t.is(targets.Targets?.[0]?.Arn, `arn:aws:lambda:${region}:123456789012:function:${bucket}-monitor`)
    const commands = await ssm.send(new ListCommandsCommand({}))
    const ours = commands.Commands!.filter((c) => out.commands.includes(c.CommandId!))
    t.is(ours.length, 2)
    for (const c of ours) {
      t.is(c.DocumentName, 'AWS-RunShellScript')
      t.is(c.OutputS3BucketName, bucket)
      t.is(c.OutputS3KeyPrefix, 'lab/results/job__sub-ok_111/internal_ec2_logs')
    }
    const cert = await certificate(bucket, out.jobId)
    t.regex(cert, /state: RUNNING/)
    t.regex(cert, /DATASET: lab\/inputs\/a\.mp4\n {2}STATUS: IN PROGRESS/)
    t.regex(cert, /\(\+\d+\.\d{2}s\) sent 2 command\(s\)/)
  },
)

withMoto('the handler entry point decodes S3 keys as S3 encodes them and reads settings from the environment', async (t) => {
  const bucket = 'sub-entry'
  await bucketWithData(bucket, ['lab/inputs/my file+1.mp4'])
  await put(
    bucket,
    'lab/submissions/a submit.json',
    JSON.stringify({dataname: 'lab/inputs/my file+1.mp4', configname: 'lab/configs/config.yaml', timestamp: 't1'}),
  )
  const saved = {...process.env}
  Object.assign(process.env, env(bucket, {MONITOR: 'false'}))
  try {
    const result = await handler(s3Event(bucket, 'lab/submissions/a submit.json'), {getRemainingTimeInMillis: () => 60_000})
    t.is(result.jobs[0]?.outcome, 'launched', JSON.stringify(result))
  } finally {
    process.env = saved
  }
})

const refusals: [string, string | object, RegExp][] = [
  ['bad JSON', '{"dataname": ', /not valid JSON/],
  ['a missing field', {dataname: 'lab/inputs/a.mp4', timestamp: 'f1'}, /"configname" is missing/],
  [
    'a missing data file',
    {dataname: ['lab/inputs/a.mp4', 'lab/inputs/nope.mp4'], configname: 'lab/configs/config.yaml', timestamp: 'f2'},
    /data file not found: lab\/inputs\/nope\.mp4/,
  ],
  [
    'a missing config',
    {dataname: 'lab/inputs/a.mp4', configname: 'lab/configs/none.yaml', timestamp: 'f3'},
    /We need a config file to analyze data\. \(config lab\/configs\/none\.yaml not found\)/,
  ],
  [
    'data of another group',
    {dataname: 'other/inputs/a.mp4', configname: 'lab/configs/config.yaml', timestamp: 'f4'},
    /not in group lab's folder/,
  ],
  [
    'a key that would break the command',
    {dataname: 'lab/inputs/$(reboot).mp4', configname: 'lab/configs/config.yaml', timestamp: 'f5'},
    /cannot carry/,
  ],
]

for (const [what, body, reason] of refusals) {
  withMoto(`refused and written to the certificate: ${what}`, async (t) => {
    const bucket = `ref-${what.replace(/[^a-z]/g, '').slice(0, 20)}`
    await bucketWithData(bucket)
    const out = await submit(bucket, body, context(bucket))
    t.is(out.outcome, 'refused', JSON.stringify(out))
    if (out.outcome !== 'refused') return
    t.regex(out.reason, reason)
    const cert = await certificate(bucket, out.jobId)
    t.regex(cert, /REFUSED: /)
    t.regex(cert, reason)
    const listed = await ec2.send(new DescribeInstancesCommand({Filters: [{Name: 'tag:pipeline', Values: [bucket]}]}))
    t.is(listed.Reservations?.length ?? 0, 0, 'no instance launched')
  })
}

withMoto('refused over budget: the budget from Parameter Store /ncap/<pipeline>/budgets/<group>, with the figures', async (t) => {
  const bucket = 'ref-budget'
  await bucketWithData(bucket)
  await ssm.send(new PutParameterCommand({Name: `/ncap/${bucket}/budgets/lab`, Value: '0.001', Type: 'String'}))
  const out = await submit(bucket, {dataname: 'lab/inputs/a.mp4', configname: 'lab/configs/config.yaml', timestamp: 'b1'}, context(bucket))
  t.is(out.outcome, 'refused')
  if (out.outcome !== 'refused') return
  t.regex(
    out.reason,
    /over budget: group lab has spent \$0\.00.*this job \$0\.01 \(1 × 30 min at \$0\.01\/h\); the budget is \$0\.00 \(Parameter Store \/ncap\/ref-budget\/budgets\/lab\)/,
  )
  // Without the parameter, MAXCOST applies; past cost records count.
  const other = 'ref-maxcost'
  await bucketWithData(other)
  await put(other, 'logs/lab/i-0old.json', JSON.stringify({cost: 5}))
  const out2 = await submit(
    other,
    {dataname: 'lab/inputs/a.mp4', configname: 'lab/configs/config.yaml', timestamp: 'b2'},
    context(other, {MAXCOST: '4'}),
  )
  t.is(out2.outcome, 'refused')
  if (out2.outcome === 'refused') t.regex(out2.reason, /spent \$5\.00.*budget is \$4\.00 \(MAXCOST\)/)
})

withMoto('refused over the deploy limit: active instances of the pipeline count', async (t) => {
  const bucket = 'ref-limit'
  await bucketWithData(bucket, ['lab/inputs/a.mp4', 'lab/inputs/b.mp4'])
  const out = await submit(
    bucket,
    {dataname: ['lab/inputs/a.mp4', 'lab/inputs/b.mp4'], configname: 'lab/configs/config.yaml', timestamp: 'l1'},
    context(bucket, {DEPLOY_LIMIT: '1'}),
  )
  t.is(out.outcome, 'refused')
  if (out.outcome === 'refused')
    t.regex(out.reason, /over the deploy limit: 0 instance\(s\) of ref-limit are active and this job needs 2; DEPLOY_LIMIT is 1/)
})

withMoto('the same S3 event delivered twice: the second is a duplicate and the first job is untouched', async (t) => {
  const bucket = 'dup-event'
  await bucketWithData(bucket)
  const body = {dataname: 'lab/inputs/a.mp4', configname: 'lab/configs/config.yaml', timestamp: 'd1'}
  const first = await submit(bucket, body, context(bucket, {MONITOR: 'false'}))
  t.is(first.outcome, 'launched')
  const paths = jobPaths(bucket, 'lab', 'results', 'job__dup-event_d1')
  const statusBefore = await text(bucket, statusKey(paths, 'lab/inputs/a.mp4'))
  const second = await submit(bucket, body, context(bucket, {MONITOR: 'false'}))
  t.deepEqual(second, {outcome: 'duplicate', jobId: 'job__dup-event_d1'})
  const listed = await ec2.send(new DescribeInstancesCommand({Filters: [{Name: 'tag:pipeline', Values: [bucket]}]}))
  t.is(listed.Reservations!.flatMap((r) => r.Instances!).length, 1, 'one instance only')
  t.is(await text(bucket, statusKey(paths, 'lab/inputs/a.mp4')), statusBefore)
  const record = JSON.parse(await text(bucket, paths.record)) as JobRecord
  t.is(record.state, 'running')
  t.regex(await certificate(bucket, 'job__dup-event_d1'), /REFUSED a second delivery of this submit file/)
})

withMoto(
  'rollback after a failed command send (SSM SendCommand made to fail by a wrapped client): instances terminated, records and rule gone',
  async (t) => {
    const bucket = 'rollback'
    await bucketWithData(bucket)
    const clients = makeClients(region)
    const real = await clients.ssm()
    const failing = Object.create(real) as SSMClient
    failing.send = (async (command: {constructor: {name: string}}) => {
      if (command.constructor.name === 'SendCommandCommand')
        throw Object.assign(new Error('document unavailable'), {name: 'InvalidDocument'})
      return real.send(command as never)
    }) as SSMClient['send']
    const ctx = context(bucket, {}, {clients: {...clients, ssm: async () => failing}})
    const out = await submit(bucket, {dataname: 'lab/inputs/a.mp4', configname: 'lab/configs/config.yaml', timestamp: 'r1'}, ctx)
    t.is(out.outcome, 'rolled back')
    if (out.outcome !== 'rolled back') return
    t.regex(out.reason, /InvalidDocument: document unavailable/)
    const listed = await ec2.send(new DescribeInstancesCommand({Filters: [{Name: 'tag:pipeline', Values: [bucket]}]}))
    const states = listed.Reservations!.flatMap((r) => r.Instances!).map((i) => i.State?.Name)
    t.true(states.length === 1 && ['shutting-down', 'terminated'].includes(states[0]!), String(states))
    const active = await s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: 'logs/active/'}))
    t.is(active.KeyCount, 0)
    await t.throwsAsync(events.send(new DescribeRuleCommand({Name: 'job__rollback_r1'})), {name: 'ResourceNotFoundException'})
    const paths = jobPaths(bucket, 'lab', 'results', out.jobId)
    const status = JSON.parse(await text(bucket, statusKey(paths, 'lab/inputs/a.mp4'))) as DatasetStatus
    t.is(status.status, 'FAILED')
    const cert = await certificate(bucket, out.jobId)
    t.regex(
      cert,
      /FAILED after launch: InvalidDocument: document unavailable; rolled back \(terminated i-[0-9a-f]+; deleted rule job__rollback_r1\)/,
    )
    t.regex(cert, /state: ROLLED BACK/)
  },
)

withMoto('cancel: {"cancel": "<job id>"} in submissions/ terminates the job; the certificate says who and when', async (t) => {
  const bucket = 'cancel-job'
  await bucketWithData(bucket)
  const out = await submit(bucket, {dataname: 'lab/inputs/a.mp4', configname: 'lab/configs/config.yaml', timestamp: 'c1'}, context(bucket))
  t.is(out.outcome, 'launched')
  const cancelled = await submit(bucket, {cancel: 'job__cancel-job_c1'}, context(bucket), 'lab/submissions/cancel_submit.json')
  t.is(cancelled.outcome, 'cancelled')
  const listed = await ec2.send(new DescribeInstancesCommand({Filters: [{Name: 'tag:pipeline', Values: [bucket]}]}))
  t.true(listed.Reservations!.flatMap((r) => r.Instances!).every((i) => ['shutting-down', 'terminated'].includes(i.State!.Name!)))
  const paths = jobPaths(bucket, 'lab', 'results', 'job__cancel-job_c1')
  const status = JSON.parse(await text(bucket, statusKey(paths, 'lab/inputs/a.mp4'))) as DatasetStatus
  t.is(status.status, 'FAILED')
  t.regex(status.reason.at(-1)!, /cancelled by AWS:AIDAUSER at /)
  const cert = await certificate(bucket, 'job__cancel-job_c1')
  t.regex(cert, /state: CANCELLED \(cancelled by AWS:AIDAUSER at /)
  t.regex(cert, /CANCELLED by AWS:AIDAUSER \(request s3:\/\/cancel-job\/lab\/submissions\/cancel_submit\.json\)/)
  const unknown = await submit(bucket, {cancel: 'job__cancel-job_nope'}, context(bucket), 'lab/submissions/cancel_submit.json')
  t.is(unknown.outcome, 'ignored')
})

withMoto('the instance type from the submit file, and an image that does not exist, refused by name', async (t) => {
  const bucket = 'itype'
  await bucketWithData(bucket)
  const out = await submit(
    bucket,
    {dataname: 'lab/inputs/a.mp4', configname: 'lab/configs/config.yaml', timestamp: 'i1', instance_type: 'm5.large'},
    context(bucket, {MONITOR: 'false'}),
  )
  t.is(out.outcome, 'launched')
  if (out.outcome === 'launched') {
    const described = await ec2.send(new DescribeInstancesCommand({InstanceIds: out.instances}))
    t.is(described.Reservations![0]!.Instances![0]!.InstanceType, 'm5.large')
  }
  const bad = await submit(
    bucket,
    {dataname: 'lab/inputs/a.mp4', configname: 'lab/configs/config.yaml', timestamp: 'i2'},
    context(bucket, {AMI: 'ami-00000000000000bad'}),
  )
  t.is(bad.outcome, 'refused')
  if (bad.outcome === 'refused') t.regex(bad.reason, /image ami-00000000000000bad does not exist/)
})

withMoto('LAUNCH false is a dry run: every check made, nothing launched, the certificate says so', async (t) => {
  const bucket = 'dry-run'
  await bucketWithData(bucket)
  const out = await submit(
    bucket,
    {dataname: 'lab/inputs/a.mp4', configname: 'lab/configs/config.yaml', timestamp: 'dr1'},
    context(bucket, {LAUNCH: 'false'}),
  )
  t.deepEqual(out, {outcome: 'dry run', jobId: 'job__dry-run_dr1'})
  t.regex(await certificate(bucket, 'job__dry-run_dr1'), /DRY RUN \(LAUNCH is false\): every check passed; 1 t3\.micro instance\(s\)/)
  const listed = await ec2.send(new DescribeInstancesCommand({Filters: [{Name: 'tag:pipeline', Values: [bucket]}]}))
  t.is(listed.Reservations?.length ?? 0, 0)
})
