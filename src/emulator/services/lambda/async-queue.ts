/**
 * Asynchronous invocations (InvocationType Event, and S3/EventBridge deliveries):
 * kept durably in `${stateDir}/lambda/async.json` until answered, run at once,
 * and on error retried twice with AWS's back-off — about one minute, then two —
 * on the emulator's clock, so `ncap emulator clock advance 3m` sees both
 * retries. A restarted emulator resumes what it held (an attempt cut short by a
 * crash runs again: delivery is at least once, as on AWS). Events older than
 * AWS's six-hour maximum age are dropped, and said so in the event record.
 */
import {join} from 'node:path'
import {readJsonIfExists, writeJsonAtomic} from '../../../store/atomic.js'
import type {ClockTimer, EmulatorClock} from '../../clock.js'

export interface AsyncEntry {
  requestId: string
  region: string
  functionName: string
  /** The event as JSON text. */
  payload: string
  principal: string
  /** 0 for the first attempt, then 1 and 2 for the retries. */
  attempt: number
  dueAt: number
  enqueuedAt: number
  correlation?: Record<string, string>
}

/** Seconds after the first and second failed attempts (AWS: "one minute, then two minutes"). */
export const RETRY_DELAYS_MS = [60_000, 120_000]
export const MAXIMUM_EVENT_AGE_MS = 6 * 3600_000

export class AsyncQueue {
  private readonly entries = new Map<string, AsyncEntry>()
  private readonly timers = new Map<string, ClockTimer>()
  private writing: Promise<void> = Promise.resolve()
  private closed = false
  /** Told when an entry is dropped for good after its last retry or for age. */
  onDiscard?: (entry: AsyncEntry, reason: string) => void

  constructor(
    private readonly dir: string,
    private readonly clock: EmulatorClock,
    /** One attempt; resolves true when the entry is done with. */
    private readonly attempt: (entry: AsyncEntry) => Promise<boolean>,
  ) {}

  private get file(): string {
    return join(this.dir, 'async.json')
  }

  get size(): number {
    return this.entries.size
  }

  pending(): AsyncEntry[] {
    return [...this.entries.values()]
  }

  /** The write that has not started yet: changes made before it starts are in it (one fsync for a burst). */
  private nextWrite: Promise<void> | undefined

  private save(): Promise<void> {
    if (this.nextWrite) return this.nextWrite
    const next = this.writing.then(() => {
      this.nextWrite = undefined
      return writeJsonAtomic(this.file, {entries: [...this.entries.values()]}, 0o600)
    })
    this.nextWrite = next
    this.writing = next.catch(() => undefined)
    return next
  }

  flush(): Promise<void> {
    return this.writing
  }

  /**
   * Queues an entry; resolves once it is on disk. Its first attempt starts meanwhile: the attempt's own
   * answer is written after this write (writes keep their order), and a crash before it loses only an
   * entry whose queuing was never acknowledged.
   */
  async add(entry: AsyncEntry): Promise<void> {
    this.entries.set(entry.requestId, entry)
    const saved = this.save()
    this.schedule(entry)
    await saved
  }

  /** Reloads what a previous run held and schedules it (due entries run now). */
  async resume(): Promise<void> {
    const saved = await readJsonIfExists<{entries?: AsyncEntry[]}>(this.file).catch(() => undefined)
    for (const entry of saved?.entries ?? []) {
      if (this.entries.has(entry.requestId)) continue
      this.entries.set(entry.requestId, entry)
      this.schedule(entry)
    }
  }

  private schedule(entry: AsyncEntry): void {
    if (this.closed) return
    this.timers.get(entry.requestId)?.cancel()
    this.timers.set(
      entry.requestId,
      this.clock.at(entry.dueAt, () => this.run(entry)),
    )
  }

  private async run(entry: AsyncEntry): Promise<void> {
    this.timers.delete(entry.requestId)
    if (this.closed || !this.entries.has(entry.requestId)) return
    if (this.clock.now() - entry.enqueuedAt > MAXIMUM_EVENT_AGE_MS) {
      this.entries.delete(entry.requestId)
      await this.save()
      this.onDiscard?.(entry, 'the event is older than the maximum event age (6 hours)')
      return
    }
    const done = await this.attempt(entry)
    if (this.closed) return
    if (done) {
      this.entries.delete(entry.requestId)
      await this.save()
      return
    }
    const delay = RETRY_DELAYS_MS[entry.attempt]
    if (delay === undefined) {
      this.entries.delete(entry.requestId)
      await this.save()
      this.onDiscard?.(entry, `the function failed on its first attempt and on ${RETRY_DELAYS_MS.length} retries`)
      return
    }
    const next: AsyncEntry = {...entry, attempt: entry.attempt + 1, dueAt: this.clock.now() + delay}
    this.entries.set(entry.requestId, next)
    await this.save()
    this.schedule(next)
  }

  close(): void {
    this.closed = true
    for (const timer of this.timers.values()) timer.cancel()
    this.timers.clear()
  }
}
