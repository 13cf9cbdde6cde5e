/**
 * S3 event notifications: PutBucketNotificationConfiguration validated as AWS
 * validates it (every Lambda destination must exist and let s3.amazonaws.com
 * invoke it for this bucket), and every object created or removed matched
 * against the bucket's rules (event types with wildcards, prefix/suffix
 * filters) and delivered to Lambda asynchronously, after the answer has gone,
 * in AWS's event shape. Every outcome — delivered, skipped and why, failed —
 * goes to the event record, so an upload that triggers nothing is never silent.
 */
import {randomBytes} from 'node:crypto'
import {appendFileSync, readFileSync, truncateSync} from 'node:fs'
import {join} from 'node:path'
import {AwsError} from '../../errors.js'
import {listOf, textOf, type XmlNode} from '../../protocols/restxml.js'
import {ACCOUNT_ID, type Principal, type RequestContext, type ServiceEnvironment} from '../../types.js'
import * as errors from './errors.js'
import type {BucketRecord} from './store.js'

export interface NotificationRule {
  id: string
  kind: 'lambda' | 'queue' | 'topic'
  arn: string
  /** s3:ObjectCreated:*, s3:ObjectRemoved:Delete, … */
  events: string[]
  /** As sent: Name keeps the client's case, matching ignores it. */
  filter: {Name: string; Value: string}[]
}

export interface NotificationConfig {
  rules: NotificationRule[]
  eventBridge: boolean
}

/** The event types S3 accepts in a notification configuration. */
const EVENT_TYPES = new Set([
  's3:ReducedRedundancyLostObject',
  's3:ObjectCreated:*',
  's3:ObjectCreated:Put',
  's3:ObjectCreated:Post',
  's3:ObjectCreated:Copy',
  's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:*',
  's3:ObjectRemoved:Delete',
  's3:ObjectRemoved:DeleteMarkerCreated',
  's3:ObjectRestore:*',
  's3:ObjectRestore:Post',
  's3:ObjectRestore:Completed',
  's3:ObjectRestore:Delete',
  's3:Replication:*',
  's3:Replication:OperationFailedReplication',
  's3:Replication:OperationNotTracked',
  's3:Replication:OperationMissedThreshold',
  's3:Replication:OperationReplicatedAfterThreshold',
  's3:LifecycleExpiration:*',
  's3:LifecycleExpiration:Delete',
  's3:LifecycleExpiration:DeleteMarkerCreated',
  's3:LifecycleTransition',
  's3:IntelligentTiering',
  's3:ObjectTagging:*',
  's3:ObjectTagging:Put',
  's3:ObjectTagging:Delete',
  's3:ObjectAcl:Put',
])

export const NOTIFICATION_LISTS = ['TopicConfiguration', 'QueueConfiguration', 'CloudFunctionConfiguration', 'Event', 'FilterRule']

const LISTS: [element: string, kind: NotificationRule['kind'], target: string][] = [
  ['CloudFunctionConfiguration', 'lambda', 'CloudFunction'],
  ['QueueConfiguration', 'queue', 'Queue'],
  ['TopicConfiguration', 'topic', 'Topic'],
]

/** A parsed <NotificationConfiguration> as rules; refuses bad event names, filters and overlaps with S3's codes. */
export function parseNotification(document: XmlNode): NotificationConfig {
  const rules: NotificationRule[] = []
  for (const [element, kind, target] of LISTS)
    for (const entry of listOf(document, element)) {
      const events = listOf(entry, 'Event').map((event) => String(event['#text'] ?? ''))
      if (events.length === 0 || events.some((event) => !EVENT_TYPES.has(event)))
        throw errors.invalidArgument('The event is not supported for notifications', 'Event', events.join(','))
      const arn = textOf(entry, target)
      if (!arn) throw errors.invalidArgument(`A ${target} destination must be given`, target, '')
      const filter: {Name: string; Value: string}[] = []
      const seen = new Set<string>()
      for (const rule of listOf((entry.Filter as XmlNode | undefined)?.S3Key, 'FilterRule')) {
        const name = textOf(rule, 'Name') ?? ''
        const lower = name.toLowerCase()
        if (lower !== 'prefix' && lower !== 'suffix')
          throw errors.invalidArgument('filter rule name must be either prefix or suffix', 'FilterRule', name)
        if (seen.has(lower)) throw errors.invalidArgument(`Cannot specify more than one ${lower} rule in a filter.`, 'FilterRule', name)
        seen.add(lower)
        filter.push({Name: name, Value: textOf(rule, 'Value') ?? ''})
      }
      rules.push({id: textOf(entry, 'Id') || randomBytes(24).toString('base64url'), kind, arn, events, filter})
    }
  for (let i = 0; i < rules.length; i++)
    for (let j = i + 1; j < rules.length; j++)
      if (overlap(rules[i] as NotificationRule, rules[j] as NotificationRule))
        throw errors.invalidArgument(
          'Configurations overlap. Configurations on the same bucket cannot share a common event type.',
          'Event',
          (rules[j] as NotificationRule).events.join(','),
        )
  return {rules, eventBridge: document.EventBridgeConfiguration !== undefined}
}

