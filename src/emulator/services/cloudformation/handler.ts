/**
 * CloudFormation's wire (Query, version 2010-05-15): stacks, events,
 * resources, templates, change sets, exports and imports over the engine.
 * Every call is authorized as cloudformation:<Action> on the stack's ARN
 * (or the stack name's ARN pattern before the stack exists, '*' for lists).
 */
import {AwsError} from '../../errors.js'
import {asAwsError, sendError} from '../../protocols/errors.js'
import {parseQuery, type QueryParams, queryList, queryStructs, requireParam, sendQueryResult} from '../../protocols/query.js'
import type {EmulatedService, RequestContext} from '../../types.js'
import {ACCOUNT_ID} from '../../types.js'
import type {Engine, StackInput} from './engine.js'
import {MASK, shownParameters} from './parameters.js'
import type {ChangeSetRecord, StackEvent, StackRecord} from './state.js'
import {requiredCapabilities, validationError} from './template.js'

export const CLOUDFORMATION_ACTIONS: readonly string[] = [
  'ValidateTemplate',
  'CreateStack',
  'UpdateStack',
  'DeleteStack',
  'DescribeStacks',
  'ListStacks',
  'DescribeStackEvents',
  'DescribeStackResource',
  'DescribeStackResources',
  'ListStackResources',
  'GetTemplate',
  'GetTemplateSummary',
  'CreateChangeSet',
  'DescribeChangeSet',
  'ExecuteChangeSet',
  'DeleteChangeSet',
  'ListChangeSets',
  'ListExports',
  'ListImports',
  'UpdateTerminationProtection',
]

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms))
const bool = (value: string | undefined) => value === 'true'
const PAGE = 100

function page<T>(items: T[], token: string | undefined, size = PAGE): {items: T[]; next?: string} {
  const start = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0
  if (!Number.isInteger(start) || start < 0) throw validationError('Invalid NextToken')
  const slice = items.slice(start, start + size)
  return {items: slice, ...(start + size < items.length ? {next: Buffer.from(String(start + size)).toString('base64url')} : {})}
}

const notFound = (name: string) => validationError(`Stack with id ${name} does not exist`)

/**
 * How long a call that starts a stack operation waits for it before answering.
 * AWS answers at once and the operation runs on; answering once an
 * operation has already ended changes nothing a client can rely on, and spares
 * the CLI's and SDK's waiters their first 5-30 s sleep (aws cloudformation deploy polls every 30 s).
 */
const SETTLE_GRACE_MS = 8000

export class CloudFormationService implements EmulatedService {
  readonly signingName = 'cloudformation'

  constructor(readonly engine: Engine) {}

