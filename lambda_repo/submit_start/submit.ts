/**
 * The submit handler's job: a `submit.json` uploaded into `<group>/submissions/`
 * becomes one instance and one SSM command per dataset (DESIGN §4), or a refusal
 * written to the job's certificate; a cancel request terminates a job.
 */
import type {_InstanceType, EC2Client} from '@aws-sdk/client-ec2'
import {readJobLimits} from '../lib/analysis-config.js'
import {type Clients, errorCode, errorMessage} from '../lib/aws.js'
import {fillCommand, workingDirectory} from '../lib/command.js'
import {Steps, writeCertificate} from '../lib/job.js'
import {
  activePrefix,
  activeRecordKey,
  budgetParameter,
  groupCostPrefix,
  groupOf,
  type JobPaths,
  jobId,
  jobPaths,
  jobRuleName,
  statusKey,
} from '../lib/layout.js'
import {onDemandPrice, pricingFilters, tablePrice} from '../lib/pricing.js'
import {type CostRecord, costOf, type DatasetStatus, isFinal, type JobRecord} from '../lib/records.js'
import type {S3Upload} from '../lib/s3-event.js'
import type {SubmitSettings} from '../lib/settings.js'
import {Bucket} from '../lib/store.js'
import {parseSubmission} from '../lib/submit-file.js'

export type Outcome =
  | {outcome: 'launched'; jobId: string; instances: string[]; commands: string[]}
  | {outcome: 'refused' | 'rolled back'; jobId: string; reason: string}
  | {outcome: 'duplicate' | 'dry run'; jobId: string}
  | {outcome: 'cancelled'; jobId: string; instances: string[]}
  | {outcome: 'ignored'; key: string; reason: string}

export interface SubmitContext {
  settings: SubmitSettings
  clients: Clients
  /** Milliseconds the invocation has left (Lambda's context). */
  remainingMs: () => number
  now?: () => Date
}

/** A refusal: written to the certificate, never thrown to Lambda (a retry would only be a duplicate). */
class Refusal extends Error {}

const ACTIVE_STATES = ['pending', 'running', 'stopping', 'shutting-down']
/** The EC2 states in which the monitor ends an instance, and the SSM statuses of a finished command (monitor.ts). */
const ENDING_STATES = ['stopping', 'stopped', 'shutting-down', 'terminated']
const FINISHED_COMMAND = ['Success', 'Failed', 'TimedOut', 'Cancelled']

