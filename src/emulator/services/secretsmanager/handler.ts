/**
 * Secrets Manager's wire: JSON 1.1 with `X-Amz-Target: secretsmanager.<Operation>`.
 * Each operation reads its members, authorizes `secretsmanager:<Operation>` on
 * the secret's ARN (identity policies, and the secret's resource policy, as in
 * one AWS account), calls the state and answers with dates as epoch seconds.
 * Rotation (it runs a Lambda) and multi-region replication are refused by name.
 */

import type {ClockTimer} from '../../clock.js'
import {AwsError} from '../../errors.js'
import {asList, type PolicyDocument, type PolicyStatement, parsePolicyDocument, statementsOf} from '../../policy/document.js'
import {evaluatePolicies, requestValues} from '../../policy/evaluate.js'
import {asAwsError, sendError} from '../../protocols/errors.js'
import {parseJsonRequest, sendJson} from '../../protocols/json.js'
import type {ConditionContext, EmulatedService, Principal, RequestContext, ServiceEnvironment} from '../../types.js'
import {invalidParameter, validation} from './errors.js'
import {type PasswordOptions, randomPassword} from './password.js'
import {type Filter, pageOf, policyProblem, type SecretRecord, SecretsState, type Tag, type VersionRecord} from './state.js'

type Input = Record<string, unknown>

interface Call {
  ctx: RequestContext
  input: Input
  state: SecretsState
  region: string
}

interface Result {
  output: Record<string, unknown>
  /** Whether the call changed the state (it is saved durably before answering). */
  changed: boolean
}

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000)

function str(input: Input, name: string): string | undefined {
  const value = input[name]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw new AwsError('SerializationException', `${name} must be a string.`)
  return value
}

