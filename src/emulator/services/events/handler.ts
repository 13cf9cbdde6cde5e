/** EventBridge on the wire: JSON 1.1, X-Amz-Target `AWSEvents.<Operation>`. */
import type {BusEvent, EventsInternal} from '../../internal.js'
import {asAwsError, sendError} from '../../protocols/errors.js'
import {parseJsonRequest, sendJson} from '../../protocols/json.js'
import type {EmulatedService, RequestContext, ServiceEnvironment} from '../../types.js'
import {type Bus, type Envelope, envelope} from './bus.js'
import {unknownOperation, validation} from './errors.js'
import {compilePattern} from './pattern.js'
import {arnOf, type BusRecord, busArn, DEFAULT_BUS, type EventsState, type Rule, ruleArn} from './state.js'

/** The operations served, as botocore's model names them. */
export const EVENTS_OPERATIONS = [
  'CreateEventBus',
  'DeleteEventBus',
  'DescribeEventBus',
  'ListEventBuses',
  'PutRule',
  'DescribeRule',
  'ListRules',
  'EnableRule',
  'DisableRule',
  'DeleteRule',
  'PutTargets',
  'RemoveTargets',
  'ListTargetsByRule',
  'ListRuleNamesByTarget',
  'PutEvents',
  'TestEventPattern',
  'TagResource',
  'UntagResource',
  'ListTagsForResource',
] as const

type Input = Record<string, unknown>

function describeRule(rule: Rule): Record<string, unknown> {
  return {
    Name: rule.name,
    Arn: arnOf(rule),
    ...(rule.eventPattern !== undefined ? {EventPattern: rule.eventPattern} : {}),
    ...(rule.scheduleExpression !== undefined ? {ScheduleExpression: rule.scheduleExpression} : {}),
    State: rule.state,
    ...(rule.description !== undefined ? {Description: rule.description} : {}),
    ...(rule.roleArn !== undefined ? {RoleArn: rule.roleArn} : {}),
    EventBusName: rule.bus ?? DEFAULT_BUS,
  }
}

/** JSON protocols carry timestamps as epoch seconds. */
function describeBus(bus: BusRecord): Record<string, unknown> {
  return {
    Name: bus.name,
    Arn: busArn(bus.region, bus.name),
    ...(bus.description ? {Description: bus.description} : {}),
    CreationTime: bus.createdAt / 1000,
    LastModifiedTime: bus.createdAt / 1000,
  }
}

const REQUIRED_EVENT_FIELDS = ['id', 'account', 'source', 'time', 'region', 'detail-type']

export class EventsService implements EmulatedService {
  readonly signingName = 'events'
  readonly internal: EventsInternal

  constructor(
    readonly state: EventsState,
    readonly bus: Bus,
    private readonly env: ServiceEnvironment,
  ) {
    this.internal = {
      publish: (events: BusEvent[]) => {
        const now = env.clock.now()
        const envelopes = events.map((event) => envelope(event, event.region ?? 'us-east-1', now))
        void bus.put(envelopes)
        return envelopes.map((e) => e.id)
      },
    }
  }

  async start(): Promise<void> {
    this.bus.resume()
  }

  async close(): Promise<void> {
    this.bus.close()
    await this.state.save()
  }

  async handle(ctx: RequestContext): Promise<void> {
    try {
      const {operation, input} = await parseJsonRequest(ctx)
      sendJson(ctx, await this.run(ctx, operation, input))
    } catch (error) {
      sendError(ctx, 'json', asAwsError(error))
    }
  }

