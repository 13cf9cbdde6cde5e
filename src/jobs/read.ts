/**
 * What a job is, read from the bucket the way the handlers write it: the job
 * record (job.json), the per-dataset status files, the cost records and the end
 * marker. `ncap jobs` and `ncap status` show this; `logs --follow` and `--wait`
 * watch it.
 */
import type {S3Client} from '@aws-sdk/client-s3'
import {activePrefix, groupCostPrefix, JOB_PREFIX, type JobPaths, jobPaths} from '../../lambda_repo/lib/layout.js'
import type {CostRecord, DatasetStatus, JobRecord} from '../../lambda_repo/lib/records.js'
import {Bucket} from '../../lambda_repo/lib/store.js'
import {NcapError} from '../errors.js'
import type {JobContext} from './context.js'

export type Outcome = 'running' | 'succeeded' | 'failed' | 'refused' | 'cancelled' | 'unknown'

export interface JobView {
  jobId: string
  group: string
  state: string
  outcome: Outcome
  ended: boolean
  created?: string
  endedAt?: string
  durationSeconds?: number
  datasets: {dataKey: string; status: string; instance?: string; reason?: string}[]
  instances: string[]
  costUsd: number
  paths: JobPaths
}

export async function listJobIds(s3: S3Client, bucket: string, group: string, outDir: string): Promise<string[]> {
  const {ListObjectsV2Command} = await import('@aws-sdk/client-s3')
  const ids: string[] = []
  let token: string | undefined
  do {
    const page = await s3.send(
      new ListObjectsV2Command({Bucket: bucket, Prefix: `${group}/${outDir}/`, Delimiter: '/', ContinuationToken: token}),
    )
    for (const p of page.CommonPrefixes ?? []) {
      const name = p.Prefix!.slice(`${group}/${outDir}/`.length).replace(/\/$/, '')
      if (name.startsWith(JOB_PREFIX)) ids.push(name)
    }
    token = page.NextContinuationToken
  } while (token)
  return ids.sort()
}

async function lastModified(s3: S3Client, bucket: string, key: string): Promise<Date | undefined> {
  const {HeadObjectCommand} = await import('@aws-sdk/client-s3')
  try {
    return (await s3.send(new HeadObjectCommand({Bucket: bucket, Key: key}))).LastModified
  } catch {
    return undefined
  }
}

async function costRecords(bucket: Bucket, ctx: JobContext, group: string, id: string): Promise<CostRecord[]> {
  const logDir = ctx.pipeline.instance.logDir
  const out: CostRecord[] = []
  for (const prefix of [activePrefix(logDir), groupCostPrefix(logDir, group)]) {
    const keys = await bucket.list(prefix).catch(() => [] as string[])
    for (const key of keys) {
      if (!key.endsWith('.json')) continue
      const record = await bucket.getJson<CostRecord>(key)
      if (record?.job === id) out.push(record)
    }
  }
  return out
}

export async function readJob(ctx: JobContext, group: string, id: string): Promise<JobView | undefined> {
  const bucket = new Bucket(ctx.s3, ctx.bucket)
  const paths = jobPaths(ctx.bucket, group, ctx.pipeline.instance.outDir, id)
  const record = await bucket.getJson<JobRecord>(paths.record)
  const certificate = record ? undefined : await bucket.getText(paths.certificate)
  if (!record && certificate === undefined) return undefined
  const statuses = await Promise.all((record?.datasets ?? []).map((d) => bucket.getJson<DatasetStatus>(d.statusKey)))
  const endAt = await lastModified(ctx.s3, ctx.bucket, paths.end)
  const costs = await costRecords(bucket, ctx, group, id)
  const datasets = (record?.datasets ?? []).map((d, i) => {
    const s = statuses[i]
    return {
      dataKey: d.dataKey,
      status: s?.status ?? 'NOT LAUNCHED',
      ...(d.instanceId ? {instance: d.instanceId} : {}),
      ...(s?.reason?.length ? {reason: s.reason[s.reason.length - 1]} : {}),
    }
  })
  const state = record?.state ?? 'unknown'
  const ended = endAt !== undefined || state === 'refused' || state === 'rolled back'
  let outcome: Outcome = 'running'
  if (state === 'refused') outcome = 'refused'
  else if (state === 'cancelled' && ended) outcome = 'cancelled'
  else if (state === 'rolled back') outcome = 'failed'
  else if (ended) outcome = datasets.length > 0 && datasets.every((d) => d.status === 'SUCCESS') ? 'succeeded' : 'failed'
  else if (!record) outcome = 'unknown'
  const created = record?.created
  const finish = endAt ?? (ended && record?.steps.length ? new Date(record.steps[record.steps.length - 1]!.at) : undefined)
  const durationSeconds = created ? Math.max(0, ((finish ?? new Date()).getTime() - Date.parse(created)) / 1000) : undefined
  return {
    jobId: id,
    group,
    state,
    outcome,
    ended,
    ...(created ? {created} : {}),
    ...(finish ? {endedAt: finish.toISOString()} : {}),
    ...(durationSeconds !== undefined ? {durationSeconds: Math.round(durationSeconds * 10) / 10} : {}),
    datasets,
    instances: (record?.datasets ?? []).map((d) => d.instanceId).filter((x): x is string => Boolean(x)),
    costUsd: Math.round(costs.reduce((sum, c) => sum + (c.cost ?? 0), 0) * 1e4) / 1e4,
    paths,
  }
}

/** Every job of the pipeline (or of one group), oldest first. */
export async function listJobs(ctx: JobContext, group?: string): Promise<JobView[]> {
  const groups = group ? [group] : ctx.pipeline.groups.map((g) => g.name)
  const out: JobView[] = []
  for (const g of groups) {
    for (const id of await listJobIds(ctx.s3, ctx.bucket, g, ctx.pipeline.instance.outDir)) {
      const view = await readJob(ctx, g, id)
      if (view) out.push(view)
    }
  }
  return out.sort((a, b) => (a.created ?? a.jobId).localeCompare(b.created ?? b.jobId))
}

/** A job by id, in whichever group holds it; the latest job when no id is given. */
export async function findJob(ctx: JobContext, id: string | undefined, group?: string): Promise<JobView> {
  if (id === undefined) {
    const all = await listJobs(ctx, group)
    const latest = all[all.length - 1]
    if (!latest) throw new NcapError(`pipeline ${ctx.pipeline.name} has no jobs yet`, {code: 'NoJobs', suggestions: ['ncap submit FILE']})
    return latest
  }
  const groups = group ? [group] : ctx.pipeline.groups.map((g) => g.name)
  for (const g of groups) {
    const view = await readJob(ctx, g, id)
    if (view) return view
  }
  throw new NcapError(`no job ${id} in pipeline ${ctx.pipeline.name} (groups ${groups.join(', ')})`, {
    code: 'NoSuchJob',
    suggestions: ['ncap jobs'],
  })
}
