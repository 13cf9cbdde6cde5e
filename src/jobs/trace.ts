/**
 * `ncap trace`: one timeline of a job's chain — the submit.json upload, the S3
 * notification, the submit function's run, each instance's state changes, each
 * SSM command and its transitions, the job rule's matches and the monitor's
 * runs, the end.txt upload — with times and durations since the upload, and
 * every link that never happened shown as missing, with the reason when it is
 * known.
 *
 * On `local` the links come from the emulator's event record (events.jsonl),
 * correlated by bucket+key, the job id, the job's instance ids, command ids and
 * rule name. On any other target they come from the job's own records (job.json
 * steps, status files, cost records), the functions' CloudWatch Logs filtered by
 * the job id, EC2 DescribeInstances of the job's instances and the objects'
 * LastModified times.
 *
 * `--key KEY` traces an upload that may have made no job (a submit.json under a
 * prefix with no notification): its links as far as they went, then what is
 * missing and why.
 */
import type {S3Client} from '@aws-sdk/client-s3'
import {groupOf, type JobPaths, jobId as makeJobId} from '../../lambda_repo/lib/layout.js'
import type {DatasetStatus, JobRecord} from '../../lambda_repo/lib/records.js'
import {Bucket} from '../../lambda_repo/lib/store.js'
import {createClient} from '../cloud/client.js'
import type {EmulatorEvent} from '../emulator/event-record.js'
import {NcapError} from '../errors.js'
import {functionName} from '../template/names.js'
import {type JobContext, type JobFlags, jobContext} from './context.js'
import {findJob, type JobView, readJob} from './read.js'

export type LinkKind = 'upload' | 'notification' | 'submit' | 'submit-step' | 'instance' | 'ssm' | 'rule' | 'monitor' | 'end'
export type LinkOutcome = 'ok' | 'delivered' | 'skipped' | 'failed' | 'denied' | 'error' | 'info'

export interface TraceLink {
  type: 'link'
  /** ISO time the link started. */
  time: string
  /** Milliseconds since the submit.json upload. */
  elapsedMs: number
  kind: LinkKind
  summary: string
  outcome: LinkOutcome
  reason?: string
  resource?: string
  /** How long the link took (a function's run). */
  durationMs?: number
  /** Where it was read: the emulator's event record, the job's records, CloudWatch Logs, EC2, S3. */
  source: 'emulator' | 'job' | 'logs' | 'ec2' | 's3'
}

export interface TraceMissing {
  type: 'missing'
  kind: LinkKind | 'job'
  summary: string
  reason?: string
}

export interface TraceSummary {
  type: 'summary'
  jobId?: string
  group: string
  submitKey: string
  target: string
  /** emulator: the emulator's event record; records: the job's records, logs and EC2. */
  from: 'emulator' | 'records'
  state?: string
  outcome?: string
  started?: string
  ended?: string
  durationMs?: number
  links: number
  missing: number
  /** Every link of the chain happened. */
  complete: boolean
  /** Why the trace came from where it did, when that was not the target's usual source. */
  note?: string
}

export interface Trace {
  links: TraceLink[]
  missing: TraceMissing[]
  summary: TraceSummary
}

export interface TraceFlags extends JobFlags {
  job?: string
  key?: string
}

/** What the trace knows of the job before reading the links. */
export interface Subject {
  ctx: JobContext
  group: string
  submitKey: string
  jobId?: string
  view?: JobView
  record?: JobRecord
  statuses: (DatasetStatus | undefined)[]
  paths?: JobPaths
  /** LastModified of the submit file and end.txt, when they exist. */
  uploadedAt?: Date
  endAt?: Date
}

export type Draft = Omit<TraceLink, 'type' | 'elapsedMs'> & {seq?: number}

const FINAL_COMMAND = new Set([
  'Success',
  'Failed',
  'Cancelled',
  'TimedOut',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'Undeliverable',
  'Terminated',
])
const ENDED_INSTANCE = new Set(['terminated', 'stopped'])

async function lastModified(s3: S3Client, bucket: string, key: string): Promise<Date | undefined> {
  const {ListObjectsV2Command} = await import('@aws-sdk/client-s3')
  // The listing carries LastModified with the store's precision (HeadObject's header has whole seconds).
  const listed = await s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: key, MaxKeys: 5})).catch(() => undefined)
  return listed?.Contents?.find((o) => o.Key === key)?.LastModified
}