const filterValue = (rule: NotificationRule, name: 'prefix' | 'suffix') =>
  rule.filter.find((entry) => entry.Name.toLowerCase() === name)?.Value ?? ''

function eventsOverlap(a: string, b: string): boolean {
  if (a === b) return true
  const family = (event: string) => event.replace(/:[^:]*$/, '')
  if (a.endsWith(':*')) return b.startsWith(`${a.slice(0, -1)}`) || family(b) === family(a)
  if (b.endsWith(':*')) return eventsOverlap(b, a)
  return false
}

/** S3 refuses two rules that one event could match: a shared event type and overlapping prefix and suffix filters. */
function overlap(a: NotificationRule, b: NotificationRule): boolean {
  if (!a.events.some((x) => b.events.some((y) => eventsOverlap(x, y)))) return false
  const [pa, pb] = [filterValue(a, 'prefix'), filterValue(b, 'prefix')]
  const [sa, sb] = [filterValue(a, 'suffix'), filterValue(b, 'suffix')]
  return (pa.startsWith(pb) || pb.startsWith(pa)) && (sa.endsWith(sb) || sb.endsWith(sa))
}

/** The stored configuration (older state folders kept the parsed document itself). */
export function configOf(record: BucketRecord): NotificationConfig | undefined {
  const stored = record.notification as Partial<NotificationConfig> | XmlNode | undefined
  if (!stored) return undefined
  if (Array.isArray((stored as Partial<NotificationConfig>).rules)) return stored as NotificationConfig
  try {
    return parseNotification(stored as XmlNode)
  } catch {
    return undefined
  }
}

/** The configuration as S3 answers GetBucketNotificationConfiguration. */
export function notificationDocument(config: NotificationConfig | undefined): XmlNode {
  const out: XmlNode = {}
  if (!config) return out
  for (const [element, kind, target] of LISTS) {
    const entries = config.rules
      .filter((rule) => rule.kind === kind)
      .map((rule) => ({
        Id: rule.id,
        [target]: rule.arn,
        Event: rule.events,
        Filter: rule.filter.length > 0 ? {S3Key: {FilterRule: rule.filter}} : undefined,
      }))
    if (entries.length > 0) out[element] = entries
  }
  if (config.eventBridge) out.EventBridgeConfiguration = {}
  return out
}

const arnRegion = (arn: string) => arn.split(':')[3] ?? ''

/**
 * AWS's validation of destinations: each Lambda function must exist, be in the bucket's region,
 * and allow s3.amazonaws.com to invoke it for this bucket and account. SNS and SQS are not
 * emulated, so no topic or queue can be validated: refused the same way, naming why.
 */
