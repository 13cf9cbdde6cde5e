/**
 * The monitor in-process against moto_server (S3, EC2, SSM, EventBridge): jobs
 * launched by the real submit handler, then SSM and EC2 events and the schedule.
 * moto reports every command Success at once; where a running command is needed
 * the SSM client is wrapped to answer InProgress, and the test title says so.
 */
import {DescribeImagesCommand, DescribeInstancesCommand, EC2Client, StopInstancesCommand} from '@aws-sdk/client-ec2'
import {DescribeRuleCommand, EventBridgeClient} from '@aws-sdk/client-eventbridge'
import {CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import test from 'ava'
import {type Clients, makeClients} from '../../lambda_repo/lib/aws.js'
import {jobPaths, statusKey} from '../../lambda_repo/lib/layout.js'
import type {CostRecord, DatasetStatus, JobRecord} from '../../lambda_repo/lib/records.js'
import {monitorSettingsSchema, readSettings, submitSettingsSchema} from '../../lambda_repo/lib/settings.js'
import {monitor} from '../../lambda_repo/monitor/monitor.js'
import {handleUpload} from '../../lambda_repo/submit_start/submit.js'
import {hasMoto, type RunningMoto, startMoto} from '../helpers/moto.js'

const region = 'us-east-1'
let moto: RunningMoto | undefined
let s3: S3Client
let ec2: EC2Client
let events: EventBridgeClient
let ami = ''

test.before(async () => {
  if (!hasMoto()) return
  moto = await startMoto()
  process.env.AWS_ENDPOINT_URL = moto.endpoint
  process.env.AWS_ACCESS_KEY_ID = 'test'
  process.env.AWS_SECRET_ACCESS_KEY = 'test'
  process.env.AWS_REGION = region
  const config = {region, endpoint: moto.endpoint, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}}
  s3 = new S3Client({...config, forcePathStyle: true})
  ec2 = new EC2Client(config)
  events = new EventBridgeClient(config)
  ami = (await ec2.send(new DescribeImagesCommand({}))).Images![0]!.ImageId!
})
test.after.always(() => moto?.stop())
const withMoto = hasMoto() ? test.serial : test.skip

const base = (bucket: string) => ({
  PIPELINE_NAME: bucket,
  BUCKET_NAME: bucket,
  REGION: region,
  OUTDIR: 'results',
  LOGDIR: 'logs',
  SHUTDOWN_BEHAVIOR: 'terminate',
  JOB_RULE_PREFIX: `job__${bucket}`,
})

async function text(bucket: string, key: string): Promise<string> {
  return (await s3.send(new GetObjectCommand({Bucket: bucket, Key: key}))).Body!.transformToString()
}
const json = async <T>(bucket: string, key: string) => JSON.parse(await text(bucket, key)) as T
const keys = async (bucket: string, prefix: string) =>
  ((await s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: prefix}))).Contents ?? []).map((o) => o.Key!).sort()

/** A bucket with a 2-dataset job launched by the submit handler, and the monitor's settings for it. */
async function launchedJob(bucket: string, clients: Clients = makeClients(region)) {
  await s3.send(new CreateBucketCommand({Bucket: bucket}))
  for (const k of ['lab/inputs/a.mp4', 'lab/inputs/b.mp4']) await s3.send(new PutObjectCommand({Bucket: bucket, Key: k, Body: k}))
  await s3.send(new PutObjectCommand({Bucket: bucket, Key: 'lab/configs/c.json', Body: '{"__duration__": 30}'}))
  const submitKey = 'lab/submissions/submit.json'
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: submitKey,
      Body: JSON.stringify({dataname: ['lab/inputs/a.mp4', 'lab/inputs/b.mp4'], configname: 'lab/configs/c.json', timestamp: 'm1'}),
    }),
  )
  const settings = readSettings(submitSettingsSchema, {
    ...base(bucket),
    AMI: ami,
    INSTANCE_TYPE: 't3.micro',
    COMMAND: 'bin/run.sh "{}" "{}" "{}" "{}"',
    MAXCOST: '100',
    MONITOR_FUNCTION_ARN: `arn:aws:lambda:${region}:123456789012:function:${bucket}-monitor`,
  })
  const upload = {
    bucket,
    key: submitKey,
    eventName: 'ObjectCreated:Put',
    eventTime: new Date().toISOString(),
    principal: 'AWS:AIDAU',
    sequencer: '01',
  }
  const out = await handleUpload(upload, {settings, clients, remainingMs: () => 60_000})
  if (out.outcome !== 'launched') throw new Error(JSON.stringify(out))
  const record = await json<JobRecord>(bucket, jobPaths(bucket, 'lab', 'results', out.jobId).record)
  const monitorSettings = readSettings(monitorSettingsSchema, base(bucket))
  return {...out, record, paths: jobPaths(bucket, 'lab', 'results', out.jobId), settings: monitorSettings}
}