async function subjectOf(flags: TraceFlags): Promise<Subject> {
  const ctx = await jobContext(flags)
  const bucket = new Bucket(ctx.s3, ctx.bucket)
  let view: JobView | undefined
  let group: string
  let submitKey: string | undefined
  if (flags.key) {
    submitKey = flags.key.replace(/^s3:\/\/[^/]+\//, '')
    group = flags.group ?? groupOf(submitKey)
    const submit = await bucket.getJson<{timestamp?: string}>(submitKey).catch(() => undefined)
    if (submit?.timestamp) view = await readJob(ctx, group, makeJobId(ctx.bucket, submit.timestamp)).catch(() => undefined)
  } else {
    view = await findJob(ctx, flags.job, flags.group)
    group = view.group
  }
  const record = view ? await bucket.getJson<JobRecord>(view.paths.record) : undefined
  submitKey ??= record?.submitKey
  if (!submitKey) {
    throw new NcapError(`job ${view?.jobId} has no job record naming its submit file (${view?.paths.record})`, {
      code: 'NoJobRecord',
      suggestions: ['ncap trace --key GROUP/submissions/NAME_submit.json'],
    })
  }
  const statuses = await Promise.all((record?.datasets ?? []).map((d) => bucket.getJson<DatasetStatus>(d.statusKey).catch(() => undefined)))
  const [uploadedAt, endAt] = await Promise.all([
    lastModified(ctx.s3, ctx.bucket, submitKey),
    view ? lastModified(ctx.s3, ctx.bucket, view.paths.end) : Promise.resolve(undefined),
  ])
  if (!view && !uploadedAt) {
    throw new NcapError(`s3://${ctx.bucket}/${submitKey} does not exist and no job was made from it`, {
      code: 'NoSuchKey',
      suggestions: ['ncap jobs'],
    })
  }
  return {
    ctx,
    group,
    submitKey,
    statuses,
    ...(view ? {view, jobId: view.jobId, paths: view.paths} : {}),
    ...(record ? {record} : {}),
    ...(uploadedAt ? {uploadedAt} : {}),
    ...(endAt ? {endAt} : {}),
  }
}

export async function traceJob(flags: TraceFlags): Promise<Trace> {
  const subject = await subjectOf(flags)
  if (subject.ctx.target.kind === 'local') {
    const {readEvents} = await import('../emulator/event-record.js')
    const {resolveStateDir} = await import('../emulator/paths.js')
    const stateDir = resolveStateDir(subject.ctx.settings.stateDir)
    const events = await readEvents(stateDir)
    const traced = linksFromEvents(subject, events, stateDir)
    if (traced.matched > 0 || !subject.record) return assemble(subject, traced.drafts, traced.missing, 'emulator')
    // A job the record no longer holds (rotated away, another state folder): its own records tell the rest.
    const {drafts, missing} = await fromRecords(subject)
    return assemble(subject, drafts, missing, 'records', `the event record of ${stateDir} holds nothing of this job`)
  }
  const {drafts, missing} = await fromRecords(subject)
  return assemble(subject, drafts, missing, 'records')
}

function assemble(subject: Subject, drafts: Draft[], missing: TraceMissing[], from: 'emulator' | 'records', note?: string): Trace {
  drafts.sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || (a.seq ?? 0) - (b.seq ?? 0))
  const upload = drafts.find((d) => d.kind === 'upload')
  const origin = Date.parse(upload?.time ?? drafts[0]?.time ?? new Date().toISOString())
  const links: TraceLink[] = drafts.map(({seq: _seq, ...d}) => ({
    type: 'link',
    time: d.time,
    elapsedMs: Math.round(Date.parse(d.time) - origin),
    kind: d.kind,
    summary: d.summary,
    outcome: d.outcome,
    ...(d.reason ? {reason: d.reason} : {}),
    ...(d.resource ? {resource: d.resource} : {}),
    ...(d.durationMs !== undefined ? {durationMs: Math.round(d.durationMs * 10) / 10} : {}),
    source: d.source,
  }))
  const endLink = links.find((l) => l.kind === 'end')
  const ended = endLink?.time ?? (subject.view?.ended ? subject.view.endedAt : undefined)
  const view = subject.view
  const summary: TraceSummary = {
    type: 'summary',
    ...(subject.jobId ? {jobId: subject.jobId} : {}),
    group: subject.group,
    submitKey: subject.submitKey,
    target: subject.ctx.target.kind,
    from,
    ...(view ? {state: view.state, outcome: view.outcome} : {}),
    ...(links.length ? {started: new Date(origin).toISOString()} : {}),
    ...(ended ? {ended, durationMs: Math.round(Date.parse(ended) - origin)} : {}),
    links: links.length,
    missing: missing.length,
    complete: missing.length === 0,
    ...(note ? {note} : {}),
  }
  return {links, missing, summary}
}

// ---- local: the emulator's event record ---------------------------------------------------------

const outcomeOf = (e: EmulatorEvent): LinkOutcome => e.outcome

