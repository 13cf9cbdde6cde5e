/**
 * The whole job path on the emulator, through real S3 uploads only: S3's
 * notification → the submit Lambda → instances from the scaffold's image → SSM
 * commands running the seed's COMMAND and run.sh → results, status files and
 * certificate → the monitor through the job's EventBridge rule → end.txt.
 */
import {DescribeInstancesCommand, StopInstancesCommand} from '@aws-sdk/client-ec2'
import {ListRulesCommand} from '@aws-sdk/client-eventbridge'
import {ListObjectsV2Command, PutObjectCommand} from '@aws-sdk/client-s3'
import test from 'ava'
import {jobPaths, statusKey} from '../../lambda_repo/lib/layout.js'
import type {DatasetStatus, JobRecord} from '../../lambda_repo/lib/records.js'
import {deployPipeline, type Emulator, eventually, startEmulator, text} from './emulator-pipeline.js'

let e: Emulator

test.before(async () => {
  e = await startEmulator()
})
test.after.always(async () => {
  await e?.server.close()
})

/** On a failure, what the emulator did (its event record) helps more than a timeout. */
test.afterEach.always(async (t) => {
  if (t.passed) return
  const {readEvents, formatEvent} = await import('../../src/emulator/event-record.js')
  await e.server.events.drain()
  for (const event of (await readEvents(e.stateDir)).slice(-60)) t.log(formatEvent(event))
})

const put = (bucket: string, key: string, body: string) => e.s3.send(new PutObjectCommand({Bucket: bucket, Key: key, Body: body}))
const keys = async (bucket: string, prefix: string) =>
  ((await e.s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: prefix}))).Contents ?? []).map((o) => o.Key!).sort()

async function instancesOf(bucket: string) {
  const out = await e.ec2.send(new DescribeInstancesCommand({Filters: [{Name: 'tag:pipeline', Values: [bucket]}]}))
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])
}

