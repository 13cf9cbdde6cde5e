/**
 * EventBridge schedule expressions, parsed as AWS parses them:
 *   rate(1 minute) | rate(5 minutes) | rate(1 hour) | rate(2 hours) | rate(1 day) | rate(7 days)
 *   cron(Minutes Hours Day-of-month Month Day-of-week Year), in UTC, with exactly one of
 *   day-of-month and day-of-week a `?`; day-of-week 1-7 is SUN-SAT; L, W and # as AWS allows.
 * Anything else is refused with AWS's "Parameter ScheduleExpression is not valid.".
 * Cron timing uses croner (loaded on first use), in its Quartz weekday numbering.
 */
import {validation} from './errors.js'

export interface Schedule {
  expression: string
  /** Loads what the expression needs (croner for cron) and checks it fully; call once before next(). */
  ready(): Promise<void>
  /** The next firing strictly after `after` (epoch ms), or undefined when the expression never fires again. Synchronous once ready. */
  next(after: number, anchor: number): number | undefined
}

export const invalidSchedule = () => validation('Parameter ScheduleExpression is not valid.')

const UNIT_MS: Record<string, number> = {minute: 60_000, hour: 3_600_000, day: 86_400_000}
const FIELD = {
  minutes: /^(\*|\d{1,2}(-\d{1,2})?)(\/\d{1,2})?(,(\*|\d{1,2}(-\d{1,2})?)(\/\d{1,2})?)*$/,
  hours: /^(\*|\d{1,2}(-\d{1,2})?)(\/\d{1,2})?(,(\*|\d{1,2}(-\d{1,2})?)(\/\d{1,2})?)*$/,
  dom: /^(\?|L|LW|\d{1,2}W|(\*|\d{1,2}(-\d{1,2})?)(\/\d{1,2})?(,(\d{1,2}(-\d{1,2})?)(\/\d{1,2})?)*)$/,
  month: /^(\*|(\d{1,2}|[A-Z]{3})(-(\d{1,2}|[A-Z]{3}))?)(\/\d{1,2})?(,((\d{1,2}|[A-Z]{3})(-(\d{1,2}|[A-Z]{3}))?)(\/\d{1,2})?)*$/i,
  dow: /^(\?|L|[1-7]L|[1-7]#[1-5]|[A-Z]{3}#[1-5]|(\*|([1-7]|[A-Z]{3})(-([1-7]|[A-Z]{3}))?)(\/\d)?(,(([1-7]|[A-Z]{3})(-([1-7]|[A-Z]{3}))?))*)$/i,
  year: /^(\*|\d{4}(-\d{4})?)(\/\d{1,3})?(,\d{4}(-\d{4})?)*$/,
}
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']

function numbersIn(field: string): number[] {
  return (field.match(/\d+/g) ?? []).map(Number)
}

function namesValid(field: string, names: string[]): boolean {
  return (field.match(/[A-Z]{3}/gi) ?? []).every((name) => names.includes(name.toUpperCase()))
}

/** Parses a ScheduleExpression; throws ValidationException when AWS would. */
export function parseSchedule(expression: unknown): Schedule {
  if (typeof expression !== 'string') throw invalidSchedule()
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression)
  if (rate) {
    const value = Number(rate[1])
    const unit = rate[2]!
    if (value < 1 || (value === 1) !== !unit.endsWith('s')) throw invalidSchedule()
    const period = value * UNIT_MS[unit.replace(/s$/, '')]!
    return {
      expression,
      ready: async () => {},
      // Every period from the rule's anchor (its creation or enabling, at the minute).
      next: (after, anchor) => anchor + (Math.floor((after - anchor) / period) + 1) * period,
    }
  }
  const cron = /^cron\((.*)\)$/.exec(expression)
  if (!cron) throw invalidSchedule()
  const fields = cron[1]!.trim().split(/\s+/)
  if (fields.length !== 6) throw invalidSchedule()
  const [minutes, hours, dom, month, dow, year] = fields as [string, string, string, string, string, string]
  if (!FIELD.minutes.test(minutes) || numbersIn(minutes).some((n) => n > 59)) throw invalidSchedule()
  if (!FIELD.hours.test(hours) || numbersIn(hours).some((n) => n > 23)) throw invalidSchedule()
  if (!FIELD.dom.test(dom) || numbersIn(dom).some((n) => n < 1 || n > 31)) throw invalidSchedule()
  if (!FIELD.month.test(month) || !namesValid(month, MONTHS) || numbersIn(month.replace(/\/\d+/, '')).some((n) => n < 1 || n > 12))
    throw invalidSchedule()
  if (!FIELD.dow.test(dow) || !namesValid(dow, DAYS)) throw invalidSchedule()
  if (!FIELD.year.test(year) || numbersIn(year.replace(/\/\d+/, '')).some((n) => n < 1970 || n > 2199)) throw invalidSchedule()
  // Exactly one of day-of-month and day-of-week is '?'.
  if ((dom === '?') === (dow === '?')) throw invalidSchedule()
  const pattern = `0 ${minutes} ${hours} ${dom === '?' ? '*' : dom} ${month} ${dow === '?' ? '*' : dow} ${year}`
  let job: {nextRun(from: Date): Date | null} | undefined
  return {
    expression,
    ready: async () => {
      if (job) return
      const {Cron} = await import('croner')
      try {
        job = new Cron(pattern, {timezone: 'UTC', mode: '7-part', alternativeWeekdays: true, sloppyRanges: true, paused: true})
      } catch {
        throw invalidSchedule()
      }
    },
    next: (after) => {
      if (!job) throw new Error(`schedule ${expression} used before ready()`)
      return job.nextRun(new Date(after))?.getTime()
    },
  }
}