function draftOf(e: EmulatorEvent, kind: LinkKind, extra: Partial<Draft> = {}): Draft {
  return {
    time: e.time,
    seq: e.seq,
    kind,
    summary: e.summary,
    outcome: outcomeOf(e),
    ...(e.reason ? {reason: e.reason} : {}),
    ...(e.resource ? {resource: e.resource} : {}),
    source: 'emulator',
    ...extra,
  }
}

/**
 * The job's links in the emulator's event record, and what is missing; `matched` counts the
 * events that belong to the job. Pure: exported for the benchmark.
 */
export function linksFromEvents(
  subject: Subject,
  events: EmulatorEvent[],
  stateDir: string,
): {drafts: Draft[]; missing: TraceMissing[]; matched: number} {
  const {ctx, submitKey, record, jobId, paths} = subject
  const bucket = ctx.bucket
  const drafts: Draft[] = []
  const missing: TraceMissing[] = []
  const c = (e: EmulatorEvent, name: string): string | undefined => e.correlation?.[name]

  // The upload and its notification.
  const notes = events.filter((e) => e.kind === 's3.notification' && c(e, 'bucket') === bucket && c(e, 'key') === submitKey)
  const firstNote = notes[0]
  const uploadTime = earliest(subject.uploadedAt?.toISOString(), firstNote?.time)
  if (uploadTime) {
    drafts.push({
      time: uploadTime,
      seq: 0,
      kind: 'upload',
      summary: `s3://${bucket}/${submitKey} uploaded`,
      outcome: 'ok',
      resource: `arn:aws:s3:::${bucket}/${submitKey}`,
      source: subject.uploadedAt ? 's3' : 'emulator',
    })
  } else missing.push({type: 'missing', kind: 'upload', summary: `s3://${bucket}/${submitKey} was not uploaded`})
  for (const e of notes) drafts.push(draftOf(e, 'notification'))
  const delivered = notes.some((e) => e.outcome === 'delivered')
  if (!delivered) {
    // "…: no notification rule matched" and the rules tried; "not delivered to ARN" and the refusal.
    const reasons = [
      ...new Set(
        notes.map((e) => {
          const what = e.summary.includes(': ') ? e.summary.slice(e.summary.lastIndexOf(': ') + 2) : e.summary
          return e.reason ? `${what}: ${e.reason}` : what
        }),
      ),
    ]
    missing.push({
      type: 'missing',
      kind: 'notification',
      summary: `no notification of s3://${bucket}/${submitKey} reached the submit function`,
      reason:
        reasons.join('; ') ||
        (notes.length
          ? notes.map((e) => e.summary).join('; ')
          : `the emulator recorded no notification for this key (state folder ${stateDir})`),
    })
  }

  // The submit function's runs for this key.
  const invokes = events.filter(
    (e) => (e.kind === 'lambda.invoke' || e.kind === 'lambda.invoke-discarded') && c(e, 'bucket') === bucket && c(e, 'key') === submitKey,
  )
  for (const e of invokes) drafts.push(invokeDraft(e, 'submit'))
  if (!invokes.some((e) => e.outcome === 'ok')) {
    missing.push({
      type: 'missing',
      kind: 'submit',
      summary: `the submit function did not run to completion for ${submitKey}`,
      reason: invokes.length
        ? invokes.map((e) => e.reason ?? e.summary).join('; ')
        : delivered
          ? 'the notification was delivered but no invocation was recorded'
          : 'nothing invoked it: the notification did not reach it',
    })
  }
  if (!record) {
    missing.push({
      type: 'missing',
      kind: 'job',
      summary: jobId ? `job ${jobId} has no job record` : `no job was made from ${submitKey}`,
      reason:
        invokes.find((e) => e.outcome !== 'ok')?.reason ??
        (invokes.length ? 'the submit function wrote no job record' : 'the submit function never ran'),
    })
  }

  // Instances, commands, rule and monitor.
  const instances = new Set<string>(subject.view?.instances ?? [])
  if (jobId)
    for (const e of events)
      if (e.kind === 'ec2.state-change' && c(e, 'jobId') === jobId && c(e, 'instanceId')) instances.add(c(e, 'instanceId')!)
  const commands = new Set<string>()
  for (const d of record?.datasets ?? []) if (d.commandId) commands.add(d.commandId)
  for (const s of subject.statuses) if (s?.commandId) commands.add(s.commandId)
  for (const e of events)
    if (e.kind === 'ssm.command' && instances.has(c(e, 'instanceId') ?? '') && c(e, 'commandId')) commands.add(c(e, 'commandId')!)
  const states = new Map<string, string[]>()
  for (const e of events) {
    const id = c(e, 'instanceId')
    if (!id || !instances.has(id) || !e.kind.startsWith('ec2.')) continue
    drafts.push(draftOf(e, 'instance'))
    const state = (e.detail as {state?: string} | undefined)?.state
    if (e.kind === 'ec2.state-change' && state && e.outcome === 'ok') states.set(id, [...(states.get(id) ?? []), state])
  }
  const commandStates = new Map<string, string[]>()
  for (const e of events) {
    const id = c(e, 'commandId')
    if (!id || !commands.has(id)) continue
    const status = (e.detail as {status?: string} | undefined)?.status
    if (e.kind === 'ssm.command') {
      // One line per instance's transition and the SendCommand itself; the command-wide echo of each transition is left out.
      if (!c(e, 'instanceId') && status !== 'sent') continue
      drafts.push(draftOf(e, 'ssm'))
      const on = c(e, 'instanceId')
      const targets = on ? [on] : (record?.datasets ?? []).filter((d) => d.commandId === id && d.instanceId).map((d) => d.instanceId!)
      for (const instance of targets) if (status) commandStates.set(instance, [...(commandStates.get(instance) ?? []), status])
    } else if (e.kind === 'ssm.output' && e.outcome !== 'delivered') drafts.push(draftOf(e, 'ssm'))
  }
  const rule = record?.ruleName
  if (rule) {
    for (const e of events) {
      if (c(e, 'rule') !== rule) continue
      if (e.kind === 'events.rule-match') drafts.push(draftOf(e, 'rule'))
      else if (e.kind === 'events.target' && e.outcome !== 'delivered') drafts.push(draftOf(e, 'rule'))
      else if (e.kind === 'lambda.invoke' || e.kind === 'lambda.invoke-discarded') drafts.push(invokeDraft(e, 'monitor'))
    }
  }
  // The end marker: its upload (each one is noted by S3 whether or not a rule matches).
  const endNote = paths
    ? events.find((e) => e.kind === 's3.notification' && c(e, 'bucket') === bucket && c(e, 'key') === paths.end)
    : undefined
  const endTime = earliest(subject.endAt?.toISOString(), endNote?.time)
  if (paths && endTime) {
    drafts.push({
      time: endTime,
      seq: endNote?.seq ?? Number.MAX_SAFE_INTEGER,
      kind: 'end',
      summary: `s3://${bucket}/${paths.end} written: the job ended`,
      outcome: 'ok',
      resource: `arn:aws:s3:::${bucket}/${paths.end}`,
      source: subject.endAt ? 's3' : 'emulator',
    })
  }
  missingLaterLinks(subject, missing, {
    instanceStates: states,
    commandSeen: (instance) => commandStates.get(instance) ?? [],
    monitorRan: drafts.some((d) => d.kind === 'monitor' && d.outcome === 'ok'),
    ruleReason: drafts.find((d) => d.kind === 'rule' && d.outcome !== 'ok')?.reason,
    ended: Boolean(endTime),
  })
  return {drafts, missing, matched: drafts.filter((d) => d.source === 'emulator').length}
}