export async function handleUpload(upload: S3Upload, ctx: SubmitContext): Promise<Outcome> {
  const s = ctx.settings
  const now = ctx.now ?? (() => new Date())
  if (!upload.eventName.startsWith('ObjectCreated'))
    return {outcome: 'ignored', key: upload.key, reason: `${upload.eventName} is not an upload`}
  const group = groupOf(upload.key)
  const folder = upload.key.slice(group.length + 1).split('/')[0]
  if (group === '' || (folder !== s.SUBMITDIR && folder !== s.OUTDIR)) {
    return {outcome: 'ignored', key: upload.key, reason: `not in a group's ${s.SUBMITDIR}/ folder`}
  }
  const bucket = new Bucket(await ctx.clients.s3(), upload.bucket)
  const text = await bucket.getText(upload.key)
  if (text === undefined) return {outcome: 'ignored', key: upload.key, reason: 'the file is gone'}
  const parsed = parseSubmission(text)
  if (parsed.kind === 'cancel') return cancel(bucket, group, parsed.jobId, upload, ctx)

  const stamp = parsed.kind === 'submit' ? parsed.submit.timestamp : usableTimestamp(parsed.timestamp, upload)
  const paths = jobPaths(upload.bucket, group, s.OUTDIR, jobId(upload.bucket, stamp))
  const record: JobRecord = {
    version: 1,
    jobId: paths.jobId,
    pipeline: s.PIPELINE_NAME,
    bucket: upload.bucket,
    group,
    submitKey: upload.key,
    state: 'starting',
    created: now().toISOString(),
    steps: [],
    datasets: [],
  }
  const steps = new Steps(record.steps, now)
  steps.add(`submit file s3://${upload.bucket}/${upload.key} received (uploaded by ${upload.principal})`)
  if (!(await bucket.putJsonOnce(paths.record, record))) return duplicate(bucket, paths, now)

  const refuse = async (reason: string): Promise<Outcome> => {
    record.state = 'refused'
    steps.add(`REFUSED: ${reason}`)
    await bucket.putJson(paths.record, record)
    await writeCertificate(bucket, paths.certificate, record)
    return {outcome: 'refused', jobId: paths.jobId, reason}
  }
  if (parsed.kind === 'invalid') return refuse(parsed.reason)

  const {submit, datasets} = parsed
  record.configKey = submit.configname
  record.instanceType = submit.instance_type ?? s.INSTANCE_TYPE
  record.datasets = datasets.map((dataKey) => ({dataKey, statusKey: statusKey(paths, dataKey)}))
  try {
    const limits = await checkInputs(bucket, group, submit.configname, datasets, s)
    steps.add(`validated: ${datasets.length} dataset(s), config ${submit.configname}, ${limits.durationMinutes} min per dataset`)
    for (const note of limits.notes) steps.add(`note: ${note}`)
    const price = await priceOf(record.instanceType, s.REGION)
    if (!price.exact) steps.add(`note: ${price.source}`)
    const ec2 = await ctx.clients.ec2()
    // Independent reads at once; a refusal is still the first in this order (budget, deploy limit, image).
    const [, , rootVolume] = await inOrder([
      checkBudget(bucket, ctx, group, datasets.length, price.price, limits.durationMinutes, steps),
      checkDeployLimit(ec2, s, datasets.length),
      imageRootVolume(ec2, s.AMI, limits.datasetSizeGb),
    ] as const)
    if (!s.LAUNCH) {
      // LAUNCH false: a dry run, everything checked and nothing launched.
      record.state = 'dry run'
      steps.add(
        `DRY RUN (LAUNCH is false): every check passed; ${datasets.length} ${record.instanceType} instance(s) of ${s.AMI} would be launched`,
      )
      await bucket.putJson(paths.record, record)
      await writeCertificate(bucket, paths.certificate, record)
      return {outcome: 'dry run', jobId: paths.jobId}
    }
    return await launch({bucket, paths, record, steps, ctx, ec2, price: price.price, limits, rootVolume, now})
  } catch (error) {
    if (error instanceof Refusal) return refuse(error.message)
    throw error
  }
}

/**
 * Awaits every promise, then answers their values or throws the first failure in the list's order (not in
 * time): independent steps run at once, and what they report stays what running them one by one would.
 */
async function inOrder<T extends readonly unknown[]>(promises: {[K in keyof T]: Promise<T[K]>}): Promise<T> {
  const settled = await Promise.allSettled(promises)
  for (const result of settled) if (result.status === 'rejected') throw result.reason
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T
}

/** A submit file whose timestamp cannot name a job still gets a certificate: named from the upload. */
function usableTimestamp(timestamp: string | undefined, upload: S3Upload): string {
  if (timestamp !== undefined && /^[A-Za-z0-9._-]{1,64}$/.test(timestamp)) return timestamp
  const when = upload.eventTime.replace(/[^0-9]/g, '').slice(0, 17)
  return `unreadable-${when}${upload.sequencer ? `-${upload.sequencer.slice(-8)}` : ''}`
}

async function duplicate(bucket: Bucket, paths: JobPaths, now: () => Date): Promise<Outcome> {
  const existing = await bucket.getJson<JobRecord>(paths.record)
  // While the first delivery is still launching, its record is left alone: the second must not harm the first.
  if (existing && existing.state !== 'starting') {
    existing.steps.push({
      at: now().toISOString(),
      elapsedMs: 0,
      message: 'REFUSED a second delivery of this submit file: the job exists (S3 may deliver an event twice)',
    })
    await bucket.putJson(paths.record, existing)
    await writeCertificate(bucket, paths.certificate, existing)
  }
  return {outcome: 'duplicate', jobId: paths.jobId}
}

async function checkInputs(bucket: Bucket, group: string, configKey: string, datasets: string[], s: SubmitSettings) {
  for (const key of [...datasets, configKey]) {
    if (groupOf(key) !== group) throw new Refusal(`${key} is not in group ${group}'s folder: a job reads only its own group's data`)
  }
  const missing: string[] = []
  const [, configText] = await inOrder([
    Promise.all(
      datasets.map(async (key) => {
        if (!(await bucket.dataExists(key))) missing.push(key)
      }),
    ),
    bucket.getText(configKey),
  ] as const)
  if (missing.length > 0) throw new Refusal(`data file${missing.length > 1 ? 's' : ''} not found: ${missing.sort().join(', ')}`)
  if (configText === undefined) throw new Refusal(`${s.MISSING_CONFIG_ERROR} (config ${configKey} not found)`)
  const read = readJobLimits(configKey, configText)
  if (!read.ok) throw new Refusal(read.reason)
  return read.limits
}

