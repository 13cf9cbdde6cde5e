/**
 * The certificate, `<job>/logs/certificate.txt`: the plain text a user reads
 * (with `ncap logs`), rewritten as the job goes, laid out as NeuroCAAS's: a
 * per-dataset monitoring block (status, time, last command) above the job
 * manager's steps, each with its elapsed time.
 */
import type {DatasetStatus, JobRecord} from './records.js'

const RULE = '='.repeat(72)

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`
}

export function renderCertificate(job: JobRecord, statuses: (DatasetStatus | undefined)[]): string {
  const lines: string[] = []
  lines.push(RULE)
  lines.push(`ncap job ${job.jobId}`)
  lines.push(`pipeline ${job.pipeline}, group ${job.group}, submitted as s3://${job.bucket}/${job.submitKey}`)
  lines.push(`state: ${job.state.toUpperCase()}${job.cancelled ? ` (cancelled by ${job.cancelled.by} at ${job.cancelled.at})` : ''}`)
  lines.push(RULE)
  lines.push('DATASET MONITORING')
  if (job.datasets.length === 0) lines.push('  (no dataset launched)')
  job.datasets.forEach((d, i) => {
    const s = statuses[i]
    lines.push(`DATASET: ${d.dataKey}`)
    lines.push(`  STATUS: ${s?.status ?? 'NOT LAUNCHED'}`)
    lines.push(`  INSTANCE: ${d.instanceId ?? '-'}`)
    lines.push(`  TIME: ${s?.time ?? '-'}`)
    if (s && s.reason.length > 0) lines.push(`  REASON: ${s.reason[s.reason.length - 1]}`)
    const last = lastLine(s?.stdout) ?? lastLine(s?.stderr)
    lines.push(`  LAST COMMAND OUTPUT: ${last ?? '-'}`)
  })
  lines.push(RULE)
  lines.push('JOB MANAGER')
  for (const step of job.steps) lines.push(`[${step.at}] (+${seconds(step.elapsedMs)}) ${step.message}`)
  lines.push(RULE)
  return `${lines.join('\n')}\n`
}

function lastLine(text: string | undefined): string | undefined {
  if (!text) return undefined
  const lines = text.split('\n').filter((l) => l.trim().length > 0)
  return lines[lines.length - 1]
}

/** The tail of a command's output kept in a status file. */
export function tail(text: string, maxLines = 40, maxChars = 4000): string {
  const lines = text.replace(/\s+$/, '').split('\n')
  let out = lines.slice(-maxLines).join('\n')
  if (out.length > maxChars) out = out.slice(out.length - maxChars)
  return out
}