  private async run(ctx: RequestContext, operation: string, input: Input): Promise<unknown> {
    const region = ctx.region
    const {state, bus} = this
    const authorize = (resource: string) => ctx.authorize(`events:${operation}`, resource)
    const ruleResource = (name: unknown) => ruleArn(region, String(name), state.bus(region, input.EventBusName))
    switch (operation) {
      case 'DescribeEventBus': {
        const record = state.busRecord(region, input.Name)
        authorize(busArn(region, record.name))
        return describeBus(record)
      }
      case 'ListEventBuses': {
        authorize(`arn:aws:events:${region}:${ctx.principal.accountId}:event-bus/*`)
        const page = state.listBuses(region, input)
        return {EventBuses: page.items.map(describeBus), ...(page.nextToken ? {NextToken: page.nextToken} : {})}
      }
      case 'CreateEventBus': {
        authorize(busArn(region, String(input.Name)))
        const record = await state.createBus(region, input)
        return {EventBusArn: busArn(region, record.name), ...(record.description ? {Description: record.description} : {})}
      }
      case 'DeleteEventBus':
        authorize(busArn(region, String(input.Name)))
        await state.deleteBus(region, input.Name)
        return {}
      case 'PutRule': {
        authorize(ruleResource(input.Name))
        const rule = await state.putRule(region, input)
        bus.arm(rule)
        this.env.events.record({
          service: 'events',
          kind: 'events.rule',
          outcome: 'info',
          summary: `rule ${rule.name} put (${rule.scheduleExpression ?? 'event pattern'}, ${rule.state})`,
          resource: arnOf(rule),
        })
        return {RuleArn: arnOf(rule)}
      }
      case 'DescribeRule': {
        authorize(ruleResource(input.Name))
        const rule = state.rule(region, input.Name, input.EventBusName)
        return {...describeRule(rule), CreatedBy: ctx.principal.accountId}
      }
      case 'ListRules': {
        authorize(`arn:aws:events:${region}:${ctx.principal.accountId}:rule/*`)
        const page = state.listRules(region, input)
        return {Rules: page.items.map(describeRule), ...(page.nextToken ? {NextToken: page.nextToken} : {})}
      }
      case 'EnableRule':
      case 'DisableRule': {
        authorize(ruleResource(input.Name))
        const rule = await state.setState(region, input.Name, input.EventBusName, operation === 'EnableRule' ? 'ENABLED' : 'DISABLED')
        bus.arm(rule)
        return {}
      }
      case 'DeleteRule': {
        authorize(ruleResource(input.Name))
        const rule = await state.deleteRule(region, input.Name, input.EventBusName)
        if (rule) bus.disarm(rule)
        return {}
      }
      case 'PutTargets':
        authorize(ruleResource(input.Rule))
        return state.putTargets(region, input.Rule, input.EventBusName, input.Targets)
      case 'RemoveTargets':
        authorize(ruleResource(input.Rule))
        return state.removeTargets(region, input.Rule, input.EventBusName, input.Ids)
      case 'ListTargetsByRule': {
        authorize(ruleResource(input.Rule))
        const page = state.listTargets(region, input)
        return {Targets: page.items, ...(page.nextToken ? {NextToken: page.nextToken} : {})}
      }
      case 'ListRuleNamesByTarget': {
        authorize(`arn:aws:events:${region}:${ctx.principal.accountId}:rule/*`)
        const page = state.listRuleNamesByTarget(region, input)
        return {RuleNames: page.items, ...(page.nextToken ? {NextToken: page.nextToken} : {})}
      }
      case 'PutEvents':
        return this.putEvents(ctx, input)
      case 'TestEventPattern': {
        const matcher = compilePattern(input.EventPattern)
        let event: unknown
        try {
          event = JSON.parse(String(input.Event))
        } catch {
          throw validation('Parameter Event is not valid.')
        }
        if (!event || typeof event !== 'object' || REQUIRED_EVENT_FIELDS.some((f) => !(f in (event as object)))) {
          throw validation(`Parameter Event is not valid: an event needs ${REQUIRED_EVENT_FIELDS.join(', ')}.`)
        }
        return {Result: matcher(event)}
      }
      case 'TagResource': {
        const resource = state.taggable(input.ResourceARN)
        authorize(String(input.ResourceARN))
        await state.tag(resource, input.Tags)
        return {}
      }
      case 'UntagResource': {
        const resource = state.taggable(input.ResourceARN)
        authorize(String(input.ResourceARN))
        await state.untag(resource, input.TagKeys)
        return {}
      }
      case 'ListTagsForResource': {
        const resource = state.taggable(input.ResourceARN)
        authorize(String(input.ResourceARN))
        return {Tags: resource.tags}
      }
      default:
        throw unknownOperation(operation)
    }
  }

  private putEvents(ctx: RequestContext, input: Input): unknown {
    const entries = input.Entries
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
      throw validation(
        "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10",
      )
    }
    const now = this.env.clock.now()
    const accepted: {event: Envelope; bus: string}[] = []
    const results = entries.map((entry: Record<string, unknown>) => {
      const fail = (ErrorCode: string, ErrorMessage: string) => ({ErrorCode, ErrorMessage})
      let bus: string
      try {
        bus = this.state.bus(ctx.region, entry.EventBusName)
      } catch (error) {
        return fail('ResourceNotFoundException', (error as Error).message)
      }
      ctx.authorize('events:PutEvents', busArn(ctx.region, bus))
      if (typeof entry.Source !== 'string' || entry.Source === '')
        return fail('InvalidArgument', 'Parameter Source is not valid. Reason: Source is a required argument.')
      if (typeof entry.DetailType !== 'string' || entry.DetailType === '') {
        return fail('InvalidArgument', 'Parameter DetailType is not valid. Reason: DetailType is a required argument.')
      }
      if (typeof entry.Detail !== 'string' || entry.Detail === '')
        return fail('InvalidArgument', 'Parameter Detail is not valid. Reason: Detail is a required argument.')
      let detail: unknown
      try {
        detail = JSON.parse(entry.Detail)
      } catch {
        return fail('MalformedDetail', 'Detail is malformed.')
      }
      if (!detail || typeof detail !== 'object' || Array.isArray(detail)) return fail('MalformedDetail', 'Detail is malformed.')
      const resources = Array.isArray(entry.Resources) ? (entry.Resources as string[]) : []
      const time = typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : undefined
      const event = envelope(
        {source: entry.Source, detailType: entry.DetailType, detail: detail as Record<string, unknown>, resources, ...(time ? {time} : {})},
        ctx.region,
        now,
      )
      accepted.push({event, bus})
      return {EventId: event.id}
    })
    for (const {event, bus} of accepted) void this.bus.put([event], bus)
    const failed = results.filter((r) => 'ErrorCode' in r).length
    return {FailedEntryCount: failed, Entries: results}
  }
}