/** The hourly price: AWS's Pricing API where the target serves it, else the table shipped with the handler. */
async function priceOf(instanceType: string, region: string): Promise<{price: number; exact: boolean; source: string}> {
  const filters = pricingFilters(instanceType, region)
  if (filters && !process.env.AWS_ENDPOINT_URL) {
    try {
      // The Pricing client is in AWS's Node.js runtimes; a specifier in a variable keeps it out of bundles and type checks.
      const name = '@aws-sdk/client-pricing'
      const pricing = (await import(name)) as {
        PricingClient: new (c: object) => {send(c: unknown): Promise<{PriceList?: string[]}>}
        GetProductsCommand: new (i: object) => unknown
      }
      const client = new pricing.PricingClient({region: 'us-east-1', maxAttempts: 1})
      const out = await client.send(new pricing.GetProductsCommand({ServiceCode: 'AmazonEC2', Filters: filters, MaxResults: 10}))
      for (const entry of out.PriceList ?? []) {
        const usd = onDemandPrice(entry)
        if (usd !== undefined) return {price: usd, exact: true, source: 'AWS Pricing API'}
      }
    } catch {
      // Not served here (no client, no permission, no endpoint): the table below.
    }
  }
  const table = tablePrice(instanceType)
  return {
    ...table,
    source: table.exact
      ? 'price table'
      : `${instanceType} is not in ncap's price table: priced at $${table.price}/h (the dearest listed of its family) for the budget`,
  }
}

async function budgetOf(ctx: SubmitContext, group: string): Promise<{budget: number; source: string}> {
  const name = budgetParameter(ctx.settings.PIPELINE_NAME, group)
  const {GetParameterCommand} = await import('@aws-sdk/client-ssm')
  try {
    const out = await (await ctx.clients.ssm()).send(new GetParameterCommand({Name: name}))
    const value = Number(out.Parameter?.Value)
    if (Number.isFinite(value) && value >= 0) return {budget: value, source: `Parameter Store ${name}`}
    throw new Refusal(`the budget in Parameter Store ${name} is not a number of USD: ${JSON.stringify(out.Parameter?.Value)}`)
  } catch (error) {
    if (error instanceof Refusal) throw error
    if (errorCode(error) === 'ParameterNotFound') return {budget: ctx.settings.MAXCOST, source: 'MAXCOST'}
    throw new Refusal(`could not read the group's budget ${name}: ${errorMessage(error)}`)
  }
}

async function checkBudget(bucket: Bucket, ctx: SubmitContext, group: string, n: number, price: number, minutes: number, steps: Steps) {
  const s = ctx.settings
  const readAll = async (prefix: string) => mapLimited(await bucket.list(prefix), 16, (key) => bucket.getJson<CostRecord>(key))
  const [{budget, source}, past, active] = await inOrder([
    budgetOf(ctx, group),
    readAll(groupCostPrefix(s.LOGDIR, group)),
    readAll(activePrefix(s.LOGDIR)),
  ] as const)
  const now = (ctx.now ?? (() => new Date()))()
  let spent = 0
  for (const rec of past) if (rec && Number.isFinite(rec.cost)) spent += rec.cost
  let running = 0
  for (const rec of active) if (rec?.group === group) running += Math.max(costOf(rec, now), (rec.price * rec.durationMinutes) / 60)
  const projected = (n * price * minutes) / 60
  const total = spent + running + projected
  const usd = (x: number) => `$${x.toFixed(2)}`
  if (total > budget) {
    throw new Refusal(
      `over budget: group ${group} has spent ${usd(spent)}, its running jobs may cost ${usd(running)} and this job ${usd(projected)} ` +
        `(${n} × ${minutes} min at ${usd(price)}/h); the budget is ${usd(budget)} (${source})`,
    )
  }
  steps.add(`budget: ${usd(total)} of ${usd(budget)} (${source}) with this job's ${usd(projected)}`)
}

