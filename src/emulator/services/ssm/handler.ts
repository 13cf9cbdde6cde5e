/**
 * SSM's wire: JSON 1.1 with `X-Amz-Target: AmazonSSM.<Operation>`. Each
 * operation reads its members, authorizes `ssm:<Operation>` on the resource it
 * names, calls the command engine or the parameter store, and answers with
 * dates as epoch seconds (GetCommandInvocation's are strings, as AWS sends
 * them). Operations not served are refused by name.
 */
import {AwsError} from '../../errors.js'
import {asAwsError, sendError} from '../../protocols/errors.js'
import {parseJsonRequest, sendJson} from '../../protocols/json.js'
import {ACCOUNT_ID, type EmulatedService, type RequestContext, type ServiceEnvironment} from '../../types.js'
import type {CommandEngine, CommandRecord, SendInput} from './commands.js'
import * as errors from './errors.js'
import {nameOf, type ParameterRecord, type ParameterStore, type ParameterVersion, parameterArn} from './parameters.js'

type Input = Record<string, unknown>

export const SSM_ACTIONS = [
  'SendCommand',
  'ListCommands',
  'ListCommandInvocations',
  'GetCommandInvocation',
  'CancelCommand',
  'DescribeInstanceInformation',
  'PutParameter',
  'GetParameter',
  'GetParameters',
  'GetParametersByPath',
  'DeleteParameter',
  'DeleteParameters',
  'DescribeParameters',
  'GetParameterHistory',
  'LabelParameterVersion',
  'UnlabelParameterVersion',
  'AddTagsToResource',
  'RemoveTagsFromResource',
  'ListTagsForResource',
] as const

export interface SsmState {
  parameters: ParameterStore
  engine: CommandEngine
  /** Persists (coalesced) after a change. */
  changed(): void
  /** Waits until the last change is on disk. */
  flush(): Promise<void>
  /** Running managed-instance candidates of this emulator. */
  candidates(): string[]
}

const seconds = (ms: number) => ms / 1000

function str(input: Input, name: string): string | undefined {
  const value = input[name]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw new AwsError('SerializationException', `${name} must be a string.`)
  return value
}

