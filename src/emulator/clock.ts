/**
 * The emulator's one clock. Everything the emulator decides on time (schedules,
 * Lambda and SSM timeouts, instance ages, how long terminated instances stay
 * listed, log retention) reads `now()` here, and `advance()` moves it forward so
 * a test never sleeps for a `rate(1 minute)`. The clock is the host's clock plus
 * an offset that only grows; the offset is kept in `${stateDir}/clock.json`, so
 * a restarted emulator resumes at the time it had reached.
 *
 * Timers are set for an instant on this clock: they fire when real time reaches
 * it or when an advance passes it, whichever comes first, in due order.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {writeJsonAtomic} from '../store/atomic.js'

export interface ClockTimer {
  readonly dueAt: number
  cancel(): void
}

interface PendingTimer {
  id: number
  dueAt: number
  fire: () => unknown
  handle?: NodeJS.Timeout
  done: boolean
}

export interface AdvanceResult {
  /** The clock after the advance, epoch milliseconds. */
  now: number
  offsetMs: number
  /** How many timers fell due and fired during the advance. */
  fired: number
}

/** setTimeout cannot wait longer than 2^31-1 ms; longer timers re-arm. */
const MAX_TIMEOUT = 2_147_483_647

export const clockPath = (stateDir: string): string => join(stateDir, 'clock.json')

export class EmulatorClock {
  private offset: number
  private readonly timers = new Map<number, PendingTimer>()
  private nextId = 1
  private readonly listeners = new Set<(offsetMs: number) => void>()

  constructor(
    private readonly stateDir?: string,
    offsetMs = 0,
  ) {
    this.offset = offsetMs
  }

  /** The clock of a state folder, resumed from its clock.json (0 offset when none). */
  static open(stateDir: string): EmulatorClock {
    let offset = 0
    try {
      const saved = JSON.parse(readFileSync(clockPath(stateDir), 'utf8')) as {offsetMs?: unknown}
      if (typeof saved.offsetMs === 'number' && Number.isFinite(saved.offsetMs) && saved.offsetMs > 0) offset = saved.offsetMs
    } catch {
      // No clock yet (or a foreign file): start at the host's time.
    }
    return new EmulatorClock(stateDir, offset)
  }

  /** Epoch milliseconds on the emulator's clock. */
  now(): number {
    return Date.now() + this.offset
  }

  date(): Date {
    return new Date(this.now())
  }

  /** How far the emulator's clock is ahead of the host's. Lambda workers and instances get it to agree. */
  get offsetMs(): number {
    return this.offset
  }

  /** Calls `fire` once the clock reaches `dueAt` (epoch ms on this clock). */
  at(dueAt: number, fire: () => unknown): ClockTimer {
    const timer: PendingTimer = {id: this.nextId++, dueAt, fire, done: false}
    this.timers.set(timer.id, timer)
    this.arm(timer)
    return {
      dueAt,
      cancel: () => {
        timer.done = true
        if (timer.handle) clearTimeout(timer.handle)
        this.timers.delete(timer.id)
      },
    }
  }

  /** Calls `fire` after `ms` on this clock. */
  after(ms: number, fire: () => unknown): ClockTimer {
    return this.at(this.now() + ms, fire)
  }

  /** Told the new offset after every advance (workers and instances that mirror the clock listen here). */
  onAdvance(listener: (offsetMs: number) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Moves the clock forward by `ms`, firing every timer that falls due in due
   * order, and resolves once each fired callback (and the promises they return)
   * has settled, or after `settleTimeoutMs`, so the caller sees their effects.
   */
  async advance(ms: number, settleTimeoutMs = 60_000): Promise<AdvanceResult> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`the clock only moves forward; got ${ms} ms`)
    const target = this.now() + ms
    let fired = 0
    const settling: Promise<unknown>[] = []
    // Step through due timers in order: a callback may set new timers that also fall due before target.
    for (;;) {
      const due = [...this.timers.values()].filter((t) => !t.done && t.dueAt <= target).sort((a, b) => a.dueAt - b.dueAt || a.id - b.id)
      const next = due[0]
      if (!next) break
      if (next.dueAt > this.now()) this.offset += next.dueAt - this.now()
      settling.push(this.fire(next))
      fired++
      // Let the callback's synchronous follow-ups (re-armed schedules) register before looking again.
      await Promise.resolve()
    }
    if (target > this.now()) this.offset += target - this.now()
    await this.save()
    for (const listener of this.listeners) listener(this.offset)
    await Promise.race([Promise.allSettled(settling), new Promise((done) => setTimeout(done, settleTimeoutMs).unref())])
    return {now: this.now(), offsetMs: this.offset, fired}
  }

  /** Stops every pending timer (the emulator is closing). */
  close(): void {
    for (const timer of this.timers.values()) {
      timer.done = true
      if (timer.handle) clearTimeout(timer.handle)
    }
    this.timers.clear()
  }

  private arm(timer: PendingTimer): void {
    if (timer.handle) clearTimeout(timer.handle)
    const wait = Math.max(0, timer.dueAt - this.now())
    timer.handle = setTimeout(
      () => {
        if (timer.done) return
        if (timer.dueAt > this.now()) this.arm(timer)
        else void this.fire(timer)
      },
      Math.min(wait, MAX_TIMEOUT),
    )
    timer.handle.unref()
  }

  private fire(timer: PendingTimer): Promise<unknown> {
    timer.done = true
    if (timer.handle) clearTimeout(timer.handle)
    this.timers.delete(timer.id)
    try {
      return Promise.resolve(timer.fire()).catch(() => undefined)
    } catch {
      return Promise.resolve()
    }
  }

  private async save(): Promise<void> {
    if (this.stateDir) await writeJsonAtomic(clockPath(this.stateDir), {offsetMs: this.offset})
  }
}

const UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

/** Parses a duration such as `25m`, `90s`, `1h30m`, `2d` or a bare number of seconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000
  const parts = trimmed.match(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)
  if (!parts || parts.join('') !== trimmed) return undefined
  let total = 0
  for (const part of parts) {
    const [, amount, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(part)!
    total += Number(amount) * UNITS[unit!]!
  }
  return total
}