/** Maps with at most `limit` calls in flight (a group's cost records can be many). */
async function mapLimited<T, R>(items: T[], limit: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const lane = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await map(items[i]!)
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, lane))
  return out
}

async function checkDeployLimit(ec2: EC2Client, s: SubmitSettings, n: number): Promise<void> {
  const {DescribeInstancesCommand} = await import('@aws-sdk/client-ec2')
  let active = 0
  let token: string | undefined
  do {
    const out = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          {Name: 'tag:pipeline', Values: [s.PIPELINE_NAME]},
          {Name: 'instance-state-name', Values: ACTIVE_STATES},
        ],
        NextToken: token,
      }),
    )
    for (const r of out.Reservations ?? []) active += r.Instances?.length ?? 0
    token = out.NextToken
  } while (token)
  if (active + n > s.DEPLOY_LIMIT) {
    throw new Refusal(
      `over the deploy limit: ${active} instance(s) of ${s.PIPELINE_NAME} are active and this job needs ${n}; DEPLOY_LIMIT is ${s.DEPLOY_LIMIT}`,
    )
  }
}

interface RootVolume {
  deviceName: string
  sizeGb?: number
}

async function imageRootVolume(ec2: EC2Client, ami: string, datasetSizeGb: number | undefined): Promise<RootVolume | undefined> {
  const {DescribeImagesCommand} = await import('@aws-sdk/client-ec2')
  let image: {RootDeviceName?: string; BlockDeviceMappings?: {DeviceName?: string; Ebs?: {VolumeSize?: number}}[]} | undefined
  try {
    image = (await ec2.send(new DescribeImagesCommand({ImageIds: [ami]}))).Images?.[0]
  } catch (error) {
    if (errorCode(error).startsWith('InvalidAMIID')) throw new Refusal(`the pipeline's image ${ami} does not exist in this region`)
    throw error
  }
  if (!image) throw new Refusal(`the pipeline's image ${ami} does not exist in this region`)
  if (datasetSizeGb === undefined || !image.RootDeviceName) return undefined
  const root = image.BlockDeviceMappings?.find((m) => m.DeviceName === image.RootDeviceName)
  const base = root?.Ebs?.VolumeSize ?? 8
  return {deviceName: image.RootDeviceName, sizeGb: Math.ceil(base + datasetSizeGb)}
}

interface Launch {
  bucket: Bucket
  paths: JobPaths
  record: JobRecord
  steps: Steps
  ctx: SubmitContext
  ec2: EC2Client
  price: number
  limits: {durationMinutes: number}
  rootVolume: RootVolume | undefined
  now: () => Date
}

function tagValue(v: string): string {
  return v.length <= 256 ? v : v.slice(v.length - 256)
}

function statusOf(job: JobRecord, i: number, status: DatasetStatus['status'], reason: string, now: Date, command = ''): DatasetStatus {
  const d = job.datasets[i]!
  return {
    status,
    reason: [reason],
    stdout: '',
    stderr: '',
    input: d.dataKey,
    config: job.configKey ?? '',
    instance: d.instanceId ?? '',
    command,
    ...(d.commandId ? {commandId: d.commandId} : {}),
    job: job.jobId,
    job_start: job.created,
    time: now.toISOString(),
  }
}

