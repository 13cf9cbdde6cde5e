/**
 * `ncap generate-event TYPE`: the events a pipeline's functions receive, in AWS's
 * exact shapes, from the templates in simevents/ (one per type, the same files
 * `ncap init` fills) and the values given as flags. Keys are URL-encoded as S3
 * writes them into notifications.
 */
import {createHash, randomBytes, randomUUID} from 'node:crypto'
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {encodeEventKey} from '../../lambda_repo/lib/layout.js'
import {fillEvent, type JsonValue} from '../config/scaffold.js'
import {UsageError} from '../errors.js'

export const EVENT_TYPES = {
  's3-put': 'S3 ObjectCreated:Put notification (a submit.json upload by default)',
  's3-delete': 'S3 ObjectRemoved:Delete notification',
  'cfn-create': 'CloudFormation custom-resource Create request (the bucket-folders resource)',
  'cfn-update': 'CloudFormation custom-resource Update request',
  'cfn-delete': 'CloudFormation custom-resource Delete request',
  'ec2-state-change': 'EventBridge EC2 Instance State-change Notification',
  'ssm-command-status': 'EventBridge EC2 Command Invocation Status-change Notification (SSM)',
  schedule: 'EventBridge Scheduled Event (the monitor schedule)',
} as const
export type EventType = keyof typeof EVENT_TYPES

export const EC2_STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'] as const
export const SSM_STATUSES = ['Pending', 'InProgress', 'Delayed', 'Success', 'Cancelled', 'TimedOut', 'Failed', 'Cancelling'] as const

export interface EventOptions {
  bucket?: string
  key?: string
  group?: string
  groups?: string[]
  region?: string
  account?: string
  instanceId?: string
  state?: string
  commandId?: string
  status?: string
  stack?: string
  responseUrl?: string
  ruleName?: string
  size?: number
  folders?: string[]
  logFolder?: string
  now?: Date
}

/** The folder holding simevents/, from src/ or dist/src/. */
export function simeventsDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'simevents', 's3-put.json')) && existsSync(join(dir, 'package.json'))) return join(dir, 'simevents')
    if (dirname(dir) === dir) throw new Error('ncap is installed without its simevents/ folder')
  }
}

export async function generateEvent(type: string, options: EventOptions = {}): Promise<Record<string, unknown>> {
  if (!(type in EVENT_TYPES)) {
    throw new UsageError(`unknown event type "${type}": expected one of ${Object.keys(EVENT_TYPES).join(', ')}`)
  }
  if (options.state !== undefined && !(EC2_STATES as readonly string[]).includes(options.state)) {
    throw new UsageError(`--state ${options.state}: expected one of ${EC2_STATES.join(', ')}`)
  }
  if (options.status !== undefined && !(SSM_STATUSES as readonly string[]).includes(options.status)) {
    throw new UsageError(`--status ${options.status}: expected one of ${SSM_STATUSES.join(', ')}`)
  }
  const now = options.now ?? new Date()
  const bucket = options.bucket ?? 'my-pipeline'
  const group = options.group ?? (options.key ? options.key.split('/')[0] : undefined) ?? 'lab'
  const region = options.region ?? 'us-east-1'
  const accountId = options.account ?? '000000000000'
  const stack = options.stack ?? bucket
  const stackGuid = randomUUID()
  const requestId = randomUUID()
  const stackId = `arn:aws:cloudformation:${region}:${accountId}:stack/${stack}/${stackGuid}`
  const key = options.key ?? `${group}/submissions/submit.json`
  const size = options.size ?? 0
  const values: Record<string, JsonValue> = {
    bucket,
    group,
    groups: options.groups ?? [group],
    folders: options.folders ?? ['inputs', 'results', 'logs', 'configs', 'submissions'],
    logFolder: options.logFolder ?? 'logs',
    region,
    accountId,
    instanceId: options.instanceId ?? 'i-0123456789abcdef0',
    state: options.state ?? 'running',
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventTime: now.toISOString(),
    eventId: randomUUID(),
    requestId,
    stackGuid,
    responseUrl:
      options.responseUrl ??
      `https://cloudformation-custom-resource-response-${region.replaceAll('-', '')}.s3.amazonaws.com/${encodeURIComponent(`${stackId}|BucketFolders|${requestId}`)}`,
    principalId: `AWS:AIDA${randomBytes(8).toString('hex').toUpperCase()}`,
    hostId: randomBytes(48).toString('base64'),
    configurationId: `${bucket}-submit`,
    size,
    eTag: createHash('md5').update(key).digest('hex'),
    sequencer: randomBytes(9).toString('hex').toUpperCase(),
    ruleName: options.ruleName ?? `${stack}-MonitorSchedule-${randomBytes(6).toString('hex').toUpperCase()}`,
  }
  const template = JSON.parse(await readFile(join(simeventsDir(), `${type}.json`), 'utf8')) as unknown
  const event = fillEvent(template, values) as Record<string, unknown>
  const records = (event as {Records?: {s3: {object: {key: string}}}[]}).Records
  if (records) for (const r of records) r.s3.object.key = encodeEventKey(key)
  // The templates name the stack after the bucket (as ncap deploys it); --stack names it otherwise.
  if (typeof event.StackId === 'string') event.StackId = stackId
  if (type === 'ssm-command-status') {
    const detail = event.detail as Record<string, unknown>
    detail['command-id'] = options.commandId ?? randomUUID()
    detail.status = options.status ?? 'Success'
  }
  return event
}
