/**
 * The emulator's event record: one line for everything it did and why, so
 * "nothing happened" is never silent — every S3 notification delivered or not
 * (and why), every rule match and target invocation, every Lambda invoke and its
 * outcome, instance state changes, SSM command transitions, every IAM denial
 * with the action, resource and reason.
 *
 * Kept as JSON lines in `${stateDir}/events.jsonl`, appended as they happen and
 * bounded in size: past MAX_BYTES the file is rotated to events.1.jsonl (one
 * older generation kept). `ncap emulator events` reads the files directly, so
 * the record is readable whether or not the emulator runs.
 */
import {appendFile, mkdir, readFile, rename, stat} from 'node:fs/promises'
import {join} from 'node:path'

export type EventOutcome = 'ok' | 'delivered' | 'skipped' | 'failed' | 'denied' | 'error' | 'info'

export interface EmulatorEvent {
  /** ISO time on the emulator's clock. */
  time: string
  /** Increasing within one emulator process. */
  seq: number
  /** The service that acted: s3, lambda, events, ec2, ssm, iam, cloudformation, logs, … */
  service: string
  /** What kind of thing happened, dotted: s3.notification, lambda.invoke, events.rule-match, ec2.state-change, ssm.command, iam.denied, … */
  kind: string
  outcome: EventOutcome
  /** One human line: what happened. */
  summary: string
  /** Why (for anything not delivered, skipped, failed or denied). */
  reason?: string
  /** The ARN or id the event is about (function, rule, instance, command, bucket/key). */
  resource?: string
  /** Ids that tie a chain together (requestId, jobId, instanceId, commandId, bucket, key). */
  correlation?: Record<string, string>
  /** Anything else worth keeping (small). */
  detail?: Record<string, unknown>
}

export type NewEvent = Omit<EmulatorEvent, 'time' | 'seq'> & {time?: string}

export const eventsPath = (stateDir: string): string => join(stateDir, 'events.jsonl')
export const olderEventsPath = (stateDir: string): string => join(stateDir, 'events.1.jsonl')

/** Past this size the record is rotated (one older generation kept): about 20 MB on disk at most. */
export const MAX_BYTES = 10 * 1024 * 1024

export class EventRecord {
  private seq = 0
  private pending: string[] = []
  private flushing: Promise<void> | undefined
  private size = -1
  private readonly listeners = new Set<(event: EmulatorEvent) => void>()

  constructor(
    private readonly stateDir: string | undefined,
    private readonly now: () => number = Date.now,
    private readonly maxBytes = MAX_BYTES,
  ) {}

  /** Records one event; written to disk shortly after, in order. Returns the event as recorded. */
  record(event: NewEvent): EmulatorEvent {
    const full: EmulatorEvent = {time: event.time ?? new Date(this.now()).toISOString(), seq: ++this.seq, ...event} as EmulatorEvent
    if (event.time === undefined) full.time = new Date(this.now()).toISOString()
    for (const listener of this.listeners) {
      try {
        listener(full)
      } catch {
        // A listener's failure must not stop the record.
      }
    }
    if (this.stateDir) {
      this.pending.push(`${JSON.stringify(full)}\n`)
      this.flushing ??= this.flush()
    }
    return full
  }

  /** Live events as they are recorded (tests, the `events` control operation). */
  subscribe(listener: (event: EmulatorEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Waits until everything recorded so far is on disk. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.join('')
        this.pending = []
        const path = eventsPath(this.stateDir!)
        if (this.size < 0) {
          // The state folder may not exist yet when the first event comes (a server started on a new folder).
          await mkdir(this.stateDir!, {recursive: true})
          this.size = await stat(path).then(
            (s) => s.size,
            () => 0,
          )
        }
        if (this.size + batch.length > this.maxBytes && this.size > 0) {
          await rename(path, olderEventsPath(this.stateDir!)).catch(() => undefined)
          this.size = 0
        }
        await appendFile(path, batch)
        this.size += Buffer.byteLength(batch)
      }
    } catch (error) {
      process.stderr.write(`emulator: could not write the event record: ${(error as Error).message}\n`)
    } finally {
      this.flushing = undefined
    }
  }
}

/** Reads the record of a state folder, oldest first (both generations); bad lines are skipped. */
export async function readEvents(stateDir: string): Promise<EmulatorEvent[]> {
  const out: EmulatorEvent[] = []
  for (const path of [olderEventsPath(stateDir), eventsPath(stateDir)]) {
    const text = await readFile(path, 'utf8').catch(() => '')
    for (const line of text.split('\n')) {
      if (!line) continue
      try {
        out.push(JSON.parse(line) as EmulatorEvent)
      } catch {
        // A line cut by a crash mid-append.
      }
    }
  }
  return out
}

/** One line for a terminal: time, service, outcome, summary, reason. */
export function formatEvent(event: EmulatorEvent): string {
  const reason = event.reason ? ` — ${event.reason}` : ''
  return `${event.time}  ${event.service.padEnd(14)} ${event.outcome.padEnd(9)} ${event.summary}${reason}`
}