function invokeDraft(e: EmulatorEvent, kind: LinkKind): Draft {
  const duration = (e.detail as {durationMs?: number} | undefined)?.durationMs
  // The record is written when the run ends: the link starts when it started.
  const time = typeof duration === 'number' ? new Date(Date.parse(e.time) - duration).toISOString() : e.time
  return draftOf(e, kind, {time, ...(typeof duration === 'number' ? {durationMs: duration} : {})})
}

function earliest(...times: (string | undefined)[]): string | undefined {
  const known = times.filter((t): t is string => Boolean(t))
  return known.length ? known.reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b)) : undefined
}

interface LaterFacts {
  instanceStates: Map<string, string[]>
  /** The statuses seen of the command(s) sent to one instance. */
  commandSeen: (instance: string) => string[]
  monitorRan: boolean
  ruleReason?: string
  ended: boolean
}

/** What should have followed the job record, and is not there: instances, commands, monitor, end.txt. */
function missingLaterLinks(subject: Subject, missing: TraceMissing[], facts: LaterFacts): void {
  const {record, view, statuses} = subject
  if (!record || !view) return
  const stillRunning = !view.ended
  const why = (s: DatasetStatus | undefined): string | undefined => s?.reason?.at(-1)
  record.datasets.forEach((d, i) => {
    const status = statuses[i]
    if (!d.instanceId) {
      missing.push({
        type: 'missing',
        kind: 'instance',
        summary: `no instance launched for ${d.dataKey}`,
        reason: why(status) ?? `the job is ${record.state}`,
      })
      return
    }
    const seen = facts.instanceStates.get(d.instanceId)
    if (seen !== undefined || subject.ctx.target.kind === 'local') {
      const states = seen ?? []
      for (const expected of ['pending', 'running']) {
        if (!states.includes(expected))
          missing.push({
            type: 'missing',
            kind: 'instance',
            summary: `instance ${d.instanceId} never reported ${expected}`,
            reason: why(status),
          })
      }
      if (!states.some((s) => ENDED_INSTANCE.has(s))) {
        missing.push({
          type: 'missing',
          kind: 'instance',
          summary: `instance ${d.instanceId} has not ended (terminated or stopped)`,
          reason: states.length ? `last state ${states.at(-1)}${stillRunning ? ': the job is still running' : ''}` : why(status),
        })
      }
    }
    const commandStatuses = facts.commandSeen(d.instanceId)
    if (!d.commandId && commandStatuses.length === 0) {
      missing.push({type: 'missing', kind: 'ssm', summary: `no command sent to ${d.instanceId}`, reason: why(status)})
    } else if (!commandStatuses.some((s) => FINAL_COMMAND.has(s))) {
      missing.push({
        type: 'missing',
        kind: 'ssm',
        summary: `the command on ${d.instanceId} has not finished`,
        reason: commandStatuses.length ? `last status ${commandStatuses.at(-1)}` : status ? `dataset status ${status.status}` : undefined,
      })
    }
  })
  if (!record.ruleName) {
    if (record.datasets.some((d) => d.instanceId))
      missing.push({
        type: 'missing',
        kind: 'rule',
        summary: 'the job record names no monitoring rule',
        reason: `the job is ${record.state}`,
      })
  } else if (!facts.monitorRan) {
    missing.push({
      type: 'missing',
      kind: 'monitor',
      summary: `the monitor never ran for rule ${record.ruleName}`,
      reason: facts.ruleReason ?? (stillRunning ? 'no state change of the job has reached the rule yet' : undefined),
    })
  }
  if (!facts.ended && record.datasets.some((d) => d.instanceId)) {
    missing.push({
      type: 'missing',
      kind: 'end',
      summary: `s3://${subject.ctx.bucket}/${view.paths.end} not written`,
      reason: stillRunning ? `the job is ${record.state}: it ends when every instance has ended` : `the job is ${record.state}`,
    })
  }
}

