/**
 * The monitor: EC2 state changes and SSM command status changes of a job's
 * instances (through the job's rule), and a schedule that reconciles every active
 * instance. Each dataset is SUCCESS or FAILED from its SSM command's outcome only;
 * an instance that ends before its command finishes is FAILED with the reason;
 * instances past their timeout tag are stopped or terminated; when a job's last
 * instance ends, its rule goes (targets first) and `end.txt` is written. Every
 * step is a pure function of the bucket and the instances' state, so the same
 * event twice changes nothing.
 */
import type {EC2Client} from '@aws-sdk/client-ec2'
import {type Clients, errorCode, errorMessage} from '../lib/aws.js'
import {tail} from '../lib/certificate.js'
import {readStatuses, Steps, writeCertificate} from '../lib/job.js'
import {activePrefix, activeRecordKey, groupCostKey, type JobPaths, jobPaths, ssmOutputKey, statusKey} from '../lib/layout.js'
import {type CostRecord, costOf, type DatasetStatus, isFinal, type JobRecord} from '../lib/records.js'
import type {MonitorSettings} from '../lib/settings.js'
import {Bucket} from '../lib/store.js'

export interface MonitorContext {
  settings: MonitorSettings
  clients: Clients
  now: Date
}

export interface InstanceOutcome {
  instanceId: string
  /** What this call changed: nothing, a dataset's status, the instance's end, a timeout. */
  changed: string[]
  error?: string
}

const ENDED = new Set(['stopping', 'stopped', 'shutting-down', 'terminated'])
const COMMAND_DONE = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled'])

/** The instances an event is about; undefined for the schedule (and anything else): every active instance. */
export function instancesOf(event: unknown): string[] | undefined {
  const e = event as {'detail-type'?: string; detail?: Record<string, unknown>}
  const detail = e?.detail ?? {}
  const one = detail['instance-id']
  if (typeof one === 'string') return [one]
  const many = detail['instance-ids']
  if (Array.isArray(many)) return many.filter((x): x is string => typeof x === 'string')
  return undefined
}

/** The event's own time (the emulator's clock on the emulator), when later than the host's. */
export function eventNow(event: unknown): Date {
  const t = Date.parse((event as {time?: string})?.time ?? '')
  return new Date(Number.isFinite(t) ? Math.max(t, Date.now()) : Date.now())
}

export async function monitor(event: unknown, ctx: MonitorContext): Promise<InstanceOutcome[]> {
  const s = ctx.settings
  const bucket = new Bucket(await ctx.clients.s3(), s.BUCKET_NAME)
  let ids = instancesOf(event)
  if (ids === undefined) {
    ids = (await bucket.list(activePrefix(s.LOGDIR)))
      .filter((k) => k.endsWith('.json'))
      .map((k) => k.slice(activePrefix(s.LOGDIR).length, -'.json'.length))
  }
  const outcomes: InstanceOutcome[] = []
  const failures: string[] = []
  // One instance's failure (a denied stop, a throttled call) must not keep the others from being reconciled.
  for (const id of ids) {
    try {
      outcomes.push(await reconcile(bucket, id, ctx))
    } catch (error) {
      failures.push(`${id}: ${errorMessage(error)}`)
      outcomes.push({instanceId: id, changed: [], error: errorMessage(error)})
    }
  }
  // Thrown after the others are done, so Lambda retries (every step is idempotent).
  if (failures.length > 0) throw new Error(`could not reconcile ${failures.join('; ')}`)
  return outcomes
}

interface InstanceState {
  state: string
  reason: string
  launchTime?: Date
  timeoutMinutes?: number
}

async function describe(ec2: EC2Client, instanceId: string): Promise<InstanceState> {
  const {DescribeInstancesCommand} = await import('@aws-sdk/client-ec2')
  try {
    const out = await ec2.send(new DescribeInstancesCommand({InstanceIds: [instanceId]}))
    const i = out.Reservations?.[0]?.Instances?.[0]
    if (!i) return {state: 'terminated', reason: 'the instance no longer exists'}
    const timeout = Number(i.Tags?.find((t) => t.Key === 'timeout')?.Value)
    return {
      state: i.State?.Name ?? 'unknown',
      reason: i.StateReason?.Message ?? i.StateTransitionReason ?? '',
      ...(i.LaunchTime ? {launchTime: new Date(i.LaunchTime)} : {}),
      ...(Number.isFinite(timeout) && timeout > 0 ? {timeoutMinutes: timeout} : {}),
    }
  } catch (error) {
    if (errorCode(error).startsWith('InvalidInstanceID')) return {state: 'terminated', reason: 'the instance no longer exists'}
    throw error
  }
}

interface Invocation {
  status: string
  responseCode?: number
  stdout: string
  stderr: string
}