test.serial(
  'a 3-dataset job through S3 uploads only: 3 instances, 3 commands, results, SUCCESS with stdout tails, certificate, end.txt; rule and active records gone',
  async (t) => {
    const bucket = 'job-three'
    await deployPipeline(e, bucket)
    const datasets = ['lab/inputs/a.mp4', 'lab/inputs/b.mp4', 'lab/inputs/c.mp4']
    for (const d of datasets) await put(bucket, d, `video ${d}`)
    await put(bucket, 'lab/configs/config.yaml', '__duration__: 20\nthreshold: 0.5\n')
    const started = Date.now()
    await put(
      bucket,
      'lab/submissions/submit.json',
      JSON.stringify({dataname: datasets, configname: 'lab/configs/config.yaml', timestamp: '1700000000'}),
    )
    const job = jobPaths(bucket, 'lab', 'results', 'job__job-three_1700000000')
    const end = await eventually('end.txt', () => text(e, bucket, job.end), 80_000)
    t.log(`submit.json PUT to end.txt: ${Date.now() - started} ms`)
    t.regex(end, /3 SUCCESS, 0 FAILED/)

    const instances = await instancesOf(bucket)
    t.is(instances.length, 3)
    for (const i of instances) {
      const tags = Object.fromEntries((i.Tags ?? []).map((x) => [x.Key, x.Value]))
      t.like(tags, {pipeline: bucket, group: 'lab', job: job.jobId, timeout: '20'})
      t.true(['shutting-down', 'terminated'].includes(i.State!.Name!), 'run.sh powered it off: terminated by its shutdown behaviour')
    }
    for (const d of datasets) {
      const status = JSON.parse((await text(e, bucket, statusKey(job, d)))!) as DatasetStatus
      t.is(status.status, 'SUCCESS', JSON.stringify(status))
      t.regex(status.stdout, /analyzed [abc]\.mp4: \d+ bytes/)
      t.regex(status.stdout, /uploaded 2 result file\(s\) to s3:\/\/job-three\/lab\/results\/job__job-three_1700000000\/process_results\//)
      t.true(status.command.includes(`bin/run.sh "job-three" "${d}" "results/job__job-three_1700000000" "lab/configs/config.yaml"`))
    }
    const results = await keys(bucket, job.processResults)
    t.deepEqual(results, [
      `${job.processResults}a.mp4.summary.json`,
      `${job.processResults}b.mp4.summary.json`,
      `${job.processResults}c.mp4.summary.json`,
      `${job.processResults}config.yaml`,
      job.end,
    ])
    const certificate = (await text(e, bucket, job.certificate))!
    t.regex(certificate, /state: ENDED/)
    t.is(certificate.match(/STATUS: SUCCESS/g)?.length, 3)
    t.regex(certificate, /sent 3 command\(s\)/)
    t.regex(certificate, /monitoring rule job__job-three_1700000000 deleted/)
    t.deepEqual(await keys(bucket, 'logs/active/'), [])
    t.is((await keys(bucket, 'logs/lab/')).length, 3)
    const rules = await e.events.send(new ListRulesCommand({NamePrefix: 'job__job-three'}))
    t.deepEqual(rules.Rules ?? [], [])
    t.true(
      (await keys(bucket, `${job.prefix}internal_ec2_logs/`)).some((k) => k.endsWith('/stdout')),
      "SSM's output in internal_ec2_logs/",
    )
  },
)

test.serial('the same S3 event twice (the same submit file uploaded again): refused as a duplicate, the first job untouched', async (t) => {
  const bucket = 'job-twice'
  await deployPipeline(e, bucket)
  await put(bucket, 'lab/inputs/a.mp4', 'a')
  await put(bucket, 'lab/configs/config.yaml', '__duration__: 20\n')
  const body = JSON.stringify({dataname: 'lab/inputs/a.mp4', configname: 'lab/configs/config.yaml', timestamp: 't2'})
  await put(bucket, 'lab/submissions/submit.json', body)
  const job = jobPaths(bucket, 'lab', 'results', 'job__job-twice_t2')
  await eventually('end.txt', () => text(e, bucket, job.end))
  await put(bucket, 'lab/submissions/submit.json', body)
  const cert = await eventually('the duplicate noted', async () => {
    const c = await text(e, bucket, job.certificate)
    return c?.includes('REFUSED a second delivery') ? c : undefined
  })
  t.regex(cert, /state: ENDED/)
  t.is((await instancesOf(bucket)).length, 1)
})

test.serial('an instance stopped from outside while its command runs: FAILED with the reason, and the job ends', async (t) => {
  const bucket = 'job-stopped'
  await deployPipeline(e, bucket, {command: 'sleep 600; cd /home/ubuntu; bin/run.sh "{}" "{}" "{}" "{}"'})
  await put(bucket, 'lab/inputs/a.mp4', 'a')
  await put(bucket, 'lab/configs/config.yaml', '__duration__: 20\n')
  await put(
    bucket,
    'lab/submissions/submit.json',
    JSON.stringify({dataname: 'lab/inputs/a.mp4', configname: 'lab/configs/config.yaml', timestamp: 's1'}),
  )
  const job = jobPaths(bucket, 'lab', 'results', 'job__job-stopped_s1')
  const record = await eventually('the job running', async () => {
    const r = JSON.parse((await text(e, bucket, job.record)) ?? 'null') as JobRecord | null
    return r?.state === 'running' && r.datasets[0]?.commandId ? r : undefined
  })
  await e.ec2.send(new StopInstancesCommand({InstanceIds: [record.datasets[0]!.instanceId!]}))
  await eventually('end.txt', () => text(e, bucket, job.end))
  const status = JSON.parse((await text(e, bucket, statusKey(job, 'lab/inputs/a.mp4')))!) as DatasetStatus
  t.is(status.status, 'FAILED')
  t.regex(status.reason.at(-1)!, /instance (stopping|stopped).*before its command finished/)
})

test.serial(
  "a timed-out instance, with the emulator's clock (no real waiting): terminated by the monitor's schedule, FAILED",
  async (t) => {
    const bucket = 'job-timeout'
    await deployPipeline(e, bucket, {command: 'sleep 86400'})
    // The monitor's schedule, as the template makes it (src/template/monitoring.ts).
    const {PutRuleCommand, PutTargetsCommand} = await import('@aws-sdk/client-eventbridge')
    const {AddPermissionCommand} = await import('@aws-sdk/client-lambda')
    const rule = await e.events.send(
      new PutRuleCommand({Name: `${bucket}-MonitorSchedule`, ScheduleExpression: 'rate(1 minute)', State: 'ENABLED'}),
    )
    await e.lambda.send(
      new AddPermissionCommand({
        FunctionName: `${bucket}-monitor`,
        StatementId: 'schedule',
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: rule.RuleArn,
      }),
    )
    await e.events.send(
      new PutTargetsCommand({
        Rule: `${bucket}-MonitorSchedule`,
        Targets: [{Id: 'monitor', Arn: `arn:aws:lambda:us-east-1:000000000000:function:${bucket}-monitor`}],
      }),
    )
    await put(bucket, 'lab/inputs/a.mp4', 'a')
    await put(bucket, 'lab/configs/config.yaml', '__duration__: 5\n')
    await put(
      bucket,
      'lab/submissions/submit.json',
      JSON.stringify({dataname: 'lab/inputs/a.mp4', configname: 'lab/configs/config.yaml', timestamp: 'x1'}),
    )
    const job = jobPaths(bucket, 'lab', 'results', 'job__job-timeout_x1')
    await eventually('the job running', async () => {
      const r = JSON.parse((await text(e, bucket, job.record)) ?? 'null') as JobRecord | null
      return r?.state === 'running' && r.datasets[0]?.commandId ? r : undefined
    })
    await e.server.clock.advance(6 * 60_000)
    await eventually('end.txt', () => text(e, bucket, job.end))
    const status = JSON.parse((await text(e, bucket, statusKey(job, 'lab/inputs/a.mp4')))!) as DatasetStatus
    t.is(status.status, 'FAILED')
    t.regex(status.reason.at(-1)!, /timed out after 5 min \(its timeout tag\): terminated by the monitor/)
    const [instance] = await instancesOf(bucket)
    t.true(['shutting-down', 'terminated'].includes(instance!.State!.Name!))
  },
)
