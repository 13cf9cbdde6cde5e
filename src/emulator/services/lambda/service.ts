/**
 * Lambda's behaviour (no HTTP here; handler.ts does the wire): the operations on
 * functions, their warm worker pools (runtime.ts), the role credentials handed
 * to their code, their logs sent to CloudWatch Logs, asynchronous invokes
 * (async-queue.ts), and the internal API other services invoke through
 * (`LambdaInternal`, checked against each function's resource policy).
 */
import {randomUUID} from 'node:crypto'
import {existsSync, symlinkSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {AwsError} from '../../errors.js'
import type {LambdaInternal, LogsInternal, PermissionCheck, ServiceInvocation, ServiceInvocationResult} from '../../internal.js'
import {ACCOUNT_ID, DEFAULT_REGION, type ServiceEnvironment} from '../../types.js'
import {type AsyncEntry, AsyncQueue} from './async-queue.js'
import {functionNotFound, invalidParameter, preconditionFailed, resourceConflict, validation} from './errors.js'
import {type AddPermissionInput, addStatement, makeStatement, policyDocument, removeStatement, servicePermission} from './policy.js'
import {type InvokeOutcome, ncapNodeModules, WorkerPool} from './runtime.js'
import {checkRuntime} from './runtimes.js'
import {
  type FunctionRecord,
  type FunctionRef,
  functionArnOf,
  isValidName,
  type LambdaState,
  lastModified,
  parseFunctionName,
} from './state.js'

type Input = Record<string, unknown>

const RESERVED_VARIABLES = [
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
]

const ROLE = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/
/** Largest synchronous and asynchronous payloads AWS accepts. */
export const SYNC_PAYLOAD_LIMIT = 6_291_456
export const ASYNC_PAYLOAD_LIMIT = 1_048_576
/**
 * When a function's worker starts: `eager` (the default) when the function is created or its code or
 * configuration updated, as SAM CLI's `--warm-containers EAGER`, so its first invoke finds the handler loaded;
 * `lazy` (NCAP_LAMBDA_WARM=lazy) at its first invoke, a cold start as on AWS.
 */
const WARM: 'eager' | 'lazy' = process.env.NCAP_LAMBDA_WARM === 'lazy' ? 'lazy' : 'eager'
/** Role sessions handed to functions last an hour and are renewed when a quarter of an hour is left. */
const SESSION_SECONDS = 3600
const RENEW_BEFORE_MS = 15 * 60_000

export interface InvokeResult {
  outcome: InvokeOutcome
  record: FunctionRecord
}

interface Credentials {
  /** AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN */
  variables: Record<string, string>
  /** Host time: the session's expiry is checked against the host's clock by the server core. */
  expiresAt: number
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

export class LambdaService {
  readonly queue: AsyncQueue
  private readonly pools = new Map<string, WorkerPool>()
  private readonly credentials = new Map<string, Credentials>()
  private readonly issuing = new Map<string, Promise<Record<string, string>>>()
  private logs: Promise<LogsInternal | undefined> | undefined
  private logsCheckedAt = 0
  private logsMissingNoted = false

  constructor(
    readonly env: ServiceEnvironment,
    readonly state: LambdaState,
  ) {
    this.queue = new AsyncQueue(state.dir, env.clock, (entry) => this.runQueued(entry))
    this.queue.onDiscard = (entry, reason) =>
      env.events.record({
        service: 'lambda',
        kind: 'lambda.invoke-discarded',
        outcome: 'failed',
        summary: `asynchronous invocation of ${entry.functionName} discarded after ${entry.attempt + 1} attempt(s)`,
        reason,
        resource: functionArnOf(entry.region, entry.functionName),
        correlation: {requestId: entry.requestId, ...entry.correlation},
      })
  }

  /** The function a FunctionName member names (ResourceNotFoundException when none). */
  get(input: unknown, region: string, qualifier?: unknown): FunctionRecord {
    const ref = parseFunctionName(input, region)
    const q = str(qualifier)
    return this.state.get(q ? {...ref, qualifier: q} : ref)
  }

  arnOf(record: FunctionRecord): string {
    return functionArnOf(record.region, record.FunctionName)
  }

  configuration(record: FunctionRecord, transient?: {State?: string; LastUpdateStatus?: string}) {
    const state = transient?.State ?? record.State
    const update = transient?.LastUpdateStatus ?? record.LastUpdateStatus
    return {
      FunctionName: record.FunctionName,
      FunctionArn: this.arnOf(record),
      Runtime: record.Runtime,
      Role: record.Role,
      Handler: record.Handler,
      CodeSize: record.CodeSize,
      Description: record.Description,
      Timeout: record.Timeout,
      MemorySize: record.MemorySize,
      LastModified: record.LastModified,
      CodeSha256: record.CodeSha256,
      Version: '$LATEST',
      ...(Object.keys(record.Variables).length > 0 ? {Environment: {Variables: record.Variables}} : {}),
      TracingConfig: {Mode: record.TracingMode},
      RevisionId: record.RevisionId,
      State: state,
      ...(state === 'Pending' ? {StateReason: 'The function is being created.', StateReasonCode: 'Creating'} : {}),
      LastUpdateStatus: update,
      PackageType: 'Zip',
      Architectures: record.Architectures,
      EphemeralStorage: {Size: record.EphemeralStorage},
      SnapStart: {ApplyOn: 'None', OptimizationStatus: 'Off'},
      RuntimeVersionConfig: {RuntimeVersionArn: `arn:aws:lambda:${record.region}::runtime:ncap-host-${record.Runtime}`},
      LoggingConfig: {LogFormat: record.LogFormat, LogGroup: record.LogGroup ?? `/aws/lambda/${record.FunctionName}`},
    }
  }

  // ---- creating and changing functions ---------------------------------------------------------

  private checkNumbers(input: Input, record?: FunctionRecord): {Timeout: number; MemorySize: number; EphemeralStorage: number} {
    const timeout = input.Timeout ?? record?.Timeout ?? 3
    if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > 900)
      throw validation('timeout', timeout, 'Member must have value less than or equal to 900 and greater than or equal to 1')
    const memory = input.MemorySize ?? record?.MemorySize ?? 128
    if (typeof memory !== 'number' || !Number.isInteger(memory) || memory < 128 || memory > 10240)
      throw validation('memorySize', memory, 'Member must have value less than or equal to 10240 and greater than or equal to 128')
    const storage = (input.EphemeralStorage as {Size?: unknown} | undefined)?.Size ?? record?.EphemeralStorage ?? 512
    if (typeof storage !== 'number' || storage < 512 || storage > 10240)
      throw validation(
        'ephemeralStorage.size',
        storage,
        'Member must have value less than or equal to 10240 and greater than or equal to 512',
      )
    return {Timeout: timeout, MemorySize: memory, EphemeralStorage: storage}
  }

  private checkVariables(input: unknown, current: Record<string, string>): Record<string, string> {
    if (input === undefined) return current
    const variables = (input as {Variables?: unknown}).Variables ?? {}
    if (typeof variables !== 'object' || variables === null) throw invalidParameter('Environment.Variables must be a map of strings.')
    const out: Record<string, string> = {}
    for (const [name, value] of Object.entries(variables)) {
      if (!/^[a-zA-Z][a-zA-Z0-9_]*$/.test(name))
        throw validation('environment.variables', name, 'Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+')
      out[name] = String(value)
    }
    const reserved = Object.keys(out).filter((name) => RESERVED_VARIABLES.includes(name))
    if (reserved.length > 0)
      throw invalidParameter(
        `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
      )
    if (JSON.stringify(out).length > 4096)
      throw invalidParameter(
        'Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit.',
      )
    return out
  }

  /** A role Lambda can assume: it exists and its trust policy lets lambda.amazonaws.com call sts:AssumeRole. */
  private async checkRole(role: unknown): Promise<string> {
    if (typeof role !== 'string' || !ROLE.test(role))
      throw validation(
        'role',
        role,
        'Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+',
      )
    const refused = invalidParameter('The role defined for the function cannot be assumed by Lambda.')
    const {identityFor} = await import('../iam/index.js')
    const identity = await identityFor(this.env.stateDir)
    const found = identity.state.findRole(role.split('/').pop() ?? '')
    if (!found || found.Arn !== role) throw refused
    if (!trustsLambda(found.AssumeRolePolicyDocument)) throw refused
    return role
  }

  /** The zip a Code (or UpdateFunctionCode) input names: inline (base64 on the wire) or an object of the emulated S3. */
  private async zipOf(input: Input): Promise<Buffer> {
    if (typeof input.ImageUri === 'string')
      throw invalidParameter('The ncap emulator runs .zip functions only; container images (ImageUri) are not served.')
    if (typeof input.ZipFile === 'string') {
      const zip = Buffer.from(input.ZipFile, 'base64')
      if (zip.length > 52_428_800)
        throw new AwsError(
          'RequestEntityTooLargeException',
          'Request must be smaller than 69905067 bytes for the CreateFunction operation',
          413,
        )
      return zip
    }
    const bucket = str(input.S3Bucket)
    const key = str(input.S3Key)
    if (bucket && key) return this.readS3(bucket, key, str(input.S3ObjectVersion))
    throw invalidParameter('Please provide a source for function code (ZipFile, or S3Bucket and S3Key).')
  }

  private async readS3(bucket: string, key: string, version?: string): Promise<Buffer> {
    const {S3Client, GetObjectCommand} = await import('@aws-sdk/client-s3')
    const client = new S3Client({
      endpoint: this.env.endpoint,
      region: DEFAULT_REGION,
      forcePathStyle: true,
      credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
    })
    try {
      const answer = await client.send(new GetObjectCommand({Bucket: bucket, Key: key, ...(version ? {VersionId: version} : {})}))
      return Buffer.from(await answer.Body!.transformToByteArray())
    } catch (error) {
      const code = (error as {name?: string}).name ?? 'Error'
      throw invalidParameter(`Error occurred while GetObject. S3 Error Code: ${code}. S3 Error Message: ${(error as Error).message}`)
    } finally {
      client.destroy()
    }
  }

  private refuseUnserved(input: Input): void {
    if (input.Publish === true)
      throw invalidParameter('The ncap emulator does not publish function versions (Publish: true); only $LATEST is served.')
    if (Array.isArray(input.Layers) && input.Layers.length > 0)
      throw invalidParameter('The ncap emulator does not serve Lambda layers (Layers).')
    if (input.PackageType === 'Image')
      throw invalidParameter('The ncap emulator runs .zip functions only; PackageType Image is not served.')
  }

  async createFunction(input: Input, region: string): Promise<ReturnType<LambdaService['configuration']>> {
    const name = input.FunctionName
    if (typeof name !== 'string' || !isValidName(name))
      throw validation('functionName', name, 'Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ and length 1-64')
    this.refuseUnserved(input)
    if (this.state.find(region, name)) throw resourceConflict(`Function already exist: ${name}`)
    const runtime = checkRuntime(input.Runtime, this.env.clock.now(), 'create')
    if (typeof input.Handler !== 'string' || !/^[^\s]{1,128}$/.test(input.Handler))
      throw validation('handler', input.Handler, 'Member must satisfy regular expression pattern: [^\\s]+')
    const numbers = this.checkNumbers(input)
    const variables = this.checkVariables(input.Environment, {})
    const role = await this.checkRole(input.Role)
    const code = input.Code as Input | undefined
    if (!code || typeof code !== 'object') throw validation('code', code, 'Member must not be null')
    const zip = await this.zipOf(code)
    if (this.state.find(region, name)) throw resourceConflict(`Function already exist: ${name}`)
    const stored = await this.state.storeCode(region, name, zip)
    const logging = input.LoggingConfig as {LogFormat?: string; LogGroup?: string} | undefined
    const record: FunctionRecord = {
      region,
      FunctionName: name,
      Runtime: runtime,
      Role: role,
      Handler: input.Handler,
      Description: str(input.Description) ?? '',
      ...numbers,
      Variables: variables,
      ...stored,
      LastModified: lastModified(this.env.clock.now()),
      RevisionId: this.state.newRevision(),
      State: 'Active',
      LastUpdateStatus: 'Successful',
      Architectures: Array.isArray(input.Architectures) && input.Architectures.length > 0 ? (input.Architectures as string[]) : ['x86_64'],
      TracingMode: (input.TracingConfig as {Mode?: string} | undefined)?.Mode ?? 'PassThrough',
      LogFormat: logging?.LogFormat ?? 'Text',
      ...(logging?.LogGroup ? {LogGroup: logging.LogGroup} : {}),
      Tags: (input.Tags as Record<string, string> | undefined) ?? {},
      Policy: [],
      PolicyRevisionId: this.state.newRevision(),
    }
    this.state.put(record)
    await this.state.save()
    this.env.events.record({
      service: 'lambda',
      kind: 'lambda.function',
      outcome: 'ok',
      summary: `function ${name} created (${runtime}, ${record.MemorySize} MB, ${record.Timeout} s)`,
      resource: this.arnOf(record),
    })
    this.prewarm(record)
    // AWS answers Pending and turns Active once the code is in place; here it already is, so the next look sees Active.
    return this.configuration(record, {State: 'Pending', LastUpdateStatus: 'InProgress'})
  }

  private checkRevision(record: FunctionRecord, revision: unknown): void {
    if (revision !== undefined && revision !== record.RevisionId)
      throw preconditionFailed(
        'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
      )
  }

  async updateCode(target: unknown, input: Input, region: string) {
    const record = this.get(target, region)
    this.refuseUnserved(input)
    this.checkRevision(record, input.RevisionId)
    const zip = await this.zipOf(input)
    const stored = await this.state.storeCode(region, record.FunctionName, zip)
    if (input.DryRun === true) return this.configuration({...record, ...stored})
    Object.assign(record, stored, {LastModified: lastModified(this.env.clock.now()), RevisionId: this.state.newRevision()})
    this.retirePool(record)
    await this.state.save()
    this.env.events.record({
      service: 'lambda',
      kind: 'lambda.function',
      outcome: 'ok',
      summary: `function ${record.FunctionName}: code updated (${record.CodeSize} bytes)`,
      resource: this.arnOf(record),
    })
    this.prewarm(record)
    return this.configuration(record, {LastUpdateStatus: 'InProgress'})
  }

  async updateConfiguration(target: unknown, input: Input, region: string) {
    const record = this.get(target, region)
    this.refuseUnserved(input)
    this.checkRevision(record, input.RevisionId)
    const next: Partial<FunctionRecord> = this.checkNumbers(input, record)
    if (input.Runtime !== undefined) next.Runtime = checkRuntime(input.Runtime, this.env.clock.now(), 'update')
    if (input.Handler !== undefined) {
      if (typeof input.Handler !== 'string' || !/^[^\s]{1,128}$/.test(input.Handler))
        throw validation('handler', input.Handler, 'Member must satisfy regular expression pattern: [^\\s]+')
      next.Handler = input.Handler
    }
    if (input.Role !== undefined) next.Role = await this.checkRole(input.Role)
    if (input.Description !== undefined) next.Description = String(input.Description)
    next.Variables = this.checkVariables(input.Environment, record.Variables)
    const tracing = (input.TracingConfig as {Mode?: string} | undefined)?.Mode
    if (tracing) next.TracingMode = tracing
    const logging = input.LoggingConfig as {LogFormat?: string; LogGroup?: string} | undefined
    if (logging?.LogFormat) next.LogFormat = logging.LogFormat
    if (logging?.LogGroup) next.LogGroup = logging.LogGroup
    Object.assign(record, next, {LastModified: lastModified(this.env.clock.now()), RevisionId: this.state.newRevision()})
    if (next.Role) {
      this.credentials.delete(this.keyOf(record))
      this.issuing.delete(this.keyOf(record))
    }
    this.retirePool(record)
    await this.state.save()
    this.env.events.record({
      service: 'lambda',
      kind: 'lambda.function',
      outcome: 'ok',
      summary: `function ${record.FunctionName}: configuration updated`,
      resource: this.arnOf(record),
    })
    this.prewarm(record)
    return this.configuration(record, {LastUpdateStatus: 'InProgress'})
  }

  async deleteFunction(target: unknown, region: string, qualifier?: unknown): Promise<void> {
    const record = this.get(target, region, qualifier)
    this.state.remove(record)
    this.retirePool(record)
    this.credentials.delete(this.keyOf(record))
    await this.state.save()
    await this.state.dropCode(record.region, record.FunctionName)
    this.env.events.record({
      service: 'lambda',
      kind: 'lambda.function',
      outcome: 'ok',
      summary: `function ${record.FunctionName} deleted`,
      resource: this.arnOf(record),
    })
  }

  // ---- permissions ----------------------------------------------------------------------------

  async addPermission(target: unknown, input: Input, region: string, qualifier?: unknown): Promise<string> {
    const record = this.get(target, region, qualifier)
    if (input.RevisionId !== undefined && input.RevisionId !== record.PolicyRevisionId && input.RevisionId !== record.RevisionId)
      throw preconditionFailed(
        'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id',
      )
    const statement = makeStatement(input as AddPermissionInput, this.arnOf(record))
    addStatement(record.Policy, statement)
    record.PolicyRevisionId = this.state.newRevision()
    await this.state.save()
    return JSON.stringify(statement)
  }

  async removePermission(target: unknown, sid: string, region: string, qualifier?: unknown, revision?: unknown): Promise<void> {
    const record = this.get(target, region, qualifier)
    if (revision !== undefined && revision !== record.PolicyRevisionId)
      throw preconditionFailed(
        'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id',
      )
    removeStatement(record.Policy, sid)
    record.PolicyRevisionId = this.state.newRevision()
    await this.state.save()
  }

  getPolicy(target: unknown, region: string, qualifier?: unknown): {Policy: string; RevisionId: string} {
    const record = this.get(target, region, qualifier)
    if (record.Policy.length === 0) throw new AwsError('ResourceNotFoundException', 'The resource you requested does not exist.', 404)
    return {Policy: policyDocument(record.Policy), RevisionId: record.PolicyRevisionId}
  }

  // ---- invoking -------------------------------------------------------------------------------

  private keyOf(record: FunctionRecord): string {
    return `${record.region}/${record.FunctionName}`
  }

  private retirePool(record: FunctionRecord): void {
    const key = this.keyOf(record)
    const pool = this.pools.get(key)
    if (pool) {
      this.pools.delete(key)
      pool.close()
    }
  }

  /** Starts the function's worker now (WARM eager), with the credentials its first invoke will carry. */
  private prewarm(record: FunctionRecord): void {
    if (WARM !== 'eager') return
    const revision = record.RevisionId
    void this.credentialsOf(record).then(
      (env) => {
        // Changed or deleted meanwhile: that change starts its own worker.
        if (this.state.find(record.region, record.FunctionName) !== record || record.RevisionId !== revision) return
        this.poolOf(record).prewarm(env)
      },
      () => undefined,
    )
  }

  private poolOf(record: FunctionRecord): WorkerPool {
    const key = this.keyOf(record)
    const existing = this.pools.get(key)
    if (existing && existing.spec.functionVersion === '$LATEST' && (existing as PoolWithRevision).revision === record.RevisionId)
      return existing
    existing?.close()
    linkSdk(dirname(this.state.codeFolder(record)))
    const group = record.LogGroup ?? `/aws/lambda/${record.FunctionName}`
    const pool = new WorkerPool(
      {
        functionName: record.FunctionName,
        functionArn: this.arnOf(record),
        functionVersion: '$LATEST',
        runtime: record.Runtime,
        codeDir: this.state.codeFolder(record),
        handler: record.Handler,
        memoryMb: record.MemorySize,
        timeoutSec: record.Timeout,
        region: record.region,
        environment: {
          ...record.Variables,
          AWS_REGION: record.region,
          AWS_DEFAULT_REGION: record.region,
          AWS_ENDPOINT_URL: this.env.endpoint,
        },
        logGroup: group,
      },
      {clock: this.env.clock, onLog: (stream, events) => this.sendLogs(record.region, group, stream, events)},
    ) as PoolWithRevision
    pool.revision = record.RevisionId
    this.pools.set(key, pool)
    return pool
  }

  /** The role's temporary credentials for the function's code: an STS session of its role, renewed before it expires. */
  private credentialsOf(record: FunctionRecord): Promise<Record<string, string>> {
    const key = this.keyOf(record)
    const held = this.credentials.get(key)
    if (held && held.expiresAt - Date.now() > RENEW_BEFORE_MS) return Promise.resolve(held.variables)
    // One session for callers that ask at once (the pre-warm and a first invoke): workers are matched on it.
    let issuing = this.issuing.get(key)
    if (!issuing) {
      issuing = this.issueCredentials(record, key).finally(() => this.issuing.delete(key))
      this.issuing.set(key, issuing)
    }
    return issuing
  }

  private async issueCredentials(record: FunctionRecord, key: string): Promise<Record<string, string>> {
    const [{identityFor}, {issueRoleSession}] = await Promise.all([import('../iam/index.js'), import('../iam/roles.js')])
    const identity = await identityFor(this.env.stateDir)
    const sessionName = record.FunctionName.length >= 2 ? record.FunctionName : `${record.FunctionName}-lambda`
    const role = record.Role
    try {
      const issued = issueRoleSession(identity.state, {
        RoleArn: role,
        RoleSessionName: sessionName,
        DurationSeconds: SESSION_SECONDS,
      })
      await identity.state.save()
      const made: Credentials = {
        variables: {
          AWS_ACCESS_KEY_ID: issued.Credentials.AccessKeyId,
          AWS_SECRET_ACCESS_KEY: issued.Credentials.SecretAccessKey,
          AWS_SESSION_TOKEN: issued.Credentials.SessionToken,
        },
        expiresAt: Date.now() + SESSION_SECONDS * 1000,
      }
      // A session of a role the function no longer has (changed meanwhile) is not kept.
      if (record.Role === role) this.credentials.set(key, made)
      return made.variables
    } catch (error) {
      // The role was deleted after the function was made: AWS fails the invoke the same way.
      throw new AwsError(
        'InvalidRuntimeException',
        `The role ${record.Role} of function ${record.FunctionName} cannot be assumed by Lambda: ${(error as Error).message}`,
        502,
      )
    }
  }

  private sendLogs(region: string, group: string, stream: string, events: {timestamp: number; message: string}[]): void {
    if (!this.logs) {
      this.logsCheckedAt = Date.now()
      this.logs = this.env.internal('logs').then(
        (logs) => logs,
        () => undefined,
      )
    }
    void this.logs.then((logs) => {
      if (!logs) {
        if (!this.logsMissingNoted) {
          this.logsMissingNoted = true
          this.env.events.record({
            service: 'lambda',
            kind: 'lambda.logs',
            outcome: 'skipped',
            summary: `function logs are not sent to CloudWatch Logs (${group})`,
            reason: "the emulator's logs service is not available; LogType Tail still returns them",
          })
        }
        // Ask again later: the Logs service may come up.
        if (Date.now() - this.logsCheckedAt > 5000) this.logs = undefined
        return
      }
      try {
        logs.append(region, group, stream, events)
      } catch (error) {
        process.stderr.write(`lambda: could not write logs to ${group}: ${(error as Error).message}\n`)
      }
    })
  }

  /** Runs one invocation to its end and records it. */
  async invoke(
    record: FunctionRecord,
    payload: string,
    how: {
      principal: string
      invocationType: 'RequestResponse' | 'Event'
      requestId?: string
      attempt?: number
      correlation?: Record<string, string>
    },
  ): Promise<InvokeOutcome> {
    const env = await this.credentialsOf(record)
    const pool = this.poolOf(record)
    const outcome = await pool.invoke({payload, ...(how.requestId ? {requestId: how.requestId} : {}), env})
    const name = record.FunctionName
    const error = outcome.error
    this.env.events.record({
      service: 'lambda',
      kind: 'lambda.invoke',
      outcome: error ? 'failed' : 'ok',
      summary: error
        ? `${name} failed (${how.invocationType}${how.attempt ? `, retry ${how.attempt}` : ''}): ${error.errorType}: ${error.errorMessage}`
        : `${name} answered in ${outcome.durationMs.toFixed(1)} ms (${how.invocationType}${how.attempt ? `, retry ${how.attempt}` : ''}${coldNote(outcome)})`,
      ...(error ? {reason: `${error.errorType}: ${error.errorMessage}`} : {}),
      resource: this.arnOf(record),
      correlation: {requestId: outcome.requestId, ...how.correlation},
      detail: {
        principal: how.principal,
        invocationType: how.invocationType,
        durationMs: Math.round(outcome.durationMs * 100) / 100,
        maxMemoryMb: outcome.maxMemoryMb,
        cold: outcome.initMs !== undefined,
        ...(outcome.prewarmed ? {prewarmed: true, initWaitMs: Math.round(outcome.prewarmed.initWaitMs)} : {}),
        runtime: outcome.runtimeVersion,
        ...(how.attempt ? {attempt: how.attempt} : {}),
      },
    })
    return outcome
  }

  /** Queues an asynchronous invocation (durably) and returns its request id. */
  async enqueue(record: FunctionRecord, payload: string, principal: string, correlation?: Record<string, string>): Promise<string> {
    const requestId = randomUUID()
    await this.queue.add({
      requestId,
      region: record.region,
      functionName: record.FunctionName,
      payload,
      principal,
      attempt: 0,
      dueAt: this.env.clock.now(),
      enqueuedAt: this.env.clock.now(),
      ...(correlation ? {correlation} : {}),
    })
    this.env.events.record({
      service: 'lambda',
      kind: 'lambda.invoke-queued',
      outcome: 'info',
      summary: `${record.FunctionName}: asynchronous invocation queued`,
      resource: this.arnOf(record),
      correlation: {requestId, ...correlation},
      detail: {principal},
    })
    return requestId
  }

  /** One attempt of a queued invocation: true when it is done with (answered, or the function is gone). */
  private async runQueued(entry: AsyncEntry): Promise<boolean> {
    const record = this.state.find(entry.region, entry.functionName)
    if (!record) {
      this.env.events.record({
        service: 'lambda',
        kind: 'lambda.invoke',
        outcome: 'failed',
        summary: `asynchronous invocation of ${entry.functionName} dropped`,
        reason: 'the function no longer exists',
        resource: functionArnOf(entry.region, entry.functionName),
        correlation: {requestId: entry.requestId, ...entry.correlation},
      })
      return true
    }
    try {
      const outcome = await this.invoke(record, entry.payload, {
        principal: entry.principal,
        invocationType: 'Event',
        // Retries keep the request id, as on AWS.
        requestId: entry.requestId,
        attempt: entry.attempt,
        ...(entry.correlation ? {correlation: entry.correlation} : {}),
      })
      return !outcome.error
    } catch (error) {
      this.env.events.record({
        service: 'lambda',
        kind: 'lambda.invoke',
        outcome: 'error',
        summary: `asynchronous invocation of ${entry.functionName} could not run`,
        reason: (error as Error).message,
        resource: this.arnOf(record),
        correlation: {requestId: entry.requestId, ...entry.correlation},
      })
      return false
    }
  }

  // ---- the internal API -----------------------------------------------------------------------

  /** A function by name or ARN for callers inside the emulator (a plain name is looked for in us-east-1 first). */
  private lookUp(functionName: string): {record?: FunctionRecord; ref?: FunctionRef} {
    let ref: FunctionRef
    try {
      ref = parseFunctionName(functionName, DEFAULT_REGION)
    } catch {
      return {}
    }
    const found = this.state.find(ref.region, ref.name)
    if (found) return {record: found, ref}
    if (!functionName.startsWith('arn:')) {
      const elsewhere = Object.values(this.state.data.functions).find((record) => record.FunctionName === ref.name)
      if (elsewhere) return {record: elsewhere, ref: {...ref, region: elsewhere.region}}
    }
    return {ref}
  }

  readonly internal: LambdaInternal = {
    functionArn: (functionName) => {
      const {record} = this.lookUp(functionName)
      return record ? this.arnOf(record) : undefined
    },
    checkServicePermission: (functionName, principal, sourceArn, sourceAccount): PermissionCheck => {
      const {record} = this.lookUp(functionName)
      if (!record) return {allowed: false, reason: `the function ${functionName} does not exist`}
      const check = servicePermission(record.Policy, principal, sourceArn, sourceAccount)
      return check.allowed ? {allowed: true} : check
    },
    invokeAsService: (invocation) => this.invokeAsService(invocation),
  }

  private async invokeAsService(invocation: ServiceInvocation): Promise<ServiceInvocationResult> {
    const {record, ref} = this.lookUp(invocation.functionName)
    const arn = ref ? functionArnOf(ref.region, ref.name) : invocation.functionName
    if (!record || (ref?.qualifier && ref.qualifier !== '$LATEST')) {
      this.env.events.record({
        service: 'lambda',
        kind: 'lambda.invoke',
        outcome: 'failed',
        summary: `${invocation.principal} could not invoke ${invocation.functionName}`,
        reason: 'the function does not exist',
        resource: arn,
        ...(invocation.correlation ? {correlation: invocation.correlation} : {}),
        detail: {principal: invocation.principal, ...(invocation.sourceArn ? {sourceArn: invocation.sourceArn} : {})},
      })
      throw functionNotFound(arn + (ref?.qualifier ? `:${ref.qualifier}` : ''))
    }
    const check = servicePermission(record.Policy, invocation.principal, invocation.sourceArn, invocation.sourceAccount ?? ACCOUNT_ID)
    if (!check.allowed) {
      this.env.events.record({
        service: 'lambda',
        kind: 'lambda.invoke',
        outcome: 'denied',
        summary: `${invocation.principal} was refused lambda:InvokeFunction on ${record.FunctionName}`,
        reason: check.reason,
        resource: arn,
        ...(invocation.correlation ? {correlation: invocation.correlation} : {}),
        detail: {principal: invocation.principal, ...(invocation.sourceArn ? {sourceArn: invocation.sourceArn} : {})},
      })
      throw new AwsError(
        'AccessDenied',
        `${invocation.principal} is not authorized to perform: lambda:InvokeFunction on resource: ${arn} because ${check.reason}`,
        403,
      )
    }
    const payload = JSON.stringify(invocation.payload ?? {})
    if (invocation.invocationType === 'Event') {
      const requestId = await this.enqueue(record, payload, invocation.principal, {
        ...(invocation.sourceArn ? {sourceArn: invocation.sourceArn} : {}),
        ...invocation.correlation,
      })
      return {statusCode: 202, requestId}
    }
    const outcome = await this.invoke(record, payload, {
      principal: invocation.principal,
      invocationType: 'RequestResponse',
      correlation: {...(invocation.sourceArn ? {sourceArn: invocation.sourceArn} : {}), ...invocation.correlation},
    })
    let decoded: unknown = outcome.payload
    try {
      decoded = JSON.parse(outcome.payload)
    } catch {
      // Not JSON: handed back as text.
    }
    return {statusCode: 200, payload: decoded, requestId: outcome.requestId, ...(outcome.error ? {functionError: 'Unhandled'} : {})}
  }

  // ---- life ------------------------------------------------------------------------------------

  async start(): Promise<void> {
    await this.queue.resume()
  }

  async close(): Promise<void> {
    this.queue.close()
    for (const pool of this.pools.values()) pool.terminate()
    this.pools.clear()
    await this.queue.flush()
    await this.state.flush()
  }
}

/**
 * Puts a node_modules link to ncap's own beside a function's code folders, so its
 * ESM imports of @aws-sdk/* resolve as AWS's Node runtimes provide them (its own
 * node_modules, inside the code, still comes first).
 */
function linkSdk(folder: string): void {
  const link = join(folder, 'node_modules')
  const target = ncapNodeModules()
  if (!target || existsSync(link)) return
  try {
    symlinkSync(target, link, 'dir')
  } catch {
    // Another invoke made it first, or links are not allowed here: the worker's resolution hook covers it.
  }
}

type PoolWithRevision = WorkerPool & {revision?: string}

/** How an invocation's worker started: at this invocation (cold start), ahead of it (pre-warmed), or already warm. */
function coldNote(outcome: InvokeOutcome): string {
  if (outcome.initMs === undefined) return ''
  if (!outcome.prewarmed) return ', cold start'
  const waited = Math.round(outcome.prewarmed.initWaitMs)
  return `, first on a worker started before it${waited > 0 ? ` (waited ${waited} ms of its ${Math.round(outcome.initMs)} ms init)` : ' (pre-warmed)'}`
}

/** Whether a trust policy lets lambda.amazonaws.com assume the role (an Allow naming the service for sts:AssumeRole). */
export function trustsLambda(document: string): boolean {
  let parsed: {Statement?: unknown}
  try {
    parsed = JSON.parse(decodeURIComponent(document))
  } catch {
    try {
      parsed = JSON.parse(document)
    } catch {
      return false
    }
  }
  const statements = Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement ? [parsed.Statement] : []
  const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)])
  let allowed = false
  for (const statement of statements as Record<string, unknown>[]) {
    const actions = list(statement.Action)
    if (!actions.some((action) => ['sts:assumerole', 'sts:*', '*'].includes(action.toLowerCase()))) continue
    const principal = statement.Principal
    const services = principal === '*' ? ['*'] : list((principal as {Service?: unknown} | undefined)?.Service)
    if (!services.some((service) => service === 'lambda.amazonaws.com' || service === '*')) continue
    if (statement.Effect === 'Deny') return false
    if (statement.Effect === 'Allow') allowed = true
  }
  return allowed
}