async function launch(l: Launch): Promise<Outcome> {
  const {bucket, paths, record, steps, ctx, ec2} = l
  const s = ctx.settings
  const {RunInstancesCommand} = await import('@aws-sdk/client-ec2')
  const instanceType = record.instanceType!
  const groups = s.SECURITY_GROUPS.split(',')
    .map((g) => g.trim())
    .filter((g) => g.length > 0)
  const launched: string[] = []
  let ruleCreated = false
  try {
    const ids = await Promise.all(
      record.datasets.map(async (d) => {
        const tags = [
          {Key: 'pipeline', Value: s.PIPELINE_NAME},
          {Key: 'group', Value: record.group},
          {Key: 'job', Value: record.jobId},
          {Key: 'dataset', Value: tagValue(d.dataKey)},
          {Key: 'timeout', Value: String(l.limits.durationMinutes)},
        ]
        const out = await ec2.send(
          new RunInstancesCommand({
            ImageId: s.AMI,
            InstanceType: instanceType as _InstanceType,
            MinCount: 1,
            MaxCount: 1,
            InstanceInitiatedShutdownBehavior: s.SHUTDOWN_BEHAVIOR,
            ...(s.INSTANCE_PROFILE
              ? {IamInstanceProfile: s.INSTANCE_PROFILE.startsWith('arn:') ? {Arn: s.INSTANCE_PROFILE} : {Name: s.INSTANCE_PROFILE}}
              : {}),
            ...(groups.length > 0 && groups.every((g) => g.startsWith('sg-')) ? {SecurityGroupIds: groups} : {}),
            ...(groups.length > 0 && !groups.every((g) => g.startsWith('sg-')) ? {SecurityGroups: groups} : {}),
            ...(s.KEY_NAME ? {KeyName: s.KEY_NAME} : {}),
            ...(l.rootVolume?.sizeGb
              ? {
                  BlockDeviceMappings: [
                    {
                      DeviceName: l.rootVolume.deviceName,
                      Ebs: {VolumeSize: l.rootVolume.sizeGb, DeleteOnTermination: true, VolumeType: 'gp3'},
                    },
                  ],
                }
              : {}),
            TagSpecifications: [
              {ResourceType: 'instance', Tags: tags},
              {ResourceType: 'volume', Tags: tags},
            ],
          }),
        )
        const id = out.Instances?.[0]?.InstanceId
        if (!id) throw new Error(`RunInstances returned no instance for ${d.dataKey}`)
        launched.push(id)
        d.instanceId = id
        return id
      }),
    )
    steps.add(`launched ${ids.length} ${instanceType} instance(s) of ${s.AMI}: ${ids.join(', ')}`)
    const start = l.now().toISOString()
    // The job's record says running beside its instances' active records and statuses (the monitor acts on a job
    // only once a command finishes or an instance ends, and no command is sent before all three are written).
    record.state = 'running'
    const records = () =>
      Promise.all([
        bucket.putJson(paths.record, record),
        ...record.datasets.map(async (d, i) => {
          const cost: CostRecord = {
            instanceId: d.instanceId!,
            pipeline: s.PIPELINE_NAME,
            group: record.group,
            job: record.jobId,
            jobPrefix: paths.prefix,
            dataset: d.dataKey,
            instanceType,
            price: l.price,
            durationMinutes: l.limits.durationMinutes,
            start,
            cost: 0,
          }
          await Promise.all([
            bucket.putJson(activeRecordKey(s.LOGDIR, d.instanceId!), cost),
            bucket.putJson(d.statusKey, statusOf(record, i, 'INITIALIZING', 'instance launched', l.now())),
          ])
        }),
      ])
    const monitored = s.MONITOR && s.MONITOR_FUNCTION_ARN
    if (monitored) record.ruleName = jobRuleName(s.JOB_RULE_PREFIX, record.jobId.slice(record.jobId.lastIndexOf('_') + 1))
    const rule = async () => {
      if (!monitored) return
      await putRule(ctx, record.ruleName!, ids, record.jobId)
      ruleCreated = true
    }
    // The records, the job's rule and the wait for the instances are independent: at once. The rule still exists
    // before any command is sent, so the monitor sees every command's status change.
    await inOrder([records(), rule(), waitRunning(ec2, ids, ctx)] as const)
    if (monitored) steps.add(`monitoring rule ${record.ruleName} created`)
    else if (s.MONITOR) steps.add('note: MONITOR is on but the template gave no MONITOR_FUNCTION_ARN: no monitoring rule')
    steps.add('instances running')
    const commands = await sendCommands(l)
    steps.add(`sent ${commands.length} command(s): ${commands.join(', ')}`)
    await Promise.all([bucket.putJson(paths.record, record), writeCertificate(bucket, paths.certificate, record)])
    return {outcome: 'launched', jobId: record.jobId, instances: ids, commands}
  } catch (error) {
    const reason = errorMessage(error)
    await rollback(l, launched, ruleCreated, reason)
    return {outcome: 'rolled back', jobId: record.jobId, reason}
  }
}