// ---- other targets: the job's records, CloudWatch Logs, EC2 --------------------------------------

async function fromRecords(subject: Subject): Promise<{drafts: Draft[]; missing: TraceMissing[]}> {
  const {ctx, submitKey, record, jobId, paths, statuses} = subject
  const bucket = ctx.bucket
  const drafts: Draft[] = []
  const missing: TraceMissing[] = []
  if (subject.uploadedAt) {
    drafts.push({
      time: subject.uploadedAt.toISOString(),
      seq: 0,
      kind: 'upload',
      summary: `s3://${bucket}/${submitKey} uploaded`,
      outcome: 'ok',
      resource: `arn:aws:s3:::${bucket}/${submitKey}`,
      source: 's3',
    })
  } else missing.push({type: 'missing', kind: 'upload', summary: `s3://${bucket}/${submitKey} is not in the bucket`})

  const submitFn = functionName(ctx.pipeline.name, 'submit')
  const monitorFn = functionName(ctx.pipeline.name, 'monitor')
  const since = (subject.uploadedAt?.getTime() ?? (record ? Date.parse(record.created) : Date.now())) - 60_000
  const needle = jobId ?? submitKey
  // The monitor names the instances it looks at, not always the job.
  const [submitRuns, monitorRuns] = await Promise.all([
    logRuns(ctx, submitFn, [needle], since),
    logRuns(ctx, monitorFn, [...(jobId ? [jobId] : []), ...(subject.view?.instances ?? [])], since),
  ])
  if (record || submitRuns.runs.length) {
    drafts.push({
      time: new Date(
        Math.min(...[record ? Date.parse(record.created) : Number.POSITIVE_INFINITY, ...submitRuns.runs.map((r) => r.start)]),
      ).toISOString(),
      seq: 1,
      kind: 'notification',
      summary: `the upload reached ${submitFn} (known from its run: S3 keeps no record of a delivery)`,
      outcome: 'delivered',
      source: record ? 'job' : 'logs',
    })
  } else {
    missing.push({
      type: 'missing',
      kind: 'notification',
      summary: `no sign that a notification of ${submitKey} reached ${submitFn}`,
      reason: (await notificationReason(ctx, submitKey)) ?? submitRuns.problem,
    })
  }
  for (const run of submitRuns.runs) drafts.push(runDraft(run, 'submit', submitFn))
  if (!submitRuns.runs.length && submitRuns.problem)
    missing.push({type: 'missing', kind: 'submit', summary: `no log of ${submitFn} for ${needle}`, reason: submitRuns.problem})
  for (const step of record?.steps ?? [])
    drafts.push({time: step.at, kind: 'submit-step', summary: step.message, outcome: 'info', source: 'job'})
  if (!record) {
    missing.push({
      type: 'missing',
      kind: 'job',
      summary: jobId ? `job ${jobId} has no job record` : `no job was made from ${submitKey}`,
      reason: submitRuns.runs.some((r) => r.failed)
        ? 'the submit function failed (see its logs)'
        : 'the submit function wrote no job record',
    })
  }

  // Instances as EC2 describes them, and their cost records.
  const instanceIds = subject.view?.instances ?? []
  const states = new Map<string, string[]>()
  const costs = await costRecordsOf(subject)
  if (instanceIds.length) {
    const described = await describeInstances(ctx, instanceIds)
    for (const id of instanceIds) {
      const instance = described.found.get(id)
      if (!instance) {
        missing.push({
          type: 'missing',
          kind: 'instance',
          summary: `EC2 does not describe ${id}`,
          reason: described.problem ?? 'terminated long ago (EC2 forgets them after about an hour)',
        })
        continue
      }
      const seen: string[] = []
      if (instance.launch) {
        drafts.push({
          time: instance.launch,
          kind: 'instance',
          summary: `instance ${id} launched (${instance.type})`,
          outcome: 'ok',
          resource: id,
          source: 'ec2',
        })
        seen.push('pending', 'running')
      }
      // When it got there: EC2's transition reason carries the time of a user-initiated change; else its cost record's end.
      const ending = ENDED_INSTANCE.has(instance.state) || instance.state === 'shutting-down'
      const at = transitionTime(instance.transition) ?? (ending ? costs.find((c) => c.instanceId === id)?.end : undefined)
      drafts.push({
        time: at ?? new Date().toISOString(),
        kind: 'instance',
        summary: `instance ${id} ${instance.state}${instance.transition ? ` (${instance.transition})` : ''}${at ? '' : ' (as EC2 describes it now)'}`,
        outcome: 'ok',
        ...(instance.reason && !instance.transition?.includes(instance.reason) ? {reason: instance.reason} : {}),
        resource: id,
        source: 'ec2',
      })
      seen.push(instance.state)
      states.set(id, seen)
    }
  }
  for (const cost of costs) {
    drafts.push({
      time: cost.start,
      kind: 'instance',
      summary: `instance ${cost.instanceId} billed from here (${cost.instanceType}, $${cost.price}/h)`,
      outcome: 'info',
      resource: cost.instanceId,
      source: 'job',
    })
    if (cost.end)
      drafts.push({
        time: cost.end,
        kind: 'instance',
        summary: `instance ${cost.instanceId} billed until here: $${cost.cost}${cost.endReason ? ` (${cost.endReason})` : ''}`,
        outcome: 'info',
        resource: cost.instanceId,
        source: 'job',
      })
  }
  // Commands, from the per-dataset status files.
  const commandStatuses = new Map<string, string[]>()
  record?.datasets.forEach((d, i) => {
    const s = statuses[i]
    if (!s || !d.instanceId) return
    const command = s.commandId ?? d.commandId
    if (command && s.job_start) {
      drafts.push({
        time: s.job_start,
        kind: 'ssm',
        summary: `${d.dataKey}: status file started (job_start), for command ${command} on ${d.instanceId}`,
        outcome: 'info',
        resource: command,
        source: 'job',
      })
      commandStatuses.set(d.instanceId, ['InProgress'])
    }
    if (s.job_finish || s.status === 'SUCCESS' || s.status === 'FAILED') {
      const final = s.status === 'SUCCESS' ? 'Success' : s.status === 'FAILED' ? 'Failed' : s.status
      drafts.push({
        time: s.job_finish ?? s.time,
        kind: 'ssm',
        summary: `${d.dataKey} on ${d.instanceId}: ${s.status}`,
        outcome: s.status === 'FAILED' ? 'failed' : 'ok',
        ...(s.status === 'FAILED' && s.reason.length ? {reason: s.reason.at(-1)} : {}),
        ...(command ? {resource: command} : {}),
        source: 'job',
      })
      commandStatuses.set(d.instanceId, [...(commandStatuses.get(d.instanceId) ?? []), final])
    }
  })
  for (const run of monitorRuns.runs) drafts.push(runDraft(run, 'monitor', monitorFn))
  if (subject.endAt && paths) {
    drafts.push({
      time: subject.endAt.toISOString(),
      kind: 'end',
      summary: `s3://${bucket}/${paths.end} written: the job ended`,
      outcome: 'ok',
      resource: `arn:aws:s3:::${bucket}/${paths.end}`,
      source: 's3',
    })
  }
  missingLaterLinks(subject, missing, {
    instanceStates: states,
    commandSeen: (instance) => commandStatuses.get(instance) ?? [],
    monitorRan: monitorRuns.runs.length > 0,
    ...(monitorRuns.problem ? {ruleReason: monitorRuns.problem} : {}),
    ended: Boolean(subject.endAt),
  })
  return {drafts, missing}
}