export async function validateDestinations(env: ServiceEnvironment, bucket: BucketRecord, config: NotificationConfig): Promise<void> {
  const failures: [arn: string, reason: string][] = []
  const sourceArn = `arn:aws:s3:::${bucket.name}`
  for (const rule of config.rules) {
    if (rule.kind !== 'lambda') {
      failures.push([rule.arn, `ncap's emulator does not serve ${rule.kind === 'queue' ? 'SQS' : 'SNS'}, so this destination cannot exist`])
      continue
    }
    if (arnRegion(rule.arn) !== '' && arnRegion(rule.arn) !== bucket.region && rule.arn.startsWith('arn:')) {
      throw errors.invalidArgument(
        'The notification destination service region is not valid for the bucket location constraint',
        rule.arn,
        `The destination is in ${arnRegion(rule.arn)}; the bucket in ${bucket.region}`,
      )
    }
    let lambda: Awaited<ReturnType<ServiceEnvironment['internal']>> | undefined
    try {
      lambda = await env.internal('lambda')
    } catch {
      failures.push([rule.arn, "Not authorized to invoke function: the emulator's Lambda service is not available"])
      continue
    }
    const check = (lambda as import('../../internal.js').LambdaInternal).checkServicePermission(
      rule.arn,
      's3.amazonaws.com',
      sourceArn,
      ACCOUNT_ID,
    )
    if (!check.allowed) failures.push([rule.arn, `Not authorized to invoke function [${rule.arn}]: ${check.reason}`])
  }
  if (failures.length === 0) return
  const extra: Record<string, string> = {}
  failures.forEach(([arn, reason], index) => {
    extra[`ArgumentName${index + 1}`] = arn
    extra[`ArgumentValue${index + 1}`] = reason
  })
  throw new AwsError('InvalidArgument', 'Unable to validate the following destination configurations', 400, extra)
}

/** What happened to an object, as a notification tells it. */
export interface ObjectChange {
  /** ObjectCreated:Put, ObjectCreated:Copy, ObjectRemoved:DeleteMarkerCreated, … */
  eventName: string
  key: string
  size?: number
  etag?: string
  versionId?: string
}

/** Keys in events are URL-encoded as S3 does (form encoding: spaces as '+', '/' kept). */
export function eventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%20/g, '+')
    .replace(/%2F/gi, '/')
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function matches(rule: NotificationRule, eventName: string, key: string): boolean {
  const full = `s3:${eventName}`
  const family = full.slice(0, full.lastIndexOf(':'))
  if (!rule.events.some((event) => event === full || event === `${family}:*`)) return false
  return key.startsWith(filterValue(rule, 'prefix')) && key.endsWith(filterValue(rule, 'suffix'))
}

const describeRule = (rule: NotificationRule) => {
  const filters = rule.filter.map((entry) => `${entry.Name.toLowerCase()} '${entry.Value}'`).join(', ')
  return `'${rule.id}' (${rule.events.join(' ')}${filters ? `; ${filters}` : ''})`
}

const principalId = (principal: Principal) => (principal.kind === 'root' ? principal.accountId : `AWS:${principal.userId}`)

/** A notification owed: journalled before the request is answered, so a kill never loses one (at least once). */
interface Pending {
  id: string
  bucket: string
  change: ObjectChange
  time: number
  sequencer: string
  request: {principalId: string; sourceIp: string; requestId: string}
}

export class Notifier {
  private counter = 0
  private readonly pending = new Set<string>()
  private readonly journalPath: string

  constructor(
    private readonly env: ServiceEnvironment,
    /** The bucket's current record (after a restart the journal names buckets only). */
    private readonly bucketRecord: (name: string) => BucketRecord | undefined,
  ) {
    this.journalPath = join(env.stateDir, 's3', 'notifications-pending.jsonl')
  }

  /**
   * Called just before the answer goes: captures what the event needs, journals it when the
   * bucket has something to notify, and delivers on a later turn, so the request's latency never
   * includes a delivery.
   */
  emit(ctx: RequestContext, bucket: BucketRecord, change: ObjectChange): void {
    const now = this.env.clock.now()
    const sequencer = (BigInt(now) * 4096n + BigInt(this.counter++ & 4095)).toString(16).toUpperCase().padStart(16, '0')
    const pending: Pending = {
      id: `${now.toString(36)}-${randomBytes(6).toString('hex')}`,
      bucket: bucket.name,
      change,
      time: now,
      sequencer,
      request: {
        principalId: principalId(ctx.principal),
        sourceIp: ctx.req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        requestId: ctx.requestId,
      },
    }
    const config = configOf(bucket)
    if (config && (config.rules.length > 0 || config.eventBridge)) this.journal(pending)
    setImmediate(() => this.run(pending, bucket))
  }