function need(input: Input, name: string): string {
  const value = str(input, name)
  if (value === undefined) throw validation(name.charAt(0).toLowerCase() + name.slice(1), 'null', 'Member must not be null')
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

/** SecretBinary travels base64-encoded in JSON. */
function binary(input: Input): string | undefined {
  const value = str(input, 'SecretBinary')
  if (value === undefined) return undefined
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new AwsError('SerializationException', 'SecretBinary must be base64-encoded.')
  return value
}

const secretValue = (input: Input) => ({SecretString: str(input, 'SecretString'), SecretBinary: binary(input)})

const ids = (secret: SecretRecord) => ({ARN: secret.ARN, Name: secret.Name})

const versionsToStages = (secret: SecretRecord) =>
  Object.fromEntries(secret.Versions.filter((version) => version.Stages.length > 0).map((version) => [version.VersionId, version.Stages]))

function describe(secret: SecretRecord, listing: boolean): Record<string, unknown> {
  const stages = versionsToStages(secret)
  return {
    ...ids(secret),
    ...(secret.Description !== undefined ? {Description: secret.Description} : {}),
    ...(secret.KmsKeyId !== undefined ? {KmsKeyId: secret.KmsKeyId} : {}),
    LastChangedDate: seconds(secret.LastChangedDate),
    ...(secret.LastAccessedDate !== undefined ? {LastAccessedDate: seconds(secret.LastAccessedDate)} : {}),
    ...(secret.DeletedDate !== undefined ? {DeletedDate: seconds(secret.DeletedDate)} : {}),
    ...(secret.DeletionDate !== undefined && !listing ? {DeletionDate: seconds(secret.DeletionDate)} : {}),
    Tags: secret.Tags,
    ...(listing ? {SecretVersionsToStages: stages} : {VersionIdsToStages: stages}),
    CreatedDate: seconds(secret.CreatedDate),
  }
}

function valueView(secret: SecretRecord, version: VersionRecord) {
  return {
    ...ids(secret),
    VersionId: version.VersionId,
    ...(version.SecretString !== undefined ? {SecretString: version.SecretString} : {}),
    ...(version.SecretBinary !== undefined ? {SecretBinary: version.SecretBinary} : {}),
    VersionStages: version.Stages,
    CreatedDate: seconds(version.CreatedDate),
  }
}

/** The ARN a SecretId names for authorization: the secret's own, or the id itself when it names none. */
function arnFor(call: Call, secretId: string): string {
  return (
    call.state.find(call.region, secretId)?.ARN ?? (secretId.startsWith('arn:') ? secretId : SecretsState.arnPattern(call.region, secretId))
  )
}

/** Whether a resource policy's Principal element names this caller. */
function principalNamed(element: PolicyStatement['Principal'], principal: Principal): boolean {
  if (element === undefined) return false
  if (element === '*') return true
  const names = asList(element.AWS)
  const own = [principal.arn, principal.roleArn, `arn:aws:iam::${principal.accountId}:root`, principal.accountId]
  return names.some((name) => name === '*' || own.includes(name))
}

/** The secret's resource policy as it applies to this caller: only the statements naming it, without their Principal. */
function resourcePolicyFor(policy: string, principal: Principal): PolicyDocument | undefined {
  const document = parsePolicyDocument(policy, 'trust')
  const statements: PolicyStatement[] = []
  for (const statement of statementsOf(document)) {
    const named =
      statement.Principal !== undefined
        ? principalNamed(statement.Principal, principal)
        : !principalNamed(statement.NotPrincipal, principal)
    if (!named) continue
    const {Principal: _p, NotPrincipal: _n, ...rest} = statement
    statements.push({...rest, Resource: rest.Resource ?? rest.NotResource ?? '*'})
  }
  return statements.length > 0 ? {Version: document.Version, Statement: statements} : undefined
}

/**
 * The condition keys Secrets Manager puts in the request context: the request's
 * own members (secretsmanager:SecretId, VersionId, VersionStage, Name,
 * Description, KmsKeyId), the secret's tags (secretsmanager:ResourceTag/<key>
 * and aws:ResourceTag/<key>) and the tags a request adds or removes
 * (aws:RequestTag/<key>, aws:TagKeys).
 */
function conditionContext(input: Input, secret: SecretRecord | undefined): ConditionContext {
  const context: ConditionContext = {}
  for (const member of ['SecretId', 'VersionId', 'VersionStage', 'Name', 'Description', 'KmsKeyId']) {
    const value = input[member]
    if (typeof value === 'string') context[`secretsmanager:${member}`] = value
  }
  for (const tag of secret?.Tags ?? []) {
    context[`secretsmanager:ResourceTag/${tag.Key}`] = tag.Value
    context[`aws:ResourceTag/${tag.Key}`] = tag.Value
  }
  const requestTags = Array.isArray(input.Tags) ? (input.Tags as Partial<Tag>[]) : []
  for (const tag of requestTags) if (typeof tag?.Key === 'string') context[`aws:RequestTag/${tag.Key}`] = String(tag.Value ?? '')
  const keys = Array.isArray(input.TagKeys) ? (input.TagKeys as unknown[]).map(String) : requestTags.map((tag) => String(tag?.Key ?? ''))
  if (keys.length > 0) context['aws:TagKeys'] = keys
  return context
}

type Operation = (call: Call, service: SecretsManagerService) => Promise<Result> | Result

const done = (output: Record<string, unknown>, changed = true): Result => ({output, changed})

const OPERATIONS: Record<string, Operation> = {
  async CreateSecret(call, service) {
    const name = need(call.input, 'Name')
    await service.authorize(call, 'CreateSecret', arnFor(call, name))
    if (list(call.input, 'AddReplicaRegions')?.length)
      throw unserved('CreateSecret with AddReplicaRegions', 'it does not replicate secrets to other regions')
    if (str(call.input, 'Type')) throw unserved('CreateSecret with Type', 'it holds no secrets managed by external partners')
    const {secret, version, repeated} = call.state.create(call.region, {
      Name: name,
      ...secretValue(call.input),
      ClientRequestToken: str(call.input, 'ClientRequestToken'),
      Description: str(call.input, 'Description'),
      KmsKeyId: str(call.input, 'KmsKeyId'),
      Tags: list<Tag>(call.input, 'Tags'),
    })
    if (!repeated) service.record('secretsmanager.create', `created secret ${secret.Name}`, secret.ARN)
    return done({...ids(secret), ...(version ? {VersionId: version.VersionId} : {})}, !repeated)
  },
  async GetSecretValue(call, service) {
    const secretId = need(call.input, 'SecretId')
    await service.authorize(call, 'GetSecretValue', arnFor(call, secretId))
    const secret = call.state.live(call.region, secretId)
    const version = call.state.version(secret, str(call.input, 'VersionId'), str(call.input, 'VersionStage'))
    const changed = call.state.touch(secret, version)
    return done(valueView(secret, version), changed)
  },
  async BatchGetSecretValue(call, service) {
    const idList = list<string>(call.input, 'SecretIdList')
    const filters = list<Filter>(call.input, 'Filters')
    if (idList && filters) throw invalidParameter('Either SecretIdList or Filters must be provided, but not both.')
    if (!idList && !filters) throw invalidParameter('Either SecretIdList or Filters must be provided.')
    await service.authorize(call, 'BatchGetSecretValue', '*')
    const values: Record<string, unknown>[] = []
    const errors: Record<string, unknown>[] = []
    let changed = false
    let nextToken: string | undefined
    const read = async (secretId: string) => {
      try {
        await service.authorize(call, 'GetSecretValue', arnFor(call, secretId))
        const secret = call.state.live(call.region, secretId)
        const version = call.state.version(secret)
        changed = call.state.touch(secret, version) || changed
        values.push(valueView(secret, version))
      } catch (error) {
        const failure = asAwsError(error)
        errors.push({SecretId: secretId, ErrorCode: failure.code, Message: failure.message})
      }
    }
    if (idList) {
      if (idList.length < 1 || idList.length > 20) throw invalidParameter('SecretIdList must name between 1 and 20 secrets.')
      if (call.input.MaxResults !== undefined || call.input.NextToken !== undefined)
        throw invalidParameter('MaxResults and NextToken apply only when Filters is given.')
      for (const secretId of idList) await read(secretId)
    } else {
      const matching = call.state.list(call.region, {Filters: filters})
      const page = pageOf(matching, int(call.input, 'MaxResults'), str(call.input, 'NextToken'), 20)
      nextToken = page.NextToken
      for (const secret of page.page) await read(secret.ARN)
    }
    return done({SecretValues: values, Errors: errors, ...(nextToken ? {NextToken: nextToken} : {})}, changed)
  },
  async PutSecretValue(call, service) {
    const secretId = need(call.input, 'SecretId')
    await service.authorize(call, 'PutSecretValue', arnFor(call, secretId))
    const secret = call.state.live(call.region, secretId)
    const {version, repeated} = call.state.addVersion(
      secret,
      secretValue(call.input),
      str(call.input, 'ClientRequestToken'),
      list<string>(call.input, 'VersionStages'),
    )
    if (!repeated) service.record('secretsmanager.put-value', `new version ${version.VersionId} of ${secret.Name}`, secret.ARN)
    return done({...ids(secret), VersionId: version.VersionId, VersionStages: version.Stages}, !repeated)
  },
  async UpdateSecret(call, service) {
    const secretId = need(call.input, 'SecretId')
    await service.authorize(call, 'UpdateSecret', arnFor(call, secretId))
    const secret = call.state.live(call.region, secretId)
    const version = call.state.update(secret, {
      ...secretValue(call.input),
      ClientRequestToken: str(call.input, 'ClientRequestToken'),
      Description: str(call.input, 'Description'),
      KmsKeyId: str(call.input, 'KmsKeyId'),
    })
    return done({...ids(secret), ...(version ? {VersionId: version.VersionId} : {})})
  },
  async UpdateSecretVersionStage(call, service) {
    const secretId = need(call.input, 'SecretId')
    await service.authorize(call, 'UpdateSecretVersionStage', arnFor(call, secretId))
    const secret = call.state.live(call.region, secretId)
    call.state.updateStage(secret, {
      VersionStage: need(call.input, 'VersionStage'),
      RemoveFromVersionId: str(call.input, 'RemoveFromVersionId'),
      MoveToVersionId: str(call.input, 'MoveToVersionId'),
    })
    return done(ids(secret))
  },
  async DescribeSecret(call, service) {
    const secretId = need(call.input, 'SecretId')
    await service.authorize(call, 'DescribeSecret', arnFor(call, secretId))
    return done(describe(call.state.secret(call.region, secretId), false), false)
  },
  async ListSecrets(call, service) {
    await service.authorize(call, 'ListSecrets', '*')
    const secrets = call.state.list(call.region, {
      IncludePlannedDeletion: bool(call.input, 'IncludePlannedDeletion'),
      Filters: list<Filter>(call.input, 'Filters'),
      SortOrder: str(call.input, 'SortOrder'),
      SortBy: str(call.input, 'SortBy'),
    })
    const {page, NextToken} = pageOf(secrets, int(call.input, 'MaxResults'), str(call.input, 'NextToken'))
    return done({SecretList: page.map((secret) => describe(secret, true)), ...(NextToken ? {NextToken} : {})}, false)
  },
  async ListSecretVersionIds(call, service) {
    const secretId = need(call.input, 'SecretId')
    await service.authorize(call, 'ListSecretVersionIds', arnFor(call, secretId))
    const secret = call.state.secret(call.region, secretId)
    const deprecated = bool(call.input, 'IncludeDeprecated') ?? false
    const versions = [...secret.Versions].reverse().filter((version) => deprecated || version.Stages.length > 0)
    const {page, NextToken} = pageOf(versions, int(call.input, 'MaxResults'), str(call.input, 'NextToken'))
    return done(
      {
        Versions: page.map((version) => ({
          VersionId: version.VersionId,
          VersionStages: version.Stages,
          ...(version.LastAccessedDate !== undefined ? {LastAccessedDate: seconds(version.LastAccessedDate)} : {}),
          CreatedDate: seconds(version.CreatedDate),
          KmsKeyIds: [secret.KmsKeyId ?? 'DefaultEncryptionKey'],
        })),
        ...(NextToken ? {NextToken} : {}),
        ...ids(secret),
      },
      false,
    )
  },
  async DeleteSecret(call, service) {
    const secretId = need(call.input, 'SecretId')
    await service.authorize(call, 'DeleteSecret', arnFor(call, secretId))
    const secret = call.state.secret(call.region, secretId)
    const force = bool(call.input, 'ForceDeleteWithoutRecovery')
    const deletionDate = call.state.scheduleDeletion(secret, {
      RecoveryWindowInDays: int(call.input, 'RecoveryWindowInDays'),
      ForceDeleteWithoutRecovery: force,
    })
    service.schedulePurge(secret)
    service.record(
      'secretsmanager.delete',
      force ? `deleted secret ${secret.Name} without recovery` : `scheduled secret ${secret.Name} for deletion`,
      secret.ARN,
      {deletionDate: new Date(deletionDate).toISOString()},
    )
    return done({...ids(secret), DeletionDate: seconds(deletionDate)})
  },
  async RestoreSecret(call, service) {
    const secretId = need(call.input, 'SecretId')
    await service.authorize(call, 'RestoreSecret', arnFor(call, secretId))
    const secret = call.state.secret(call.region, secretId)
    call.state.restore(secret)
    service.schedulePurge(secret)
    service.record('secretsmanager.restore', `restored secret ${secret.Name}`, secret.ARN)
    return done(ids(secret))
  },
  async GetRandomPassword(call, service) {
    await service.authorize(call, 'GetRandomPassword', '*')
    const options: PasswordOptions = {
      PasswordLength: int(call.input, 'PasswordLength'),
      ExcludeCharacters: str(call.input, 'ExcludeCharacters'),
      ExcludeNumbers: bool(call.input, 'ExcludeNumbers'),
      ExcludePunctuation: bool(call.input, 'ExcludePunctuation'),
      ExcludeUppercase: bool(call.input, 'ExcludeUppercase'),
      ExcludeLowercase: bool(call.input, 'ExcludeLowercase'),
      IncludeSpace: bool(call.input, 'IncludeSpace'),
      RequireEachIncludedType: bool(call.input, 'RequireEachIncludedType'),
    }
    return done({RandomPassword: randomPassword(options)}, false)
  },
  async TagResource(call, service) {
    const secretId = need(call.input, 'SecretId')
    await service.authorize(call, 'TagResource', arnFor(call, secretId))
    const tags = list<Tag>(call.input, 'Tags')
    if (!tags) throw validation('tags', 'null', 'Member must not be null')
    call.state.tag(call.state.live(call.region, secretId), tags)
    return done({})
  },
  async UntagResource(call, service) {
    const secretId = need(call.input, 'SecretId')
    await service.authorize(call, 'UntagResource', arnFor(call, secretId))
    const keys = list<string>(call.input, 'TagKeys')
    if (!keys) throw validation('tagKeys', 'null', 'Member must not be null')
    call.state.untag(call.state.live(call.region, secretId), keys)
    return done({})
  },
  async PutResourcePolicy(call, service) {
    const secretId = need(call.input, 'SecretId')
    await service.authorize(call, 'PutResourcePolicy', arnFor(call, secretId))
    const secret = call.state.live(call.region, secretId)
    call.state.putPolicy(secret, need(call.input, 'ResourcePolicy'), bool(call.input, 'BlockPublicPolicy') ?? false)
    return done(ids(secret))
  },
  async GetResourcePolicy(call, service) {
    const secretId = need(call.input, 'SecretId')
    await service.authorize(call, 'GetResourcePolicy', arnFor(call, secretId))
    const secret = call.state.live(call.region, secretId)
    return done({...ids(secret), ...(secret.ResourcePolicy !== undefined ? {ResourcePolicy: secret.ResourcePolicy} : {})}, false)
  },
  async DeleteResourcePolicy(call, service) {
    const secretId = need(call.input, 'SecretId')
    await service.authorize(call, 'DeleteResourcePolicy', arnFor(call, secretId))
    const secret = call.state.live(call.region, secretId)
    call.state.deletePolicy(secret)
    return done(ids(secret))
  },
  async ValidateResourcePolicy(call, service) {
    const secretId = str(call.input, 'SecretId')
    await service.authorize(call, 'ValidateResourcePolicy', secretId === undefined ? '*' : arnFor(call, secretId))
    if (secretId !== undefined) call.state.live(call.region, secretId)
    const problem = policyProblem(need(call.input, 'ResourcePolicy'))
    if (problem) throw new AwsError('MalformedPolicyDocumentException', problem, 400)
    return done({PolicyValidationPassed: true, ValidationErrors: []}, false)
  },
}

export const SECRETSMANAGER_ACTIONS: readonly string[] = Object.keys(OPERATIONS)

const unserved = (what: string, why = 'it emulates neither rotation (which runs a Lambda) nor replication to other regions') =>
  new AwsError('UnknownOperationException', `The emulator's Secrets Manager does not serve ${what}: ${why}.`, 400)

export class SecretsManagerService implements EmulatedService {
  readonly signingName = 'secretsmanager'
  /** One clock timer per secret scheduled for deletion, by ARN: it deletes the secret when its recovery window ends. */
  private readonly purges = new Map<string, ClockTimer>()

  constructor(
    readonly state: SecretsState,
    private readonly env: ServiceEnvironment,
  ) {
    for (const secrets of Object.values(state.data.regions)) for (const secret of Object.values(secrets)) this.schedulePurge(secret)
  }

  /** Arms (or disarms, once restored or gone) the timer that ends a secret's recovery window. */
  schedulePurge(secret: SecretRecord): void {
    this.purges.get(secret.ARN)?.cancel()
    this.purges.delete(secret.ARN)
    if (secret.DeletionDate === undefined || this.state.find(secret.Region, secret.ARN) !== secret) return
    this.purges.set(
      secret.ARN,
      this.env.clock.at(secret.DeletionDate, () => this.purgeDue()),
    )
  }

  /** Deletes every secret whose recovery window has ended, records it, and saves; true when any went. */
  private async purgeDue(): Promise<boolean> {
    const purged = this.state.purgeDue()
    for (const secret of purged) {
      this.purges.get(secret.ARN)?.cancel()
      this.purges.delete(secret.ARN)
      this.record('secretsmanager.purge', `secret ${secret.Name} deleted at the end of its recovery window`, secret.ARN)
    }
    if (purged.length > 0) await this.state.save()
    return purged.length > 0
  }

  async handle(ctx: RequestContext): Promise<void> {
    try {
      const {operation, input, targetPrefix} = await parseJsonRequest(ctx)
      if (targetPrefix !== 'secretsmanager' || !Object.hasOwn(OPERATIONS, operation))
        throw unserved(`the operation ${operation || '(none)'}`)
      const call: Call = {ctx, input, state: this.state, region: ctx.region}
      // A window may have ended between a timer's firing and this request: the clock decides, not the timer.
      await this.purgeDue()
      const {output, changed} = await OPERATIONS[operation]!(call, this)
      if (changed) await this.state.save()
      sendJson(ctx, output)
    } catch (error) {
      sendError(ctx, 'json', asAwsError(error))
    }
  }

  record(kind: string, summary: string, resource: string, detail?: Record<string, unknown>): void {
    this.env.events.record({service: 'secretsmanager', kind, outcome: 'ok', summary, resource, ...(detail ? {detail} : {})})
  }

  /**
   * Authorizes secretsmanager:<action> on a secret as AWS does within one
   * account: an explicit deny anywhere refuses; otherwise an allow from the
   * caller's identity policies or from the secret's resource policy suffices.
   */
  async authorize(call: Call, action: string, resource: string): Promise<void> {
    const {ctx} = call
    if (ctx.principal.kind === 'root') return
    const full = `secretsmanager:${action}`
    const secret = resource === '*' ? undefined : call.state.find(call.region, resource)
    const context = conditionContext(call.input, secret)
    const policy = secret?.ResourcePolicy
    const document = policy === undefined ? undefined : resourcePolicyFor(policy, ctx.principal)
    if (document) {
      const values = requestValues(ctx.principal, context, new Date(this.env.clock.now()))
      const fromResource = evaluatePolicies([document], {action: full, resource, values})
      if (fromResource === 'explicitDeny') {
        this.env.events.record({
          service: 'secretsmanager',
          kind: 'iam.denied',
          outcome: 'denied',
          summary: `${ctx.principal.arn} was refused ${full} on ${resource}`,
          reason: "a statement of the secret's resource policy explicitly denies it",
          resource,
        })
        throw new AwsError(
          'AccessDeniedException',
          `User: ${ctx.principal.arn} is not authorized to perform: ${full} on resource: ${resource} with an explicit deny in a resource-based policy`,
          400,
        )
      }
      if (fromResource === 'allow') {
        const identity = await this.env.identity()
        if (identity.authorize({principal: ctx.principal, action: full, resource, context}) !== 'explicitDeny') return
      }
    }
    try {
      ctx.authorize(full, resource, context)
    } catch (error) {
      // Secrets Manager names the refusal AccessDeniedException (HTTP 400), as JSON services do.
      if (error instanceof AwsError && error.code === 'AccessDenied') throw new AwsError('AccessDeniedException', error.message, 400)
      throw error
    }
  }

  async close(): Promise<void> {
    for (const timer of this.purges.values()) timer.cancel()
    this.purges.clear()
    await this.state.flush()
  }
}

/** Lookups other services may need (by name, full or partial ARN); undefined when absent or scheduled for deletion. */
export function currentValue(state: SecretsState, region: string, secretId: string): VersionRecord | undefined {
  const secret = state.find(region, secretId)
  if (!secret || secret.DeletionDate !== undefined) return undefined
  try {
    return state.version(secret)
  } catch {
    return undefined
  }
}
