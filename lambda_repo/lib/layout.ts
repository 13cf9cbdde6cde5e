/**
 * The bucket layout of the job protocol (DESIGN §4), NeuroCAAS-compatible: every
 * key a handler or the CLI reads or writes is built here and nowhere else.
 *
 *   <group>/<INDIR>/ <group>/configs/ <group>/submissions/
 *   <group>/<OUTDIR>/<job>/logs/certificate.txt
 *   <group>/<OUTDIR>/<job>/logs/DATASET_NAME:<basename>_STATUS.txt
 *   <group>/<OUTDIR>/<job>/logs/job.json, ending.json (ncap's record; the claim of the monitor ending it)
 *   <group>/<OUTDIR>/<job>/process_results/ (end.txt = finished)
 *   <group>/<OUTDIR>/<job>/internal_ec2_logs/ (SSM command output)
 *   <LOGDIR>/active/<instance>.json -> <LOGDIR>/<group>/<instance>.json
 */

export const JOB_PREFIX = 'job__'
/** The job folder's own log folder: NeuroCAAS names it `logs` whatever LOGDIR is. */
export const JOB_LOGS = 'logs'
export const PROCESS_RESULTS = 'process_results'
export const SSM_LOGS = 'internal_ec2_logs'
export const END_FILE = 'end.txt'
export const CERTIFICATE_FILE = 'certificate.txt'
export const JOB_RECORD_FILE = 'job.json'
/** Written once, by the one monitor that ends the job (several can see its last instance end at once). */
export const END_CLAIM_FILE = 'ending.json'
export const ACTIVE_FOLDER = 'active'

/** `job__<bucket>_<timestamp>`, NeuroCAAS's job id. */
export function jobId(bucket: string, timestamp: string): string {
  return `${JOB_PREFIX}${bucket}_${timestamp}`
}

/** The timestamp part of a job id of this bucket, or undefined when it is not one. */
export function jobTimestamp(bucket: string, id: string): string | undefined {
  const head = `${JOB_PREFIX}${bucket}_`
  return id.startsWith(head) && id.length > head.length ? id.slice(head.length) : undefined
}

/** The group a key belongs to: its first path segment. */
export function groupOf(key: string): string {
  const slash = key.indexOf('/')
  return slash <= 0 ? '' : key.slice(0, slash)
}

/** The last segment of a key (a folder key `a/b/` gives `b`). */
export function basename(key: string): string {
  const parts = key.split('/').filter((p) => p.length > 0)
  return parts[parts.length - 1] ?? ''
}

/** An S3 event's key as S3 sends it (URL-encoded, spaces as '+') back to the real key. */
export function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '))
}

/** An S3 key as S3 writes it into event notifications. */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

export interface JobPaths {
  bucket: string
  group: string
  jobId: string
  /** `<group>/<OUTDIR>/<job>/` */
  prefix: string
  /** COMMAND's third value: `<OUTDIR>/<job>`, relative to the group folder. */
  resultPath: string
  certificate: string
  record: string
  processResults: string
  end: string
  /** The claim of the monitor that ends the job (If-None-Match: *, so only one does). */
  endClaim: string
  /** SSM's OutputS3KeyPrefix (no trailing slash: SSM adds `/<command>/<instance>/…`). */
  ssmOutputPrefix: string
}

export function jobPaths(bucket: string, group: string, outDir: string, id: string): JobPaths {
  const prefix = `${group}/${outDir}/${id}/`
  return {
    bucket,
    group,
    jobId: id,
    prefix,
    resultPath: `${outDir}/${id}`,
    certificate: `${prefix}${JOB_LOGS}/${CERTIFICATE_FILE}`,
    record: `${prefix}${JOB_LOGS}/${JOB_RECORD_FILE}`,
    processResults: `${prefix}${PROCESS_RESULTS}/`,
    end: `${prefix}${PROCESS_RESULTS}/${END_FILE}`,
    endClaim: `${prefix}${JOB_LOGS}/${END_CLAIM_FILE}`,
    ssmOutputPrefix: `${prefix}${SSM_LOGS}`,
  }
}

/** NeuroCAAS's per-dataset status file: `<job>/logs/DATASET_NAME:<basename>_STATUS.txt`. */
export function statusKey(job: JobPaths, dataKey: string): string {
  return `${job.prefix}${JOB_LOGS}/DATASET_NAME:${basename(dataKey)}_STATUS.txt`
}

/** Where SSM (AWS's layout) writes a command's output for one instance. */
export function ssmOutputKey(job: JobPaths, commandId: string, instanceId: string, stream: 'stdout' | 'stderr'): string {
  return `${job.ssmOutputPrefix}/${commandId}/${instanceId}/awsrunShellScript/0.awsrunShellScript/${stream}`
}

export function activeRecordKey(logDir: string, instanceId: string): string {
  return `${logDir}/${ACTIVE_FOLDER}/${instanceId}.json`
}

export function activePrefix(logDir: string): string {
  return `${logDir}/${ACTIVE_FOLDER}/`
}

/** Where a cost record goes once its instance ended. */
export function groupCostKey(logDir: string, group: string, instanceId: string): string {
  return `${logDir}/${group}/${instanceId}.json`
}

export function groupCostPrefix(logDir: string, group: string): string {
  return `${logDir}/${group}/`
}

/** SSM Parameter Store name of a group's budget (USD). */
export function budgetParameter(pipeline: string, group: string): string {
  return `/ncap/${pipeline}/budgets/${group}`
}

/**
 * The job's EventBridge rule: the pipeline's rule prefix (which the roles are
 * scoped to) and the timestamp, within EventBridge's 64 characters and its
 * character set.
 */
export function jobRuleName(rulePrefix: string, timestamp: string): string {
  const safe = timestamp.replace(/[^A-Za-z0-9._-]/g, '-')
  const name = `${rulePrefix}_${safe}`
  if (name.length <= 64) return name
  return `${name.slice(0, 64 - 9)}-${fnv1a(name)}`
}

/** A short stable hash without node:crypto (keeps the bundle free of extras). */
function fnv1a(text: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h.toString(16).padStart(8, '0')
}
