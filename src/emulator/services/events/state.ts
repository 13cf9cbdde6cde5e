/**
 * EventBridge's state (no HTTP): the default bus of each region, its rules
 * (event patterns or schedules), their targets and tags. Kept in
 * `${stateDir}/events/rules.json`, rewritten atomically after each change, so a
 * restarted emulator finds its rules and resumes their schedules.
 */
import {join} from 'node:path'
import {readJsonIfExists, writeJsonAtomic} from '../../../store/atomic.js'
import type {EmulatorClock} from '../../clock.js'
import {AwsError} from '../../errors.js'
import {ACCOUNT_ID} from '../../types.js'
import {busNotFound, limitExceeded, ruleNotFound, validation} from './errors.js'
import {compilePattern, type EventMatcher} from './pattern.js'
import {parseSchedule, type Schedule} from './schedule.js'
import {type InputTransformer, validateTargetInput} from './transform.js'

export const DEFAULT_BUS = 'default'
export const MAX_TARGETS = 5
const NAME = /^[.\-_A-Za-z0-9]{1,64}$/
const TARGET_ID = /^[.\-_A-Za-z0-9]{1,64}$/
const STATES = ['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS']

export interface Target {
  Id: string
  Arn: string
  RoleArn?: string
  Input?: string
  InputPath?: string
  InputTransformer?: InputTransformer
  [other: string]: unknown
}

export interface RuleRecord {
  region: string
  name: string
  /** The event bus the rule belongs to (absent: the default bus). */
  bus?: string
  eventPattern?: string
  scheduleExpression?: string
  state: string
  description?: string
  roleArn?: string
  tags: {Key: string; Value: string}[]
  targets: Target[]
  /** Where the rate of a schedule counts from: its creation or last enabling, at the minute. */
  anchor: number
  /** The due time of the last firing (schedules). */
  lastFiredAt?: number
}

export interface Rule extends RuleRecord {
  matcher?: EventMatcher
  schedule?: Schedule
}

export const busArn = (region: string, bus = DEFAULT_BUS) => `arn:aws:events:${region}:${ACCOUNT_ID}:event-bus/${bus}`
export const ruleArn = (region: string, name: string, bus = DEFAULT_BUS) =>
  `arn:aws:events:${region}:${ACCOUNT_ID}:rule/${bus === DEFAULT_BUS ? '' : `${bus}/`}${name}`
export const arnOf = (rule: RuleRecord) => ruleArn(rule.region, rule.name, rule.bus)
const BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/

export interface BusRecord {
  region: string
  name: string
  createdAt: number
  description?: string
  tags: {Key: string; Value: string}[]
}

const encodeToken = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
function decodeToken(token: unknown): number {
  try {
    const offset = (JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as {offset?: unknown}).offset
    if (typeof offset === 'number' && offset >= 0) return offset
  } catch {
    // Fall through.
  }
  throw validation('The NextToken provided is invalid.')
}

function limitOf(value: unknown, max = 100): number {
  if (value === undefined || value === null) return max
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw validation(
      `1 validation error detected: Value '${value}' at 'limit' failed to satisfy constraint: Member must have value between 1 and ${max}`,
    )
  }
  return value
}

/** A bus name from a name or an ARN (undefined: the default bus). */
function busNameOf(region: string, bus: unknown): string {
  if (bus === undefined || bus === null || bus === '') return DEFAULT_BUS
  const text = String(bus)
  const match = /^arn:aws[\w-]*:events:([^:]*):\d*:event-bus\/(.+)$/.exec(text)
  if (match) {
    if (match[1] !== region) throw busNotFound(text)
    return match[2]!
  }
  return text
}

export class EventsState {
  private readonly rules = new Map<string, Rule>()
  private readonly buses = new Map<string, BusRecord>()
  /** Each region's default bus (its tags), made when first asked for. */
  private readonly defaultBuses = new Map<string, BusRecord>()
  private saving: Promise<void> | undefined
  private dirty = false
  /** When the default bus came to be (the first time this state folder served EventBridge). */
  busCreatedAt = 0

  private constructor(
    private readonly path: string | undefined,
    private readonly clock: EmulatorClock,
  ) {}

