/** CloudWatch Logs on the wire: JSON 1.1, X-Amz-Target `Logs_20140328.<Operation>`. */

import type {LogsInternal} from '../../internal.js'
import {asAwsError, sendError} from '../../protocols/errors.js'
import {parseJsonRequest, sendJson} from '../../protocols/json.js'
import type {EmulatedService, RequestContext, ServiceEnvironment} from '../../types.js'
import {invalidParameter, unknownOperation} from './errors.js'
import {groupArn, type LogsState} from './state.js'

/** The operations served, as botocore's model names them. */
export const LOGS_OPERATIONS = [
  'CreateLogGroup',
  'DeleteLogGroup',
  'DescribeLogGroups',
  'PutRetentionPolicy',
  'DeleteRetentionPolicy',
  'CreateLogStream',
  'DeleteLogStream',
  'DescribeLogStreams',
  'PutLogEvents',
  'GetLogEvents',
  'FilterLogEvents',
  'TagLogGroup',
  'UntagLogGroup',
  'ListTagsLogGroup',
  'TagResource',
  'UntagResource',
  'ListTagsForResource',
] as const

type Input = Record<string, unknown>
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined)
const tagMap = (v: unknown): Record<string, string> => {
  if (v === undefined) return {}
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalidParameter('tags must be a map of strings.')
  return v as Record<string, string>
}
const strings = (v: unknown, name: string): string[] | undefined => {
  if (v === undefined) return undefined
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidParameter(`${name} must be a list of strings.`)
  return v as string[]
}

/** The log group an ARN names (TagResource and friends take arn:aws:logs:region:account:log-group:name). */
function groupOfArn(arn: unknown): {region: string; name: string} {
  const match = typeof arn === 'string' ? /^arn:aws[\w-]*:logs:([^:]+):\d+:log-group:([^:]+)(:\*)?$/.exec(arn) : null
  if (!match)
    throw invalidParameter(
      `Invalid resourceArn ${String(arn)}: the ncap emulator tags log groups (arn:aws:logs:region:account:log-group:name).`,
    )
  return {region: match[1]!, name: match[2]!}
}

export class LogsService implements EmulatedService {
  readonly signingName = 'logs'
  readonly internal: LogsInternal

  constructor(
    readonly state: LogsState,
    private readonly env: ServiceEnvironment,
  ) {
    this.internal = {append: (region, group, stream, events) => state.append(region, group, stream, events)}
  }

  async handle(ctx: RequestContext): Promise<void> {
    try {
      const {operation, input} = await parseJsonRequest(ctx)
      sendJson(ctx, this.run(ctx, operation, input))
    } catch (error) {
      sendError(ctx, 'json', asAwsError(error))
    }
  }

  private run(ctx: RequestContext, operation: string, input: Input): unknown {
    const region = ctx.region
    const state = this.state
    const group = input.logGroupIdentifier ?? input.logGroupName
    const authorize = (arn: string) => ctx.authorize(`logs:${operation}`, arn)
    const groupResource = (name: unknown) =>
      typeof name === 'string' && name.startsWith('arn:') ? name.replace(/:\*$/, '') : groupArn(region, String(name))
    switch (operation) {
      case 'CreateLogGroup':
        authorize(groupResource(input.logGroupName))
        state.createLogGroup(region, input.logGroupName, {
          tags: tagMap(input.tags),
          kmsKeyId: str(input.kmsKeyId),
          logGroupClass: str(input.logGroupClass),
        })
        return {}
      case 'DeleteLogGroup':
        authorize(groupResource(input.logGroupName))
        state.deleteLogGroup(region, input.logGroupName)
        return {}
      case 'DescribeLogGroups':
        authorize(`arn:aws:logs:${region}:${ctx.principal.accountId}:log-group:*`)
        return state.describeLogGroups(region, {
          prefix: str(input.logGroupNamePrefix),
          pattern: str(input.logGroupNamePattern),
          identifiers: strings(input.logGroupIdentifiers, 'logGroupIdentifiers'),
          nextToken: input.nextToken,
          limit: input.limit,
        })
      case 'PutRetentionPolicy':
        authorize(groupResource(input.logGroupName))
        state.putRetentionPolicy(region, input.logGroupName, input.retentionInDays)
        return {}
      case 'DeleteRetentionPolicy':
        authorize(groupResource(input.logGroupName))
        state.deleteRetentionPolicy(region, input.logGroupName)
        return {}
      case 'CreateLogStream':
        authorize(groupResource(input.logGroupName))
        state.createLogStream(region, input.logGroupName, input.logStreamName)
        return {}
      case 'DeleteLogStream':
        authorize(groupResource(input.logGroupName))
        state.deleteLogStream(region, input.logGroupName, input.logStreamName)
        return {}
      case 'DescribeLogStreams':
        authorize(groupResource(group))
        return state.describeLogStreams(region, group, {
          prefix: str(input.logStreamNamePrefix),
          orderBy: str(input.orderBy),
          descending: input.descending === true,
          nextToken: input.nextToken,
          limit: input.limit,
        })
      case 'PutLogEvents':
        authorize(groupResource(input.logGroupName))
        return state.putLogEvents(region, input.logGroupName, input.logStreamName, input.logEvents)
      case 'GetLogEvents':
        authorize(groupResource(group))
        return state.getLogEvents(region, group, input.logStreamName, {
          startTime: num(input.startTime),
          endTime: num(input.endTime),
          nextToken: input.nextToken,
          limit: input.limit,
          startFromHead: input.startFromHead === true,
        })
      case 'FilterLogEvents':
        authorize(groupResource(group))
        return state.filterLogEvents(region, group, {
          streamNames: strings(input.logStreamNames, 'logStreamNames'),
          streamPrefix: str(input.logStreamNamePrefix),
          startTime: num(input.startTime),
          endTime: num(input.endTime),
          filterPattern: str(input.filterPattern),
          nextToken: input.nextToken,
          limit: input.limit,
        })
      case 'TagLogGroup':
        authorize(groupResource(input.logGroupName))
        state.tagGroup(region, input.logGroupName, tagMap(input.tags))
        return {}
      case 'UntagLogGroup':
        authorize(groupResource(input.logGroupName))
        state.untagGroup(region, input.logGroupName, strings(input.tags, 'tags') ?? [])
        return {}
      case 'ListTagsLogGroup':
        authorize(groupResource(input.logGroupName))
        return {tags: state.group(region, input.logGroupName).tags}
      case 'TagResource': {
        const target = groupOfArn(input.resourceArn)
        authorize(groupArn(target.region, target.name))
        state.tagGroup(target.region, target.name, tagMap(input.tags))
        return {}
      }
      case 'UntagResource': {
        const target = groupOfArn(input.resourceArn)
        authorize(groupArn(target.region, target.name))
        state.untagGroup(target.region, target.name, strings(input.tagKeys, 'tagKeys') ?? [])
        return {}
      }
      case 'ListTagsForResource': {
        const target = groupOfArn(input.resourceArn)
        authorize(groupArn(target.region, target.name))
        return {tags: state.group(target.region, target.name).tags}
      }
      default:
        void this.env
        throw unknownOperation(operation)
    }
  }

  async close(): Promise<void> {
    await this.state.drain()
  }
}