interface Run {
  requestId: string
  start: number
  end: number
  /** The REPORT line's Duration, when found. */
  durationMs?: number
  failed: boolean
  /** The first line naming the job (or one of its instances). */
  first: string
}

const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * A function's runs that logged one of NEEDLES (the job id, its instance ids), from its
 * CloudWatch log group: one per request id, with its START, REPORT and outcome.
 */
async function logRuns(ctx: JobContext, fn: string, needles: string[], since: number): Promise<{runs: Run[]; problem?: string}> {
  const {CloudWatchLogsClient, FilterLogEventsCommand} = await import('@aws-sdk/client-cloudwatch-logs')
  const logs = createClient(CloudWatchLogsClient, ctx.target)
  const group = `/aws/lambda/${fn}`
  const runs = new Map<string, Run>()
  const filter = async (pattern: string, each: (message: string, at: number, stream?: string) => void): Promise<void> => {
    let token: string | undefined
    let pages = 0
    do {
      const page = await logs.send(
        new FilterLogEventsCommand({logGroupName: group, filterPattern: `"${pattern}"`, startTime: since, nextToken: token}),
      )
      for (const event of page.events ?? []) each(event.message ?? '', event.timestamp ?? 0, event.logStreamName)
      token = page.nextToken
    } while (token && ++pages < 20)
  }
  try {
    for (const needle of needles) {
      await filter(needle, (message, at) => {
        // Node's Lambda log format: TIME\tREQUEST-ID\tLEVEL\tmessage.
        const parts = message.split('\t')
        const requestId = parts[1]
        if (!requestId || !REQUEST_ID.test(requestId)) return
        const run = runs.get(requestId) ?? {
          requestId,
          start: at,
          end: at,
          failed: false,
          first: (parts.slice(3).join(' ') || message).trim(),
        }
        run.start = Math.min(run.start, at)
        run.end = Math.max(run.end, at)
        if (parts[2] === 'ERROR' && !/NodeVersionSupportWarning/.test(message)) run.failed = true
        runs.set(requestId, run)
      })
    }
    // Each run's own START and REPORT lines: when it started, how long it took, whether it timed out.
    for (const run of [...runs.values()].slice(0, 50)) {
      await filter(run.requestId, (message, at) => {
        if (message.startsWith('START RequestId:')) run.start = Math.min(run.start, at)
        const report = message.match(/^REPORT RequestId: \S+\tDuration: ([\d.]+) ms/)
        if (report) {
          run.durationMs = Number(report[1])
          run.end = Math.max(run.end, at)
        }
        if (/Task timed out|"errorType"/.test(message)) run.failed = true
      })
    }
  } catch (error) {
    const e = error as Error & {name?: string}
    return {runs: [], problem: e.name === 'ResourceNotFoundException' ? `log group ${group} does not exist` : `${e.name}: ${e.message}`}
  }
  return {runs: [...runs.values()].sort((a, b) => a.start - b.start)}
}

