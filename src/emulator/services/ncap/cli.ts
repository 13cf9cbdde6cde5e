/**
 * What `ncap emulator clock [advance D]` and `ncap emulator events` do, kept out
 * of the commands: find the running emulator, speak its control API, read and
 * follow the event record of a state folder (whether or not the emulator runs).
 */
import {open, stat} from 'node:fs/promises'
import {NcapError, UsageError} from '../../../errors.js'
import {EmulatorClock, parseDuration} from '../../clock.js'
import {type EmulatorEvent, eventsPath, formatEvent, olderEventsPath, readEvents} from '../../event-record.js'
import {emulatorStatus} from '../../lifecycle.js'
import {type AdvanceAnswer, type ClockAnswer, ControlError, callControl} from './client.js'

/** The endpoint of the emulator serving a state folder; exit 1 with a clear message when none runs. */
export async function runningEndpoint(stateDir: string): Promise<string> {
  const status = await emulatorStatus(stateDir)
  if (!status.running) {
    throw new NcapError(`No emulator is running on the state folder ${stateDir}${status.reason ? ` (${status.reason})` : ''}.`, {
      code: 'EmulatorNotRunning',
      exitCode: 1,
      suggestions: [`ncap emulator start${stateDir ? ` --state-dir ${stateDir}` : ''}`],
    })
  }
  return status.endpoint
}

async function control<T>(stateDir: string, operation: string, input: Record<string, unknown> = {}): Promise<T> {
  const endpoint = await runningEndpoint(stateDir)
  try {
    return await callControl<T>(endpoint, operation, input)
  } catch (error) {
    if (error instanceof ControlError)
      throw new NcapError(`The emulator refused ${operation}: ${error.code}: ${error.message}`, {code: error.code})
    throw new NcapError(`Could not reach the emulator at ${endpoint}: ${(error as Error).message}`, {code: 'EmulatorUnreachable'})
  }
}

/** "25m 0s", "1h 30m", "2d 3h", "0s". */
export function formatOffset(ms: number): string {
  let rest = Math.round(ms / 1000)
  const parts: string[] = []
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`)
      rest %= size
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}s`)
  return parts.join(' ')
}

export interface ClockView {
  now: string
  offsetMs: number
  /** The host's time when asked. */
  hostNow: string
}

export async function readClock(stateDir: string): Promise<ClockView> {
  const answer = await control<ClockAnswer>(stateDir, 'GetClock')
  return {now: answer.Now, offsetMs: answer.OffsetMs, hostNow: new Date().toISOString()}
}

export function describeClock(view: ClockView): string {
  return view.offsetMs > 0 ? `${view.now} (${formatOffset(view.offsetMs)} ahead of the host)` : `${view.now} (the host's time)`
}

export interface AdvanceView {
  advancedMs: number
  now: string
  offsetMs: number
  timersFired: number
  events: EmulatorEvent[]
}

export async function advanceClock(stateDir: string, duration: string): Promise<AdvanceView> {
  const ms = parseDuration(duration)
  if (ms === undefined) {
    throw new UsageError(`"${duration}" is not a duration.`, {
      suggestions: ['ncap emulator clock advance 25m', 'ncap emulator clock advance 1h30m', 'ncap emulator clock advance 90s'],
    })
  }
  const answer = await control<AdvanceAnswer>(stateDir, 'AdvanceClock', {Milliseconds: ms})
  const events = (answer.Events ?? []).filter((e) => e.kind !== 'clock.advance')
  return {advancedMs: ms, now: answer.Now, offsetMs: answer.OffsetMs, timersFired: answer.TimersFired, events}
}

export interface EventFilter {
  service?: string
  /** Only events at or after this instant (epoch ms on the emulator's clock). */
  since?: number
}

/** `--since 10m` as an instant on the state folder's clock (which runs whether or not the emulator does). */
export function sinceInstant(stateDir: string, since: string | undefined): number | undefined {
  if (since === undefined) return undefined
  const ms = parseDuration(since)
  if (ms === undefined) throw new UsageError(`--since "${since}" is not a duration.`, {suggestions: ['--since 10m', '--since 1h']})
  return EmulatorClock.open(stateDir).now() - ms
}

export function matchesFilter(event: EmulatorEvent, filter: EventFilter): boolean {
  if (filter.service && event.service !== filter.service && !event.kind.startsWith(`${filter.service}.`)) return false
  if (filter.since !== undefined && Date.parse(event.time) < filter.since) return false
  return true
}

export async function listEvents(stateDir: string, filter: EventFilter): Promise<EmulatorEvent[]> {
  return (await readEvents(stateDir)).filter((e) => matchesFilter(e, filter))
}

export {formatEvent}

/**
 * Calls `onEvent` for every event appended to the record from now on (the
 * record's rotation included), polling every `pollMs`, until `signal` aborts.
 */
export async function followEvents(
  stateDir: string,
  filter: EventFilter,
  onEvent: (event: EmulatorEvent) => void,
  signal: AbortSignal,
  pollMs = 200,
): Promise<void> {
  const path = eventsPath(stateDir)
  let offset = await stat(path).then(
    (s) => s.size,
    () => 0,
  )
  let partial = ''
  const emit = (text: string) => {
    const lines = (partial + text).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      if (!line) continue
      try {
        const event = JSON.parse(line) as EmulatorEvent
        if (matchesFilter(event, filter)) onEvent(event)
      } catch {
        // A line cut by a crash mid-append.
      }
    }
  }
  const readFrom = async (file: string, from: number): Promise<number> => {
    const handle = await open(file, 'r').catch(() => undefined)
    if (!handle) return from
    try {
      const {size} = await handle.stat()
      if (size <= from) return size
      const buffer = Buffer.alloc(size - from)
      await handle.read(buffer, 0, buffer.length, from)
      emit(buffer.toString('utf8'))
      return size
    } finally {
      await handle.close()
    }
  }
  while (!signal.aborted) {
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    )
    if (size < offset) {
      // Rotated: the rest of the old generation first, then the new file from its start.
      await readFrom(olderEventsPath(stateDir), offset)
      offset = 0
    }
    if (size > offset) offset = await readFrom(path, offset)
    await new Promise<void>((done) => {
      const timer = setTimeout(done, pollMs)
      signal.addEventListener('abort', () => {
        clearTimeout(timer)
        done()
      })
    })
  }
}