  /** After a restart: delivers what was journalled but not delivered before the emulator stopped. */
  resume(): void {
    let text = ''
    try {
      text = readFileSync(this.journalPath, 'utf8')
    } catch {
      return
    }
    const owed = new Map<string, Pending>()
    for (const line of text.split('\n')) {
      if (!line) continue
      try {
        const entry = JSON.parse(line) as Pending | {done: string}
        if ('done' in entry) owed.delete(entry.done)
        else owed.set(entry.id, entry)
      } catch {
        // A line cut by the kill: its request was never answered.
      }
    }
    this.truncate()
    for (const pending of owed.values()) {
      const bucket = this.bucketRecord(pending.bucket)
      if (!bucket) {
        this.env.events.record({
          service: 's3',
          kind: 's3.notification',
          outcome: 'failed',
          summary: `${pending.change.eventName} of s3://${pending.bucket}/${pending.change.key} not delivered after the restart`,
          reason: `bucket ${pending.bucket} no longer exists`,
          correlation: {bucket: pending.bucket, key: pending.change.key, requestId: pending.request.requestId},
        })
        continue
      }
      this.journal(pending)
      this.run(pending, bucket)
    }
  }

  private journal(pending: Pending): void {
    try {
      appendFileSync(this.journalPath, `${JSON.stringify(pending)}\n`)
      this.pending.add(pending.id)
    } catch (error) {
      this.env.events.record({
        service: 's3',
        kind: 's3.notification',
        outcome: 'error',
        summary: `could not journal the notification of s3://${pending.bucket}/${pending.change.key}`,
        reason: (error as Error).message,
      })
    }
  }

  private settle(id: string): void {
    if (!this.pending.delete(id)) return
    try {
      if (this.pending.size === 0) this.truncate()
      else appendFileSync(this.journalPath, `${JSON.stringify({done: id})}\n`)
    } catch {
      // Worst case it is delivered again after a restart: at least once.
    }
  }

  private truncate(): void {
    try {
      truncateSync(this.journalPath)
    } catch {
      // No journal yet.
    }
  }

  private run(pending: Pending, bucket: BucketRecord): void {
    const {change, request} = pending
    void this.deliver(bucket, change, pending.time, pending.sequencer, request)
      .catch((error: unknown) => {
        this.env.events.record({
          service: 's3',
          kind: 's3.notification',
          outcome: 'failed',
          summary: `notification for s3://${bucket.name}/${change.key} (${change.eventName}) failed`,
          reason: (error as Error).message,
          resource: `arn:aws:s3:::${bucket.name}`,
          correlation: {bucket: bucket.name, key: change.key, requestId: request.requestId},
        })
      })
      .finally(() => this.settle(pending.id))
  }