function need(input: Input, name: string): string {
  const value = str(input, name)
  if (value === undefined) {
    throw errors.validation(
      `1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    )
  }
  return value
}

function bool(input: Input, name: string): boolean | undefined {
  const value = input[name]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'boolean') throw new AwsError('SerializationException', `${name} must be a boolean.`)
  return value
}

function int(input: Input, name: string): number | undefined {
  const value = input[name]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new AwsError('SerializationException', `${name} must be an integer.`)
  return value
}

function list<T>(input: Input, name: string): T[] | undefined {
  const value = input[name]
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value)) throw new AwsError('SerializationException', `${name} must be a list.`)
  return value as T[]
}

function maxResults(input: Input, low: number, high: number, fallback: number): number {
  const value = int(input, 'MaxResults')
  if (value === undefined) return fallback
  if (value < low || value > high) {
    throw errors.validation(
      `1 validation error detected: Value '${value}' at 'maxResults' failed to satisfy constraint: Member must have value ${value < low ? `greater than or equal to ${low}` : `less than or equal to ${high}`}`,
    )
  }
  return value
}

/** One page of `items` from NextToken (an opaque offset). */
function page<T>(items: T[], input: Input, size: number): {items: T[]; NextToken?: string} {
  const token = str(input, 'NextToken')
  let start = 0
  if (token) {
    const decoded = Number(
      Buffer.from(token, 'base64url')
        .toString('utf8')
        .replace(/^ncap:/, ''),
    )
    if (!Buffer.from(token, 'base64url').toString('utf8').startsWith('ncap:') || !Number.isInteger(decoded) || decoded < 0) {
      throw errors.invalidNextToken('The specified token is not valid.')
    }
    start = decoded
  }
  const slice = items.slice(start, start + size)
  const next = start + size < items.length ? Buffer.from(`ncap:${start + size}`).toString('base64url') : undefined
  return {items: slice, ...(next ? {NextToken: next} : {})}
}

const userOf = (ctx: RequestContext) => ctx.principal.arn

function parameterView(store: ParameterStore, record: ParameterRecord, version: ParameterVersion, decrypt: boolean, selector?: string) {
  return {
    Name: record.Name,
    Type: version.Type,
    Value: store.valueOf(version, decrypt),
    Version: version.Version,
    ...(selector ? {Selector: selector} : {}),
    LastModifiedDate: seconds(version.LastModifiedDate),
    ARN: parameterArn(record.Region, record.Name),
    DataType: version.DataType,
  }
}

function metadataView(record: ParameterRecord) {
  const last = record.Versions.at(-1)!
  return {
    Name: record.Name,
    ARN: parameterArn(record.Region, record.Name),
    Type: last.Type,
    ...(last.KeyId ? {KeyId: last.KeyId} : {}),
    LastModifiedDate: seconds(last.LastModifiedDate),
    LastModifiedUser: last.LastModifiedUser,
    ...(last.Description !== undefined ? {Description: last.Description} : {}),
    ...(last.AllowedPattern !== undefined ? {AllowedPattern: last.AllowedPattern} : {}),
    Version: last.Version,
    Tier: last.Tier,
    Policies: [],
    DataType: last.DataType,
  }
}

interface ParameterFilter {
  Key: string
  Option?: string
  Values?: string[]
}

const FILTER_KEYS = ['Name', 'Type', 'KeyId', 'Path', 'Tier', 'DataType', 'Label']

/** DescribeParameters' and GetParametersByPath's ParameterFilters (and the older Filters). */
function filterParameters(records: ParameterRecord[], filters: ParameterFilter[], byPath: boolean): ParameterRecord[] {
  for (const filter of filters) {
    const tagKey = filter.Key.startsWith('tag:') ? filter.Key.slice(4) : undefined
    if (!tagKey && !FILTER_KEYS.includes(filter.Key)) {
      throw errors.invalidFilterKey(
        `The following filter key is not valid: ${filter.Key}. Valid filter keys include: [Path, Name, Type, KeyId, Tier, Label, DataType].`,
      )
    }
    if (byPath && ['Name', 'Path', 'Tier'].includes(filter.Key)) {
      throw errors.invalidFilterKey(
        `The following filter key is not valid: ${filter.Key}. Valid filter keys include: [Type, KeyId, Label].`,
      )
    }
    const options =
      filter.Key === 'Name'
        ? ['Equals', 'BeginsWith', 'Contains']
        : filter.Key === 'Path'
          ? ['Recursive', 'OneLevel']
          : tagKey
            ? ['Equals']
            : ['Equals', 'BeginsWith']
    if (filter.Option && !options.includes(filter.Option)) {
      throw errors.invalidFilterOption(
        `The filter option ${filter.Option} is not valid for key ${filter.Key}. Valid options include: [${options.join(', ')}].`,
      )
    }
  }
  return records.filter((record) =>
    filters.every((filter) => {
      const last = record.Versions.at(-1)!
      const values = filter.Values ?? []
      const option = filter.Option ?? (filter.Key === 'Path' ? 'OneLevel' : 'Equals')
      const test = (actual: string | undefined) =>
        actual !== undefined &&
        values.some((value) =>
          option === 'BeginsWith' ? actual.startsWith(value) : option === 'Contains' ? actual.includes(value) : actual === value,
        )
      if (filter.Key.startsWith('tag:')) {
        const tag = record.Tags.find((candidate) => candidate.Key === filter.Key.slice(4))
        return tag !== undefined && (values.length === 0 || values.includes(tag.Value))
      }
      switch (filter.Key) {
        case 'Name':
          return values.some((value) => {
            const name = option === 'Equals' || option === 'BeginsWith' ? record.Name.replace(/^\/?/, '/') : record.Name
            const wanted = option === 'Equals' || option === 'BeginsWith' ? value.replace(/^\/?/, '/') : value
            return option === 'BeginsWith' ? name.startsWith(wanted) : option === 'Contains' ? name.includes(wanted) : name === wanted
          })
        case 'Type':
          return test(last.Type)
        case 'KeyId':
          return test(last.KeyId)
        case 'Tier':
          return test(last.Tier)
        case 'DataType':
          return test(last.DataType)
        case 'Label':
          return record.Versions.some((version) => version.Labels.some((label) => test(label)))
        case 'Path':
          return values.some((value) => inPath(record.Name, value, option === 'Recursive'))
        default:
          return true
      }
    }),
  )
}

function inPath(name: string, path: string, recursive: boolean): boolean {
  const base = path.endsWith('/') ? path : `${path}/`
  if (path === '/') return recursive ? name.startsWith('/') : name.startsWith('/') && name.indexOf('/', 1) === -1
  if (!name.startsWith(base)) return false
  return recursive || !name.slice(base.length).includes('/')
}

function validatePath(path: string): void {
  if (!path.startsWith('/') || (path.length > 1 && !/^[a-zA-Z0-9_.\-/]+$/.test(path))) {
    throw errors.validation(
      `The parameter path doesn't meet the requirements. It must begin with a forward slash "/" and use only letters, numbers, and . - _ / Got: ${path}`,
    )
  }
  if (path.split('/').filter(Boolean).length > 15) {
    throw errors.hierarchyLevelLimitExceeded(`A hierarchy can have a maximum of 15 levels. Path ${path} has more.`)
  }
}