const ssmEvent = (instanceId: string, commandId: string, status: string) => ({
  version: '0',
  source: 'aws.ssm',
  'detail-type': 'EC2 Command Invocation Status-change Notification',
  time: new Date().toISOString(),
  detail: {'command-id': commandId, 'instance-id': instanceId, status},
})
const ec2Event = (instanceId: string, state: string) => ({
  version: '0',
  source: 'aws.ec2',
  'detail-type': 'EC2 Instance State-change Notification',
  time: new Date().toISOString(),
  detail: {'instance-id': instanceId, state},
})
const schedule = (time: Date) => ({
  version: '0',
  source: 'aws.events',
  'detail-type': 'Scheduled Event',
  time: time.toISOString(),
  detail: {},
})

withMoto(
  'SUCCESS from the command, idempotent; a stop from outside ends the instance; a timeout ends the last; then end.txt, rule and active records gone',
  async (t) => {
    const bucket = 'mon-flow'
    const job = await launchedJob(bucket)
    const {settings} = job
    const ctx = (now = new Date()) => ({settings, clients: makeClients(region), now})
    const [a, b] = job.record.datasets
    const first = await monitor(ssmEvent(a!.instanceId!, a!.commandId!, 'Success'), ctx())
    t.deepEqual(first, [{instanceId: a!.instanceId!, changed: ['status SUCCESS']}])
    const status = await json<DatasetStatus>(bucket, statusKey(job.paths, 'lab/inputs/a.mp4'))
    t.like(status, {status: 'SUCCESS', instance: a!.instanceId, input: 'lab/inputs/a.mp4'})
    t.deepEqual(status.reason.at(-1), 'command succeeded')
    const before = await text(bucket, job.paths.certificate)
    const again = await monitor(ssmEvent(a!.instanceId!, a!.commandId!, 'Success'), ctx())
    t.deepEqual(again, [{instanceId: a!.instanceId!, changed: []}], 'the same event twice changes nothing')
    t.is(await text(bucket, job.paths.certificate), before)

    await ec2.send(new StopInstancesCommand({InstanceIds: [a!.instanceId!]}))
    const stopped = await monitor(ec2Event(a!.instanceId!, 'stopped'), ctx())
    t.deepEqual(stopped[0]!.changed, ['ended'])
    t.deepEqual(await keys(bucket, 'logs/active/'), [`logs/active/${b!.instanceId}.json`])
    const cost = await json<CostRecord>(bucket, `logs/lab/${a!.instanceId}.json`)
    t.truthy(cost.end)
    t.regex(cost.endReason!, /^instance (stopping|stopped)/)
    t.false(
      await s3.send(new GetObjectCommand({Bucket: bucket, Key: job.paths.end})).then(
        () => true,
        () => false,
      ),
    )

    // Two hours later (past the 30-minute timeout tag) the schedule finds b still running.
    const later = new Date(Date.now() + 2 * 3_600_000)
    const swept = await monitor(schedule(later), ctx(later))
    t.deepEqual(swept, [{instanceId: b!.instanceId!, changed: ['timed out', 'status SUCCESS', 'ended']}])
    const bState = (await ec2.send(new DescribeInstancesCommand({InstanceIds: [b!.instanceId!]}))).Reservations![0]!.Instances![0]!.State!
      .Name
    t.true(['shutting-down', 'terminated'].includes(bState!))
    const bCost = await json<CostRecord>(bucket, `logs/lab/${b!.instanceId}.json`)
    t.regex(bCost.endReason!, /timed out after 30 min \(its timeout tag\): terminated by the monitor/)
    t.true(bCost.cost > 0.0104 * 1.9, 'two hours counted')
    t.deepEqual(await keys(bucket, 'logs/active/'), [])
    t.regex(await text(bucket, job.paths.end), /job job__mon-flow_m1 ended at .*: 2 SUCCESS, 0 FAILED/)
    await t.throwsAsync(events.send(new DescribeRuleCommand({Name: job.record.ruleName!})), {name: 'ResourceNotFoundException'})
    const cert = await text(bucket, job.paths.certificate)
    t.regex(cert, /state: ENDED/)
    t.regex(cert, /monitoring rule job__mon-flow_m1 deleted/)
    t.deepEqual(await monitor(schedule(later), ctx(later)), [], 'nothing left to watch')
  },
)