  private async deliver(
    bucket: BucketRecord,
    change: ObjectChange,
    time: number,
    sequencer: string,
    request: {principalId: string; sourceIp: string; requestId: string},
  ): Promise<void> {
    const events = this.env.events
    const correlation = {bucket: bucket.name, key: change.key, requestId: request.requestId}
    const where = `s3://${bucket.name}/${change.key}`
    const base = {service: 's3', kind: 's3.notification', resource: `arn:aws:s3:::${bucket.name}`, correlation}
    const config = configOf(bucket)
    if (!config || (config.rules.length === 0 && !config.eventBridge)) {
      events.record({
        ...base,
        outcome: 'skipped',
        summary: `${change.eventName} of ${where}: nothing notified`,
        reason: `bucket ${bucket.name} has no notification configuration`,
      })
      return
    }
    const matched = config.rules.filter((rule) => matches(rule, change.eventName, change.key))
    if (matched.length === 0 && config.rules.length > 0)
      events.record({
        ...base,
        outcome: 'skipped',
        summary: `${change.eventName} of ${where}: no notification rule matched`,
        reason: `tried ${config.rules.map(describeRule).join(', ')}`,
      })
    const object: Record<string, unknown> = {key: eventKey(change.key)}
    if (change.size !== undefined) object.size = change.size
    if (change.etag !== undefined) object.eTag = change.etag
    if (change.versionId !== undefined) object.versionId = change.versionId
    object.sequencer = sequencer
    for (const rule of matched) {
      const payload = {
        Records: [
          {
            eventVersion: '2.1',
            eventSource: 'aws:s3',
            awsRegion: bucket.region,
            eventTime: new Date(time).toISOString(),
            eventName: change.eventName,
            userIdentity: {principalId: request.principalId},
            requestParameters: {sourceIPAddress: request.sourceIp},
            responseElements: {'x-amz-request-id': request.requestId, 'x-amz-id-2': randomBytes(48).toString('base64')},
            s3: {
              s3SchemaVersion: '1.0',
              configurationId: rule.id,
              bucket: {name: bucket.name, ownerIdentity: {principalId: ACCOUNT_ID}, arn: `arn:aws:s3:::${bucket.name}`},
              object,
            },
          },
        ],
      }
      // Recorded at the moment S3 hands the event over: the function may start before Invoke's answer is back here.
      const handedOver = new Date(this.env.clock.now()).toISOString()
      try {
        const lambda = (await this.env.internal('lambda')) as import('../../internal.js').LambdaInternal
        const result = await lambda.invokeAsService({
          functionName: rule.arn,
          payload,
          principal: 's3.amazonaws.com',
          sourceArn: `arn:aws:s3:::${bucket.name}`,
          sourceAccount: ACCOUNT_ID,
          invocationType: 'Event',
          correlation,
        })
        events.record({
          ...base,
          time: handedOver,
          resource: rule.arn,
          outcome: 'delivered',
          summary: `${change.eventName} of ${where} delivered to ${rule.arn} by rule '${rule.id}'`,
          detail: {statusCode: result.statusCode, ...(result.requestId ? {lambdaRequestId: result.requestId} : {})},
        })
      } catch (error) {
        const failure = error as {code?: string; message?: string}
        const denied = failure.code === 'AccessDenied' || failure.code === 'AccessDeniedException'
        events.record({
          ...base,
          resource: rule.arn,
          outcome: denied ? 'skipped' : 'failed',
          summary: `${change.eventName} of ${where} not delivered to ${rule.arn} (rule '${rule.id}')`,
          reason: denied ? `missing permission: ${failure.message}` : `${failure.code ?? 'Error'}: ${failure.message}`,
        })
      }
    }
    if (config.eventBridge) await this.toEventBridge(bucket, change, time, sequencer, request, base)
  }

  /** With EventBridgeConfiguration, S3 puts "Object Created"/"Object Deleted" events on the default bus. */
  private async toEventBridge(
    bucket: BucketRecord,
    change: ObjectChange,
    time: number,
    sequencer: string,
    request: {principalId: string; sourceIp: string; requestId: string},
    base: {service: string; kind: string; resource: string; correlation: Record<string, string>},
  ): Promise<void> {
    const created = change.eventName.startsWith('ObjectCreated')
    const object: Record<string, unknown> = {key: change.key, sequencer}
    if (change.size !== undefined) object.size = change.size
    if (change.etag !== undefined) object.etag = change.etag
    if (change.versionId !== undefined) object['version-id'] = change.versionId
    try {
      const bus = await this.env.internal('events')
      bus.publish([
        {
          source: 'aws.s3',
          detailType: created ? 'Object Created' : 'Object Deleted',
          detail: {
            version: '0',
            bucket: {name: bucket.name},
            object,
            'request-id': request.requestId,
            requester: ACCOUNT_ID,
            'source-ip-address': request.sourceIp,
            reason: REASONS[change.eventName] ?? change.eventName,
            ...(created
              ? {}
              : {'deletion-type': change.eventName.endsWith('DeleteMarkerCreated') ? 'Delete Marker Created' : 'Permanently Deleted'}),
          },
          resources: [`arn:aws:s3:::${bucket.name}`],
          region: bucket.region,
          time: new Date(time),
        },
      ])
      this.env.events.record({
        ...base,
        outcome: 'delivered',
        summary: `${change.eventName} of s3://${bucket.name}/${change.key} sent to EventBridge`,
      })
    } catch (error) {
      this.env.events.record({
        ...base,
        outcome: 'failed',
        summary: `${change.eventName} of s3://${bucket.name}/${change.key} not sent to EventBridge`,
        reason: (error as Error).message,
      })
    }
  }
}

const REASONS: Record<string, string> = {
  'ObjectCreated:Put': 'PutObject',
  'ObjectCreated:Post': 'PostObject',
  'ObjectCreated:Copy': 'CopyObject',
  'ObjectCreated:CompleteMultipartUpload': 'CompleteMultipartUpload',
  'ObjectRemoved:Delete': 'DeleteObject',
  'ObjectRemoved:DeleteMarkerCreated': 'DeleteObject',
}