  static async open(stateDir: string | undefined, clock: EmulatorClock): Promise<EventsState> {
    const state = new EventsState(stateDir ? join(stateDir, 'events', 'rules.json') : undefined, clock)
    const saved = state.path
      ? await readJsonIfExists<{rules?: RuleRecord[]; buses?: BusRecord[]; busCreatedAt?: number}>(state.path)
      : undefined
    for (const bus of saved?.buses ?? []) {
      if (bus.name === DEFAULT_BUS) state.defaultBuses.set(bus.region, bus)
      else state.buses.set(key(bus.region, bus.name, ''), bus)
    }
    state.busCreatedAt = saved?.busCreatedAt ?? clock.now()
    for (const record of saved?.rules ?? []) {
      const rule: Rule = {...record}
      if (record.eventPattern) rule.matcher = compilePattern(record.eventPattern)
      if (record.scheduleExpression) {
        rule.schedule = parseSchedule(record.scheduleExpression)
        await rule.schedule.ready()
      }
      state.rules.set(key(record.region, record.name, record.bus), rule)
    }
    return state
  }

  /** Rewrites rules.json; changes made while a write is under way are written right after it. */
  save(): Promise<void> {
    if (!this.path) return Promise.resolve()
    this.dirty = true
    this.saving ??= (async () => {
      try {
        while (this.dirty) {
          this.dirty = false
          const rules: RuleRecord[] = [...this.rules.values()].map(({matcher: _m, schedule: _s, ...record}) => record)
          await writeJsonAtomic(this.path!, {
            busCreatedAt: this.busCreatedAt,
            buses: [...this.defaultBuses.values(), ...this.buses.values()],
            rules,
          })
        }
      } finally {
        this.saving = undefined
      }
    })()
    return this.saving
  }

  all(): Rule[] {
    return [...this.rules.values()]
  }