function resourceParameter(call: {state: SsmState; region: string}, input: Input): ParameterRecord {
  const type = need(input, 'ResourceType')
  if (type !== 'Parameter') {
    throw errors.invalidResourceType(`The ncap emulator keeps tags only on parameters; ResourceType ${type} is not served.`)
  }
  const id = need(input, 'ResourceId')
  const record = call.state.parameters.get(call.region, id)
  if (!record) throw errors.invalidResourceId(`The resource ID "${id}" is not valid. Verify the ID and try again.`)
  return record
}

const commandTime = (value: unknown, name: string) => {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
    throw errors.invalidFilterValue(`The ${name} filter value ${String(value)} is not a valid date and time.`)
  return Date.parse(value)
}

function filterCommands(records: {command: CommandRecord; status: string; requested: number}[], input: Input) {
  const filters = list<{key: string; value: string}>(input, 'Filters') ?? []
  const keys = ['InvokedAfter', 'InvokedBefore', 'Status', 'ExecutionStage', 'DocumentName']
  for (const filter of filters) {
    if (!keys.includes(filter.key))
      throw errors.invalidFilterKey(`The filter key ${filter.key} is not valid. Valid keys: ${keys.join(', ')}.`)
  }
  return records.filter(({command, status, requested}) =>
    filters.every((filter) => {
      switch (filter.key) {
        case 'InvokedAfter':
          return requested >= commandTime(filter.value, 'InvokedAfter')
        case 'InvokedBefore':
          return requested <= commandTime(filter.value, 'InvokedBefore')
        case 'Status':
          return status === filter.value
        case 'ExecutionStage':
          return filter.value === 'Executing'
            ? ['Pending', 'InProgress', 'Delayed', 'Cancelling'].includes(status)
            : !['Pending', 'InProgress', 'Delayed', 'Cancelling'].includes(status)
        case 'DocumentName':
          return command.DocumentName === filter.value
        default:
          return true
      }
    }),
  )
}

export class SsmService implements EmulatedService {
  readonly signingName = 'ssm'

  constructor(
    private readonly state: SsmState,
    private readonly env: ServiceEnvironment,
  ) {}

  async start(): Promise<void> {
    const failed = this.state.engine.reconcile()
    if (failed > 0) await this.state.flush()
  }

  async close(): Promise<void> {
    this.state.engine.close()
    await this.state.flush()
  }

  async handle(ctx: RequestContext): Promise<void> {
    try {
      const request = await parseJsonRequest(ctx)
      if (request.targetPrefix !== 'AmazonSSM') {
        throw new AwsError('UnknownOperationException', `The target ${request.target} is not an SSM operation (AmazonSSM.<Operation>).`)
      }
      const output = await this.dispatch(ctx, request.operation, request.input)
      sendJson(ctx, output)
    } catch (error) {
      sendError(ctx, 'json', asAwsError(error))
    }
  }