function runDraft(run: Run, kind: LinkKind, fn: string): Draft {
  return {
    time: new Date(run.start).toISOString(),
    kind,
    summary: `${fn} ran (request ${run.requestId}): ${run.first.slice(0, 120)}`,
    outcome: run.failed ? 'failed' : 'ok',
    ...(run.failed ? {reason: `it logged an error (see log group /aws/lambda/${fn}, request ${run.requestId})`} : {}),
    resource: `/aws/lambda/${fn}`,
    durationMs: run.durationMs ?? run.end - run.start,
    source: 'logs',
  }
}

interface DescribedInstance {
  state: string
  type: string
  launch?: string
  transition?: string
  reason?: string
}

async function describeInstances(ctx: JobContext, ids: string[]): Promise<{found: Map<string, DescribedInstance>; problem?: string}> {
  const {DescribeInstancesCommand, EC2Client} = await import('@aws-sdk/client-ec2')
  const ec2 = createClient(EC2Client, ctx.target)
  const found = new Map<string, DescribedInstance>()
  // One at a time when the batch is refused: an id EC2 forgot fails the whole call.
  const batches = [ids]
  let problem: string | undefined
  while (batches.length) {
    const batch = batches.shift()!
    try {
      const out = await ec2.send(new DescribeInstancesCommand({InstanceIds: batch}))
      for (const r of out.Reservations ?? [])
        for (const i of r.Instances ?? [])
          found.set(i.InstanceId!, {
            state: i.State?.Name ?? 'unknown',
            type: i.InstanceType ?? '?',
            ...(i.LaunchTime ? {launch: i.LaunchTime.toISOString()} : {}),
            ...(i.StateTransitionReason ? {transition: i.StateTransitionReason} : {}),
            ...(i.StateReason?.Message ? {reason: i.StateReason.Message} : {}),
          })
    } catch (error) {
      if (batch.length > 1) batches.push(...batch.map((id) => [id]))
      else problem = `${(error as Error).name}: ${(error as Error).message}`
    }
  }
  return {found, ...(problem ? {problem} : {})}
}

