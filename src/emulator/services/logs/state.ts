/**
 * CloudWatch Logs' state and behaviour (no HTTP): log groups with retention and
 * tags, streams, events kept in timestamp order, the GetLogEvents token walk and
 * FilterLogEvents across streams. Time comes from the emulator's clock, so an
 * advance ages events past their group's retention.
 *
 * Kept as an append-only journal of operations in `${stateDir}/logs/journal.jsonl`
 * (written in order, batched), rewritten compactly when it grows: a restarted
 * emulator replays it.
 */
import {appendFile, mkdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {writeFileAtomic} from '../../../store/atomic.js'
import type {EmulatorClock} from '../../clock.js'
import {ACCOUNT_ID} from '../../types.js'
import {groupExists, groupNotFound, invalidParameter, streamExists, streamNotFound} from './errors.js'
import {compileFilter} from './filter.js'

export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]
const DAY = 86_400_000
const GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/
const MAX_BATCH_BYTES = 1_048_576
const EVENT_OVERHEAD = 26

export interface StoredEvent {
  timestamp: number
  message: string
  ingestionTime: number
  /** Increasing over the whole state: orders events of equal timestamp and makes their eventId. */
  seq: number
}

export interface LogStream {
  name: string
  creationTime: number
  events: StoredEvent[]
  lastIngestionTime?: number
}

export interface LogGroup {
  region: string
  name: string
  creationTime: number
  retentionInDays?: number
  kmsKeyId?: string
  logGroupClass: string
  tags: Record<string, string>
  streams: Map<string, LogStream>
}

type JournalOp =
  | {
      op: 'group'
      region: string
      name: string
      creationTime: number
      tags: Record<string, string>
      kmsKeyId?: string
      logGroupClass: string
    }
  | {op: 'delgroup'; region: string; name: string}
  | {op: 'retention'; region: string; name: string; days: number | null}
  | {op: 'tags'; region: string; name: string; tags: Record<string, string>}
  | {op: 'stream'; region: string; group: string; name: string; creationTime: number}
  | {op: 'delstream'; region: string; group: string; name: string}
  | {op: 'events'; region: string; group: string; stream: string; ingestion: number; seq: number; events: [number, string][]}

export const groupArn = (region: string, name: string) => `arn:aws:logs:${region}:${ACCOUNT_ID}:log-group:${name}`
export const streamArn = (region: string, group: string, stream: string) => `${groupArn(region, group)}:log-stream:${stream}`

const encodeToken = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
function decodeToken<T>(token: unknown): T {
  try {
    return JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as T
  } catch {
    throw invalidParameter('The specified nextToken is invalid.')
  }
}
const eventId = (e: StoredEvent) => String(e.timestamp).padStart(20, '0') + String(e.seq).padStart(36, '0')
const position = (kind: 'f' | 'b', index: number) => `${kind}/${String(index).padStart(56, '0')}/s`

function limitOf(value: unknown, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidParameter(
      `1 validation error detected: Value '${value}' at 'limit' failed to satisfy constraint: Member must have value between 1 and ${max}`,
    )
  }
  return value
}

export class LogsState {
  private readonly groups = new Map<string, Map<string, LogGroup>>()
  private seq = 0
  private pending: string[] = []
  private writing: Promise<void> | undefined
  private journalBytes = 0

  private constructor(
    private readonly dir: string | undefined,
    private readonly clock: EmulatorClock,
  ) {}

  static async open(stateDir: string | undefined, clock: EmulatorClock): Promise<LogsState> {
    const state = new LogsState(stateDir ? join(stateDir, 'logs') : undefined, clock)
    if (state.dir) {
      await mkdir(state.dir, {recursive: true})
      const text = await readFile(state.journalPath(), 'utf8').catch(() => '')
      for (const line of text.split('\n')) {
        if (!line) continue
        try {
          state.apply(JSON.parse(line) as JournalOp)
        } catch {
          // A line cut by a crash mid-append.
        }
      }
      if (text.length > 1 << 20) await state.compact()
      else state.journalBytes = text.length
    }
    return state
  }

  private journalPath(): string {
    return join(this.dir!, 'journal.jsonl')
  }