async function putRule(ctx: SubmitContext, name: string, instanceIds: string[], job: string): Promise<void> {
  const {PutRuleCommand, PutTargetsCommand} = await import('@aws-sdk/client-eventbridge')
  const events = await ctx.clients.events()
  await events.send(
    new PutRuleCommand({
      Name: name,
      Description: `ncap job ${job}: its instances' state changes and commands`.slice(0, 512),
      State: 'ENABLED',
      // Only the changes the monitor acts on: an instance ending, a command finishing. A launch's pending/running
      // and a command's Pending/InProgress change nothing, so they wake no monitor (the schedule still sweeps).
      EventPattern: JSON.stringify({
        source: ['aws.ec2', 'aws.ssm'],
        'detail-type': ['EC2 Instance State-change Notification', 'EC2 Command Invocation Status-change Notification'],
        detail: {
          'instance-id': instanceIds,
          $or: [{state: ENDING_STATES}, {status: FINISHED_COMMAND}],
        },
      }),
    }),
  )
  await events.send(new PutTargetsCommand({Rule: name, Targets: [{Id: 'monitor', Arn: ctx.settings.MONITOR_FUNCTION_ARN}]}))
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

/** Time left for waiting, keeping room to roll back before Lambda's own timeout. */
function deadline(ctx: SubmitContext): number {
  return Date.now() + Math.max(1000, ctx.remainingMs() - 15_000)
}

async function waitRunning(ec2: EC2Client, ids: string[], ctx: SubmitContext): Promise<void> {
  const {DescribeInstancesCommand} = await import('@aws-sdk/client-ec2')
  const until = deadline(ctx)
  // EC2's own waiter polls too (every 15 s); a gentler growth from 50 ms finds a local instance soon after it runs
  // (at most a third late) and still settles to one call every 2 s for an instance that takes its time on AWS.
  let pause = 50
  for (;;) {
    const out = await ec2.send(new DescribeInstancesCommand({InstanceIds: ids}))
    const states = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => ({id: i.InstanceId, state: i.State?.Name}))
    const ended = states.find((x) => x.state && !['pending', 'running'].includes(x.state))
    if (ended) throw new Error(`instance ${ended.id} went ${ended.state} before its command was sent`)
    if (states.length === ids.length && states.every((x) => x.state === 'running')) return
    if (Date.now() > until) throw new Error(`instances not running before the submit function's timeout (${ids.join(', ')})`)
    await sleep(pause)
    pause = Math.min(pause * 1.5, 2000)
  }
}

async function sendCommands(l: Launch): Promise<string[]> {
  const {bucket, paths, record, ctx} = l
  const s = ctx.settings
  const {SendCommandCommand} = await import('@aws-sdk/client-ssm')
  const ssm = await ctx.clients.ssm()
  const dir = workingDirectory(s.WORKING_DIRECTORY)
  const until = deadline(ctx)
  return Promise.all(
    record.datasets.map(async (d, i) => {
      const command = fillCommand(s.COMMAND, s.COMMAND_SLOTS, [paths.bucket, d.dataKey, paths.resultPath, record.configKey ?? ''])
      let pause = 100
      for (;;) {
        try {
          const out = await ssm.send(
            new SendCommandCommand({
              DocumentName: 'AWS-RunShellScript',
              InstanceIds: [d.instanceId!],
              Comment: `ncap ${record.jobId}`.slice(0, 100),
              Parameters: {
                commands: [command],
                executionTimeout: [String(s.SSM_TIMEOUT)],
                ...(dir ? {workingDirectory: [dir]} : {}),
              },
              OutputS3BucketName: paths.bucket,
              OutputS3KeyPrefix: paths.ssmOutputPrefix,
            }),
          )
          const id = out.Command?.CommandId
          if (!id) throw new Error(`SendCommand returned no command id for ${d.instanceId}`)
          d.commandId = id
          const activeKey = activeRecordKey(s.LOGDIR, d.instanceId!)
          await Promise.all([
            bucket.putJson(d.statusKey, statusOf(record, i, 'IN PROGRESS', 'command sent', l.now(), command)),
            // The monitor reads the command id from the active record: written as soon as it is known.
            bucket
              .getJson<CostRecord>(activeKey)
              .then((active) => (active ? bucket.putJson(activeKey, {...active, commandId: id}) : undefined)),
          ])
          return id
        } catch (error) {
          // An instance just launched is not yet registered with SSM on AWS: retry until it is.
          if (errorCode(error) !== 'InvalidInstanceId' || Date.now() > until) throw error
          await sleep(pause)
          pause = Math.min(pause * 2, 5000)
        }
      }
    }),
  )
}