  async start(): Promise<void> {
    this.engine.recoverInterrupted()
    await this.engine.state.flush()
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.engine.running.values()])
    await this.engine.state.flush()
    this.engine.close()
  }

  async handle(ctx: RequestContext): Promise<void> {
    try {
      const {action, params} = await parseQuery(ctx)
      const result = await this.run(ctx, action, params)
      sendQueryResult(ctx, action, result)
    } catch (error) {
      sendError(ctx, 'query', asAwsError(error))
    }
  }

  private async grace(stackId: string): Promise<void> {
    const running = this.engine.running.get(stackId)
    if (!running) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([running, new Promise<void>((done) => (timer = setTimeout(done, SETTLE_GRACE_MS)))])
    clearTimeout(timer)
  }

  private stackFor(ctx: RequestContext, action: string, name: string): StackRecord {
    const stack = this.engine.state.find(name)
    ctx.authorize(`cloudformation:${action}`, stack?.stackId ?? this.pattern(ctx, name))
    if (!stack) throw notFound(name)
    return stack
  }

  private pattern(ctx: RequestContext, name: string): string {
    return name.startsWith('arn:') ? name : `arn:aws:cloudformation:${ctx.region}:${ACCOUNT_ID}:stack/${name}/*`
  }

  private async templateBody(params: QueryParams, region: string, required = true): Promise<string | undefined> {
    if (params.TemplateBody !== undefined && params.TemplateURL !== undefined) {
      throw validationError('Specify exactly one of TemplateBody or TemplateUrl.')
    }
    if (params.TemplateBody !== undefined) return params.TemplateBody
    if (params.TemplateURL !== undefined) return this.engine.fetchTemplateUrl(params.TemplateURL, region)
    if (required) throw validationError('Either Template URL or Template Body must be specified.')
    return undefined
  }

  private stackInput(ctx: RequestContext, params: QueryParams, body: string): StackInput {
    return {
      stackName: params.StackName ?? '',
      templateBody: body,
      parameters: queryStructs(params, 'Parameters.member').map((p) => ({
        ParameterKey: p.ParameterKey ?? '',
        ParameterValue: p.ParameterValue,
        UsePreviousValue: bool(p.UsePreviousValue),
      })),
      capabilities: queryList(params, 'Capabilities.member'),
      tags: queryStructs(params, 'Tags.member').map((t) => ({Key: t.Key ?? '', Value: t.Value ?? ''})),
      disableRollback: params.DisableRollback === undefined ? undefined : bool(params.DisableRollback),
      onFailure: params.OnFailure as StackInput['onFailure'],
      notificationARNs: queryList(params, 'NotificationARNs.member'),
      timeoutInMinutes: params.TimeoutInMinutes === undefined ? undefined : Number(params.TimeoutInMinutes),
      roleARN: params.RoleARN,
      enableTerminationProtection: bool(params.EnableTerminationProtection),
      region: ctx.region,
      clientRequestToken: params.ClientRequestToken,
    }
  }

  private async run(ctx: RequestContext, action: string, params: QueryParams): Promise<Record<string, unknown> | undefined> {
    const engine = this.engine
    const state = engine.state
    switch (action) {
      case 'ValidateTemplate': {
        ctx.authorize('cloudformation:ValidateTemplate', '*')
        const template = await engine.template((await this.templateBody(params, ctx.region))!)
        return {
          Parameters: Object.entries(template.Parameters ?? {}).map(([key, p]) => ({
            ParameterKey: key,
            DefaultValue: p.Default === undefined ? undefined : String(p.Default),
            NoEcho: p.NoEcho === true || p.NoEcho === 'true',
            Description: p.Description,
          })),
          Description: template.Description,
          Capabilities: requiredCapabilities(template),
          CapabilitiesReason:
            requiredCapabilities(template).length > 0
              ? 'The following resource(s) require capabilities: [' +
                [
                  ...new Set(
                    Object.values(template.Resources)
                      .map((r) => r.Type)
                      .filter((t) => t.startsWith('AWS::IAM::')),
                  ),
                ].join(', ') +
                ']'
              : undefined,
        }
      }
      case 'GetTemplateSummary': {
        let body: string | undefined
        if (params.StackName !== undefined) body = this.stackFor(ctx, action, params.StackName).templateBody
        else {
          ctx.authorize('cloudformation:GetTemplateSummary', '*')
          body = await this.templateBody(params, ctx.region)
        }
        const template = await engine.template(body!)
        const caps = requiredCapabilities(template)
        return {
          Parameters: Object.entries(template.Parameters ?? {}).map(([key, p]) => ({
            ParameterKey: key,
            DefaultValue: p.Default === undefined ? undefined : String(p.Default),
            ParameterType: p.Type,
            NoEcho: p.NoEcho === true || p.NoEcho === 'true',
            Description: p.Description,
            ParameterConstraints: p.AllowedValues ? {AllowedValues: p.AllowedValues.map(String)} : {},
          })),
          Description: template.Description,
          Capabilities: caps,
          CapabilitiesReason: caps.length > 0 ? 'The following resource(s) require capabilities: [AWS::IAM resources]' : undefined,
          ResourceTypes: [...new Set(Object.values(template.Resources).map((r) => r.Type))],
          Version: template.AWSTemplateFormatVersion,
          DeclaredTransforms: [],
          ResourceIdentifierSummaries: [],
        }
      }
      case 'CreateStack': {
        const name = requireParam(params, 'StackName')
        ctx.authorize('cloudformation:CreateStack', this.pattern(ctx, name))
        if (params.OnFailure !== undefined && params.DisableRollback !== undefined) {
          throw validationError('You can specify either DisableRollback or OnFailure, but not both.')
        }
        const stack = await engine.createStack(this.stackInput(ctx, params, (await this.templateBody(params, ctx.region))!))
        await this.grace(stack.stackId)
        return {StackId: stack.stackId}
      }
      case 'UpdateStack': {
        const stack = this.stackFor(ctx, action, requireParam(params, 'StackName'))
        let body = await this.templateBody(params, ctx.region, false)
        if (body === undefined) {
          if (!bool(params.UsePreviousTemplate)) throw validationError('Either Template URL or Template Body must be specified.')
          body = stack.templateBody
        }
        const input = this.stackInput(ctx, params, body)
        await engine.updateStack(stack, input)
        await this.grace(stack.stackId)
        return {StackId: stack.stackId}
      }
      case 'DeleteStack': {
        const name = requireParam(params, 'StackName')
        const stack = state.find(name)
        ctx.authorize('cloudformation:DeleteStack', stack?.stackId ?? this.pattern(ctx, name))
        // Deleting a stack that does not exist succeeds, as on AWS.
        if (stack) {
          await engine.deleteStack(stack, queryList(params, 'RetainResources.member'))
          await this.grace(stack.stackId)
        }
        return undefined
      }
      case 'DescribeStacks': {
        let stacks: StackRecord[]
        if (params.StackName !== undefined) stacks = [this.stackFor(ctx, action, params.StackName)]
        else {
          ctx.authorize('cloudformation:DescribeStacks', '*')
          stacks = state.all().filter((s) => s.status !== 'DELETE_COMPLETE')
        }
        const {items, next} = page(stacks, params.NextToken)
        return {Stacks: items.map((s) => this.describeStack(s)), NextToken: next}
      }
      case 'ListStacks': {
        ctx.authorize('cloudformation:ListStacks', '*')
        const filter = queryList(params, 'StackStatusFilter.member')
        const stacks = state
          .all()
          .filter((s) => filter.length === 0 || filter.includes(s.status))
          .reverse()
        const {items, next} = page(stacks, params.NextToken)
        return {
          StackSummaries: items.map((s) => ({
            StackId: s.stackId,
            StackName: s.stackName,
            TemplateDescription: s.description,
            CreationTime: iso(s.created),
            LastUpdatedTime: iso(s.updated),
            DeletionTime: iso(s.deleted),
            StackStatus: s.status,
            StackStatusReason: s.statusReason,
            ParentId: s.parentId,
            RootId: s.rootId,
            DriftInformation: {StackDriftStatus: 'NOT_CHECKED'},
          })),
          NextToken: next,
        }
      }
      case 'DescribeStackEvents': {
        const stack = this.stackFor(ctx, action, requireParam(params, 'StackName'))
        const {items, next} = page([...stack.events].reverse(), params.NextToken)
        return {StackEvents: items.map((e) => this.shownEvent(stack, e)), NextToken: next}
      }
      case 'DescribeStackResource': {
        const stack = this.stackFor(ctx, action, requireParam(params, 'StackName'))
        const id = requireParam(params, 'LogicalResourceId')
        const record = stack.resources[id]
        if (!record) throw validationError(`Resource ${id} does not exist for stack ${stack.stackName}`)
        return {
          StackResourceDetail: {
            StackName: stack.stackName,
            StackId: stack.stackId,
            LogicalResourceId: id,
            PhysicalResourceId: record.physicalId,
            ResourceType: record.type,
            LastUpdatedTimestamp: iso(record.updated),
            ResourceStatus: record.status,
            ResourceStatusReason: record.statusReason,
            Metadata: JSON.stringify((await engine.template(stack.templateBody).catch(() => undefined))?.Resources[id]?.Metadata ?? {}),
            DriftInformation: {StackResourceDriftStatus: 'NOT_CHECKED'},
          },
        }
      }
      case 'DescribeStackResources': {
        let stack: StackRecord | undefined
        if (params.StackName !== undefined) stack = this.stackFor(ctx, action, params.StackName)
        else if (params.PhysicalResourceId !== undefined) {
          ctx.authorize('cloudformation:DescribeStackResources', '*')
          stack = state
            .all()
            .find(
              (s) => s.status !== 'DELETE_COMPLETE' && Object.values(s.resources).some((r) => r.physicalId === params.PhysicalResourceId),
            )
          if (!stack) throw validationError(`Stack for ${params.PhysicalResourceId} does not exist`)
        } else throw validationError('Either StackName or PhysicalResourceId must be specified.')
        const records = Object.values(stack.resources).filter(
          (r) => params.LogicalResourceId === undefined || r.logicalId === params.LogicalResourceId,
        )
        return {
          StackResources: records.map((r) => ({
            StackName: stack.stackName,
            StackId: stack.stackId,
            LogicalResourceId: r.logicalId,
            PhysicalResourceId: r.physicalId,
            ResourceType: r.type,
            Timestamp: iso(r.updated),
            ResourceStatus: r.status,
            ResourceStatusReason: r.statusReason,
            DriftInformation: {StackResourceDriftStatus: 'NOT_CHECKED'},
          })),
        }
      }
      case 'ListStackResources': {
        const stack = this.stackFor(ctx, action, requireParam(params, 'StackName'))
        const {items, next} = page(Object.values(stack.resources), params.NextToken)
        return {
          StackResourceSummaries: items.map((r) => ({
            LogicalResourceId: r.logicalId,
            PhysicalResourceId: r.physicalId,
            ResourceType: r.type,
            LastUpdatedTimestamp: iso(r.updated),
            ResourceStatus: r.status,
            ResourceStatusReason: r.statusReason,
            DriftInformation: {StackResourceDriftStatus: 'NOT_CHECKED'},
          })),
          NextToken: next,
        }
      }
      case 'GetTemplate': {
        const stack = this.stackFor(ctx, action, requireParam(params, 'StackName'))
        let body = stack.templateBody
        if (params.ChangeSetName !== undefined) body = this.changeSetOf(stack, params.ChangeSetName).templateBody
        return {TemplateBody: body, StagesAvailable: ['Original', 'Processed']}
      }
      case 'CreateChangeSet': {
        const name = requireParam(params, 'StackName')
        const changeSetName = requireParam(params, 'ChangeSetName')
        const existing = state.find(name)
        ctx.authorize('cloudformation:CreateChangeSet', existing?.stackId ?? this.pattern(ctx, name))
        const type = (params.ChangeSetType ?? 'UPDATE') as 'CREATE' | 'UPDATE'
        if (type !== 'CREATE' && type !== 'UPDATE') {
          throw validationError(`ChangeSetType ${type} is not supported by the ncap emulator (it serves CREATE and UPDATE)`)
        }
        if (!/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/.test(changeSetName)) {
          throw validationError(
            `1 validation error detected: Value '${changeSetName}' at 'changeSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*`,
          )
        }
        let body = await this.templateBody(params, ctx.region, false)
        if (body === undefined) {
          if (!bool(params.UsePreviousTemplate) || !existing)
            throw validationError('Either Template URL or Template Body must be specified.')
          body = existing.templateBody
        }
        const input = {...this.stackInput(ctx, params, body), changeSetName, changeSetType: type, description: params.Description}
        const {stack, changeSet} = await engine.createChangeSet(input)
        return {Id: changeSet.id, StackId: stack.stackId}
      }
      case 'DescribeChangeSet': {
        const {stack, changeSet} = this.findChangeSet(ctx, action, params)
        const {items, next} = page(changeSet.changes, params.NextToken)
        return {
          ChangeSetName: changeSet.name,
          ChangeSetId: changeSet.id,
          StackId: stack.stackId,
          StackName: stack.stackName,
          Description: changeSet.description,
          Parameters: shownParameters(changeSet.parameters),
          CreationTime: iso(changeSet.created),
          ExecutionStatus: changeSet.executionStatus,
          Status: changeSet.status,
          StatusReason: changeSet.statusReason,
          NotificationARNs: changeSet.notificationARNs,
          Capabilities: changeSet.capabilities,
          Tags: changeSet.tags,
          Changes: items.map((change) => ({Type: 'Resource', ResourceChange: change})),
          NextToken: next,
          IncludeNestedStacks: false,
        }
      }
      case 'ExecuteChangeSet': {
        const {stack, changeSet} = this.findChangeSet(ctx, action, params)
        await engine.executeChangeSet(stack, changeSet, params.DisableRollback === undefined ? undefined : bool(params.DisableRollback))
        await this.grace(stack.stackId)
        return {}
      }
      case 'DeleteChangeSet': {
        const {stack, changeSet} = this.findChangeSet(ctx, action, params)
        if (changeSet.executionStatus === 'EXECUTE_IN_PROGRESS' || changeSet.executionStatus === 'EXECUTE_COMPLETE') {
          throw new AwsError('InvalidChangeSetStatus', `Cannot delete ChangeSet in status ${changeSet.executionStatus}`, 400)
        }
        stack.changeSets = stack.changeSets.filter((c) => c !== changeSet)
        if (stack.status === 'REVIEW_IN_PROGRESS' && stack.changeSets.length === 0) {
          stack.status = 'DELETE_COMPLETE'
          stack.deleted = engine.env.clock.now()
        }
        state.touch(stack)
        return {}
      }
      case 'ListChangeSets': {
        const stack = this.stackFor(ctx, action, requireParam(params, 'StackName'))
        const {items, next} = page(stack.changeSets, params.NextToken)
        return {
          Summaries: items.map((c) => ({
            StackId: stack.stackId,
            StackName: stack.stackName,
            ChangeSetId: c.id,
            ChangeSetName: c.name,
            ExecutionStatus: c.executionStatus,
            Status: c.status,
            StatusReason: c.statusReason,
            CreationTime: iso(c.created),
            Description: c.description,
            IncludeNestedStacks: false,
          })),
          NextToken: next,
        }
      }
      case 'ListExports': {
        ctx.authorize('cloudformation:ListExports', '*')
        const all = [...state.exports().entries()].map(([name, e]) => ({ExportingStackId: e.stackId, Name: name, Value: e.value}))
        const {items, next} = page(all, params.NextToken)
        return {Exports: items, NextToken: next}
      }
      case 'ListImports': {
        ctx.authorize('cloudformation:ListImports', '*')
        const name = requireParam(params, 'ExportName')
        if (!state.exports().has(name)) throw validationError(`Export '${name}' does not exist.`)
        const importers = state.importers(name).map((s) => s.stackName)
        if (importers.length === 0) throw validationError(`Export '${name}' is not imported by any stack.`)
        const {items, next} = page(importers, params.NextToken)
        return {Imports: items, NextToken: next}
      }
      case 'UpdateTerminationProtection': {
        const stack = this.stackFor(ctx, action, requireParam(params, 'StackName'))
        const enable = requireParam(params, 'EnableTerminationProtection')
        if (stack.parentId)
          throw validationError('Termination protection cannot be changed on a nested stack; change it on its root stack.')
        stack.terminationProtection = bool(enable)
        state.touch(stack)
        return {StackId: stack.stackId}
      }
      default:
        throw new AwsError(
          'InvalidAction',
          `Could not find operation ${action} for version 2010-05-15 (the ncap emulator serves ${CLOUDFORMATION_ACTIONS.join(', ')})`,
          400,
        )
    }
  }

  private changeSetOf(stack: StackRecord, name: string): ChangeSetRecord {
    const found = stack.changeSets.find((c) => c.name === name || c.id === name)
    if (!found) throw new AwsError('ChangeSetNotFound', `ChangeSet [${name}] does not exist`, 404)
    return found
  }

  private findChangeSet(ctx: RequestContext, action: string, params: QueryParams): {stack: StackRecord; changeSet: ChangeSetRecord} {
    const name = requireParam(params, 'ChangeSetName')
    if (name.startsWith('arn:')) {
      for (const stack of this.engine.state.all()) {
        const changeSet = stack.changeSets.find((c) => c.id === name)
        if (changeSet) {
          ctx.authorize(`cloudformation:${action}`, stack.stackId)
          return {stack, changeSet}
        }
      }
      ctx.authorize(`cloudformation:${action}`, '*')
      throw new AwsError('ChangeSetNotFound', `ChangeSet [${name}] does not exist`, 404)
    }
    const stackName = params.StackName
    if (stackName === undefined) throw validationError('StackName must be specified if ChangeSetName is not specified as an ARN.')
    const stack = this.engine.state.find(stackName)
    ctx.authorize(`cloudformation:${action}`, stack?.stackId ?? this.pattern(ctx, stackName))
    if (!stack) throw new AwsError('ChangeSetNotFound', `ChangeSet [${name}] does not exist`, 404)
    return {stack, changeSet: this.changeSetOf(stack, name)}
  }

  private shownEvent(stack: StackRecord, event: StackEvent): Record<string, unknown> {
    return {
      ...event,
      Timestamp: iso(event.Timestamp),
      ...(event.ResourceProperties !== undefined ? {ResourceProperties: this.engine.mask(stack, event.ResourceProperties)} : {}),
    }
  }

  private describeStack(stack: StackRecord): Record<string, unknown> {
    const noEchoValues = stack.parameters.filter((p) => p.noEcho).map((p) => p.value)
    return {
      StackId: stack.stackId,
      StackName: stack.stackName,
      ChangeSetId: stack.changeSets.find((c) => c.executionStatus === 'EXECUTE_COMPLETE' || c.executionStatus === 'EXECUTE_IN_PROGRESS')
        ?.id,
      Description: stack.description,
      Parameters: shownParameters(stack.parameters),
      CreationTime: iso(stack.created),
      DeletionTime: iso(stack.deleted),
      LastUpdatedTime: iso(stack.updated),
      RollbackConfiguration: {},
      StackStatus: stack.status,
      StackStatusReason: stack.statusReason,
      DisableRollback: stack.disableRollback,
      NotificationARNs: stack.notificationARNs,
      TimeoutInMinutes: stack.timeoutInMinutes,
      Capabilities: stack.capabilities,
      Outputs: stack.outputs.map((o) => ({
        ...o,
        OutputValue: noEchoValues.includes(o.OutputValue) ? MASK : o.OutputValue,
      })),
      RoleARN: stack.roleARN,
      Tags: stack.tags,
      EnableTerminationProtection: stack.terminationProtection,
      ParentId: stack.parentId,
      RootId: stack.rootId,
      DriftInformation: {StackDriftStatus: 'NOT_CHECKED'},
    }
  }
}