  /** Applies one operation to memory (replay and live calls share this). */
  private apply(op: JournalOp): void {
    switch (op.op) {
      case 'group':
        this.regionOf(op.region).set(op.name, {
          region: op.region,
          name: op.name,
          creationTime: op.creationTime,
          tags: {...op.tags},
          logGroupClass: op.logGroupClass,
          ...(op.kmsKeyId ? {kmsKeyId: op.kmsKeyId} : {}),
          streams: new Map(),
        })
        return
      case 'delgroup':
        this.regionOf(op.region).delete(op.name)
        return
      case 'retention': {
        const group = this.regionOf(op.region).get(op.name)
        if (!group) return
        if (op.days === null) delete group.retentionInDays
        else group.retentionInDays = op.days
        return
      }
      case 'tags': {
        const group = this.regionOf(op.region).get(op.name)
        if (group) group.tags = {...op.tags}
        return
      }
      case 'stream': {
        const group = this.regionOf(op.region).get(op.group)
        group?.streams.set(op.name, {name: op.name, creationTime: op.creationTime, events: []})
        return
      }
      case 'delstream':
        this.regionOf(op.region).get(op.group)?.streams.delete(op.name)
        return
      case 'events': {
        const stream = this.regionOf(op.region).get(op.group)?.streams.get(op.stream)
        if (!stream) return
        let seq = op.seq
        for (const [timestamp, message] of op.events)
          insertEvent(stream.events, {timestamp, message, ingestionTime: op.ingestion, seq: seq++})
        stream.lastIngestionTime = op.ingestion
        this.seq = Math.max(this.seq, seq)
        return
      }
    }
  }