/** The real clients, but one service's send passes through `through` (a wrapper, said in the test's title). */
function wrappedClients<K extends 'events' | 'ssm'>(
  service: K,
  through: (command: {constructor: {name: string}}, send: (command: never) => Promise<unknown>) => Promise<unknown>,
): Clients {
  const clients = makeClients(region)
  return {
    ...clients,
    [service]: async () => {
      const real = (await clients[service]()) as {send: (command: never) => Promise<unknown>}
      const wrapped = Object.create(real) as typeof real
      wrapped.send = (command: never) => through(command, (c) => real.send(c))
      return wrapped
    },
  }
}

/** EventBridge answers after a delay (a slow or far endpoint). */
const slowEventsClients = (ms: number) =>
  wrappedClients('events', async (command, send) => {
    await new Promise((resolve) => setTimeout(resolve, ms))
    return send(command as never)
  })

withMoto(
  'both instances end at once (the EventBridge client of one monitor slowed by a wrapper): two monitors run together and exactly one ends the job, its rule deletion in the certificate',
  async (t) => {
    const bucket = 'mon-together'
    const job = await launchedJob(bucket)
    const {settings} = job
    const ids = job.record.datasets.map((d) => d.instanceId!)
    await ec2.send(new StopInstancesCommand({InstanceIds: ids}))
    // The first monitor's EventBridge calls are slow: before the claim, the second deleted the rule and the first's record overwrote it.
    const clients = [slowEventsClients(400), makeClients(region)]
    const outcomes = await Promise.all(
      ids.map((id, i) => monitor(ec2Event(id, 'stopped'), {settings, clients: clients[i]!, now: new Date()})),
    )
    t.deepEqual(
      outcomes.map((o) => o[0]!.changed.at(-1)),
      ['ended', 'ended'],
    )
    t.deepEqual(await keys(bucket, 'logs/active/'), [])
    const record = await json<JobRecord>(bucket, job.paths.record)
    t.is(record.state, 'ended')
    t.is(record.steps.filter((s) => s.message.includes('end.txt written')).length, 1, 'one monitor ended the job')
    const cert = await text(bucket, job.paths.certificate)
    t.is(cert.match(/monitoring rule job__mon-together_m1 deleted/g)?.length, 1, cert)
    t.regex(await text(bucket, job.paths.end), /2 SUCCESS, 0 FAILED/)
    const end = record.steps.at(-1)!
    t.is(end.elapsedMs, Date.parse(end.at) - Date.parse(record.steps[0]!.at), "the job's last step counts from its first")
  },
)

/** GetCommandInvocation answers InProgress: the command is still running (moto finishes every command at once). */
const inProgressClients = () =>
  wrappedClients('ssm', async (command, send) => {
    const out = await send(command as never)
    return command.constructor.name === 'GetCommandInvocationCommand' ? {...(out as object), Status: 'InProgress'} : out
  })

withMoto(
  'an instance stopped from outside while its command runs (GetCommandInvocation wrapped to answer InProgress) is FAILED with the reason',
  async (t) => {
    const bucket = 'mon-stopped'
    const job = await launchedJob(bucket)
    const {settings} = job
    const [a] = job.record.datasets
    await ec2.send(new StopInstancesCommand({InstanceIds: [a!.instanceId!]}))
    const out = await monitor(ec2Event(a!.instanceId!, 'stopped'), {settings, clients: inProgressClients(), now: new Date()})
    t.deepEqual(out[0]!.changed, ['status FAILED', 'ended'])
    const status = await json<DatasetStatus>(bucket, statusKey(job.paths, 'lab/inputs/a.mp4'))
    t.is(status.status, 'FAILED')
    t.regex(status.reason.at(-1)!, /^instance (stopping|stopped).* before its command finished$/)
    t.regex(
      await text(bucket, job.paths.certificate),
      /STATUS: FAILED\n {2}INSTANCE: i-[0-9a-f]+\n {2}TIME: .*\n {2}REASON: instance (stopping|stopped)/,
    )
  },
)

withMoto(
  'a timed-out instance whose command still runs (GetCommandInvocation wrapped to answer InProgress): terminated and FAILED, by the event time',
  async (t) => {
    const bucket = 'mon-timeout'
    const job = await launchedJob(bucket)
    const {settings} = job
    const later = new Date(Date.now() + 31 * 60_000)
    const out = await monitor(schedule(later), {settings, clients: inProgressClients(), now: later})
    t.is(out.length, 2)
    for (const o of out) t.deepEqual(o.changed, ['timed out', 'status FAILED', 'ended'])
    const status = await json<DatasetStatus>(bucket, statusKey(job.paths, 'lab/inputs/b.mp4'))
    t.regex(status.reason.at(-1)!, /timed out after 30 min \(its timeout tag\): terminated by the monitor/)
    t.regex(await text(bucket, job.paths.end), /0 SUCCESS, 2 FAILED/)
  },
)
