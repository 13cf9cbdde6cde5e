/**
 * `ncap trace` on a full event record: both generations at their size cap
 * (about 20 MB, ~50,000 events of ~1,700 jobs' chains), tracing one job.
 * Baseline: reading and parsing the record alone (readEvents), measured in the
 * same run; the ratio is what correlating the job's links adds on top.
 *
 *   node --import=tsx bench/trace.ts
 */
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {JobRecord} from '../lambda_repo/lib/records.js'
import {type EmulatorEvent, eventsPath, olderEventsPath, readEvents} from '../src/emulator/event-record.js'
import {linksFromEvents, type Subject} from '../src/jobs/trace.js'
import {fmt, median, printTable} from './measure.js'

const BUCKET = 'benchpipe'
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:benchpipe'

function chain(n: number, t0: number): EmulatorEvent[] {
  const stamp = `20260101-${String(n).padStart(6, '0')}-abcd`
  const job = `job__${BUCKET}_${stamp}`
  const key = `lab/submissions/${stamp}_submit.json`
  const instance = `i-${n.toString(16).padStart(17, '0')}`
  const command = `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`
  const rule = job
  let seq = n * 100
  const at = (ms: number) => new Date(t0 + ms).toISOString()
  const e = (ms: number, x: Omit<EmulatorEvent, 'time' | 'seq'>): EmulatorEvent => ({time: at(ms), seq: ++seq, ...x})
  const out: EmulatorEvent[] = [
    e(10, {
      service: 's3',
      kind: 's3.notification',
      outcome: 'delivered',
      summary: `ObjectCreated:Put of s3://${BUCKET}/${key} delivered to ${ARN}-submit`,
      resource: `${ARN}-submit`,
      correlation: {bucket: BUCKET, key, requestId: `r${n}`},
    }),
    e(20, {
      service: 'lambda',
      kind: 'lambda.invoke-queued',
      outcome: 'info',
      summary: 'benchpipe-submit: asynchronous invocation queued',
      resource: `${ARN}-submit`,
      correlation: {requestId: `q${n}`, bucket: BUCKET, key},
    }),
  ]
  for (let i = 0; i < 6; i++)
    out.push(
      e(100 + i * 50, {
        service: 's3',
        kind: 's3.notification',
        outcome: 'skipped',
        summary: `ObjectCreated:Put of s3://${BUCKET}/lab/results/${job}/logs/job.json: no notification rule matched`,
        reason: "tried 'x' (s3:ObjectCreated:*; prefix 'lab/submissions/', suffix 'submit.json')",
        resource: `arn:aws:s3:::${BUCKET}`,
        correlation: {bucket: BUCKET, key: `lab/results/${job}/logs/job.json`, requestId: `w${n}-${i}`},
      }),
    )
  const state = (ms: number, s: string, previous?: string) =>
    out.push(
      e(ms, {
        service: 'ec2',
        kind: 'ec2.state-change',
        outcome: 'ok',
        summary: `instance ${instance} ${previous ? `${previous} → ` : ''}${s}`,
        resource: instance,
        correlation: {instanceId: instance, jobId: job},
        detail: {state: s, ...(previous ? {previous} : {})},
      }),
    )
  state(500, 'pending')
  state(900, 'running', 'pending')
  out.push(
    e(950, {
      service: 'ssm',
      kind: 'ssm.command',
      outcome: 'info',
      summary: `SendCommand ${command} to ${instance}`,
      correlation: {commandId: command},
      detail: {status: 'sent'},
    }),
  )
  for (const [ms, s] of [
    [1000, 'InProgress'],
    [5000, 'Success'],
  ] as const) {
    out.push(
      e(ms, {
        service: 'ssm',
        kind: 'ssm.command',
        outcome: s === 'Success' ? 'ok' : 'info',
        summary: `${instance}: ${s}`,
        correlation: {commandId: command, instanceId: instance},
        detail: {status: s},
      }),
    )
    out.push(
      e(ms, {
        service: 'ssm',
        kind: 'ssm.command',
        outcome: 'info',
        summary: `command ${command}: ${s}`,
        correlation: {commandId: command},
        detail: {status: s},
      }),
    )
    out.push(
      e(ms + 1, {
        service: 'events',
        kind: 'events.rule-match',
        outcome: 'ok',
        summary: `event e${n} matched rule ${rule} (1 targets)`,
        resource: rule,
        correlation: {eventId: `e${n}`, rule},
      }),
    )
    out.push(
      e(ms + 300, {
        service: 'lambda',
        kind: 'lambda.invoke',
        outcome: 'ok',
        summary: 'benchpipe-monitor answered in 200 ms (Event)',
        resource: `${ARN}-monitor`,
        correlation: {requestId: `m${n}-${ms}`, rule},
        detail: {durationMs: 200},
      }),
    )
  }
  out.push(
    e(3000, {
      service: 'lambda',
      kind: 'lambda.invoke',
      outcome: 'ok',
      summary: 'benchpipe-submit answered in 2900 ms (Event)',
      resource: `${ARN}-submit`,
      correlation: {requestId: `q${n}`, bucket: BUCKET, key},
      detail: {durationMs: 2900},
    }),
  )
  state(6000, 'shutting-down', 'running')
  state(6100, 'terminated', 'shutting-down')
  for (let i = 0; i < 6; i++)
    out.push(
      e(6200 + i * 20, {
        service: 's3',
        kind: 's3.notification',
        outcome: 'skipped',
        summary: `ObjectCreated:Put of s3://${BUCKET}/lab/results/${job}/x${i}: no notification rule matched`,
        reason: 'tried x',
        correlation: {bucket: BUCKET, key: `lab/results/${job}/process_results/${i === 5 ? 'end.txt' : `r${i}`}`, requestId: `z${n}-${i}`},
      }),
    )
  return out
}

