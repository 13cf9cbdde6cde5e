/**
 * The CloudFormation engine: creates, updates and deletes stacks by walking
 * the template's dependency graph (independent resources concurrently),
 * recording resource and stack statuses and events in AWS's order, rolling a
 * failed create or update back, replacing resources new-first with the old
 * one deleted in clean-up, deleting in reverse order with Retain honoured,
 * resolving dynamic references, nested stacks and custom resources. No HTTP
 * here: handler.ts turns API calls into these operations.
 */

import {randomBytes, randomUUID} from 'node:crypto'
import {AwsError} from '../../errors.js'
import type {ServiceEnvironment} from '../../types.js'
import {ACCOUNT_ID} from '../../types.js'
import {alreadyExists, insufficientCapabilities} from './errors.js'
import {type EvalContext, evaluate, evaluateCondition, included} from './intrinsics.js'
import {type GivenParameter, MASK, parameterValues, resolveParameters, type StackParameter, ssmParameterType} from './parameters.js'
import {Clients, sdk} from './providers/clients.js'
import {isCustomType, providerFor} from './providers/index.js'
import {type Attributes, type EngineHooks, type ProvisionContext, type ResourceProvider, reasonOf} from './providers/types.js'
import {
  type ChangeRecord,
  type ChangeSetRecord,
  type CloudFormationState,
  type ResourceRecord,
  type StackOutput,
  type StackRecord,
  type StackStatus,
  stackArn,
} from './state.js'
import {
  checkTemplate,
  collectReferences,
  dependencyGraph,
  parseTemplateBody,
  requiredCapabilities,
  type Template,
  validationError,
} from './template.js'

/** How many resources of one stack are provisioned at once. */
const CONCURRENCY = 24
const RESPONSE_BUCKET_PREFIX = 'cloudformation-custom-resource-response-'

export interface StackInput {
  stackName: string
  templateBody: string
  parameters: GivenParameter[]
  capabilities: string[]
  tags: {Key: string; Value: string}[]
  disableRollback?: boolean
  /** CreateStack's OnFailure: ROLLBACK (default), DO_NOTHING (as --disable-rollback) or DELETE. */
  onFailure?: 'ROLLBACK' | 'DO_NOTHING' | 'DELETE'
  notificationARNs?: string[]
  timeoutInMinutes?: number
  roleARN?: string
  enableTerminationProtection?: boolean
  region: string
  parentId?: string
  rootId?: string
  clientRequestToken?: string
}

class ResourceFailure extends Error {}

const clone = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T))
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

const RANDOM_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
function randomSuffix(length = 12): string {
  const bytes = randomBytes(length)
  let out = ''
  for (const byte of bytes) out += RANDOM_ALPHABET[byte % RANDOM_ALPHABET.length]
  return out
}

const regionOf = (stackId: string) => stackId.split(':')[3] ?? 'us-east-1'

/** Turns a custom resource's properties into what the function receives: every scalar a string, as AWS sends them. */
function stringified(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stringified)
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stringified(v)]))
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return value
}

interface Operation {
  stack: StackRecord
  template: Template
  ctx: EvalContext
}

export class Engine {
  private readonly clientsByRegion = new Map<string, Clients>()
  /** The operation under way per stack id. */
  readonly running = new Map<string, Promise<void>>()
  private readonly templates = new Map<string, Template>()
  private responseBuckets = new Map<string, Promise<string>>()

  constructor(
    readonly env: ServiceEnvironment,
    readonly state: CloudFormationState,
  ) {}

  clients(region: string): Clients {
    let clients = this.clientsByRegion.get(region)
    if (!clients) {
      clients = new Clients(this.env.endpoint, region)
      this.clientsByRegion.set(region, clients)
    }
    return clients
  }

  close(): void {
    for (const clients of this.clientsByRegion.values()) clients.destroy()
  }

  /** Parses and checks a template body; resource type and attribute checks included. */
  async template(body: string): Promise<Template> {
    const cached = this.templates.get(body)
    if (cached) return cached
    const template = await parseTemplateBody(body)
    checkTemplate(template)
    this.checkAttributes(template)
    if (this.templates.size > 64) this.templates.clear()
    this.templates.set(body, template)
    return template
  }

