import {UsageError} from '../errors.js'

const UNITS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

/** `--since`: a duration back from now (90s, 10m, 2h, 1d) or an ISO time. */
export function parseSince(text: string, now = Date.now()): Date {
  const duration = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim())
  if (duration) return new Date(now - Number(duration[1]) * UNITS[duration[2]!]!)
  const time = Date.parse(text)
  if (!Number.isNaN(time)) return new Date(time)
  throw new UsageError(`--since ${text}: expected a duration such as 10m, 2h or 1d, or an ISO time`)
}