async function invocation(ctx: MonitorContext, commandId: string, instanceId: string): Promise<Invocation | undefined> {
  const {GetCommandInvocationCommand} = await import('@aws-sdk/client-ssm')
  try {
    const out = await (await ctx.clients.ssm()).send(new GetCommandInvocationCommand({CommandId: commandId, InstanceId: instanceId}))
    return {
      status: out.Status ?? 'Pending',
      ...(out.ResponseCode !== undefined && out.ResponseCode !== -1 ? {responseCode: out.ResponseCode} : {}),
      stdout: out.StandardOutputContent ?? '',
      stderr: out.StandardErrorContent ?? '',
    }
  } catch (error) {
    if (errorCode(error) === 'InvocationDoesNotExist') return undefined
    throw error
  }
}

/** The whole output SSM wrote to the job's internal_ec2_logs/ (GetCommandInvocation truncates), else the invocation's. */
async function outputTail(bucket: Bucket, job: JobPaths, commandId: string, instanceId: string, inv: Invocation) {
  const [out, err] = await Promise.all([
    bucket.getText(ssmOutputKey(job, commandId, instanceId, 'stdout')),
    bucket.getText(ssmOutputKey(job, commandId, instanceId, 'stderr')),
  ])
  return {stdout: tail(out ?? inv.stdout), stderr: tail(err ?? inv.stderr)}
}

async function stopOrTerminate(ec2: EC2Client, instanceId: string, behaviour: 'stop' | 'terminate'): Promise<void> {
  const {StopInstancesCommand, TerminateInstancesCommand} = await import('@aws-sdk/client-ec2')
  await ec2.send(
    behaviour === 'stop'
      ? new StopInstancesCommand({InstanceIds: [instanceId]})
      : new TerminateInstancesCommand({InstanceIds: [instanceId]}),
  )
}

async function reconcile(bucket: Bucket, instanceId: string, ctx: MonitorContext): Promise<InstanceOutcome> {
  const s = ctx.settings
  const changed: string[] = []
  const activeKey = activeRecordKey(s.LOGDIR, instanceId)
  const active = await bucket.getJson<CostRecord>(activeKey)
  // Not (or no longer) an active instance of this pipeline: already ended, or not a job's.
  if (!active) return {instanceId, changed}
  const job = jobPaths(s.BUCKET_NAME, active.group, s.OUTDIR, active.job)
  const sKey = statusKey(job, active.dataset)
  const ec2 = await ctx.clients.ec2()
  // The command's invocation is read beside the instance and the status (used only when the status is not final yet).
  const reading = active.commandId ? invocation(ctx, active.commandId, instanceId) : Promise.resolve(undefined)
  reading.catch(() => undefined)
  const [instance, status] = await Promise.all([describe(ec2, instanceId), bucket.getJson<DatasetStatus>(sKey)])
  const now = ctx.now
  let ended = ENDED.has(instance.state)
  let endReason = ended ? `instance ${instance.state}${instance.reason ? ` (${instance.reason})` : ''}` : ''

  // Past its timeout tag, an instance still up is stopped or terminated, whatever its command did: its status is
  // written first, so that the monitor woken by the stop itself finds it final and leaves the reason alone.
  let timedOut = ''
  let statusWrite: Promise<void> | undefined
  if (!ended) {
    const launched = instance.launchTime ?? new Date(active.start)
    const minutes = instance.timeoutMinutes ?? active.durationMinutes
    if (now.getTime() - launched.getTime() > minutes * 60_000) {
      timedOut = `timed out after ${minutes} min (its timeout tag): ${s.SHUTDOWN_BEHAVIOR === 'stop' ? 'stopped' : 'terminated'} by the monitor`
      endReason = timedOut
      ended = true
      changed.push('timed out')
    }
  }

  if (!isFinal(status)) {
    const base: DatasetStatus = status ?? {
      status: 'IN PROGRESS',
      reason: [],
      stdout: '',
      stderr: '',
      input: active.dataset,
      config: '',
      instance: instanceId,
      command: '',
      job: active.job,
      job_start: active.start,
      time: now.toISOString(),
    }
    const inv = await reading
    let next: DatasetStatus | undefined
    if (inv && COMMAND_DONE.has(inv.status)) {
      const tails = await outputTail(bucket, job, active.commandId!, instanceId, inv)
      const ok = inv.status === 'Success'
      const killed = !ok && ended && inv.responseCode === undefined
      const why = ok
        ? 'command succeeded'
        : inv.status === 'TimedOut'
          ? 'command timed out (SSM_TIMEOUT)'
          : killed
            ? `${endReason} before its command finished (the command ${inv.status.toLowerCase()})`
            : `command ${inv.status.toLowerCase()}${inv.responseCode !== undefined ? ` with exit code ${inv.responseCode}` : ''}`
      next = {...base, ...tails, status: ok ? 'SUCCESS' : 'FAILED', reason: [...base.reason, why]}
    } else if (ended) {
      const tails =
        inv && active.commandId
          ? await outputTail(bucket, job, active.commandId, instanceId, inv)
          : {stdout: base.stdout, stderr: base.stderr}
      next = {...base, ...tails, status: 'FAILED', reason: [...base.reason, timedOut || `${endReason} before its command finished`]}
    }
    if (next) {
      next.time = now.toISOString()
      if (isFinal(next)) next.job_finish = now.toISOString()
      statusWrite = bucket.putJson(sKey, next)
      changed.push(`status ${next.status}`)
    }
  }
  if (timedOut) {
    // The status first: the monitor woken by the stop itself must find it final.
    await statusWrite
    await stopOrTerminate(ec2, instanceId, s.SHUTDOWN_BEHAVIOR)
  }

  if (ended) {
    const record: CostRecord = {...active, end: now.toISOString(), cost: costOf(active, now), endReason}
    // The status and the cost record at once; the active record goes only after both (a monitor that then finds
    // no active instance ends the job from final statuses, and no cost is lost).
    await Promise.all([statusWrite, bucket.putJson(groupCostKey(s.LOGDIR, active.group, instanceId), record)])
    await bucket.delete(activeKey)
    changed.push('ended')
  } else await statusWrite
  if (changed.length > 0) await afterChange(bucket, job, ctx, ended)
  return {instanceId, changed}
}