  /** The rules of one bus of a region, by name. */
  inRegion(region: string, bus = DEFAULT_BUS): Rule[] {
    return this.all()
      .filter((r) => r.region === region && (r.bus ?? DEFAULT_BUS) === bus)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  /** The bus a request names (default when none); ResourceNotFoundException when it does not exist. */
  bus(region: string, bus: unknown): string {
    const name = busNameOf(region, bus)
    if (name !== DEFAULT_BUS && !this.buses.has(key(region, name, ''))) throw busNotFound(name)
    return name
  }

  busRecord(region: string, bus: unknown): BusRecord {
    const name = this.bus(region, bus)
    const found = name === DEFAULT_BUS ? this.defaultBuses.get(region) : this.buses.get(key(region, name, ''))
    if (found) return found
    const made: BusRecord = {region, name: DEFAULT_BUS, createdAt: this.busCreatedAt, tags: []}
    this.defaultBuses.set(region, made)
    return made
  }

  listBuses(region: string, input: {NamePrefix?: unknown; NextToken?: unknown; Limit?: unknown}) {
    const prefix = typeof input.NamePrefix === 'string' ? input.NamePrefix : ''
    const buses = [this.busRecord(region, DEFAULT_BUS), ...[...this.buses.values()].filter((b) => b.region === region)]
      .filter((b) => b.name.startsWith(prefix))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    return page(buses, input.NextToken, limitOf(input.Limit))
  }

  async createBus(
    region: string,
    input: {Name?: unknown; Description?: unknown; Tags?: unknown; EventSourceName?: unknown},
  ): Promise<BusRecord> {
    const name = input.Name
    if (typeof name !== 'string' || !BUS_NAME.test(name) || name.startsWith('aws.')) {
      throw validation(
        `1 validation error detected: Value '${String(name)}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+`,
      )
    }
    if (input.EventSourceName !== undefined)
      throw validation('Partner event sources are not served by the ncap emulator; create the bus without EventSourceName.')
    if (name === DEFAULT_BUS || this.buses.has(key(region, name, '')))
      throw new AwsError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`)
    const bus: BusRecord = {
      region,
      name,
      createdAt: this.clock.now(),
      tags: tagList(input.Tags),
      ...(typeof input.Description === 'string' ? {description: input.Description} : {}),
    }
    this.buses.set(key(region, name, ''), bus)
    await this.save()
    return bus
  }

  /** DeleteEventBus: idempotent; the default bus cannot go, nor a bus that still has rules. */
  async deleteBus(region: string, bus: unknown): Promise<void> {
    const name = busNameOf(region, bus)
    if (name === DEFAULT_BUS) throw validation('Cannot delete event bus default.')
    if (!this.buses.has(key(region, name, ''))) return
    if (this.inRegion(region, name).length > 0) throw validation(`Event bus ${name} still has rules; delete them first.`)
    this.buses.delete(key(region, name, ''))
    await this.save()
  }

  rule(region: string, name: unknown, bus?: unknown): Rule {
    const busName = this.bus(region, bus)
    if (typeof name !== 'string' || name === '') throw validation('Parameter Name is required.')
    const rule = this.rules.get(key(region, name, busName))
    if (!rule) throw ruleNotFound(name, busName)
    return rule
  }

  /** PutRule: creates or updates; targets are kept on update, tags only set on creation. Returns the rule and whether its schedule changed. */
  async putRule(
    region: string,
    input: {
      Name?: unknown
      EventPattern?: unknown
      ScheduleExpression?: unknown
      State?: unknown
      Description?: unknown
      RoleArn?: unknown
      Tags?: unknown
      EventBusName?: unknown
    },
  ): Promise<Rule> {
    const bus = this.bus(region, input.EventBusName)
    const name = input.Name
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw validation(
        `1 validation error detected: Value '${String(name)}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`,
      )
    }
    const pattern = input.EventPattern === '' ? undefined : input.EventPattern
    const expression = input.ScheduleExpression === '' ? undefined : input.ScheduleExpression
    if (pattern === undefined && expression === undefined)
      throw validation('Parameter(s) EventPattern or ScheduleExpression must be specified.')
    const matcher = pattern === undefined ? undefined : compilePattern(pattern)
    const schedule = expression === undefined ? undefined : parseSchedule(expression)
    await schedule?.ready()
    const state = input.State === undefined ? 'ENABLED' : input.State
    if (typeof state !== 'string' || !STATES.includes(state)) throw validation(`Parameter State is not valid: ${String(state)}.`)
    if (expression !== undefined && bus !== DEFAULT_BUS) throw validation('ScheduleExpression is supported only on the default event bus.')
    const existing = this.rules.get(key(region, name, bus))
    const now = this.clock.now()
    const rule: Rule = {
      region,
      name,
      ...(bus !== DEFAULT_BUS ? {bus} : {}),
      ...(pattern !== undefined ? {eventPattern: pattern as string} : {}),
      ...(expression !== undefined ? {scheduleExpression: expression as string} : {}),
      state,
      ...(typeof input.Description === 'string' ? {description: input.Description} : {}),
      ...(typeof input.RoleArn === 'string' ? {roleArn: input.RoleArn} : {}),
      tags: existing?.tags ?? tagList(input.Tags),
      targets: existing?.targets ?? [],
      anchor: existing && existing.scheduleExpression === expression && existing.state === state ? existing.anchor : now - (now % 60_000),
      ...(existing?.lastFiredAt && existing.scheduleExpression === expression ? {lastFiredAt: existing.lastFiredAt} : {}),
      matcher,
      schedule,
    }
    this.rules.set(key(region, name, bus), rule)
    await this.save()
    return rule
  }

  async setState(region: string, name: unknown, bus: unknown, state: 'ENABLED' | 'DISABLED'): Promise<Rule> {
    const rule = this.rule(region, name, bus)
    if (rule.state !== state) {
      rule.state = state
      const now = this.clock.now()
      if (state === 'ENABLED') rule.anchor = now - (now % 60_000)
      await this.save()
    }
    return rule
  }

  /** DeleteRule: idempotent; refused while targets remain (Force is for rules managed by other services, and there are none here). */
  async deleteRule(region: string, name: unknown, bus: unknown): Promise<Rule | undefined> {
    const busName = this.bus(region, bus)
    if (typeof name !== 'string' || name === '') throw validation('Parameter Name is required.')
    const rule = this.rules.get(key(region, name, busName))
    if (!rule) return undefined
    if (rule.targets.length > 0) throw validation("Rule can't be deleted since it has targets.")
    this.rules.delete(key(region, name, busName))
    await this.save()
    return rule
  }

  listRules(region: string, input: {NamePrefix?: unknown; NextToken?: unknown; Limit?: unknown; EventBusName?: unknown}) {
    const bus = this.bus(region, input.EventBusName)
    const prefix = typeof input.NamePrefix === 'string' ? input.NamePrefix : ''
    const rules = this.inRegion(region, bus).filter((r) => r.name.startsWith(prefix))
    return page(rules, input.NextToken, limitOf(input.Limit))
  }

  async putTargets(region: string, name: unknown, bus: unknown, targets: unknown) {
    const rule = this.rule(region, name, bus)
    if (!Array.isArray(targets) || targets.length < 1 || targets.length > 10)
      throw validation('Parameter Targets must list 1 to 10 targets.')
    const failed: {TargetId: string; ErrorCode: string; ErrorMessage: string}[] = []
    const next = [...rule.targets]
    for (const raw of targets as Target[]) {
      if (!raw || typeof raw.Id !== 'string' || !TARGET_ID.test(raw.Id)) throw validation(`Parameter Id is not valid: ${String(raw?.Id)}.`)
      if (typeof raw.Arn !== 'string' || !raw.Arn.startsWith('arn:'))
        throw validation(`Parameter Arn is not valid for target ${raw.Id}: ${String(raw.Arn)}.`)
      validateTargetInput(raw)
      const at = next.findIndex((t) => t.Id === raw.Id)
      if (at === -1 && next.length >= MAX_TARGETS) {
        throw limitExceeded(
          `The requested resource exceeds the maximum number allowed: rule ${rule.name} may have at most ${MAX_TARGETS} targets.`,
        )
      }
      if (at === -1) next.push({...raw})
      else next[at] = {...raw}
    }
    rule.targets = next
    await this.save()
    return {FailedEntryCount: failed.length, FailedEntries: failed}
  }

  async removeTargets(region: string, name: unknown, bus: unknown, ids: unknown) {
    const rule = this.rule(region, name, bus)
    if (!Array.isArray(ids) || ids.length < 1) throw validation('Parameter Ids must list at least one target id.')
    const failed: {TargetId: string; ErrorCode: string; ErrorMessage: string}[] = []
    for (const id of ids) {
      const at = rule.targets.findIndex((t) => t.Id === id)
      if (at === -1)
        failed.push({
          TargetId: String(id),
          ErrorCode: 'ResourceNotFoundException',
          ErrorMessage: `Target ${String(id)} is not a target of rule ${rule.name}.`,
        })
      else rule.targets.splice(at, 1)
    }
    await this.save()
    return {FailedEntryCount: failed.length, FailedEntries: failed}
  }

  listTargets(region: string, input: {Rule?: unknown; EventBusName?: unknown; NextToken?: unknown; Limit?: unknown}) {
    const rule = this.rule(region, input.Rule, input.EventBusName)
    return page(rule.targets, input.NextToken, limitOf(input.Limit))
  }

  listRuleNamesByTarget(region: string, input: {TargetArn?: unknown; EventBusName?: unknown; NextToken?: unknown; Limit?: unknown}) {
    const bus = this.bus(region, input.EventBusName)
    if (typeof input.TargetArn !== 'string' || input.TargetArn === '') throw validation('Parameter TargetArn is required.')
    const names = this.inRegion(region, bus)
      .filter((r) => r.targets.some((t) => t.Arn === input.TargetArn))
      .map((r) => r.name)
    return page(names, input.NextToken, limitOf(input.Limit))
  }

  /** The rule or bus an ARN names (tags). */
  taggable(arn: unknown): {tags: {Key: string; Value: string}[]; name: string} {
    const text = typeof arn === 'string' ? arn : ''
    const rule = /^arn:aws[\w-]*:events:([^:]+):\d+:rule\/(?:([^/]+)\/)?([^/]+)$/.exec(text)
    if (rule) return this.rule(rule[1]!, rule[3]!, rule[2])
    const bus = /^arn:aws[\w-]*:events:([^:]+):\d+:event-bus\/(.+)$/.exec(text)
    if (bus) return this.busRecord(bus[1]!, bus[2]!)
    throw validation(`Parameter ResourceARN is not valid: ${String(arn)}; the ncap emulator tags rules and event buses.`)
  }

  async tag(rule: {tags: {Key: string; Value: string}[]; name: string}, tags: unknown): Promise<void> {
    const merged = new Map(rule.tags.map((t) => [t.Key, t.Value]))
    for (const t of tagList(tags)) merged.set(t.Key, t.Value)
    if (merged.size > 50) throw limitExceeded(`${rule.name} may have at most 50 tags.`)
    rule.tags = [...merged].map(([Key, Value]) => ({Key, Value}))
    await this.save()
  }

  async untag(rule: {tags: {Key: string; Value: string}[]; name: string}, keys: unknown): Promise<void> {
    if (!Array.isArray(keys)) throw validation('Parameter TagKeys must be a list.')
    rule.tags = rule.tags.filter((t) => !keys.includes(t.Key))
    await this.save()
  }
}

const key = (region: string, name: string, bus: string | undefined = DEFAULT_BUS) => `${region}\u0000${bus}\u0000${name}`

function tagList(tags: unknown): {Key: string; Value: string}[] {
  if (tags === undefined) return []
  if (!Array.isArray(tags) || tags.some((t) => !t || typeof t.Key !== 'string' || typeof t.Value !== 'string')) {
    throw validation('Parameter Tags must be a list of {Key, Value}.')
  }
  return (tags as {Key: string; Value: string}[]).map(({Key, Value}) => ({Key, Value}))
}

function page<T>(items: T[], token: unknown, limit: number): {items: T[]; nextToken?: string} {
  const offset = token === undefined || token === null ? 0 : decodeToken(token)
  const slice = items.slice(offset, offset + limit)
  return offset + limit < items.length ? {items: slice, nextToken: encodeToken({offset: offset + limit})} : {items: slice}
}
