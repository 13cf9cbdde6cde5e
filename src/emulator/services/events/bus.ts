/**
 * The default bus at work: events put on it (by PutEvents or by AWS services
 * through `publish`) are matched against the enabled rules of their region;
 * schedules fire on the emulator's clock (re-armed after each firing, resumed
 * on start); every match, skip and target delivery goes into the event record.
 * Lambda targets are invoked through Lambda's resource policy, as
 * events.amazonaws.com with the rule as the source ARN.
 */
import {randomUUID} from 'node:crypto'
import type {ClockTimer} from '../../clock.js'
import type {BusEvent} from '../../internal.js'
import {ACCOUNT_ID, type ServiceEnvironment} from '../../types.js'
import {arnOf, DEFAULT_BUS, type EventsState, type Rule} from './state.js'
import {targetPayload} from './transform.js'

/** An event in EventBridge's envelope. */
export interface Envelope {
  version: '0'
  id: string
  'detail-type': string
  source: string
  account: string
  time: string
  region: string
  resources: string[]
  detail: Record<string, unknown>
}

const isoSeconds = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`

export function envelope(event: BusEvent, region: string, now: number): Envelope {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': event.detailType,
    source: event.source,
    account: ACCOUNT_ID,
    time: isoSeconds(event.time ? event.time.getTime() : now),
    region: event.region ?? region,
    resources: event.resources ?? [],
    detail: event.detail,
  }
}

const LAMBDA_ARN = /^arn:aws[\w-]*:lambda:[^:]+:\d+:function:[^:]+(:[^:]+)?$/

export class Bus {
  private readonly timers = new Map<string, ClockTimer>()

  constructor(
    private readonly state: EventsState,
    private readonly env: ServiceEnvironment,
  ) {}

  /** Puts events on their region's default bus; deliveries run in the background. Returns the envelopes. */
  put(events: Envelope[], bus = DEFAULT_BUS): Promise<unknown> {
    return Promise.allSettled(events.map((event) => this.route(event, bus)))
  }

  private async route(event: Envelope, bus: string): Promise<void> {
    const rules = this.state.inRegion(event.region, bus).filter((rule) => rule.matcher)
    const matched = rules.filter((rule) => rule.matcher!(event))
    const correlation = {eventId: event.id, source: event.source}
    if (matched.length === 0) {
      this.env.events.record({
        service: 'events',
        kind: 'events.no-match',
        outcome: 'skipped',
        summary: `event ${event.id} (${event.source} / ${event['detail-type']}) matched no rule on bus ${bus} in ${event.region}`,
        reason: rules.length === 0 ? 'the bus has no rules with an event pattern' : `none of ${rules.length} rules' patterns match`,
        correlation,
      })
      return
    }
    const deliveries: Promise<void>[] = []
    for (const rule of matched) {
      const arn = arnOf(rule)
      if (rule.state === 'DISABLED') {
        this.env.events.record({
          service: 'events',
          kind: 'events.rule-disabled',
          outcome: 'skipped',
          summary: `event ${event.id} (${event.source}) matches rule ${rule.name}, which is disabled`,
          reason: 'the rule is DISABLED',
          resource: arn,
          correlation: {...correlation, rule: rule.name},
        })
        continue
      }
      this.env.events.record({
        service: 'events',
        kind: 'events.rule-match',
        outcome: 'ok',
        summary: `event ${event.id} (${event.source} / ${event['detail-type']}) matched rule ${rule.name} (${rule.targets.length} targets)`,
        resource: arn,
        correlation: {...correlation, rule: rule.name},
      })
      deliveries.push(this.deliver(rule, event))
    }
    await Promise.allSettled(deliveries)
  }

  /** Sends one event to every target of a rule, recording each outcome. */
  async deliver(rule: Rule, event: Envelope): Promise<void> {
    const arn = arnOf(rule)
    if (rule.targets.length === 0) {
      this.env.events.record({
        service: 'events',
        kind: 'events.target',
        outcome: 'skipped',
        summary: `rule ${rule.name} matched event ${event.id} but has no targets`,
        reason: 'no targets (PutTargets adds them)',
        resource: arn,
        correlation: {eventId: event.id, rule: rule.name},
      })
      return
    }
    const ingested = new Date(this.env.clock.now()).toISOString()
    await Promise.allSettled(rule.targets.map((target) => this.invoke(rule, arn, target, event, ingested)))
  }

  private async invoke(rule: Rule, arn: string, target: Rule['targets'][number], event: Envelope, ingested: string): Promise<void> {
    const correlation = {eventId: event.id, rule: rule.name, target: target.Id}
    const base = {service: 'events', kind: 'events.target', resource: target.Arn, correlation}
    if (!LAMBDA_ARN.test(target.Arn)) {
      this.env.events.record({
        ...base,
        outcome: 'failed',
        summary: `rule ${rule.name} could not deliver event ${event.id} to target ${target.Id} (${target.Arn})`,
        reason: 'the ncap emulator delivers to Lambda function targets only',
      })
      return
    }
    let payload: unknown
    try {
      payload = targetPayload(target, event as unknown as Record<string, unknown>, {name: rule.name, arn}, ingested)
    } catch (error) {
      this.env.events.record({
        ...base,
        outcome: 'failed',
        summary: `rule ${rule.name}: target ${target.Id}'s input could not be made`,
        reason: (error as Error).message,
      })
      return
    }
    try {
      const lambda = await this.env.internal('lambda')
      const result = await lambda.invokeAsService({
        functionName: target.Arn,
        payload,
        principal: 'events.amazonaws.com',
        sourceArn: arn,
        sourceAccount: ACCOUNT_ID,
        invocationType: 'Event',
        correlation,
      })
      this.env.events.record({
        ...base,
        outcome: result.functionError ? 'failed' : 'delivered',
        summary: `rule ${rule.name} delivered event ${event.id} to ${target.Arn} (status ${result.statusCode})`,
        ...(result.functionError ? {reason: `the function answered ${result.functionError}`} : {}),
        ...(result.requestId ? {correlation: {...correlation, requestId: result.requestId}} : {}),
      })
    } catch (error) {
      const e = error as Error & {code?: string}
      const denied = e.code === 'AccessDenied' || e.code === 'AccessDeniedException'
      this.env.events.record({
        ...base,
        outcome: denied ? 'denied' : 'failed',
        summary: `rule ${rule.name} could not invoke ${target.Arn} for event ${event.id}`,
        reason: denied
          ? `the function's resource policy does not let events.amazonaws.com invoke it for ${arn}: ${e.message}`
          : `${e.code ? `${e.code}: ` : ''}${e.message}`,
      })
    }
  }

  // Schedules.

  /** Arms (or re-arms, or disarms) one rule's schedule after a change. */
  arm(rule: Rule, resuming = false): void {
    const id = `${rule.region}\u0000${rule.name}`
    this.timers.get(id)?.cancel()
    this.timers.delete(id)
    if (!rule.schedule || rule.state === 'DISABLED') return
    const now = this.env.clock.now()
    let due = rule.schedule.next(Math.max(rule.lastFiredAt ?? rule.anchor, rule.anchor), rule.anchor)
    if (due === undefined) return
    if (resuming && due <= now) {
      // Firings fell due while the emulator was stopped: fire once for the latest, then carry on.
      let missed = 0
      let latest = due
      for (let at: number | undefined = due; at !== undefined && at <= now && missed < 10_000; at = rule.schedule.next(at, rule.anchor)) {
        latest = at
        missed++
      }
      this.env.events.record({
        service: 'events',
        kind: 'events.schedule-resumed',
        outcome: 'info',
        summary: `schedule ${rule.scheduleExpression} of rule ${rule.name}: ${missed} firing(s) fell due while the emulator was stopped; firing once for ${new Date(latest).toISOString()}`,
        resource: arnOf(rule),
      })
      due = latest
    }
    const dueAt = due
    this.timers.set(
      id,
      this.env.clock.at(dueAt, () => this.fire(rule, dueAt)),
    )
  }

  private fire(rule: Rule, dueAt: number): Promise<void> {
    rule.lastFiredAt = dueAt
    // Re-arm first, synchronously, so an advance past several periods fires each in turn.
    this.arm(rule)
    void this.state.save()
    const arn = arnOf(rule)
    const event: Envelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ACCOUNT_ID,
      time: isoSeconds(dueAt),
      region: rule.region,
      resources: [arn],
      detail: {},
    }
    this.env.events.record({
      service: 'events',
      kind: 'events.schedule',
      outcome: 'ok',
      summary: `schedule ${rule.scheduleExpression} of rule ${rule.name} fired for ${event.time} (${rule.targets.length} targets)`,
      resource: arn,
      correlation: {eventId: event.id, rule: rule.name},
    })
    return this.deliver(rule, event)
  }

  disarm(rule: Rule): void {
    const id = `${rule.region}\u0000${rule.name}`
    this.timers.get(id)?.cancel()
    this.timers.delete(id)
  }

  /** Arms every enabled schedule (the emulator started). */
  resume(): void {
    for (const rule of this.state.all()) if (rule.schedule) this.arm(rule, true)
  }

  close(): void {
    for (const timer of this.timers.values()) timer.cancel()
    this.timers.clear()
  }
}