const JOBS = 1700
const dir = await mkdtemp(join(tmpdir(), 'ncap-bench-trace-'))
const t0 = Date.parse('2026-01-01T00:00:00Z')
const all = Array.from({length: JOBS}, (_, n) => chain(n, t0 + n * 10_000)).flat()
const half = Math.floor(all.length / 2)
const text = (events: EmulatorEvent[]) => `${events.map((x) => JSON.stringify(x)).join('\n')}\n`
await writeFile(olderEventsPath(dir), text(all.slice(0, half)))
await writeFile(eventsPath(dir), text(all.slice(half)))
const bytes = Buffer.byteLength(text(all))

// The traced job: the last one, as its job record names it.
const n = JOBS - 1
const stamp = `20260101-${String(n).padStart(6, '0')}-abcd`
const jobId = `job__${BUCKET}_${stamp}`
const instance = `i-${n.toString(16).padStart(17, '0')}`
const record: JobRecord = {
  version: 1,
  jobId,
  pipeline: BUCKET,
  bucket: BUCKET,
  group: 'lab',
  submitKey: `lab/submissions/${stamp}_submit.json`,
  ruleName: jobId,
  state: 'ended',
  created: new Date(t0).toISOString(),
  steps: [],
  datasets: [
    {
      dataKey: 'lab/inputs/a.txt',
      statusKey: 'x',
      instanceId: instance,
      commandId: `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
    },
  ],
}
const prefix = `lab/results/${jobId}/`
const subject = {
  ctx: {bucket: BUCKET, target: {kind: 'local'}, settings: {}},
  group: 'lab',
  submitKey: record.submitKey,
  jobId,
  record,
  statuses: [undefined],
  view: {jobId, group: 'lab', state: 'ended', outcome: 'succeeded', ended: true, datasets: [], instances: [instance], costUsd: 0},
  paths: {end: `${prefix}process_results/end.txt`, prefix},
} as unknown as Subject

const runs = 7
const parse: number[] = []
const trace: number[] = []
let links = 0
let missing = 0
for (let i = 0; i <= runs; i++) {
  let start = performance.now()
  await readEvents(dir)
  const p = performance.now() - start
  start = performance.now()
  const events = await readEvents(dir)
  const traced = linksFromEvents(subject, events, dir)
  const t = performance.now() - start
  links = traced.drafts.length
  missing = traced.missing.length
  if (i > 0) {
    parse.push(p)
    trace.push(t)
  }
}
await rm(dir, {recursive: true, force: true})
const p = median(parse)
const t = median(trace)
printTable(`ncap trace on a full event record (${all.length} events, ${fmt(bytes / 1e6)} MB, ${JOBS} jobs; median of ${runs})`, [
  ['what', 'ms', 'ratio'],
  ['baseline: readEvents (parse both generations)', fmt(p), '1.00'],
  [`readEvents + the job's links (${links} links, ${missing} missing)`, fmt(t), fmt(t / p, 2)],
  ['correlation alone', fmt(t - p), fmt((t - p) / p, 2)],
])