/** EC2's "User initiated (2024-01-02 03:04:05 GMT)" → ISO. */
function transitionTime(reason: string | undefined): string | undefined {
  const m = reason?.match(/\((\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) GMT\)/)
  return m ? new Date(`${m[1]}T${m[2]}Z`).toISOString() : undefined
}

async function costRecordsOf(subject: Subject) {
  const {activePrefix, groupCostPrefix} = await import('../../lambda_repo/lib/layout.js')
  const bucket = new Bucket(subject.ctx.s3, subject.ctx.bucket)
  const logDir = subject.ctx.pipeline.instance.logDir
  const out: import('../../lambda_repo/lib/records.js').CostRecord[] = []
  if (!subject.jobId) return out
  for (const prefix of [activePrefix(logDir), groupCostPrefix(logDir, subject.group)]) {
    const keys = await bucket.list(prefix).catch(() => [] as string[])
    for (const key of keys) {
      if (!key.endsWith('.json')) continue
      const record = await bucket.getJson<import('../../lambda_repo/lib/records.js').CostRecord>(key).catch(() => undefined)
      if (record?.job === subject.jobId) out.push(record)
    }
  }
  return out
}

/** Why S3 would not notify the submit function of KEY, from the bucket's notification configuration. */
async function notificationReason(ctx: JobContext, key: string): Promise<string | undefined> {
  const {GetBucketNotificationConfigurationCommand} = await import('@aws-sdk/client-s3')
  try {
    const config = await ctx.s3.send(new GetBucketNotificationConfigurationCommand({Bucket: ctx.bucket}))
    const rules = config.LambdaFunctionConfigurations ?? []
    if (rules.length === 0) return `bucket ${ctx.bucket} has no Lambda notification configuration`
    const described = rules.map((r) => {
      const filter = Object.fromEntries((r.Filter?.Key?.FilterRules ?? []).map((f) => [String(f.Name).toLowerCase(), f.Value ?? '']))
      return {
        matches: key.startsWith(filter.prefix ?? '') && key.endsWith(filter.suffix ?? ''),
        text: `prefix '${filter.prefix ?? ''}', suffix '${filter.suffix ?? ''}'`,
      }
    })
    if (!described.some((d) => d.matches)) return `no notification rule matches the key: tried ${described.map((d) => d.text).join('; ')}`
    return undefined
  } catch {
    return undefined
  }
}

/** `HH:MM:SS.mmm  +elapsed  kind  outcome  summary — reason`, then the missing links. */
export function formatTrace(trace: Trace): string[] {
  const lines: string[] = []
  const {summary} = trace
  lines.push(
    `${summary.jobId ? `Job ${summary.jobId}` : `Upload ${summary.submitKey} (no job)`} — group ${summary.group}, target ${summary.target}, from ${summary.from === 'emulator' ? "the emulator's event record" : "the job's records, CloudWatch Logs and EC2"}`,
  )
  if (summary.note) lines.push(`(${summary.note}: read from the job's own records)`)
  for (const link of trace.links) {
    const reason = link.reason ? ` — ${link.reason}` : ''
    const took = link.durationMs !== undefined ? ` [${formatMs(link.durationMs)}]` : ''
    lines.push(
      `${link.time.slice(11, 23)}  ${`+${formatMs(link.elapsedMs)}`.padStart(9)}  ${link.kind.padEnd(12)} ${link.outcome.padEnd(9)} ${link.summary}${took}${reason}`,
    )
  }
  if (trace.missing.length) {
    lines.push('', 'Missing:')
    for (const m of trace.missing) lines.push(`  ${m.kind.padEnd(12)} ${m.summary}${m.reason ? ` — ${m.reason}` : ''}`)
  }
  lines.push(
    '',
    `${summary.links} link(s)${summary.durationMs !== undefined ? ` over ${formatMs(summary.durationMs)}` : ''}; ${summary.complete ? 'every link happened' : `${summary.missing} missing`}${summary.outcome ? `; job ${summary.outcome}` : ''}`,
  )
  return lines
}

function formatMs(ms: number): string {
  if (ms < 0) return `-${formatMs(-ms)}`
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  const m = Math.floor(ms / 60_000)
  return `${m}m${Math.round((ms % 60_000) / 1000)
    .toString()
    .padStart(2, '0')}s`
}