  private checkAttributes(template: Template): void {
    const check = (value: unknown): void => {
      if (Array.isArray(value)) {
        for (const item of value) check(item)
        return
      }
      if (!value || typeof value !== 'object') return
      const record = value as Record<string, unknown>
      const keys = Object.keys(record)
      if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
        const arg = record['Fn::GetAtt']
        const [target, ...rest] = Array.isArray(arg) ? arg : String(arg).split('.')
        if (typeof target !== 'string' || rest.length === 0 || typeof rest[0] !== 'string') return
        const attribute = rest.join('.')
        const resource = template.Resources[target]
        if (!resource) throw validationError(`Template error: instance of Fn::GetAtt references undefined resource ${target}`)
        const provider = providerFor(resource.Type)
        const known = provider?.attributes ?? []
        if (!known.includes('*') && !known.includes(attribute)) {
          throw validationError(`Template error: resource ${target} does not support attribute type ${attribute} in Fn::GetAtt`)
        }
        if (resource.Type === 'AWS::CloudFormation::Stack' && !attribute.startsWith('Outputs.')) {
          throw validationError(`Template error: resource ${target} does not support attribute type ${attribute} in Fn::GetAtt`)
        }
        return
      }
      for (const key of keys) check(record[key])
    }
    for (const resource of Object.values(template.Resources)) check(resource.Properties)
    for (const output of Object.values(template.Outputs ?? {})) check(output)
  }

  /** Capabilities the template needs and the caller did not acknowledge: InsufficientCapabilitiesException. */
  checkCapabilities(template: Template, given: string[]): void {
    const needed = requiredCapabilities(template)
    const missing = needed.filter((cap) => !given.includes(cap) && !(cap === 'CAPABILITY_IAM' && given.includes('CAPABILITY_NAMED_IAM')))
    if (missing.length > 0) throw insufficientCapabilities(missing)
  }

  // ---------------------------------------------------------------- events and statuses

  private event(
    stack: StackRecord,
    logicalId: string,
    type: string,
    status: string,
    reason?: string,
    physicalId?: string,
    props?: unknown,
  ): void {
    stack.events.push({
      EventId: randomUUID(),
      StackId: stack.stackId,
      StackName: stack.stackName,
      LogicalResourceId: logicalId,
      PhysicalResourceId: physicalId ?? '',
      ResourceType: type,
      Timestamp: this.env.clock.now(),
      ResourceStatus: status,
      ...(reason !== undefined ? {ResourceStatusReason: reason} : {}),
      ...(props !== undefined ? {ResourceProperties: JSON.stringify(props)} : {}),
    })
    this.state.touch(stack)
  }

  private stackStatus(stack: StackRecord, status: StackStatus, reason?: string): void {
    stack.status = status
    stack.statusReason = reason
    this.event(stack, stack.stackName, 'AWS::CloudFormation::Stack', status, reason, stack.stackId)
    this.env.events.record({
      service: 'cloudformation',
      kind: 'cloudformation.stack-status',
      outcome: status.endsWith('FAILED') || status.includes('ROLLBACK') ? 'failed' : 'ok',
      summary: `stack ${stack.stackName} ${status}`,
      ...(reason ? {reason} : {}),
      resource: stack.stackId,
      correlation: {stackName: stack.stackName},
    })
  }

  private resourceStatus(stack: StackRecord, record: ResourceRecord, status: string, reason?: string, props?: unknown): void {
    record.status = status
    record.statusReason = reason
    record.updated = this.env.clock.now()
    this.event(stack, record.logicalId, record.type, status, reason, record.physicalId, props)
  }

  // ---------------------------------------------------------------- evaluation

  private pseudo(stack: StackRecord): Record<string, string | string[]> {
    const region = regionOf(stack.stackId)
    return {
      'AWS::AccountId': ACCOUNT_ID,
      'AWS::Region': region,
      'AWS::StackId': stack.stackId,
      'AWS::StackName': stack.stackName,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::NotificationARNs': stack.notificationARNs,
    }
  }

  /** The evaluation context of a stack's template: references read the resources provisioned so far. */
  private context(stack: StackRecord, template: Template, resources: Record<string, ResourceRecord> = stack.resources): EvalContext {
    const ctx: EvalContext = {
      template,
      parameters: parameterValues(template, stack.parameters),
      pseudo: this.pseudo(stack),
      region: regionOf(stack.stackId),
      ref: (id) => {
        const record = resources[id]
        if (!record?.physicalId) {
          if (template.Resources[id] && !included(ctx, template.Resources[id]!.Condition)) {
            throw validationError(`Template format error: Unresolved resource dependencies [${id}] in the Resources block of the template`)
          }
          throw new ResourceFailure(`Resource ${id} has no physical id yet`)
        }
        return record.ref ?? record.physicalId
      },
      getAtt: (id, attribute) => {
        const record = resources[id]
        if (!record?.physicalId) throw new ResourceFailure(`Resource ${id} has no attributes yet`)
        const value = record.attributes[attribute]
        if (value === undefined) {
          if (isCustomType(record.type)) {
            throw new ResourceFailure(
              `CustomResource attribute error: Vendor response doesn't contain ${attribute} key in object ${stack.stackId}|${id}|${record.physicalId}`,
            )
          }
          if (record.type === 'AWS::CloudFormation::Stack')
            throw new ResourceFailure(`Nested stack ${id} has no output ${attribute.slice('Outputs.'.length)}`)
          throw new ResourceFailure(`Attribute ${attribute} of ${id} is not available`)
        }
        return value
      },
      importValue: (name) => {
        const found = this.state.exports().get(name)
        if (!found) throw new ResourceFailure(`No export named ${name} found`)
        return found.value
      },
    }
    return ctx
  }

  /** Resolves {{resolve:ssm:…}}, {{resolve:ssm-secure:…}} and {{resolve:secretsmanager:…}} in every string. */
  private async resolveDynamic(region: string, value: unknown): Promise<unknown> {
    if (typeof value === 'string') {
      if (!value.includes('{{resolve:')) return value
      const matches = [...value.matchAll(/\{\{resolve:(ssm|ssm-secure|secretsmanager):([^}]+)\}\}/g)]
      let out = value
      for (const match of matches) out = out.replace(match[0], await this.dynamicReference(region, match[1]!, match[2]!))
      return out
    }
    if (Array.isArray(value)) return Promise.all(value.map((item) => this.resolveDynamic(region, item)))
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {}
      for (const [key, item] of Object.entries(value)) out[key] = await this.resolveDynamic(region, item)
      return out
    }
    return value
  }

  private async dynamicReference(region: string, service: string, reference: string): Promise<string> {
    const clients = this.clients(region)
    if (service === 'ssm' || service === 'ssm-secure') {
      const [name, version] = reference.startsWith('arn:') ? [reference, undefined] : reference.split(':')
      const ssm = await clients.ssm()
      const {GetParameterCommand} = await sdk.ssm()
      try {
        const got = await ssm.send(
          new GetParameterCommand({Name: version ? `${name}:${version}` : name, WithDecryption: service === 'ssm-secure'}),
        )
        return got.Parameter?.Value ?? ''
      } catch (error) {
        throw new ResourceFailure(`Unable to resolve the dynamic reference {{resolve:${service}:${reference}}}: ${reasonOf(error)}`)
      }
    }
    const parts = reference.split(':')
    const id = reference.startsWith('arn:') ? parts.splice(0, 7).join(':') : parts.shift()!
    const [field = 'SecretString', jsonKey, stage, versionId] = parts
    if (field !== 'SecretString')
      throw new ResourceFailure(`Dynamic reference {{resolve:secretsmanager:${reference}}}: only SecretString can be read`)
    const secrets = await clients.secrets()
    const {GetSecretValueCommand} = await sdk.secrets()
    let text: string
    try {
      const got = await secrets.send(
        new GetSecretValueCommand({SecretId: id, VersionStage: stage || undefined, VersionId: versionId || undefined}),
      )
      text = got.SecretString ?? ''
    } catch (error) {
      throw new ResourceFailure(`Unable to resolve the dynamic reference {{resolve:secretsmanager:${reference}}}: ${reasonOf(error)}`)
    }
    if (!jsonKey) return text
    try {
      const value = (JSON.parse(text) as Record<string, unknown>)[jsonKey]
      if (value === undefined) throw new Error('missing')
      return typeof value === 'string' ? value : JSON.stringify(value)
    } catch {
      throw new ResourceFailure(`Could not find SecretString key ${jsonKey} in secret ${id}`)
    }
  }

  /** The resources of a template that exist in this stack (their Condition holds). */
  private includedIds(ctx: EvalContext, template: Template): string[] {
    return Object.entries(template.Resources)
      .filter(([, resource]) => included(ctx, resource.Condition))
      .map(([id]) => id)
  }

  // ---------------------------------------------------------------- provisioning

  private provisionContext(stack: StackRecord, record: ResourceRecord): ProvisionContext {
    const region = regionOf(stack.stackId)
    return {
      clients: this.clients(region),
      region,
      accountId: ACCOUNT_ID,
      stackId: stack.stackId,
      stackName: stack.stackName,
      logicalId: record.logicalId,
      resourceType: record.type,
      physicalId: record.physicalId,
      attributes: record.attributes,
      engine: this.hooks(stack),
      generateName: ({max = 128, lowercase = false, separator = '-'} = {}) => {
        const suffix = randomSuffix(lowercase ? 12 : 12)
        const room = Math.max(2, max - suffix.length - 2)
        let stackPart = stack.stackName
        let idPart = record.logicalId
        if (stackPart.length + idPart.length > room) {
          const half = Math.floor(room / 2)
          stackPart = stackPart.slice(0, Math.max(1, room - Math.min(idPart.length, half)))
          idPart = idPart.slice(0, room - stackPart.length)
        }
        const name = `${stackPart}${separator}${idPart}${separator}${suffix}`
        return lowercase ? name.toLowerCase() : name
      },
    }
  }

  private required(provider: ResourceProvider, record: ResourceRecord, props: Record<string, unknown>): void {
    const missing = (provider.required ?? []).filter((key) => props[key] === undefined)
    if (missing.length > 0) {
      throw new ResourceFailure(
        `Properties validation failed for resource ${record.logicalId} with message: #: required key [${missing[0]}] not found`,
      )
    }
  }

  private async createResource(op: Operation, id: string): Promise<void> {
    const {stack, template, ctx} = op
    const declared = template.Resources[id]!
    const record: ResourceRecord = {
      logicalId: id,
      type: declared.Type,
      status: 'CREATE_IN_PROGRESS',
      updated: this.env.clock.now(),
      properties: {},
      attributes: {},
      deletionPolicy: declared.DeletionPolicy,
      updateReplacePolicy: declared.UpdateReplacePolicy,
    }
    stack.resources[id] = record
    let props: Record<string, unknown> = {}
    try {
      props = (evaluate(ctx, declared.Properties ?? {}) as Record<string, unknown>) ?? {}
      record.properties = props
      this.resourceStatus(stack, record, 'CREATE_IN_PROGRESS', undefined, props)
      const provider = providerFor(declared.Type)!
      this.required(provider, record, props)
      const resolved = (await this.resolveDynamic(ctx.region, props)) as Record<string, unknown>
      const made = await provider.create(this.provisionContext(stack, record), resolved)
      record.physicalId = made.physicalId
      record.ref = made.ref
      record.attributes = made.attributes ?? {}
      this.resourceStatus(stack, record, 'CREATE_IN_PROGRESS', 'Resource creation Initiated', props)
      this.resourceStatus(stack, record, 'CREATE_COMPLETE', undefined, props)
    } catch (error) {
      if (record.status !== 'CREATE_IN_PROGRESS' || record.statusReason !== undefined || stack.events.at(-1)?.LogicalResourceId !== id) {
        // Make sure the IN_PROGRESS event precedes the failure even when evaluation failed.
      }
      if (!stack.events.some((e) => e.LogicalResourceId === id && e.ResourceStatus === 'CREATE_IN_PROGRESS')) {
        this.resourceStatus(stack, record, 'CREATE_IN_PROGRESS', undefined, props)
      }
      this.resourceStatus(stack, record, 'CREATE_FAILED', reasonOf(error), props)
      throw new ResourceFailure(id)
    }
  }

  /** Deletes one resource (or skips it under Retain); throws when the service refuses, as AWS does (DELETE_FAILED). */
  private async deleteResource(stack: StackRecord, record: ResourceRecord, retain: boolean, template?: Template): Promise<void> {
    if (
      retain ||
      record.deletionPolicy === 'Retain' ||
      (record.deletionPolicy === 'RetainExceptOnCreate' && stack.operation !== 'rollback')
    ) {
      this.resourceStatus(stack, record, 'DELETE_SKIPPED')
      return
    }
    if (!record.physicalId) {
      // Never made: nothing to delete (AWS shows its DELETE_COMPLETE all the same).
      this.resourceStatus(stack, record, 'DELETE_COMPLETE')
      return
    }
    this.resourceStatus(stack, record, 'DELETE_IN_PROGRESS')
    try {
      const provider = providerFor(record.type)!
      // Deleting needs no secret values: dynamic references stay unresolved (a secret deleted first is no failure).
      const props = record.properties as Record<string, unknown>
      await provider.delete(this.provisionContext(stack, record), record.physicalId, props)
      this.resourceStatus(stack, record, 'DELETE_COMPLETE')
    } catch (error) {
      this.resourceStatus(stack, record, 'DELETE_FAILED', reasonOf(error))
      throw new ResourceFailure(record.logicalId)
    }
    void template
  }

  /**
   * Runs `work` over a graph's nodes once each node's dependencies are done,
   * up to CONCURRENCY at a time. After the first failure no new work starts;
   * work under way finishes. Resolves with the nodes that failed and those done.
   */
  private async walk(nodes: string[], deps: (id: string) => string[], work: (id: string) => Promise<void>, continueOnFailure = false) {
    const pending = new Set(nodes)
    const done = new Set<string>()
    const failed = new Set<string>()
    const blocked = new Set<string>()
    const running = new Map<string, Promise<void>>()
    for (;;) {
      if (failed.size === 0 || continueOnFailure) {
        for (const id of [...pending]) {
          if (running.size >= CONCURRENCY) break
          const needs = deps(id).filter((dep) => nodes.includes(dep))
          if (needs.some((dep) => failed.has(dep) || blocked.has(dep))) {
            pending.delete(id)
            blocked.add(id)
            continue
          }
          if (needs.every((dep) => done.has(dep))) {
            pending.delete(id)
            running.set(
              id,
              work(id).then(
                () => {
                  done.add(id)
                  running.delete(id)
                },
                () => {
                  failed.add(id)
                  running.delete(id)
                },
              ),
            )
          }
        }
      }
      if (running.size === 0) break
      await Promise.race(running.values())
    }
    return {failed: [...failed], done: [...done], notStarted: [...pending, ...blocked]}
  }

  private dependents(graph: Map<string, string[]>): Map<string, string[]> {
    const reverse = new Map<string, string[]>()
    for (const id of graph.keys()) reverse.set(id, [])
    for (const [id, deps] of graph) for (const dep of deps) reverse.get(dep)?.push(id)
    return reverse
  }

  /** Deletes resources in reverse dependency order; those that fail (and what they depend on) stay. */
  private async deleteAll(
    stack: StackRecord,
    records: ResourceRecord[],
    template: Template | undefined,
    retain: string[] = [],
  ): Promise<string[]> {
    const ids = records.map((r) => r.logicalId)
    const byId = new Map(records.map((r) => [r.logicalId, r]))
    const graph = template ? dependencyGraph(template) : new Map<string, string[]>()
    const reverse = this.dependents(graph)
    const result = await this.walk(
      ids,
      (id) => (reverse.get(id) ?? []).filter((dep) => byId.has(dep)),
      (id) => this.deleteResource(stack, byId.get(id)!, retain.includes(id), template),
      true,
    )
    for (const id of result.done) {
      const record = byId.get(id)!
      if (stack.resources[id] === record) delete stack.resources[id]
    }
    return result.failed
  }

  // ---------------------------------------------------------------- create

  async createStack(input: StackInput): Promise<StackRecord> {
    if (this.state.find(input.stackName)) throw alreadyExists(`Stack [${input.stackName}] already exists`)
    if (!/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/.test(input.stackName)) {
      throw validationError(
        `1 validation error detected: Value '${input.stackName}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*`,
      )
    }
    const template = await this.template(input.templateBody)
    const parameters = resolveParameters(template, input.parameters)
    this.checkCapabilities(template, input.capabilities)
    const stack = this.newStack(input, template, parameters)
    await this.resolveSsmParameters(stack, template)
    this.state.add(stack)
    this.stackStatus(stack, 'CREATE_IN_PROGRESS', 'User Initiated')
    this.start(stack, () => this.runCreate(stack, template, input.onFailure ?? (input.disableRollback ? 'DO_NOTHING' : 'ROLLBACK')))
    return stack
  }

  newStack(input: StackInput, template: Template, parameters: StackParameter[], status: StackStatus = 'CREATE_IN_PROGRESS'): StackRecord {
    const stackId = stackArn(input.region, ACCOUNT_ID, input.stackName)
    return {
      stackId,
      stackName: input.stackName,
      description: typeof template.Description === 'string' ? template.Description : undefined,
      status,
      created: this.env.clock.now(),
      templateBody: input.templateBody,
      parameters,
      capabilities: input.capabilities,
      tags: input.tags,
      notificationARNs: input.notificationARNs ?? [],
      disableRollback: input.disableRollback === true || input.onFailure === 'DO_NOTHING',
      terminationProtection: input.enableTerminationProtection === true,
      timeoutInMinutes: input.timeoutInMinutes,
      roleARN: input.roleARN,
      outputs: [],
      resources: {},
      events: [],
      changeSets: [],
      parentId: input.parentId,
      rootId: input.rootId,
    }
  }

  /** AWS::SSM::Parameter::Value<…> parameters: read from SSM when the operation starts. */
  async resolveSsmParameters(stack: StackRecord, template: Template): Promise<void> {
    for (const parameter of stack.parameters) {
      const type = template.Parameters?.[parameter.key]?.Type ?? 'String'
      if (!ssmParameterType(type)) continue
      const ssm = await this.clients(regionOf(stack.stackId)).ssm()
      const {GetParameterCommand} = await sdk.ssm()
      try {
        const got = await ssm.send(new GetParameterCommand({Name: parameter.value}))
        parameter.resolved = got.Parameter?.Value ?? ''
      } catch {
        throw validationError(`Parameters: [ssm:${parameter.value}] cannot be found.`)
      }
    }
  }

  private start(stack: StackRecord, run: () => Promise<void>): Promise<void> {
    const promise = (async () => {
      try {
        await run()
      } catch (error) {
        // An engine fault must still end the operation in a failed state, never IN_PROGRESS.
        const message = `Internal failure: ${(error as Error).message}`
        if (stack.status.endsWith('_IN_PROGRESS')) this.stackStatus(stack, failedStatusOf(stack.status), message)
      } finally {
        stack.operation = undefined
        this.state.touch(stack)
        this.running.delete(stack.stackId)
      }
    })()
    this.running.set(stack.stackId, promise)
    return promise
  }

  /** Waits for the operation on a stack (if any) to end. */
  async settle(stackId: string): Promise<void> {
    await this.running.get(stackId)
  }

  private imports(template: Template, ctx: EvalContext): string[] {
    const names: string[] = []
    const find = (value: unknown): void => {
      if (Array.isArray(value)) {
        for (const item of value) find(item)
        return
      }
      if (!value || typeof value !== 'object') return
      const record = value as Record<string, unknown>
      if (Object.keys(record).length === 1 && 'Fn::ImportValue' in record) {
        try {
          const name = evaluate({...ctx, importValue: () => '', ref: () => '', getAtt: () => ''}, record['Fn::ImportValue'])
          if (typeof name === 'string' && name) names.push(name)
        } catch {
          // Named by a resource attribute: checked when it is evaluated.
        }
        return
      }
      for (const item of Object.values(record)) find(item)
    }
    for (const id of this.includedIds(ctx, template)) find(template.Resources[id]!.Properties)
    for (const output of Object.values(template.Outputs ?? {})) find(output.Value)
    return [...new Set(names)]
  }

  private async runCreate(stack: StackRecord, template: Template, onFailure: 'ROLLBACK' | 'DO_NOTHING' | 'DELETE'): Promise<void> {
    stack.operation = 'create'
    const ctx = this.context(stack, template)
    const ids = this.includedIds(ctx, template)
    const graph = dependencyGraph(template)
    const imports = this.imports(template, ctx)
    stack.imports = imports
    const missing = imports.filter((name) => !this.state.exports().has(name))
    let reason: string | undefined
    let failedIds: string[] = []
    if (missing.length > 0) reason = `No export named ${missing[0]} found`
    else {
      const result = await this.walk(
        ids,
        (id) => graph.get(id) ?? [],
        (id) => this.createResource({stack, template, ctx}, id),
      )
      failedIds = result.failed
      if (failedIds.length > 0) reason = `The following resource(s) failed to create: [${failedIds.sort().join(', ')}]. `
      else {
        try {
          stack.outputs = this.outputs(stack, template, ctx)
          this.checkExportsFree(stack)
        } catch (error) {
          reason = (error as Error).message
        }
      }
    }
    if (reason === undefined) {
      this.stackStatus(stack, 'CREATE_COMPLETE')
      return
    }
    if (onFailure === 'DO_NOTHING') {
      this.stackStatus(stack, 'CREATE_FAILED', reason)
      return
    }
    stack.operation = 'rollback'
    this.stackStatus(stack, 'ROLLBACK_IN_PROGRESS', `${reason}${reason.endsWith(' ') ? '' : '. '}Rollback requested by user.`)
    stack.outputs = []
    const left = await this.deleteAll(stack, Object.values(stack.resources), template)
    if (left.length > 0) {
      this.stackStatus(stack, 'ROLLBACK_FAILED', `The following resource(s) failed to delete: [${left.sort().join(', ')}]. `)
      return
    }
    this.stackStatus(stack, 'ROLLBACK_COMPLETE')
    if (onFailure === 'DELETE') {
      stack.operation = 'delete'
      this.stackStatus(stack, 'DELETE_IN_PROGRESS')
      stack.deleted = this.env.clock.now()
      this.stackStatus(stack, 'DELETE_COMPLETE')
    }
  }

  private outputs(stack: StackRecord, template: Template, ctx: EvalContext): StackOutput[] {
    const out: StackOutput[] = []
    for (const [key, output] of Object.entries(template.Outputs ?? {})) {
      if (!included(ctx, output.Condition)) continue
      const value = evaluate(ctx, output.Value)
      const exportName = output.Export ? evaluate(ctx, output.Export.Name) : undefined
      out.push({
        OutputKey: key,
        OutputValue: Array.isArray(value) ? value.join(',') : String(value),
        ...(output.Description ? {Description: String(output.Description)} : {}),
        ...(exportName !== undefined ? {ExportName: String(exportName)} : {}),
      })
    }
    void stack
    return out
  }

  private checkExportsFree(stack: StackRecord): void {
    for (const output of stack.outputs) {
      if (!output.ExportName) continue
      for (const other of this.state.stacks.values()) {
        if (other === stack || other.status === 'DELETE_COMPLETE' || other.status === 'ROLLBACK_COMPLETE') continue
        if (other.outputs.some((o) => o.ExportName === output.ExportName)) {
          throw new Error(`Export with name ${output.ExportName} is already exported by stack ${other.stackName}`)
        }
      }
    }
  }

  // ---------------------------------------------------------------- delete

  async deleteStack(stack: StackRecord, retainResources: string[] = []): Promise<void> {
    if (stack.status === 'DELETE_COMPLETE') return
    if (stack.terminationProtection) {
      throw validationError(`Stack [${stack.stackName}] cannot be deleted while TerminationProtection is enabled`)
    }
    if (this.running.has(stack.stackId)) {
      if (stack.status === 'DELETE_IN_PROGRESS') return
      throw validationError(`Stack [${stack.stackName}] is in ${stack.status} state and can not be deleted now`)
    }
    if (retainResources.length > 0 && stack.status !== 'DELETE_FAILED') {
      throw validationError('Invalid operation on stack. RetainResources can only be specified for stacks in DELETE_FAILED state')
    }
    this.stackStatus(stack, 'DELETE_IN_PROGRESS', 'User Initiated')
    void this.start(stack, () => this.runDelete(stack, retainResources))
  }

  private async runDelete(stack: StackRecord, retain: string[]): Promise<void> {
    stack.operation = 'delete'
    for (const output of stack.outputs) {
      if (!output.ExportName) continue
      const users = this.state.importers(output.ExportName).filter((other) => other !== stack)
      if (users.length > 0) {
        this.stackStatus(
          stack,
          'DELETE_FAILED',
          `Export ${output.ExportName} cannot be deleted as it is in use by ${users.map((u) => u.stackName).join(', ')}`,
        )
        return
      }
    }
    let template: Template | undefined
    try {
      template = await this.template(stack.templateBody)
    } catch {
      template = undefined
    }
    const left = await this.deleteAll(stack, Object.values(stack.resources), template, retain)
    if (left.length > 0) {
      this.stackStatus(stack, 'DELETE_FAILED', `The following resource(s) failed to delete: [${left.sort().join(', ')}]. `)
      return
    }
    for (const id of retain) delete stack.resources[id]
    stack.deleted = this.env.clock.now()
    stack.outputs = []
    this.stackStatus(stack, 'DELETE_COMPLETE')
  }

  // ---------------------------------------------------------------- update

  /** Throws unless the stack is in a state an update may start from. */
  checkUpdatable(stack: StackRecord): void {
    const ok = ['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE']
    if (this.running.has(stack.stackId) || !ok.includes(stack.status)) {
      throw validationError(`Stack:${stack.stackId} is in ${stack.status} state and can not be updated.`)
    }
  }

  async updateStack(stack: StackRecord, input: Omit<StackInput, 'stackName' | 'region'>): Promise<void> {
    this.checkUpdatable(stack)
    const template = await this.template(input.templateBody)
    const parameters = resolveParameters(template, input.parameters, stack.parameters)
    this.checkCapabilities(template, input.capabilities)
    const changes = await this.changes(stack, template, parameters)
    const sameOutputs = same(template.Outputs ?? {}, (await this.template(stack.templateBody)).Outputs ?? {})
    if (changes.length === 0 && sameOutputs && sameParameters(parameters, stack.parameters) && same(input.tags, stack.tags)) {
      throw validationError('No updates are to be performed.')
    }
    this.beginUpdate(stack, input, template, parameters)
  }

  private beginUpdate(
    stack: StackRecord,
    input: Omit<StackInput, 'stackName' | 'region'>,
    template: Template,
    parameters: StackParameter[],
  ): void {
    stack.previous = {templateBody: stack.templateBody, parameters: stack.parameters, outputs: stack.outputs}
    stack.templateBody = input.templateBody
    stack.parameters = parameters
    stack.capabilities = input.capabilities
    if (input.tags.length > 0) stack.tags = input.tags
    if (input.disableRollback !== undefined) stack.disableRollback = input.disableRollback
    stack.updated = this.env.clock.now()
    this.stackStatus(stack, 'UPDATE_IN_PROGRESS', 'User Initiated')
    void this.start(stack, async () => {
      await this.resolveSsmParameters(stack, template)
      await this.runUpdate(stack, template)
    })
  }

  private replaces(provider: ResourceProvider, changed: string[]): boolean {
    if (provider.replaceAlways) return true
    return changed.some((key) => provider.replacement?.[key] === 'Always')
  }

  private async runUpdate(stack: StackRecord, template: Template): Promise<void> {
    stack.operation = 'update'
    const oldTemplate = await this.template(stack.previous!.templateBody)
    const before = clone(stack.resources)
    const ctx = this.context(stack, template)
    const ids = this.includedIds(ctx, template)
    const graph = dependencyGraph(template)
    const replaced: ResourceRecord[] = []
    const touched = new Map<string, 'created' | 'updated' | 'replaced'>()
    stack.imports = this.imports(template, ctx)
    const missing = stack.imports.filter((name) => !this.state.exports().has(name))
    let reason: string | undefined
    if (missing.length > 0) reason = `No export named ${missing[0]} found`
    else {
      const result = await this.walk(
        ids,
        (id) => graph.get(id) ?? [],
        async (id) => {
          const existing = stack.resources[id]
          const declared = template.Resources[id]!
          if (!existing?.physicalId) {
            touched.set(id, 'created')
            await this.createResource({stack, template, ctx}, id)
            return
          }
          existing.deletionPolicy = declared.DeletionPolicy
          existing.updateReplacePolicy = declared.UpdateReplacePolicy
          let props: Record<string, unknown>
          try {
            props = (evaluate(ctx, declared.Properties ?? {}) as Record<string, unknown>) ?? {}
          } catch (error) {
            this.resourceStatus(stack, existing, 'UPDATE_FAILED', reasonOf(error))
            throw new ResourceFailure(id)
          }
          if (existing.type !== declared.Type) {
            this.resourceStatus(
              stack,
              existing,
              'UPDATE_FAILED',
              `Update of resource type is not permitted. The new template modifies resource type of resource ${id}.`,
            )
            throw new ResourceFailure(id)
          }
          if (same(props, existing.properties)) return
          const provider = providerFor(declared.Type)!
          const changed = [...new Set([...Object.keys(props), ...Object.keys(existing.properties)])].filter(
            (key) => !same(props[key], existing.properties[key]),
          )
          const resolved = async (value: Record<string, unknown>) =>
            (await this.resolveDynamic(ctx.region, value)) as Record<string, unknown>
          if (this.replaces(provider, changed) || !provider.update) {
            touched.set(id, 'replaced')
            const old = {...existing}
            this.resourceStatus(
              stack,
              existing,
              'UPDATE_IN_PROGRESS',
              'Requested update requires the creation of a new physical resource; hence creating one.',
              props,
            )
            try {
              this.required(provider, existing, props)
              const record = {...existing, physicalId: undefined}
              const made = await provider.create(this.provisionContext(stack, record), await resolved(props))
              existing.physicalId = made.physicalId
              existing.ref = made.ref
              existing.attributes = made.attributes ?? {}
              existing.properties = props
              replaced.push(old)
              this.resourceStatus(stack, existing, 'UPDATE_IN_PROGRESS', 'Resource creation Initiated', props)
              this.resourceStatus(stack, existing, 'UPDATE_COMPLETE', undefined, props)
            } catch (error) {
              this.resourceStatus(stack, existing, 'UPDATE_FAILED', reasonOf(error), props)
              throw new ResourceFailure(id)
            }
            return
          }
          touched.set(id, 'updated')
          this.resourceStatus(stack, existing, 'UPDATE_IN_PROGRESS', undefined, props)
          try {
            this.required(provider, existing, props)
            const made = await provider.update(
              this.provisionContext(stack, existing),
              await resolved(props),
              await resolved(existing.properties),
            )
            if (made.physicalId !== existing.physicalId) {
              // A custom resource answered with a new physical id: the old one is deleted in clean-up.
              replaced.push({...existing})
              touched.set(id, 'replaced')
            }
            existing.physicalId = made.physicalId
            existing.ref = made.ref ?? existing.ref
            existing.attributes = made.attributes ?? existing.attributes
            existing.properties = props
            this.resourceStatus(stack, existing, 'UPDATE_COMPLETE', undefined, props)
          } catch (error) {
            this.resourceStatus(stack, existing, 'UPDATE_FAILED', reasonOf(error), props)
            throw new ResourceFailure(id)
          }
        },
      )
      if (result.failed.length > 0) {
        const verb = result.failed.every((id) => touched.get(id) === 'created') ? 'create' : 'update'
        reason = `The following resource(s) failed to ${verb}: [${result.failed.sort().join(', ')}]. `
      } else {
        try {
          const outputs = this.outputs(stack, template, ctx)
          this.checkExportChanges(stack, outputs)
          stack.outputs = outputs
          this.checkExportsFree(stack)
        } catch (error) {
          reason = (error as Error).message
        }
      }
    }
    if (reason === undefined) {
      stack.operation = 'update'
      stack.pendingCleanup = replaced
      this.stackStatus(stack, 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS')
      const removed = Object.values(stack.resources).filter((r) => !ids.includes(r.logicalId))
      for (const old of replaced) {
        const retain = old.updateReplacePolicy === 'Retain'
        await this.deleteResource(stack, old, retain).catch(() => undefined)
      }
      await this.deleteAll(stack, removed, oldTemplate)
      for (const record of removed) delete stack.resources[record.logicalId]
      stack.pendingCleanup = undefined
      stack.previous = undefined
      this.stackStatus(stack, 'UPDATE_COMPLETE')
      return
    }
    await this.rollbackUpdate(stack, template, oldTemplate, before, touched, replaced, reason)
  }

  private checkExportChanges(stack: StackRecord, outputs: StackOutput[]): void {
    for (const old of stack.outputs) {
      if (!old.ExportName) continue
      const users = this.state.importers(old.ExportName).filter((other) => other !== stack)
      if (users.length === 0) continue
      const now = outputs.find((o) => o.ExportName === old.ExportName)
      if (!now) throw new Error(`Cannot delete export ${old.ExportName} as it is in use by ${users.map((u) => u.stackName).join(', ')}`)
      if (now.OutputValue !== old.OutputValue) {
        throw new Error(`Cannot update export ${old.ExportName} as it is in use by ${users.map((u) => u.stackName).join(', ')}`)
      }
    }
  }

  private async rollbackUpdate(
    stack: StackRecord,
    template: Template,
    oldTemplate: Template,
    before: Record<string, ResourceRecord>,
    touched: Map<string, 'created' | 'updated' | 'replaced'>,
    replaced: ResourceRecord[],
    reason: string,
  ): Promise<void> {
    if (stack.disableRollback) {
      this.stackStatus(stack, 'UPDATE_FAILED', reason)
      return
    }
    stack.operation = 'update-rollback'
    this.stackStatus(stack, 'UPDATE_ROLLBACK_IN_PROGRESS', reason)
    const previous = stack.previous!
    stack.templateBody = previous.templateBody
    stack.parameters = previous.parameters
    stack.outputs = previous.outputs
    const cleanup: ResourceRecord[] = []
    let failed = false
    const region = regionOf(stack.stackId)
    // Back to the old properties, in the old template's order: in-place updates reapplied, replacements swapped back.
    const graph = dependencyGraph(oldTemplate)
    const ids = [...touched.keys()]
    await this.walk(
      ids,
      (id) => (graph.get(id) ?? []).filter((dep) => touched.has(dep)),
      async (id) => {
        const kind = touched.get(id)!
        const current = stack.resources[id]
        const old = before[id]
        if (kind === 'created') {
          if (current) cleanup.push(current)
          delete stack.resources[id]
          return
        }
        if (!current || !old) return
        if (kind === 'replaced') {
          const newOne = {...current}
          if (newOne.physicalId !== old.physicalId) cleanup.push(newOne)
          stack.resources[id] = {...old}
          this.resourceStatus(stack, stack.resources[id]!, 'UPDATE_COMPLETE')
          return
        }
        if (current.status === 'UPDATE_FAILED' && same(current.properties, old.properties)) {
          stack.resources[id] = {...old}
          this.resourceStatus(stack, stack.resources[id]!, 'UPDATE_COMPLETE')
          return
        }
        this.resourceStatus(stack, current, 'UPDATE_IN_PROGRESS')
        try {
          const provider = providerFor(current.type)!
          const made = await provider.update!(
            this.provisionContext(stack, current),
            (await this.resolveDynamic(region, old.properties)) as Record<string, unknown>,
            (await this.resolveDynamic(region, current.properties)) as Record<string, unknown>,
          )
          stack.resources[id] = {...old, attributes: made.attributes ?? old.attributes}
          this.resourceStatus(stack, stack.resources[id]!, 'UPDATE_COMPLETE')
        } catch (error) {
          failed = true
          this.resourceStatus(stack, current, 'UPDATE_FAILED', reasonOf(error))
        }
      },
      true,
    )
    // Replacements whose new resource was made before another resource failed keep the old physical one.
    for (const old of replaced) if (!cleanup.some((r) => r.physicalId === old.physicalId)) void old
    if (failed) {
      this.stackStatus(stack, 'UPDATE_ROLLBACK_FAILED', 'The following resource(s) failed to roll back.')
      return
    }
    this.stackStatus(stack, 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS')
    for (const record of cleanup) await this.deleteResource(stack, record, false).catch(() => undefined)
    stack.previous = undefined
    stack.pendingCleanup = undefined
    void template
    this.stackStatus(stack, 'UPDATE_ROLLBACK_COMPLETE')
  }

  // ---------------------------------------------------------------- change sets

  /** What an update would do, resource by resource, with the causing property of each change. */
  async changes(stack: StackRecord | undefined, template: Template, parameters: StackParameter[]): Promise<ChangeRecord[]> {
    const probe = this.newStack(
      {
        stackName: stack?.stackName ?? 'probe',
        templateBody: '',
        parameters: [],
        capabilities: [],
        tags: [],
        region: stack ? regionOf(stack.stackId) : 'us-east-1',
      },
      template,
      parameters,
    )
    if (stack) probe.stackId = stack.stackId
    const ctx = this.context(probe, template, {})
    const newIds = this.includedIds(ctx, template)
    const out: ChangeRecord[] = []
    if (!stack || stack.status === 'REVIEW_IN_PROGRESS') {
      for (const id of newIds) {
        out.push({Action: 'Add', LogicalResourceId: id, ResourceType: template.Resources[id]!.Type, Scope: [], Details: []})
      }
      return out
    }
    const oldTemplate = await this.template(stack.templateBody)
    // As given (an SSM parameter type by its name): what the caller changed, not what SSM holds now.
    const given = (list: StackParameter[]) => list.map((p) => ({...p, resolved: undefined}))
    const oldValues = parameterValues(oldTemplate, given(stack.parameters))
    const newValues = parameterValues(template, given(parameters))
    const changedParams = new Set(Object.keys({...oldValues, ...newValues}).filter((key) => !same(oldValues[key], newValues[key])))
    const replacedIds = new Set<string>()
    const graph = dependencyGraph(template)
    // In dependency order, so a replacement is known before what refers to it.
    const order: string[] = []
    const seen = new Set<string>()
    const visit = (id: string) => {
      if (seen.has(id)) return
      seen.add(id)
      for (const dep of graph.get(id) ?? []) visit(dep)
      order.push(id)
    }
    newIds.forEach(visit)
    for (const id of order) {
      if (!newIds.includes(id)) continue
      const declared = template.Resources[id]!
      const existing = stack.resources[id]
      if (!existing) {
        out.push({Action: 'Add', LogicalResourceId: id, ResourceType: declared.Type, Scope: [], Details: []})
        continue
      }
      const oldDeclared = oldTemplate.Resources[id]
      const provider = providerFor(declared.Type)!
      const newProps = (declared.Properties ?? {}) as Record<string, unknown>
      const oldProps = (oldDeclared?.Properties ?? {}) as Record<string, unknown>
      const details: Record<string, unknown>[] = []
      let replacement: 'True' | 'False' | 'Conditional' = 'False'
      const requires = (key: string): 'Always' | 'Never' | 'Conditionally' => {
        if (provider.replaceAlways) return 'Always'
        const rule = provider.replacement?.[key]
        return rule === 'Always' ? 'Always' : rule === 'Conditional' ? 'Conditionally' : 'Never'
      }
      for (const key of new Set([...Object.keys(newProps), ...Object.keys(oldProps)])) {
        const recreation = requires(key)
        const target = {Attribute: 'Properties', Name: key, RequiresRecreation: recreation}
        if (!same(newProps[key], oldProps[key])) {
          details.push({Target: target, Evaluation: 'Static', ChangeSource: 'DirectModification'})
        } else {
          const refs = new Set<string>()
          collectReferences(newProps[key], refs)
          for (const name of refs) {
            if (changedParams.has(name))
              details.push({Target: target, Evaluation: 'Static', ChangeSource: 'ParameterReference', CausingEntity: name})
            else if (replacedIds.has(name.split('.')[0]!)) {
              details.push({Target: target, Evaluation: 'Dynamic', ChangeSource: 'ResourceReference', CausingEntity: name})
            }
          }
        }
      }
      const metadataChanged = !same(declared.Metadata, oldDeclared?.Metadata)
      if (details.length === 0 && !metadataChanged && declared.Type === existing.type) continue
      for (const detail of details) {
        const rule = (detail.Target as {RequiresRecreation: string}).RequiresRecreation
        if (rule === 'Always' && detail.Evaluation === 'Static') replacement = 'True'
        else if ((rule === 'Always' || rule === 'Conditionally') && replacement !== 'True') replacement = 'Conditional'
      }
      if (replacement === 'True') replacedIds.add(id)
      out.push({
        Action: 'Modify',
        LogicalResourceId: id,
        PhysicalResourceId: existing.physicalId,
        ResourceType: declared.Type,
        Replacement: replacement,
        Scope: [...(details.length > 0 ? ['Properties'] : []), ...(metadataChanged ? ['Metadata'] : [])],
        Details: details,
      })
    }
    for (const [id, record] of Object.entries(stack.resources)) {
      if (!newIds.includes(id)) {
        out.push({
          Action: 'Remove',
          LogicalResourceId: id,
          PhysicalResourceId: record.physicalId,
          ResourceType: record.type,
          Scope: [],
          Details: [],
        })
      }
    }
    return out
  }

  async createChangeSet(
    input: StackInput & {changeSetName: string; changeSetType: 'CREATE' | 'UPDATE'; description?: string},
  ): Promise<{stack: StackRecord; changeSet: ChangeSetRecord}> {
    let stack = this.state.find(input.stackName)
    if (input.changeSetType === 'CREATE') {
      if (stack && stack.status !== 'REVIEW_IN_PROGRESS')
        throw new AwsError(
          'AlreadyExistsException',
          `Stack [${input.stackName}] already exists and cannot be created again with the changeSet [${input.changeSetName}].`,
          400,
        )
    } else if (!stack || stack.status === 'REVIEW_IN_PROGRESS') {
      throw validationError(`Stack [${input.stackName}] does not exist`)
    }
    const template = await this.template(input.templateBody)
    const parameters = resolveParameters(template, input.parameters, stack?.parameters ?? [])
    this.checkCapabilities(template, input.capabilities)
    if (stack?.changeSets.some((c) => c.name === input.changeSetName && c.status !== 'DELETE_COMPLETE')) {
      throw new AwsError('AlreadyExistsException', `ChangeSet [${input.changeSetName}] already exists`, 400)
    }
    if (!stack) {
      stack = this.newStack(input, template, parameters, 'REVIEW_IN_PROGRESS')
      stack.templateBody = ''
      this.state.add(stack)
      this.stackStatus(stack, 'REVIEW_IN_PROGRESS', 'User Initiated')
    }
    const changes = await this.changes(stack, template, parameters)
    const region = regionOf(stack.stackId)
    const changeSet: ChangeSetRecord = {
      id: `arn:aws:cloudformation:${region}:${ACCOUNT_ID}:changeSet/${input.changeSetName}/${randomUUID()}`,
      name: input.changeSetName,
      type: input.changeSetType,
      status: 'CREATE_COMPLETE',
      executionStatus: 'AVAILABLE',
      created: this.env.clock.now(),
      description: input.description,
      templateBody: input.templateBody,
      parameters,
      capabilities: input.capabilities,
      tags: input.tags,
      changes,
      notificationARNs: input.notificationARNs ?? [],
      disableRollback: input.disableRollback,
    }
    if (input.changeSetType === 'UPDATE' && changes.length === 0) {
      const oldTemplate = await this.template(stack.templateBody)
      if (same(template.Outputs ?? {}, oldTemplate.Outputs ?? {}) && sameParameters(parameters, stack.parameters)) {
        changeSet.status = 'FAILED'
        changeSet.executionStatus = 'UNAVAILABLE'
        changeSet.statusReason = "The submitted information didn't contain changes. Submit different information to create a change set."
      }
    }
    stack.changeSets.push(changeSet)
    this.state.touch(stack)
    return {stack, changeSet}
  }

  async executeChangeSet(stack: StackRecord, changeSet: ChangeSetRecord, disableRollback?: boolean): Promise<void> {
    if (changeSet.status !== 'CREATE_COMPLETE' || changeSet.executionStatus !== 'AVAILABLE') {
      throw new AwsError(
        'InvalidChangeSetStatus',
        `ChangeSet [${changeSet.id}] cannot be executed in its current status of [${changeSet.status}]`,
        400,
      )
    }
    const template = await this.template(changeSet.templateBody)
    const rollbackOff = disableRollback ?? changeSet.disableRollback
    // Executing one change set discards the stack's others that were not executed: they no longer apply.
    stack.changeSets = stack.changeSets.filter((other) => other === changeSet || other.executionStatus.startsWith('EXECUTE_'))
    changeSet.executionStatus = 'EXECUTE_IN_PROGRESS'
    if (changeSet.type === 'CREATE') {
      stack.templateBody = changeSet.templateBody
      stack.parameters = changeSet.parameters
      stack.capabilities = changeSet.capabilities
      stack.tags = changeSet.tags
      stack.disableRollback = rollbackOff === true
      stack.description = typeof template.Description === 'string' ? template.Description : undefined
      stack.created = this.env.clock.now()
      this.stackStatus(stack, 'CREATE_IN_PROGRESS', 'User Initiated')
      void this.start(stack, async () => {
        await this.resolveSsmParameters(stack, template)
        await this.runCreate(stack, template, rollbackOff ? 'DO_NOTHING' : 'ROLLBACK')
        changeSet.executionStatus = stack.status === 'CREATE_COMPLETE' ? 'EXECUTE_COMPLETE' : 'EXECUTE_FAILED'
      })
      return
    }
    this.checkUpdatable(stack)
    this.beginUpdate(
      stack,
      {
        templateBody: changeSet.templateBody,
        parameters: [],
        capabilities: changeSet.capabilities,
        tags: changeSet.tags,
        disableRollback: rollbackOff,
      },
      template,
      changeSet.parameters,
    )
    void this.running.get(stack.stackId)?.then(() => {
      changeSet.executionStatus = stack.status === 'UPDATE_COMPLETE' ? 'EXECUTE_COMPLETE' : 'EXECUTE_FAILED'
      this.state.touch(stack)
    })
  }

  // ---------------------------------------------------------------- nested stacks and custom resources

  private hooks(parent: StackRecord): EngineHooks {
    return {
      endpoint: this.env.endpoint,
      nestedStack: (action, ctx, props) => this.nested(parent, action, ctx, props),
      customResource: (type, ctx, props, old) => this.custom(parent, type, ctx, props, old),
    }
  }

  /** Reads a template from the emulated S3 by any URL form AWS accepts, or the emulator's own endpoint. */
  async fetchTemplateUrl(url: string, region: string): Promise<string> {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw validationError('TemplateURL must be a supported URL.')
    }
    const own = new URL(this.env.endpoint)
    const host = parsed.hostname
    let bucket: string | undefined
    let key: string | undefined
    const path = decodeURIComponent(parsed.pathname.slice(1))
    const regional = /^s3([.-][a-z0-9-]+)?\.amazonaws\.com(\.cn)?$/
    const virtual = /^(.+)\.s3([.-][a-z0-9-]+)?\.amazonaws\.com(\.cn)?$/
    if (parsed.host === own.host || regional.test(host)) {
      const slash = path.indexOf('/')
      bucket = path.slice(0, slash)
      key = path.slice(slash + 1)
    } else {
      const match = virtual.exec(host)
      if (match) {
        bucket = match[1]
        key = path
      }
    }
    if (!bucket || !key) throw validationError(`TemplateURL must reference a valid S3 object to which you have access. (${url})`)
    const s3 = await this.clients(region).s3()
    const {GetObjectCommand} = await sdk.s3()
    try {
      const got = await s3.send(
        new GetObjectCommand({Bucket: bucket, Key: key, VersionId: parsed.searchParams.get('versionId') ?? undefined}),
      )
      return await got.Body!.transformToString('utf8')
    } catch (error) {
      throw validationError(`TemplateURL must reference a valid S3 object to which you have access. (${url}: ${(error as Error).name})`)
    }
  }

  private async nested(parent: StackRecord, action: 'create' | 'update' | 'delete', ctx: ProvisionContext, props: Record<string, unknown>) {
    const region = regionOf(parent.stackId)
    const given = Object.entries((props.Parameters ?? {}) as Record<string, unknown>).map(([ParameterKey, value]) => ({
      ParameterKey,
      ParameterValue: Array.isArray(value) ? value.join(',') : String(value),
    }))
    const tags = (Array.isArray(props.Tags) ? props.Tags : parent.tags) as {Key: string; Value: string}[]
    if (action === 'delete') {
      const child = ctx.physicalId ? this.state.stacks.get(ctx.physicalId) : undefined
      if (!child || child.status === 'DELETE_COMPLETE') return {stackId: ctx.physicalId ?? '', outputs: {}}
      await this.settle(child.stackId)
      child.terminationProtection = false
      await this.deleteStack(child)
      await this.settle(child.stackId)
      if ((child.status as string) !== 'DELETE_COMPLETE')
        throw new Error(`Embedded stack ${child.stackId} was not successfully deleted: ${child.statusReason ?? ''}`)
      return {stackId: child.stackId, outputs: {}}
    }
    const body = await this.fetchTemplateUrl(String(props.TemplateURL), region)
    if (action === 'update') {
      const child = this.state.stacks.get(ctx.physicalId!)!
      try {
        await this.updateStack(child, {templateBody: body, parameters: given, capabilities: parent.capabilities, tags})
      } catch (error) {
        if ((error as Error).message === 'No updates are to be performed.') return {stackId: child.stackId, outputs: outputMap(child)}
        throw error
      }
      await this.settle(child.stackId)
      if (child.status !== 'UPDATE_COMPLETE')
        throw new Error(
          `Embedded stack ${child.stackId} was not successfully updated. Currently in ${child.status} with reason: ${child.statusReason ?? ''}`,
        )
      return {stackId: child.stackId, outputs: outputMap(child)}
    }
    const name = ctx.generateName({max: 128}).replace(/[^-a-zA-Z0-9]/g, '')
    const child = await this.createStack({
      stackName: name,
      templateBody: body,
      parameters: given,
      capabilities: parent.capabilities,
      tags,
      region,
      parentId: parent.stackId,
      rootId: parent.rootId ?? parent.stackId,
      notificationARNs: parent.notificationARNs,
      timeoutInMinutes: props.TimeoutInMinutes === undefined ? undefined : Number(props.TimeoutInMinutes),
    })
    // The parent's resource gets the child's id as soon as it exists, so a rollback deletes the child.
    const record = parent.resources[ctx.logicalId]
    if (record) record.physicalId = child.stackId
    await this.settle(child.stackId)
    if (child.status !== 'CREATE_COMPLETE') {
      const why = [...child.events]
        .reverse()
        .find((e) => e.LogicalResourceId === child.stackName && /ROLLBACK_IN_PROGRESS|CREATE_FAILED/.test(e.ResourceStatus))
      const reason = (why?.ResourceStatusReason ?? child.status).replace(/Rollback requested by user\.$/, '')
      throw new Error(`Embedded stack ${child.stackId} was not successfully created: ${reason}`)
    }
    return {stackId: child.stackId, outputs: outputMap(child)}
  }

  private responseBucket(region: string): Promise<string> {
    let made = this.responseBuckets.get(region)
    if (!made) {
      made = (async () => {
        const name = `${RESPONSE_BUCKET_PREFIX}${region.replace(/-/g, '')}`
        const s3 = await this.clients(region).s3()
        const {CreateBucketCommand, HeadBucketCommand} = await sdk.s3()
        try {
          await s3.send(new HeadBucketCommand({Bucket: name}))
        } catch {
          await s3.send(
            new CreateBucketCommand({
              Bucket: name,
              ...(region === 'us-east-1' ? {} : {CreateBucketConfiguration: {LocationConstraint: region as never}}),
            }),
          )
        }
        return name
      })()
      made.catch(() => this.responseBuckets.delete(region))
      this.responseBuckets.set(region, made)
    }
    return made
  }

  private async custom(
    stack: StackRecord,
    requestType: 'Create' | 'Update' | 'Delete',
    ctx: ProvisionContext,
    props: Record<string, unknown>,
    oldProps?: Record<string, unknown>,
  ): Promise<{physicalId: string; data: Record<string, unknown>}> {
    const token = String(props.ServiceToken ?? '')
    const match = /^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([^:]+)(:[^:]+)?$/.exec(token)
    if (!match) {
      if (token.includes(':sns:'))
        throw new Error('SNS-backed custom resources are not supported by the ncap emulator (it serves Lambda-backed ones)')
      throw new Error(`Invalid service token: ${token}`)
    }
    const region = match[1]!
    const clients = this.clients(region)
    const bucket = await this.responseBucket(region)
    const requestId = randomUUID()
    const key = `${stack.stackId}|${ctx.logicalId}|${requestId}`
    const s3 = await clients.s3()
    const {PutObjectCommand, GetObjectCommand, DeleteObjectCommand} = await sdk.s3()
    const {getSignedUrl} = await import('@aws-sdk/s3-request-presigner')
    const responseUrl = await getSignedUrl(s3, new PutObjectCommand({Bucket: bucket, Key: key}), {
      expiresIn: 7200,
      signingDate: new Date(this.env.clock.now()),
    })
    const event: Record<string, unknown> = {
      RequestType: requestType,
      ServiceToken: token,
      ResponseURL: responseUrl,
      StackId: stack.stackId,
      RequestId: requestId,
      LogicalResourceId: ctx.logicalId,
      ...(requestType !== 'Create' ? {PhysicalResourceId: ctx.physicalId} : {}),
      ResourceType: ctx.resourceType,
      ResourceProperties: stringified(props),
      ...(requestType === 'Update' ? {OldResourceProperties: stringified(oldProps ?? {})} : {}),
    }
    const lambda = await clients.lambda()
    const {InvokeCommand, GetFunctionConfigurationCommand} = await sdk.lambda()
    let functionTimeout = 3
    try {
      const config = await lambda.send(new GetFunctionConfigurationCommand({FunctionName: token}))
      functionTimeout = config.Timeout ?? 3
    } catch (error) {
      if (requestType === 'Delete' && (error as {name?: string}).name === 'ResourceNotFoundException') {
        // The function is gone: nothing can answer a delete, and nothing is left for it to clean.
        return {physicalId: ctx.physicalId ?? '', data: {}}
      }
      throw new Error(`Custom resource ${ctx.logicalId}: ServiceToken ${token} cannot be invoked: ${reasonOf(error)}`)
    }
    const serviceTimeout = props.ServiceTimeout === undefined ? undefined : Number(props.ServiceTimeout)
    const waitSeconds = serviceTimeout !== undefined && Number.isFinite(serviceTimeout) ? serviceTimeout : functionTimeout + 60
    await lambda.send(new InvokeCommand({FunctionName: token, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event))}))
    this.env.events.record({
      service: 'cloudformation',
      kind: 'cloudformation.custom-resource',
      outcome: 'delivered',
      summary: `${requestType} request for ${ctx.logicalId} (${ctx.resourceType}) sent to ${token}`,
      resource: stack.stackId,
      correlation: {stackName: stack.stackName, logicalId: ctx.logicalId, requestId},
    })
    const deadline = this.env.clock.now() + waitSeconds * 1000
    let wake: (() => void) | undefined
    const timer = this.env.clock.at(deadline, () => wake?.())
    let body: string | undefined
    const pollStart = performance.now()
    try {
      for (;;) {
        try {
          const got = await s3.send(new GetObjectCommand({Bucket: bucket, Key: key}))
          body = await got.Body!.transformToString('utf8')
          break
        } catch (error) {
          if ((error as {name?: string}).name !== 'NoSuchKey') throw error
        }
        if (this.env.clock.now() >= deadline) break
        // Every 25 ms for the first second (most functions answer within it), then less often: a tenth of the wait so far, up to 500 ms.
        const waited = performance.now() - pollStart
        await new Promise<void>((done) => {
          wake = done
          setTimeout(done, waited < 1000 ? 25 : Math.min(500, waited / 10)).unref()
        })
      }
    } finally {
      timer.cancel()
    }
    await s3.send(new DeleteObjectCommand({Bucket: bucket, Key: key})).catch(() => undefined)
    if (body === undefined) {
      this.env.events.record({
        service: 'cloudformation',
        kind: 'cloudformation.custom-resource',
        outcome: 'failed',
        summary: `no response to the ${requestType} request for ${ctx.logicalId} within ${waitSeconds} s`,
        reason: 'the function never answered on its ResponseURL',
        resource: stack.stackId,
        correlation: {stackName: stack.stackName, logicalId: ctx.logicalId, requestId},
      })
      throw new Error(
        `CloudFormation did not receive a response from your Custom Resource within ${waitSeconds} seconds. Please check your custom resource in order to ensure it is functioning correctly. (RequestId: ${requestId})`,
      )
    }
    let response: Record<string, unknown>
    try {
      response = JSON.parse(body) as Record<string, unknown>
    } catch {
      throw new Error(`Invalid response object: the response to ${ctx.logicalId} is not JSON (RequestId: ${requestId})`)
    }
    if (response.RequestId !== requestId || response.LogicalResourceId !== ctx.logicalId || response.StackId !== stack.stackId) {
      throw new Error(
        `Invalid response object: its StackId, RequestId or LogicalResourceId does not match the request (RequestId: ${requestId})`,
      )
    }
    if (response.Status === 'FAILED') {
      throw new Error(
        `Received response status [FAILED] from custom resource. Message returned: ${String(response.Reason ?? '')} (RequestId: ${requestId})`,
      )
    }
    if (response.Status !== 'SUCCESS')
      throw new Error(`Invalid response object: Status must be SUCCESS or FAILED (RequestId: ${requestId})`)
    const physicalId =
      typeof response.PhysicalResourceId === 'string' && response.PhysicalResourceId ? response.PhysicalResourceId : undefined
    if (!physicalId) throw new Error(`Invalid PhysicalResourceId in the response to ${ctx.logicalId} (RequestId: ${requestId})`)
    if (Buffer.byteLength(JSON.stringify(response.Data ?? {})) > 4096) throw new Error('Response object is too long.')
    const data = (response.Data && typeof response.Data === 'object' ? response.Data : {}) as Attributes
    const record = stack.resources[ctx.logicalId]
    if (record && response.NoEcho === true) record.noEcho = true
    return {physicalId, data}
  }

  // ---------------------------------------------------------------- restart

  /** A stack left mid-operation by a kill ends in a clear failed state on start, never stuck IN_PROGRESS. */
  recoverInterrupted(): void {
    for (const stack of this.state.stacks.values()) {
      if (!stack.status.endsWith('_IN_PROGRESS') || stack.status === 'REVIEW_IN_PROGRESS') continue
      const reason = `The ncap emulator stopped during ${stack.status}; the operation did not finish. Resources that were in progress are marked failed.`
      for (const record of Object.values(stack.resources)) {
        if (record.status.endsWith('_IN_PROGRESS'))
          this.resourceStatus(stack, record, record.status.replace('_IN_PROGRESS', '_FAILED'), reason)
      }
      if (stack.status === 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS') {
        this.stackStatus(stack, 'UPDATE_COMPLETE', 'Clean-up interrupted by an emulator restart: replaced resources may remain.')
      } else if (stack.status === 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS') {
        this.stackStatus(stack, 'UPDATE_ROLLBACK_COMPLETE', 'Clean-up interrupted by an emulator restart: new resources may remain.')
      } else this.stackStatus(stack, failedStatusOf(stack.status), reason)
      stack.operation = undefined
    }
  }

  /** NoEcho parameter values masked in a string (template bodies, properties). */
  mask(stack: StackRecord, text: string): string {
    let out = text
    for (const parameter of stack.parameters)
      if (parameter.noEcho && parameter.value.length > 0) out = out.split(parameter.value).join(MASK)
    return out
  }
}

const sameParameters = (a: StackParameter[], b: StackParameter[]) =>
  same(
    a.map((p) => [p.key, p.value]),
    b.map((p) => [p.key, p.value]),
  )

function outputMap(stack: StackRecord): Record<string, string> {
  return Object.fromEntries(stack.outputs.map((o) => [o.OutputKey, o.OutputValue]))
}

export function failedStatusOf(status: StackStatus): StackStatus {
  switch (status) {
    case 'CREATE_IN_PROGRESS':
      return 'CREATE_FAILED'
    case 'ROLLBACK_IN_PROGRESS':
      return 'ROLLBACK_FAILED'
    case 'DELETE_IN_PROGRESS':
      return 'DELETE_FAILED'
    case 'UPDATE_IN_PROGRESS':
    case 'UPDATE_ROLLBACK_IN_PROGRESS':
      return 'UPDATE_ROLLBACK_FAILED'
    default:
      return status.replace('_IN_PROGRESS', '_FAILED') as StackStatus
  }
}

export {evaluateCondition}