/** Rewrites the certificate; when no instance of the job is active any more, ends the job. */
async function afterChange(bucket: Bucket, job: JobPaths, ctx: MonitorContext, instanceEnded: boolean): Promise<void> {
  const s = ctx.settings
  const record = await bucket.getJson<JobRecord>(job.record)
  if (!record) return
  if (instanceEnded && record.state !== 'ended') {
    const stillActive = await Promise.all(
      record.datasets.map((d) => (d.instanceId ? bucket.exists(activeRecordKey(s.LOGDIR, d.instanceId)) : Promise.resolve(false))),
    )
    if (!stillActive.some(Boolean) && record.state !== 'starting') {
      await endJob(bucket, job, record, ctx)
      return
    }
  }
  await writeCertificate(bucket, job.certificate, record)
  // Another monitor may have ended the job meanwhile (its last instance ended): the final word is its.
  if (await bucket.exists(job.end)) await rewriteFinal(bucket, job)
}

/** Renders the certificate again from the record as it is now. */
async function rewriteFinal(bucket: Bucket, job: JobPaths): Promise<void> {
  const fresh = await bucket.getJson<JobRecord>(job.record)
  if (fresh) await writeCertificate(bucket, job.certificate, fresh)
}

/** How long a claim to end a job holds before another monitor may take over (its holder died half-way). */
const END_CLAIM_MS = 5 * 60_000

/**
 * Claims the job's end: when two instances end together, two monitors see no
 * active instance at once, and only the one whose claim lands ends the job (the
 * other's record, read before the rule went, would otherwise overwrite it).
 */
async function claimEnd(bucket: Bucket, job: JobPaths, ctx: MonitorContext): Promise<boolean> {
  if (await bucket.putJsonOnce(job.endClaim, {at: ctx.now.toISOString()})) return true
  if (await bucket.exists(job.end)) return false
  const claim = await bucket.getJson<{at?: string}>(job.endClaim)
  const at = Date.parse(claim?.at ?? '')
  if (Number.isFinite(at) && ctx.now.getTime() - at < END_CLAIM_MS) return false
  await bucket.putJson(job.endClaim, {at: ctx.now.toISOString(), tookOverFrom: claim?.at})
  return true
}

async function endJob(bucket: Bucket, job: JobPaths, read: JobRecord, ctx: MonitorContext): Promise<void> {
  if (!(await claimEnd(bucket, job, ctx))) return
  const record = (await bucket.getJson<JobRecord>(job.record)) ?? read
  const steps = new Steps(record.steps, () => ctx.now)
  if (record.ruleName) {
    const {RemoveTargetsCommand, DeleteRuleCommand} = await import('@aws-sdk/client-eventbridge')
    const events = await ctx.clients.events()
    try {
      await events.send(new RemoveTargetsCommand({Rule: record.ruleName, Ids: ['monitor']}))
      await events.send(new DeleteRuleCommand({Name: record.ruleName}))
      steps.add(`monitoring rule ${record.ruleName} deleted`)
    } catch (error) {
      if (errorCode(error) !== 'ResourceNotFoundException') steps.add(`could not delete rule ${record.ruleName}: ${errorMessage(error)}`)
    }
  }
  const statuses = await readStatuses(bucket, record)
  const ok = statuses.filter((x) => x?.status === 'SUCCESS').length
  const failed = statuses.length - ok
  const summary = `job ${record.jobId} ended at ${ctx.now.toISOString()}: ${ok} SUCCESS, ${failed} FAILED`
  steps.add(`${summary}; end.txt written`)
  if (record.state !== 'cancelled') record.state = 'ended'
  // A cancelled job keeps its state; the record says it ended through its last step.
  await bucket.putJson(job.record, record)
  const mine = await writeCertificate(bucket, job.certificate, record)
  if (!(await bucket.exists(job.end))) await bucket.putText(job.end, `${summary}\n`)
  // A monitor that read the record before it ended may have rewritten the certificate since: write it again.
  if ((await bucket.etag(job.certificate)) !== mine) await rewriteFinal(bucket, job)
}
