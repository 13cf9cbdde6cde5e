/**
 * The JSON records of a job: the per-dataset status file (NeuroCAAS's fields),
 * the cost record of an instance, and the job record the handlers share.
 */
export type DatasetStatusValue = 'INITIALIZING' | 'IN PROGRESS' | 'SUCCESS' | 'FAILED'
export const FINAL_STATUSES: readonly DatasetStatusValue[] = ['SUCCESS', 'FAILED']

/** `<job>/logs/DATASET_NAME:<basename>_STATUS.txt` */
export interface DatasetStatus {
  status: DatasetStatusValue
  /** Why it is in this state, newest last (NeuroCAAS keeps a list). */
  reason: string[]
  /** The tail of the command's standard output and error. */
  stdout: string
  stderr: string
  input: string
  config: string
  instance: string
  command: string
  commandId?: string
  job: string
  /** ISO times. */
  job_start: string
  job_finish?: string
  /** When this file was last rewritten. */
  time: string
}

export function isFinal(status: DatasetStatus | undefined): boolean {
  return status !== undefined && FINAL_STATUSES.includes(status.status)
}

/** `<LOGDIR>/active/<instance>.json`, moved to `<LOGDIR>/<group>/` when the instance ends. */
export interface CostRecord {
  instanceId: string
  pipeline: string
  group: string
  job: string
  /** The job folder, `<group>/<OUTDIR>/<job>/`. */
  jobPrefix: string
  dataset: string
  instanceType: string
  /** USD per hour used for the cost. */
  price: number
  /** The projected duration in minutes (the config's __duration__). */
  durationMinutes: number
  start: string
  end?: string
  /** USD: price × hours between start and end (or the projection while active). */
  cost: number
  commandId?: string
  endReason?: string
}

export function costOf(record: Pick<CostRecord, 'price' | 'start'>, end: Date): number {
  const hours = Math.max(0, end.getTime() - Date.parse(record.start)) / 3_600_000
  return Math.round(record.price * hours * 1e6) / 1e6
}

export interface JobStep {
  /** ISO time the step ended. */
  at: string
  /** Milliseconds since the handler started. */
  elapsedMs: number
  message: string
}

export interface JobDataset {
  dataKey: string
  statusKey: string
  instanceId?: string
  commandId?: string
}

export type JobState = 'starting' | 'running' | 'refused' | 'rolled back' | 'cancelled' | 'ended' | 'dry run'

/** `<job>/logs/job.json`: what the submit handler did, read by the monitor and the CLI. */
export interface JobRecord {
  version: 1
  jobId: string
  pipeline: string
  bucket: string
  group: string
  submitKey: string
  configKey?: string
  instanceType?: string
  ruleName?: string
  state: JobState
  created: string
  steps: JobStep[]
  datasets: JobDataset[]
  cancelled?: {by: string; at: string}
}