  private async dispatch(ctx: RequestContext, operation: string, input: Input): Promise<Record<string, unknown>> {
    const {state} = this
    const region = ctx.region
    const call = {state, region}
    const engine = state.engine
    const store = state.parameters
    const now = this.env.clock.now()
    const instanceArn = (id: string) => `arn:aws:ec2:${region}:${ACCOUNT_ID}:instance/${id}`
    const authorizeParameter = (name: string) => ctx.authorize(`ssm:${operation}`, parameterArn(region, nameOf(name)))
    switch (operation) {
      case 'SendCommand': {
        const send: SendInput = {
          DocumentName: need(input, 'DocumentName'),
          DocumentVersion: str(input, 'DocumentVersion'),
          InstanceIds: list<string>(input, 'InstanceIds'),
          Targets: list<{Key: string; Values: string[]}>(input, 'Targets'),
          Parameters: input.Parameters as Record<string, string[]> | undefined,
          Comment: str(input, 'Comment'),
          TimeoutSeconds: int(input, 'TimeoutSeconds'),
          OutputS3Region: str(input, 'OutputS3Region'),
          OutputS3BucketName: str(input, 'OutputS3BucketName'),
          OutputS3KeyPrefix: str(input, 'OutputS3KeyPrefix'),
          MaxConcurrency: str(input, 'MaxConcurrency'),
          MaxErrors: str(input, 'MaxErrors'),
          ServiceRoleArn: str(input, 'ServiceRoleArn'),
          NotificationConfig: input.NotificationConfig as SendInput['NotificationConfig'],
          CloudWatchOutputConfig: input.CloudWatchOutputConfig as SendInput['CloudWatchOutputConfig'],
        }
        ctx.authorize('ssm:SendCommand', `arn:aws:ssm:${region}::document/AWS-RunShellScript`)
        for (const id of send.InstanceIds ?? []) ctx.authorize('ssm:SendCommand', instanceArn(id))
        const command = await engine.send(region, send)
        return {Command: engine.commandView(command)}
      }
      case 'GetCommandInvocation': {
        const commandId = need(input, 'CommandId')
        const instanceId = need(input, 'InstanceId')
        ctx.authorize('ssm:GetCommandInvocation', '*')
        return engine.invocationView(commandId, instanceId, str(input, 'PluginName'))
      }
      case 'ListCommands': {
        ctx.authorize('ssm:ListCommands', '*')
        const commandId = str(input, 'CommandId')
        const instanceId = str(input, 'InstanceId')
        if (commandId && !engine.find(commandId)) throw errors.invalidCommandId(`Command ${commandId} does not exist.`)
        const size = maxResults(input, 1, 50, 50)
        const candidates = engine.commands
          .filter((command) => command.Region === region)
          .filter((command) => !commandId || command.CommandId === commandId)
          .filter((command) => !instanceId || command.Invocations.some((invocation) => invocation.InstanceId === instanceId))
          .map((command) => ({command, status: command.Status, requested: command.RequestedDateTime}))
          .reverse()
        const matched = filterCommands(candidates, input)
        const {items, NextToken} = page(matched, input, size)
        return {Commands: items.map(({command}) => engine.commandView(command)), ...(NextToken ? {NextToken} : {})}
      }
      case 'ListCommandInvocations': {
        ctx.authorize('ssm:ListCommandInvocations', '*')
        const commandId = str(input, 'CommandId')
        const instanceId = str(input, 'InstanceId')
        const details = bool(input, 'Details') ?? false
        const size = maxResults(input, 1, 50, 50)
        if (commandId && !engine.find(commandId)) throw errors.invalidCommandId(`Command ${commandId} does not exist.`)
        const rows = engine.commands
          .filter((command) => command.Region === region && (!commandId || command.CommandId === commandId))
          .reverse()
          .flatMap((command) =>
            command.Invocations.filter((invocation) => invocation.Visible && (!instanceId || invocation.InstanceId === instanceId)).map(
              (invocation) => ({
                command,
                invocation,
                status: invocation.Status,
                requested: invocation.RequestedDateTime,
              }),
            ),
          )
        const matched = filterCommands(rows, input) as typeof rows
        const {items, NextToken} = page(matched, input, size)
        return {
          CommandInvocations: items.map(({command, invocation}) => engine.listedInvocation(command, invocation, details)),
          ...(NextToken ? {NextToken} : {}),
        }
      }
      case 'CancelCommand': {
        const commandId = need(input, 'CommandId')
        ctx.authorize('ssm:CancelCommand', '*')
        engine.cancel(commandId, list<string>(input, 'InstanceIds'))
        return {}
      }
      case 'DescribeInstanceInformation': {
        ctx.authorize('ssm:DescribeInstanceInformation', '*')
        const size = maxResults(input, 5, 50, 50)
        const ec2 = await this.env.internal('ec2').catch(() => undefined)
        const legacy = list<{key: string; valueSet: string[]}>(input, 'InstanceInformationFilterList') ?? []
        const filters = list<{Key: string; Values: string[]}>(input, 'Filters') ?? []
        if (legacy.length && filters.length) throw errors.validation('InstanceInformationFilterList and Filters cannot be used together.')
        const all = [...legacy.map((filter) => ({Key: filter.key, Values: filter.valueSet})), ...filters]
        const known = [
          'InstanceIds',
          'PingStatus',
          'PlatformTypes',
          'ResourceType',
          'AgentVersion',
          'IamRole',
          'AssociationStatus',
          'tag-key',
        ]
        for (const filter of all) {
          if (!known.includes(filter.Key) && !filter.Key.startsWith('tag:'))
            throw errors.invalidFilterKey(`The filter key ${filter.Key} is not valid.`)
          if (!filter.Values?.length)
            throw errors.invalidInstanceInformationFilterValue(`The filter ${filter.Key} needs at least one value.`)
        }
        const views = state
          .candidates()
          .map((id) => ec2?.describeInstance(region, id))
          .filter((view) => view !== undefined && view.state === 'running' && view.iamInstanceProfileArn)
          .sort((a, b) => (a!.instanceId < b!.instanceId ? -1 : 1))
        const rows = views
          .map((view) => ({
            view: view!,
            info: {
              InstanceId: view!.instanceId,
              PingStatus: 'Online',
              LastPingDateTime: seconds(now),
              AgentVersion: '3.3.0.0',
              IsLatestVersion: true,
              PlatformType: 'Linux',
              PlatformName: 'Ubuntu',
              PlatformVersion: '22.04',
              IamRole: (view!.iamInstanceProfileArn ?? '').split('/').at(-1) ?? '',
              ResourceType: 'EC2Instance',
              IPAddress: '127.0.0.1',
              ComputerName: `ip-127-0-0-1.ec2.internal`,
              AssociationStatus: 'Success',
              SourceId: view!.instanceId,
              SourceType: 'AWS::EC2::Instance',
            },
          }))
          .filter(({view, info}) =>
            all.every((filter) => {
              const values = filter.Values
              if (filter.Key === 'InstanceIds') return values.includes(info.InstanceId)
              if (filter.Key === 'PingStatus') return values.includes(info.PingStatus)
              if (filter.Key === 'PlatformTypes') return values.includes(info.PlatformType)
              if (filter.Key === 'ResourceType') return values.includes(info.ResourceType)
              if (filter.Key === 'AgentVersion') return values.includes(info.AgentVersion)
              if (filter.Key === 'IamRole') return values.includes(info.IamRole)
              if (filter.Key === 'AssociationStatus') return values.includes(info.AssociationStatus)
              if (filter.Key === 'tag-key') return values.some((key) => key in view.tags)
              const tag = filter.Key.slice(4)
              return values.includes(view.tags[tag] ?? '\u0000')
            }),
          )
        const {items, NextToken} = page(rows, input, size)
        return {InstanceInformationList: items.map(({info}) => info), ...(NextToken ? {NextToken} : {})}
      }
      case 'PutParameter': {
        const name = need(input, 'Name')
        authorizeParameter(name)
        const result = store.put(
          region,
          {
            Name: name,
            Value: need(input, 'Value'),
            Type: str(input, 'Type'),
            Description: str(input, 'Description'),
            KeyId: str(input, 'KeyId'),
            Overwrite: bool(input, 'Overwrite'),
            AllowedPattern: str(input, 'AllowedPattern'),
            Tags: list(input, 'Tags'),
            Tier: str(input, 'Tier'),
            DataType: str(input, 'DataType'),
            Policies: str(input, 'Policies'),
          },
          userOf(ctx),
          now,
        )
        state.changed()
        await state.flush()
        return result
      }
      case 'GetParameter': {
        const name = need(input, 'Name')
        authorizeParameter(name.replace(/:[^:/]+$/, ''))
        const {record, version, selector} = store.select(region, name)
        return {Parameter: parameterView(store, record, version, bool(input, 'WithDecryption') ?? false, selector)}
      }
      case 'GetParameters': {
        const names = list<string>(input, 'Names')
        if (!names || names.length === 0 || names.length > 10) {
          throw errors.validation(
            "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and 10",
          )
        }
        const decrypt = bool(input, 'WithDecryption') ?? false
        const parameters: unknown[] = []
        const invalid: string[] = []
        for (const name of [...new Set(names)]) {
          authorizeParameter(name.replace(/:[^:/]+$/, ''))
          try {
            const {record, version, selector} = store.select(region, name)
            parameters.push(parameterView(store, record, version, decrypt, selector))
          } catch (error) {
            if (error instanceof AwsError && (error.code === 'ParameterNotFound' || error.code === 'ParameterVersionNotFound'))
              invalid.push(name)
            else throw error
          }
        }
        return {Parameters: parameters, InvalidParameters: invalid}
      }
      case 'GetParametersByPath': {
        const path = need(input, 'Path')
        validatePath(path)
        ctx.authorize('ssm:GetParametersByPath', parameterArn(region, path === '/' ? '/' : path.replace(/\/$/, '')))
        const recursive = bool(input, 'Recursive') ?? false
        const decrypt = bool(input, 'WithDecryption') ?? false
        const size = maxResults(input, 1, 10, 10)
        const filters = list<ParameterFilter>(input, 'ParameterFilters') ?? []
        const matched = filterParameters(
          store.all(region).filter((record) => inPath(record.Name, path, recursive)),
          filters,
          true,
        )
        const {items, NextToken} = page(matched, input, size)
        return {
          Parameters: items.map((record) => parameterView(store, record, record.Versions.at(-1)!, decrypt)),
          ...(NextToken ? {NextToken} : {}),
        }
      }
      case 'DeleteParameter': {
        const name = need(input, 'Name')
        authorizeParameter(name)
        store.delete(region, name)
        state.changed()
        await state.flush()
        return {}
      }
      case 'DeleteParameters': {
        const names = list<string>(input, 'Names')
        if (!names || names.length === 0 || names.length > 10) {
          throw errors.validation(
            "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and 10",
          )
        }
        const deleted: string[] = []
        const invalid: string[] = []
        for (const name of names) {
          authorizeParameter(name)
          if (store.get(region, name)) {
            store.delete(region, name)
            deleted.push(name)
          } else invalid.push(name)
        }
        state.changed()
        await state.flush()
        return {DeletedParameters: deleted, InvalidParameters: invalid}
      }
      case 'DescribeParameters': {
        ctx.authorize('ssm:DescribeParameters', '*')
        const size = maxResults(input, 1, 50, 50)
        const legacy = list<{Key: string; Values: string[]}>(input, 'Filters') ?? []
        const filters = list<ParameterFilter>(input, 'ParameterFilters') ?? []
        if (legacy.length && filters.length) throw errors.validation('You can use either Filters or ParameterFilters in a single request.')
        for (const filter of legacy) {
          if (!['Name', 'Type', 'KeyId'].includes(filter.Key))
            throw errors.invalidFilterKey(`The following filter key is not valid: ${filter.Key}.`)
        }
        const all = legacy.length
          ? legacy.map((filter) => ({Key: filter.Key, Option: filter.Key === 'Name' ? 'BeginsWith' : 'Equals', Values: filter.Values}))
          : filters
        const matched = filterParameters(store.all(region), all, false)
        const {items, NextToken} = page(matched, input, size)
        return {Parameters: items.map((record) => metadataView(record)), ...(NextToken ? {NextToken} : {})}
      }
      case 'GetParameterHistory': {
        const name = need(input, 'Name')
        authorizeParameter(name)
        const record = store.get(region, name)
        if (!record) throw errors.parameterNotFound(`Parameter ${nameOf(name)} not found.`)
        const decrypt = bool(input, 'WithDecryption') ?? false
        const size = maxResults(input, 1, 50, 50)
        const {items, NextToken} = page(record.Versions, input, size)
        return {
          Parameters: items.map((version) => ({
            Name: record.Name,
            Type: version.Type,
            ...(version.KeyId ? {KeyId: version.KeyId} : {}),
            LastModifiedDate: seconds(version.LastModifiedDate),
            LastModifiedUser: version.LastModifiedUser,
            ...(version.Description !== undefined ? {Description: version.Description} : {}),
            Value: store.valueOf(version, decrypt),
            ...(version.AllowedPattern !== undefined ? {AllowedPattern: version.AllowedPattern} : {}),
            Version: version.Version,
            Labels: version.Labels,
            Tier: version.Tier,
            Policies: [],
            DataType: version.DataType,
          })),
          ...(NextToken ? {NextToken} : {}),
        }
      }
      case 'LabelParameterVersion': {
        const name = need(input, 'Name')
        authorizeParameter(name)
        const labels = list<string>(input, 'Labels') ?? []
        if (labels.length < 1 || labels.length > 10)
          throw errors.validation('1 validation error detected: Labels must have between 1 and 10 members.')
        const result = store.label(region, name, int(input, 'ParameterVersion'), labels)
        state.changed()
        await state.flush()
        return {InvalidLabels: result.invalid, ParameterVersion: result.version}
      }
      case 'UnlabelParameterVersion': {
        const name = need(input, 'Name')
        authorizeParameter(name)
        const version = int(input, 'ParameterVersion')
        if (version === undefined)
          throw errors.validation(
            "1 validation error detected: Value null at 'parameterVersion' failed to satisfy constraint: Member must not be null",
          )
        const result = store.unlabel(region, name, version, list<string>(input, 'Labels') ?? [])
        state.changed()
        await state.flush()
        return {RemovedLabels: result.removed, InvalidLabels: result.invalid}
      }
      case 'AddTagsToResource': {
        const record = resourceParameter(call, input)
        ctx.authorize('ssm:AddTagsToResource', parameterArn(region, record.Name))
        const tags = list<{Key: string; Value: string}>(input, 'Tags') ?? []
        for (const tag of tags) {
          const existing = record.Tags.find((candidate) => candidate.Key === tag.Key)
          if (existing) existing.Value = tag.Value
          else record.Tags.push({Key: tag.Key, Value: tag.Value})
        }
        if (record.Tags.length > 50) throw errors.tooManyTagsError(`The parameter ${record.Name} would have more than 50 tags.`)
        state.changed()
        await state.flush()
        return {}
      }
      case 'RemoveTagsFromResource': {
        const record = resourceParameter(call, input)
        ctx.authorize('ssm:RemoveTagsFromResource', parameterArn(region, record.Name))
        const keys = list<string>(input, 'TagKeys') ?? []
        record.Tags = record.Tags.filter((tag) => !keys.includes(tag.Key))
        state.changed()
        await state.flush()
        return {}
      }
      case 'ListTagsForResource': {
        const record = resourceParameter(call, input)
        ctx.authorize('ssm:ListTagsForResource', parameterArn(region, record.Name))
        return {TagList: record.Tags}
      }
      default:
        throw new AwsError(
          'UnknownOperationException',
          `The ncap emulator does not serve the SSM operation ${operation}; it serves ${SSM_ACTIONS.join(', ')}.`,
          400,
        )
    }
  }
}