  private commit(op: JournalOp): void {
    this.apply(op)
    if (!this.dir) return
    this.pending.push(`${JSON.stringify(op)}\n`)
    this.writing ??= this.flush()
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.join('')
        this.pending = []
        await appendFile(this.journalPath(), batch)
        this.journalBytes += batch.length
        if (this.journalBytes > 32 << 20) await this.compact()
      }
    } catch (error) {
      process.stderr.write(`emulator: could not write the CloudWatch Logs journal: ${(error as Error).message}\n`)
    } finally {
      this.writing = undefined
    }
  }

  /** Rewrites the journal as the state it describes, dropping what retention and deletes removed. */
  private async compact(): Promise<void> {
    const lines: string[] = []
    for (const groups of this.groups.values())
      for (const group of groups.values()) {
        this.expire(group)
        const base = {region: group.region, name: group.name}
        lines.push(
          JSON.stringify({
            op: 'group',
            ...base,
            creationTime: group.creationTime,
            tags: group.tags,
            kmsKeyId: group.kmsKeyId,
            logGroupClass: group.logGroupClass,
          }),
        )
        if (group.retentionInDays) lines.push(JSON.stringify({op: 'retention', ...base, days: group.retentionInDays}))
        for (const stream of group.streams.values()) {
          lines.push(
            JSON.stringify({op: 'stream', region: group.region, group: group.name, name: stream.name, creationTime: stream.creationTime}),
          )
          // One line per run of events that arrived together (same ingestion, consecutive sequence numbers).
          let run: {ingestion: number; seq: number; events: [number, string][]} | undefined
          const flushRun = () => {
            if (run) lines.push(JSON.stringify({op: 'events', region: group.region, group: group.name, stream: stream.name, ...run}))
            run = undefined
          }
          for (const e of stream.events) {
            if (run && run.ingestion === e.ingestionTime && run.seq + run.events.length === e.seq) run.events.push([e.timestamp, e.message])
            else {
              flushRun()
              run = {ingestion: e.ingestionTime, seq: e.seq, events: [[e.timestamp, e.message]]}
            }
          }
          flushRun()
        }
      }
    const text = lines.length > 0 ? `${lines.join('\n')}\n` : ''
    await writeFileAtomic(this.journalPath(), text, {createFolder: false})
    this.journalBytes = text.length
  }

  /** Waits until every change so far is in the journal. */
  async drain(): Promise<void> {
    while (this.writing) await this.writing
  }

  private regionOf(region: string): Map<string, LogGroup> {
    let groups = this.groups.get(region)
    if (!groups) {
      groups = new Map()
      this.groups.set(region, groups)
    }
    return groups
  }

  /** Drops events older than the group's retention on the emulator's clock. */
  private expire(group: LogGroup): void {
    if (!group.retentionInDays) return
    const horizon = this.clock.now() - group.retentionInDays * DAY
    for (const stream of group.streams.values()) {
      let cut = 0
      while (cut < stream.events.length && stream.events[cut]!.timestamp < horizon) cut++
      if (cut > 0) stream.events.splice(0, cut)
    }
  }

  /** A group by name or ARN (logGroupIdentifier), with retention applied. */
  group(region: string, nameOrArn: unknown): LogGroup {
    if (typeof nameOrArn !== 'string' || nameOrArn === '') throw invalidParameter('logGroupName or logGroupIdentifier is required.')
    let name = nameOrArn
    if (name.startsWith('arn:')) {
      const match = /^arn:aws[\w-]*:logs:([^:]*):\d*:log-group:([^:]+)(:\*)?$/.exec(name)
      if (!match) throw invalidParameter(`Invalid log group ARN: ${nameOrArn}`)
      name = match[2]!
      region = match[1] || region
    }
    const group = this.regionOf(region).get(name)
    if (!group) throw groupNotFound(name)
    this.expire(group)
    return group
  }

  private stream(region: string, groupName: unknown, streamName: unknown): {group: LogGroup; stream: LogStream} {
    const group = this.group(region, groupName)
    if (typeof streamName !== 'string' || streamName === '') throw invalidParameter('logStreamName is required.')
    const stream = group.streams.get(streamName)
    if (!stream) throw streamNotFound(group.name, streamName)
    return {group, stream}
  }

  createLogGroup(
    region: string,
    name: unknown,
    options: {tags?: Record<string, string>; kmsKeyId?: string; logGroupClass?: string} = {},
  ): void {
    if (typeof name !== 'string' || !GROUP_NAME.test(name)) {
      throw invalidParameter(
        `1 validation error detected: Value '${String(name)}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+`,
      )
    }
    if (this.regionOf(region).has(name)) throw groupExists(name)
    const logGroupClass = options.logGroupClass ?? 'STANDARD'
    if (!['STANDARD', 'INFREQUENT_ACCESS', 'DELIVERY'].includes(logGroupClass))
      throw invalidParameter(`Invalid logGroupClass ${logGroupClass}.`)
    this.commit({
      op: 'group',
      region,
      name,
      creationTime: this.clock.now(),
      tags: options.tags ?? {},
      kmsKeyId: options.kmsKeyId,
      logGroupClass,
    })
  }

  deleteLogGroup(region: string, name: unknown): void {
    const group = this.group(region, name)
    this.commit({op: 'delgroup', region, name: group.name})
  }

  describeLogGroups(
    region: string,
    input: {prefix?: string; pattern?: string; identifiers?: string[]; nextToken?: unknown; limit?: unknown},
  ) {
    if (input.prefix && input.pattern)
      throw invalidParameter('LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.')
    const limit = limitOf(input.limit, 50, 50)
    const needle = input.pattern?.toLowerCase()
    const names = input.identifiers?.map((id) => (id.startsWith('arn:') ? (id.split(':log-group:')[1] ?? '').replace(/:\*$/, '') : id))
    let groups = [...this.regionOf(region).values()]
      .filter(
        (g) =>
          (!input.prefix || g.name.startsWith(input.prefix)) &&
          (!needle || g.name.toLowerCase().includes(needle)) &&
          (!names || names.includes(g.name)),
      )
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    if (input.nextToken !== undefined) {
      const after = decodeToken<{after: string}>(input.nextToken).after
      groups = groups.filter((g) => g.name > after)
    }
    const page = groups.slice(0, limit)
    const out: Record<string, unknown> = {logGroups: page.map((g) => this.describeGroup(g))}
    if (groups.length > limit) out.nextToken = encodeToken({after: page.at(-1)!.name})
    return out
  }

  private describeGroup(group: LogGroup): Record<string, unknown> {
    this.expire(group)
    const arn = groupArn(group.region, group.name)
    return {
      logGroupName: group.name,
      creationTime: group.creationTime,
      ...(group.retentionInDays ? {retentionInDays: group.retentionInDays} : {}),
      metricFilterCount: 0,
      arn: `${arn}:*`,
      storedBytes: [...group.streams.values()].reduce((sum, s) => sum + storedBytes(s), 0),
      ...(group.kmsKeyId ? {kmsKeyId: group.kmsKeyId} : {}),
      logGroupClass: group.logGroupClass,
      logGroupArn: arn,
    }
  }

  putRetentionPolicy(region: string, name: unknown, days: unknown): void {
    const group = this.group(region, name)
    if (typeof days !== 'number' || !RETENTION_DAYS.includes(days)) {
      throw invalidParameter(
        `1 validation error detected: Value '${String(days)}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${RETENTION_DAYS.join(', ')}]`,
      )
    }
    this.commit({op: 'retention', region, name: group.name, days})
  }

  deleteRetentionPolicy(region: string, name: unknown): void {
    const group = this.group(region, name)
    this.commit({op: 'retention', region, name: group.name, days: null})
  }

  tagGroup(region: string, name: unknown, tags: Record<string, string>): void {
    const group = this.group(region, name)
    const merged = {...group.tags, ...tags}
    if (Object.keys(merged).length > 50)
      throw invalidParameter(`A log group can have at most 50 tags; ${group.name} would have ${Object.keys(merged).length}.`)
    this.commit({op: 'tags', region, name: group.name, tags: merged})
  }

  untagGroup(region: string, name: unknown, keys: string[]): void {
    const group = this.group(region, name)
    const tags = {...group.tags}
    for (const key of keys) delete tags[key]
    this.commit({op: 'tags', region, name: group.name, tags})
  }

  createLogStream(region: string, groupName: unknown, name: unknown): void {
    const group = this.group(region, groupName)
    if (typeof name !== 'string' || name.length < 1 || name.length > 512 || /[:*]/.test(name)) {
      throw invalidParameter(
        `1 validation error detected: Value '${String(name)}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*`,
      )
    }
    if (group.streams.has(name)) throw streamExists(group.name, name)
    this.commit({op: 'stream', region, group: group.name, name, creationTime: this.clock.now()})
  }

  deleteLogStream(region: string, groupName: unknown, name: unknown): void {
    const {group, stream} = this.stream(region, groupName, name)
    this.commit({op: 'delstream', region, group: group.name, name: stream.name})
  }

  describeLogStreams(
    region: string,
    groupName: unknown,
    input: {prefix?: string; orderBy?: string; descending?: boolean; nextToken?: unknown; limit?: unknown},
  ) {
    const group = this.group(region, groupName)
    const orderBy = input.orderBy ?? 'LogStreamName'
    if (orderBy !== 'LogStreamName' && orderBy !== 'LastEventTime')
      throw invalidParameter(`Invalid orderBy ${orderBy}: LogStreamName or LastEventTime.`)
    if (orderBy === 'LastEventTime' && input.prefix) throw invalidParameter('Cannot order by LastEventTime with a logStreamNamePrefix.')
    const limit = limitOf(input.limit, 50, 50)
    const streams = [...group.streams.values()].filter((s) => !input.prefix || s.name.startsWith(input.prefix))
    const key = (s: LogStream) => (orderBy === 'LogStreamName' ? s.name : (s.events.at(-1)?.timestamp ?? 0))
    streams.sort((a, b) => {
      const [x, y] = [key(a), key(b)]
      const order = x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0
      return input.descending ? -order : order
    })
    const offset = input.nextToken === undefined ? 0 : decodeToken<{offset: number}>(input.nextToken).offset
    const page = streams.slice(offset, offset + limit)
    const out: Record<string, unknown> = {
      logStreams: page.map((s) => ({
        logStreamName: s.name,
        creationTime: s.creationTime,
        ...(s.events.length > 0 ? {firstEventTimestamp: s.events[0]!.timestamp, lastEventTimestamp: s.events.at(-1)!.timestamp} : {}),
        ...(s.lastIngestionTime ? {lastIngestionTime: s.lastIngestionTime} : {}),
        uploadSequenceToken: String(s.events.length + 1).padStart(56, '0'),
        arn: streamArn(region, group.name, s.name),
        storedBytes: 0,
      })),
    }
    if (offset + limit < streams.length) out.nextToken = encodeToken({offset: offset + limit})
    return out
  }

  /** PutLogEvents: sequence tokens are accepted and ignored, as AWS does now; too old/new/expired events are rejected, not stored. */
  putLogEvents(region: string, groupName: unknown, streamName: unknown, events: unknown) {
    const {group, stream} = this.stream(region, groupName, streamName)
    if (!Array.isArray(events) || events.length < 1)
      throw invalidParameter('1 validation error detected: logEvents must contain at least 1 event.')
    if (events.length > 10_000) throw invalidParameter('The batch of log events exceeds 10,000 events.')
    let bytes = 0
    let previous = Number.NEGATIVE_INFINITY
    for (const event of events as {timestamp?: unknown; message?: unknown}[]) {
      if (typeof event?.timestamp !== 'number' || typeof event.message !== 'string')
        throw invalidParameter('Each log event needs a timestamp (epoch ms) and a message.')
      if (event.message.length === 0) throw invalidParameter('A log event message must not be empty.')
      if (event.timestamp < previous) throw invalidParameter('Log events in a single PutLogEvents request must be in chronological order.')
      previous = event.timestamp
      bytes += Buffer.byteLength(event.message) + EVENT_OVERHEAD
    }
    if (bytes > MAX_BATCH_BYTES) throw invalidParameter(`The batch of log events is ${bytes} bytes; the limit is ${MAX_BATCH_BYTES}.`)
    const now = this.clock.now()
    const tooOldBefore = now - 14 * DAY
    const expiredBefore = group.retentionInDays ? now - group.retentionInDays * DAY : Number.NEGATIVE_INFINITY
    const tooNewAfter = now + 2 * 3_600_000
    const typed = events as {timestamp: number; message: string}[]
    let start = 0
    let end = typed.length
    const rejected: Record<string, number> = {}
    while (start < end && (typed[start]!.timestamp < tooOldBefore || typed[start]!.timestamp < expiredBefore)) start++
    let expiredEnd = 0
    while (expiredEnd < typed.length && typed[expiredEnd]!.timestamp < expiredBefore) expiredEnd++
    let oldEnd = 0
    while (oldEnd < typed.length && typed[oldEnd]!.timestamp < tooOldBefore) oldEnd++
    while (end > start && typed[end - 1]!.timestamp > tooNewAfter) end--
    if (oldEnd > 0) rejected.tooOldLogEventEndIndex = oldEnd
    if (expiredEnd > 0) rejected.expiredLogEventEndIndex = expiredEnd
    if (end < typed.length) rejected.tooNewLogEventStartIndex = end
    const kept = typed.slice(start, end)
    if (kept.length > 1 && kept.at(-1)!.timestamp - kept[0]!.timestamp > DAY) {
      throw invalidParameter('The batch of log events in a single PutLogEvents request cannot span more than 24 hours.')
    }
    if (kept.length > 0) {
      this.commit({
        op: 'events',
        region,
        group: group.name,
        stream: stream.name,
        ingestion: now,
        seq: this.seq + 1,
        events: kept.map((e) => [e.timestamp, e.message]),
      })
    }
    return {
      nextSequenceToken: String(stream.events.length + 1).padStart(56, '0'),
      ...(Object.keys(rejected).length > 0 ? {rejectedLogEventsInfo: rejected} : {}),
    }
  }

  /** What Lambda's and SSM's agents do: append, creating the group and stream when missing. */
  append(region: string, groupName: string, streamName: string, events: {timestamp: number; message: string}[]): void {
    if (events.length === 0) return
    if (!this.regionOf(region).has(groupName)) this.createLogGroup(region, groupName)
    const group = this.regionOf(region).get(groupName)!
    if (!group.streams.has(streamName))
      this.commit({op: 'stream', region, group: groupName, name: streamName, creationTime: this.clock.now()})
    const sorted = [...events].sort((a, b) => a.timestamp - b.timestamp)
    this.commit({
      op: 'events',
      region,
      group: groupName,
      stream: streamName,
      ingestion: this.clock.now(),
      seq: this.seq + 1,
      events: sorted.map((e) => [e.timestamp, e.message]),
    })
  }

  /** GetLogEvents: positions are indexes into the stream's events in the time range; the same token comes back when there is nothing further. */
  getLogEvents(
    region: string,
    groupName: unknown,
    streamName: unknown,
    input: {startTime?: number; endTime?: number; nextToken?: unknown; limit?: unknown; startFromHead?: boolean},
  ) {
    const {stream} = this.stream(region, groupName, streamName)
    const limit = limitOf(input.limit, 10_000, 10_000)
    const events = stream.events.filter(
      (e) =>
        (input.startTime === undefined || e.timestamp >= input.startTime) && (input.endTime === undefined || e.timestamp < input.endTime),
    )
    const n = events.length
    let from: number
    let to: number
    if (input.nextToken !== undefined && input.nextToken !== null) {
      const match = /^([fb])\/(\d+)(?:\/s)?$/.exec(String(input.nextToken))
      if (!match) throw invalidParameter('The specified nextToken is invalid.')
      const at = Math.min(n, Number(match[2]))
      if (match[1] === 'f') [from, to] = [at, Math.min(n, at + limit)]
      else [from, to] = [Math.max(0, at - limit), at]
    } else if (input.startFromHead) [from, to] = [0, Math.min(n, limit)]
    else [from, to] = [Math.max(0, n - limit), n]
    return {
      events: events.slice(from, to).map((e) => ({timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime})),
      nextForwardToken: position('f', to),
      nextBackwardToken: position('b', from),
    }
  }

  filterLogEvents(
    region: string,
    groupName: unknown,
    input: {
      streamNames?: string[]
      streamPrefix?: string
      startTime?: number
      endTime?: number
      filterPattern?: string
      nextToken?: unknown
      limit?: unknown
    },
  ) {
    const group = this.group(region, groupName)
    if (input.streamNames && input.streamPrefix)
      throw invalidParameter('logStreamNames and logStreamNamePrefix are mutually exclusive parameters.')
    const limit = limitOf(input.limit, 10_000, 10_000)
    const matches = compileFilter(input.filterPattern)
    const streams = [...group.streams.values()].filter(
      (s) => (!input.streamNames || input.streamNames.includes(s.name)) && (!input.streamPrefix || s.name.startsWith(input.streamPrefix)),
    )
    const after =
      input.nextToken === undefined || input.nextToken === null ? undefined : decodeToken<{t: number; s: number}>(input.nextToken)
    const found: {stream: string; event: StoredEvent}[] = []
    for (const stream of streams)
      for (const event of stream.events) {
        if (input.startTime !== undefined && event.timestamp < input.startTime) continue
        if (input.endTime !== undefined && event.timestamp > input.endTime) continue
        if (after && (event.timestamp < after.t || (event.timestamp === after.t && event.seq <= after.s))) continue
        if (matches(event.message)) found.push({stream: stream.name, event})
      }
    found.sort((a, b) => a.event.timestamp - b.event.timestamp || a.event.seq - b.event.seq)
    const page = found.slice(0, limit)
    const out: Record<string, unknown> = {
      events: page.map(({stream, event}) => ({
        logStreamName: stream,
        timestamp: event.timestamp,
        message: event.message,
        ingestionTime: event.ingestionTime,
        eventId: eventId(event),
      })),
      searchedLogStreams: streams.map((s) => ({logStreamName: s.name, searchedCompletely: found.length <= limit})),
    }
    const last = page.at(-1)
    if (found.length > limit && last) out.nextToken = encodeToken({t: last.event.timestamp, s: last.event.seq})
    return out
  }
}

function storedBytes(stream: LogStream): number {
  let sum = 0
  for (const e of stream.events) sum += e.message.length + EVENT_OVERHEAD
  return sum
}

/** Keeps events in timestamp order (then arrival): appends in order are O(1). */
function insertEvent(events: StoredEvent[], event: StoredEvent): void {
  const last = events.at(-1)
  if (!last || last.timestamp <= event.timestamp) {
    events.push(event)
    return
  }
  let lo = 0
  let hi = events.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (events[mid]!.timestamp <= event.timestamp) lo = mid + 1
    else hi = mid
  }
  events.splice(lo, 0, event)
}
