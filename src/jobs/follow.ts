/**
 * `ncap logs`: a job's story as it happens — the job manager's lines from the
 * certificate, each dataset's status changes (with the tail of its command's
 * output when it ends), and the CloudWatch logs of the submit and monitor
 * functions that mention the job, interleaved by time. With --follow it polls
 * (every 150 ms on an emulator, 2 s on AWS), prints each line once, and ends
 * when the job ends, with the job's outcome.
 */

import type {DatasetStatus, JobRecord} from '../../lambda_repo/lib/records.js'
import {Bucket} from '../../lambda_repo/lib/store.js'
import {createClient} from '../cloud/client.js'
import {functionName} from '../template/names.js'
import type {JobContext} from './context.js'
import {type JobView, readJob} from './read.js'

export interface LogLine {
  time: string
  source: 'certificate' | 'status' | 'submit' | 'monitor'
  dataset?: string
  text: string
}

export interface FollowOptions {
  follow: boolean
  /** Only lines at or after this instant. */
  since?: Date
  filter?: string
  onLine(line: LogLine): void
  /** Stops following (Ctrl-C). */
  signal?: AbortSignal
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

export async function followJob(ctx: JobContext, start: JobView, options: FollowOptions): Promise<JobView> {
  const bucket = new Bucket(ctx.s3, ctx.bucket)
  const printed = new Set<string>()
  const statusSeen = new Map<string, string>()
  const logTokens = new Map<string, number>()
  const {CloudWatchLogsClient, FilterLogEventsCommand} = await import('@aws-sdk/client-cloudwatch-logs')
  const logs = createClient(CloudWatchLogsClient, ctx.target)
  const groups: [LogLine['source'], string][] = [
    ['submit', `/aws/lambda/${functionName(ctx.pipeline.name, 'submit')}`],
    ['monitor', `/aws/lambda/${functionName(ctx.pipeline.name, 'monitor')}`],
  ]
  const startMs = start.created ? Date.parse(start.created) - 2000 : Date.now() - 3_600_000
  const emit = (lines: LogLine[]) => {
    lines.sort((a, b) => a.time.localeCompare(b.time))
    for (const line of lines) {
      if (options.since && Date.parse(line.time) < options.since.getTime()) continue
      if (options.filter && !line.text.includes(options.filter)) continue
      options.onLine(line)
    }
  }
  const poll = async (view: JobView): Promise<void> => {
    const fresh: LogLine[] = []
    const record = await bucket.getJson<JobRecord>(view.paths.record)
    for (const step of record?.steps ?? []) {
      const key = `step:${step.at}:${step.message}`
      if (printed.has(key)) continue
      printed.add(key)
      fresh.push({time: step.at, source: 'certificate', text: step.message})
    }
    for (const d of record?.datasets ?? []) {
      const status = await bucket.getJson<DatasetStatus>(d.statusKey)
      if (!status) continue
      const reason = status.reason[status.reason.length - 1]
      const seen = `${status.status}|${reason ?? ''}`
      if (statusSeen.get(d.dataKey) === seen) continue
      statusSeen.set(d.dataKey, seen)
      fresh.push({
        time: status.time,
        source: 'status',
        dataset: d.dataKey,
        text: `${d.dataKey}: ${status.status}${reason ? ` (${reason})` : ''}`,
      })
      if (status.status === 'SUCCESS' || status.status === 'FAILED') {
        const output = [status.stdout, status.stderr]
          .filter((s) => s && s.trim().length > 0)
          .join('\n')
          .trimEnd()
        if (output) {
          const tail = output.split('\n').slice(-10)
          for (const line of tail) fresh.push({time: status.time, source: 'status', dataset: d.dataKey, text: `  | ${line}`})
        }
      }
    }
    for (const [source, group] of groups) {
      let token: string | undefined
      const from = logTokens.get(group) ?? startMs
      let newest = from
      try {
        do {
          const page = await logs.send(
            new FilterLogEventsCommand({logGroupName: group, startTime: from, filterPattern: `"${view.jobId}"`, nextToken: token}),
          )
          for (const event of page.events ?? []) {
            const key = `${group}:${event.eventId ?? `${event.timestamp}:${event.message}`}`
            if (printed.has(key)) continue
            printed.add(key)
            newest = Math.max(newest, event.timestamp ?? 0)
            fresh.push({time: new Date(event.timestamp ?? Date.now()).toISOString(), source, text: (event.message ?? '').trimEnd()})
          }
          token = page.nextToken
        } while (token)
      } catch {
        // No log group yet, or no right to read it (a lab member's profile): the bucket's records still tell the story.
      }
      logTokens.set(group, newest)
    }
    emit(fresh)
  }
  let view = start
  for (;;) {
    await poll(view)
    if (!options.follow || view.ended || options.signal?.aborted) break
    await sleep(ctx.pollMs)
    view = (await readJob(ctx, view.group, view.jobId)) ?? view
    if (view.ended) {
      await poll(view)
      break
    }
  }
  return view
}

export function formatLogLine(line: LogLine): string {
  const tag = line.source === 'certificate' ? 'job' : line.source
  return `${line.time.slice(11, 23)}  ${tag.padEnd(7)} ${line.text}`
}