async function deleteRule(ctx: SubmitContext, name: string): Promise<void> {
  const {RemoveTargetsCommand, DeleteRuleCommand} = await import('@aws-sdk/client-eventbridge')
  const events = await ctx.clients.events()
  try {
    await events.send(new RemoveTargetsCommand({Rule: name, Ids: ['monitor']}))
    await events.send(new DeleteRuleCommand({Name: name}))
  } catch (error) {
    if (errorCode(error) !== 'ResourceNotFoundException') throw error
  }
}

async function rollback(l: Launch, launched: string[], ruleCreated: boolean, reason: string): Promise<void> {
  const {bucket, paths, record, steps, ctx, ec2} = l
  const s = ctx.settings
  const undone: string[] = []
  if (launched.length > 0) {
    const {TerminateInstancesCommand} = await import('@aws-sdk/client-ec2')
    try {
      await ec2.send(new TerminateInstancesCommand({InstanceIds: launched}))
      undone.push(`terminated ${launched.join(', ')}`)
    } catch (error) {
      undone.push(`could not terminate ${launched.join(', ')}: ${errorMessage(error)}`)
    }
  }
  if (ruleCreated && record.ruleName) {
    try {
      await deleteRule(ctx, record.ruleName)
      undone.push(`deleted rule ${record.ruleName}`)
    } catch (error) {
      undone.push(`could not delete rule ${record.ruleName}: ${errorMessage(error)}`)
    }
  }
  await Promise.all(launched.map((id) => bucket.delete(activeRecordKey(s.LOGDIR, id)).catch(() => undefined)))
  await Promise.all(
    record.datasets.map((d, i) =>
      d.instanceId ? bucket.putJson(d.statusKey, statusOf(record, i, 'FAILED', `job rolled back: ${reason}`, l.now())) : undefined,
    ),
  )
  record.state = 'rolled back'
  steps.add(`FAILED after launch: ${reason}; rolled back (${undone.join('; ') || 'nothing launched'})`)
  await bucket.putJson(paths.record, record)
  await writeCertificate(bucket, paths.certificate, record)
}

async function cancel(bucket: Bucket, group: string, id: string, upload: S3Upload, ctx: SubmitContext): Promise<Outcome> {
  const s = ctx.settings
  const now = ctx.now ?? (() => new Date())
  const paths = jobPaths(upload.bucket, group, s.OUTDIR, id)
  const record = await bucket.getJson<JobRecord>(paths.record)
  if (!record) {
    console.log(`cancel request ${upload.key}: no job ${id} in group ${group}`)
    return {outcome: 'ignored', key: upload.key, reason: `no job ${id} in group ${group}`}
  }
  const steps = new Steps(record.steps, now)
  if (record.state !== 'running' && record.state !== 'starting') {
    steps.add(`cancel request from ${upload.principal}: nothing to cancel (the job is ${record.state})`)
    await bucket.putJson(paths.record, record)
    await writeCertificate(bucket, paths.certificate, record)
    return {outcome: 'ignored', key: upload.key, reason: `job ${id} is ${record.state}`}
  }
  const at = now().toISOString()
  const instances = record.datasets.map((d) => d.instanceId).filter((x): x is string => x !== undefined)
  if (instances.length > 0) {
    const {TerminateInstancesCommand} = await import('@aws-sdk/client-ec2')
    await (await ctx.clients.ec2()).send(new TerminateInstancesCommand({InstanceIds: instances}))
  }
  const reason = `cancelled by ${upload.principal} at ${at}`
  await Promise.all(
    record.datasets.map(async (d) => {
      const status = await bucket.getJson<DatasetStatus>(d.statusKey)
      if (status && !isFinal(status)) {
        await bucket.putJson(d.statusKey, {...status, status: 'FAILED', reason: [...status.reason, reason], time: at, job_finish: at})
      }
    }),
  )
  record.state = 'cancelled'
  record.cancelled = {by: upload.principal, at}
  steps.add(
    `CANCELLED by ${upload.principal} (request s3://${upload.bucket}/${upload.key}): terminated ${instances.join(', ') || 'no instance'}`,
  )
  await bucket.putJson(paths.record, record)
  await writeCertificate(bucket, paths.certificate, record)
  return {outcome: 'cancelled', jobId: id, instances}
}
