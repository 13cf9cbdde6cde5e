/**
 * Lambda's wire (REST-JSON, API version 2015-03-31): routes by method and path
 * template, inputs from labels, query, headers and the JSON body, and answers
 * with AWS's status codes and headers. Every other operation of Lambda's model
 * is refused by name (NotImplemented, 501).
 */
import {AwsError} from '../../errors.js'
import {readBody} from '../../protocols/body.js'
import {type RestRoute, readJsonBody, restRouter, sendRestJson} from '../../protocols/restjson.js'
import type {EmulatedService, RequestContext} from '../../types.js'
import {notServed, requestTooLarge, validation} from './errors.js'
import {ASYNC_PAYLOAD_LIMIT, type LambdaService, SYNC_PAYLOAD_LIMIT} from './service.js'

export const SERVED_ROUTES = [
  {method: 'POST', path: '/2015-03-31/functions', operation: 'CreateFunction'},
  {method: 'GET', path: '/2015-03-31/functions', operation: 'ListFunctions'},
  {method: 'GET', path: '/2015-03-31/functions/{FunctionName}', operation: 'GetFunction'},
  {method: 'DELETE', path: '/2015-03-31/functions/{FunctionName}', operation: 'DeleteFunction'},
  {method: 'GET', path: '/2015-03-31/functions/{FunctionName}/configuration', operation: 'GetFunctionConfiguration'},
  {method: 'PUT', path: '/2015-03-31/functions/{FunctionName}/configuration', operation: 'UpdateFunctionConfiguration'},
  {method: 'PUT', path: '/2015-03-31/functions/{FunctionName}/code', operation: 'UpdateFunctionCode'},
  {method: 'POST', path: '/2015-03-31/functions/{FunctionName}/invocations', operation: 'Invoke'},
  {method: 'POST', path: '/2014-11-13/functions/{FunctionName}/invoke-async', operation: 'InvokeAsync'},
  {method: 'POST', path: '/2015-03-31/functions/{FunctionName}/policy', operation: 'AddPermission'},
  {method: 'GET', path: '/2015-03-31/functions/{FunctionName}/policy', operation: 'GetPolicy'},
  {method: 'DELETE', path: '/2015-03-31/functions/{FunctionName}/policy/{StatementId}', operation: 'RemovePermission'},
  {method: 'GET', path: '/2016-08-19/account-settings', operation: 'GetAccountSettings'},
  {method: 'GET', path: '/2017-03-31/tags/{Resource}', operation: 'ListTags'},
  {method: 'POST', path: '/2017-03-31/tags/{Resource}', operation: 'TagResource'},
  {method: 'DELETE', path: '/2017-03-31/tags/{Resource}', operation: 'UntagResource'},
] as const satisfies readonly RestRoute[]

export type LambdaOperation = (typeof SERVED_ROUTES)[number]['operation']
export const LAMBDA_OPERATIONS: readonly LambdaOperation[] = SERVED_ROUTES.map((route) => route.operation)

/** Lambda's other operations, by route, so a refusal names the operation. */
const UNSERVED: [string, string, string][] = [
  ['POST', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy', 'AddLayerVersionPermission'],
  ['POST', '/2025-12-01/durable-executions/{DurableExecutionArn}/checkpoint', 'CheckpointDurableExecution'],
  ['POST', '/2015-03-31/functions/{FunctionName}/aliases', 'CreateAlias'],
  ['POST', '/2025-11-30/capacity-providers', 'CreateCapacityProvider'],
  ['POST', '/2020-04-22/code-signing-configs', 'CreateCodeSigningConfig'],
  ['POST', '/2015-03-31/event-source-mappings', 'CreateEventSourceMapping'],
  ['POST', '/2021-10-31/functions/{FunctionName}/url', 'CreateFunctionUrlConfig'],
  ['DELETE', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 'DeleteAlias'],
  ['DELETE', '/2025-11-30/capacity-providers/{CapacityProviderName}', 'DeleteCapacityProvider'],
  ['DELETE', '/2020-04-22/code-signing-configs/{CodeSigningConfigArn}', 'DeleteCodeSigningConfig'],
  ['DELETE', '/2015-03-31/event-source-mappings/{UUID}', 'DeleteEventSourceMapping'],
  ['DELETE', '/2020-06-30/functions/{FunctionName}/code-signing-config', 'DeleteFunctionCodeSigningConfig'],
  ['DELETE', '/2017-10-31/functions/{FunctionName}/concurrency', 'DeleteFunctionConcurrency'],
  ['DELETE', '/2019-09-25/functions/{FunctionName}/event-invoke-config', 'DeleteFunctionEventInvokeConfig'],
  ['DELETE', '/2021-10-31/functions/{FunctionName}/url', 'DeleteFunctionUrlConfig'],
  ['DELETE', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}', 'DeleteLayerVersion'],
  ['DELETE', '/2019-09-30/functions/{FunctionName}/provisioned-concurrency', 'DeleteProvisionedConcurrencyConfig'],
  ['GET', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 'GetAlias'],
  ['GET', '/2025-11-30/capacity-providers/{CapacityProviderName}', 'GetCapacityProvider'],
  ['GET', '/2020-04-22/code-signing-configs/{CodeSigningConfigArn}', 'GetCodeSigningConfig'],
  ['GET', '/2025-12-01/durable-executions/{DurableExecutionArn}', 'GetDurableExecution'],
  ['GET', '/2025-12-01/durable-executions/{DurableExecutionArn}/history', 'GetDurableExecutionHistory'],
  ['GET', '/2025-12-01/durable-executions/{DurableExecutionArn}/state', 'GetDurableExecutionState'],
  ['GET', '/2015-03-31/event-source-mappings/{UUID}', 'GetEventSourceMapping'],
  ['GET', '/2020-06-30/functions/{FunctionName}/code-signing-config', 'GetFunctionCodeSigningConfig'],
  ['GET', '/2019-09-30/functions/{FunctionName}/concurrency', 'GetFunctionConcurrency'],
  ['GET', '/2019-09-25/functions/{FunctionName}/event-invoke-config', 'GetFunctionEventInvokeConfig'],
  ['GET', '/2024-08-31/functions/{FunctionName}/recursion-config', 'GetFunctionRecursionConfig'],
  ['GET', '/2025-11-30/functions/{FunctionName}/function-scaling-config', 'GetFunctionScalingConfig'],
  ['GET', '/2021-10-31/functions/{FunctionName}/url', 'GetFunctionUrlConfig'],
  ['GET', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}', 'GetLayerVersion'],
  ['GET', '/2018-10-31/layers', 'ListLayers'],
  ['GET', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy', 'GetLayerVersionPolicy'],
  ['GET', '/2019-09-30/functions/{FunctionName}/provisioned-concurrency', 'GetProvisionedConcurrencyConfig'],
  ['GET', '/2021-07-20/functions/{FunctionName}/runtime-management-config', 'GetRuntimeManagementConfig'],
  ['POST', '/2021-11-15/functions/{FunctionName}/response-streaming-invocations', 'InvokeWithResponseStream'],
  ['GET', '/2015-03-31/functions/{FunctionName}/aliases', 'ListAliases'],
  ['GET', '/2025-11-30/capacity-providers', 'ListCapacityProviders'],
  ['GET', '/2020-04-22/code-signing-configs', 'ListCodeSigningConfigs'],
  ['GET', '/2025-12-01/functions/{FunctionName}/durable-executions', 'ListDurableExecutionsByFunction'],
  ['GET', '/2015-03-31/event-source-mappings', 'ListEventSourceMappings'],
  ['GET', '/2019-09-25/functions/{FunctionName}/event-invoke-config/list', 'ListFunctionEventInvokeConfigs'],
  ['GET', '/2021-10-31/functions/{FunctionName}/urls', 'ListFunctionUrlConfigs'],
  ['GET', '/2025-11-30/capacity-providers/{CapacityProviderName}/function-versions', 'ListFunctionVersionsByCapacityProvider'],
  ['GET', '/2020-04-22/code-signing-configs/{CodeSigningConfigArn}/functions', 'ListFunctionsByCodeSigningConfig'],
  ['GET', '/2018-10-31/layers/{LayerName}/versions', 'ListLayerVersions'],
  ['GET', '/2018-10-31/layers', 'ListLayers'],
  ['GET', '/2019-09-30/functions/{FunctionName}/provisioned-concurrency', 'GetProvisionedConcurrencyConfig'],
  ['GET', '/2015-03-31/functions/{FunctionName}/versions', 'ListVersionsByFunction'],
  ['POST', '/2018-10-31/layers/{LayerName}/versions', 'PublishLayerVersion'],
  ['POST', '/2015-03-31/functions/{FunctionName}/versions', 'PublishVersion'],
  ['PUT', '/2020-06-30/functions/{FunctionName}/code-signing-config', 'PutFunctionCodeSigningConfig'],
  ['PUT', '/2017-10-31/functions/{FunctionName}/concurrency', 'PutFunctionConcurrency'],
  ['PUT', '/2019-09-25/functions/{FunctionName}/event-invoke-config', 'PutFunctionEventInvokeConfig'],
  ['PUT', '/2024-08-31/functions/{FunctionName}/recursion-config', 'PutFunctionRecursionConfig'],
  ['PUT', '/2025-11-30/functions/{FunctionName}/function-scaling-config', 'PutFunctionScalingConfig'],
  ['PUT', '/2019-09-30/functions/{FunctionName}/provisioned-concurrency', 'PutProvisionedConcurrencyConfig'],
  ['PUT', '/2021-07-20/functions/{FunctionName}/runtime-management-config', 'PutRuntimeManagementConfig'],
  ['DELETE', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy/{StatementId}', 'RemoveLayerVersionPermission'],
  ['POST', '/2025-12-01/durable-execution-callbacks/{CallbackId}/fail', 'SendDurableExecutionCallbackFailure'],
  ['POST', '/2025-12-01/durable-execution-callbacks/{CallbackId}/heartbeat', 'SendDurableExecutionCallbackHeartbeat'],
  ['POST', '/2025-12-01/durable-execution-callbacks/{CallbackId}/succeed', 'SendDurableExecutionCallbackSuccess'],
  ['POST', '/2025-12-01/durable-executions/{DurableExecutionArn}/stop', 'StopDurableExecution'],
  ['PUT', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 'UpdateAlias'],
  ['PUT', '/2025-11-30/capacity-providers/{CapacityProviderName}', 'UpdateCapacityProvider'],
  ['PUT', '/2020-04-22/code-signing-configs/{CodeSigningConfigArn}', 'UpdateCodeSigningConfig'],
  ['PUT', '/2015-03-31/event-source-mappings/{UUID}', 'UpdateEventSourceMapping'],
  ['POST', '/2019-09-25/functions/{FunctionName}/event-invoke-config', 'UpdateFunctionEventInvokeConfig'],
  ['PUT', '/2021-10-31/functions/{FunctionName}/url', 'UpdateFunctionUrlConfig'],
]

const served = restRouter<LambdaOperation>(SERVED_ROUTES)
const unserved = restRouter(UNSERVED.map(([method, path, operation]) => ({method, path, operation})))

/** The core's identity-policy check, refused in Lambda's own error code (AccessDeniedException). */
function authorize(ctx: RequestContext, action: string, resource: string): void {
  try {
    ctx.authorize(action, resource)
  } catch (error) {
    if (error instanceof AwsError && error.code === 'AccessDenied') throw new AwsError('AccessDeniedException', error.message, 403)
    throw error
  }
}

const header = (ctx: RequestContext, name: string): string | undefined => {
  const value = ctx.req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

export class LambdaHandler implements EmulatedService {
  readonly signingName = 'lambda'

  constructor(readonly service: LambdaService) {}

  get internal() {
    return this.service.internal
  }

  start(): Promise<void> {
    return this.service.start()
  }

  close(): Promise<void> {
    return this.service.close()
  }

  async handle(ctx: RequestContext): Promise<void> {
    const method = ctx.req.method ?? 'GET'
    const path = ctx.url.pathname
    const match = served(method, path)
    if (!match) {
      ctx.req.resume()
      const other = unserved(method, path)
      if (other) {
        const query = ctx.url.searchParams
        if (other.operation === 'ListLayers' && query.get('find') === 'LayerVersion') throw notServed('GetLayerVersionByArn')
        if (other.operation === 'GetProvisionedConcurrencyConfig' && query.get('List') === 'ALL')
          throw notServed('ListProvisionedConcurrencyConfigs')
        throw notServed(other.operation)
      }
      throw new AwsError('UnknownOperationException', `Lambda has no operation at ${method} ${path}.`, 404)
    }
    const lambda = this.service
    const region = ctx.region
    const labels = match.labels
    const query = ctx.url.searchParams
    const qualifier = query.get('Qualifier') ?? undefined
    const resourceArn = (name: string) => `arn:aws:lambda:${region}:000000000000:function:${name}`
    switch (match.operation) {
      case 'CreateFunction': {
        const input = await readJsonBody(ctx, {limit: 80 * 1024 * 1024})
        authorize(ctx, 'lambda:CreateFunction', resourceArn(String(input.FunctionName ?? '')))
        sendRestJson(ctx, 201, await lambda.createFunction(input, region))
        return
      }
      case 'ListFunctions': {
        ctx.req.resume()
        authorize(ctx, 'lambda:ListFunctions', '*')
        const max = query.has('MaxItems') ? Number(query.get('MaxItems')) : 50
        if (!Number.isInteger(max) || max < 1 || max > 10000)
          throw validation(
            'maxItems',
            query.get('MaxItems'),
            'Member must have value less than or equal to 10000 and greater than or equal to 1',
          )
        const all = lambda.state.list(region)
        const marker = query.get('Marker')
        let start = 0
        if (marker) {
          const after = Buffer.from(marker, 'base64url').toString('utf8')
          start = all.findIndex((record) => record.FunctionName > after)
          if (start < 0) start = all.length
        }
        const page = all.slice(start, start + max)
        const more = start + max < all.length
        sendRestJson(ctx, 200, {
          Functions: page.map((record) => lambda.configuration(record)),
          ...(more ? {NextMarker: Buffer.from(page.at(-1)!.FunctionName).toString('base64url')} : {}),
        })
        return
      }
      case 'GetFunction': {
        ctx.req.resume()
        const record = lambda.get(labels.FunctionName, region, qualifier)
        authorize(ctx, 'lambda:GetFunction', lambda.arnOf(record))
        sendRestJson(ctx, 200, {
          Configuration: lambda.configuration(record),
          Code: {RepositoryType: 'S3', Location: `file://${lambda.state.zipPath(record)}`},
          ...(Object.keys(record.Tags).length > 0 ? {Tags: record.Tags} : {}),
        })
        return
      }
      case 'GetFunctionConfiguration': {
        ctx.req.resume()
        const record = lambda.get(labels.FunctionName, region, qualifier)
        authorize(ctx, 'lambda:GetFunctionConfiguration', lambda.arnOf(record))
        sendRestJson(ctx, 200, lambda.configuration(record))
        return
      }
      case 'DeleteFunction': {
        ctx.req.resume()
        const record = lambda.get(labels.FunctionName, region, qualifier)
        authorize(ctx, 'lambda:DeleteFunction', lambda.arnOf(record))
        await lambda.deleteFunction(labels.FunctionName, region, qualifier)
        sendRestJson(ctx, 204)
        return
      }
      case 'UpdateFunctionCode': {
        const input = await readJsonBody(ctx, {limit: 80 * 1024 * 1024})
        authorize(ctx, 'lambda:UpdateFunctionCode', lambda.arnOf(lambda.get(labels.FunctionName, region)))
        sendRestJson(ctx, 200, await lambda.updateCode(labels.FunctionName, input, region))
        return
      }
      case 'UpdateFunctionConfiguration': {
        const input = await readJsonBody(ctx)
        authorize(ctx, 'lambda:UpdateFunctionConfiguration', lambda.arnOf(lambda.get(labels.FunctionName, region)))
        sendRestJson(ctx, 200, await lambda.updateConfiguration(labels.FunctionName, input, region))
        return
      }
      case 'Invoke':
        return this.invoke(ctx, labels.FunctionName!, qualifier, header(ctx, 'x-amz-invocation-type') ?? 'RequestResponse')
      case 'InvokeAsync':
        return this.invoke(ctx, labels.FunctionName!, undefined, 'InvokeAsync')
      case 'AddPermission': {
        const input = await readJsonBody(ctx)
        const record = lambda.get(labels.FunctionName, region, qualifier)
        authorize(ctx, 'lambda:AddPermission', lambda.arnOf(record))
        sendRestJson(ctx, 201, {Statement: await lambda.addPermission(labels.FunctionName, input, region, qualifier)})
        return
      }
      case 'GetPolicy': {
        ctx.req.resume()
        const record = lambda.get(labels.FunctionName, region, qualifier)
        authorize(ctx, 'lambda:GetPolicy', lambda.arnOf(record))
        sendRestJson(ctx, 200, lambda.getPolicy(labels.FunctionName, region, qualifier))
        return
      }
      case 'RemovePermission': {
        ctx.req.resume()
        const record = lambda.get(labels.FunctionName, region, qualifier)
        authorize(ctx, 'lambda:RemovePermission', lambda.arnOf(record))
        await lambda.removePermission(labels.FunctionName, labels.StatementId!, region, qualifier, query.get('RevisionId') ?? undefined)
        sendRestJson(ctx, 204)
        return
      }
      case 'GetAccountSettings': {
        ctx.req.resume()
        const all = Object.values(lambda.state.data.functions).filter((record) => record.region === region)
        sendRestJson(ctx, 200, {
          AccountLimit: {
            TotalCodeSize: 80_530_636_800,
            CodeSizeUnzipped: 262_144_000,
            CodeSizeZipped: 52_428_800,
            ConcurrentExecutions: 1000,
            UnreservedConcurrentExecutions: 1000,
          },
          AccountUsage: {TotalCodeSize: all.reduce((sum, record) => sum + record.CodeSize, 0), FunctionCount: all.length},
        })
        return
      }
      case 'ListTags':
      case 'TagResource':
      case 'UntagResource': {
        if (match.operation !== 'TagResource') ctx.req.resume()
        const input = match.operation === 'TagResource' ? await readJsonBody(ctx) : {}
        const record = lambda.get(labels.Resource, region)
        authorize(ctx, `lambda:${match.operation}`, lambda.arnOf(record))
        if (match.operation === 'ListTags') {
          sendRestJson(ctx, 200, {Tags: record.Tags})
          return
        }
        if (match.operation === 'TagResource') {
          const tags = (input as {Tags?: unknown}).Tags
          if (!tags || typeof tags !== 'object') throw validation('tags', tags, 'Member must not be null')
          Object.assign(record.Tags, tags)
        } else for (const key of query.getAll('tagKeys')) delete record.Tags[key]
        await lambda.state.save()
        sendRestJson(ctx, 204)
        return
      }
    }
  }

  private async invoke(ctx: RequestContext, name: string, qualifier: string | undefined, type: string): Promise<void> {
    const lambda = this.service
    const record = lambda.get(name, ctx.region, qualifier)
    if (!['RequestResponse', 'Event', 'DryRun', 'InvokeAsync'].includes(type))
      throw validation('invocationType', type, 'Member must satisfy enum value set: [Event, RequestResponse, DryRun]')
    const limit = type === 'RequestResponse' ? SYNC_PAYLOAD_LIMIT : ASYNC_PAYLOAD_LIMIT
    const body = await readBody(ctx.body, limit + 1).catch((error: unknown) => {
      if (error instanceof AwsError && error.code === 'RequestEntityTooLarge') throw tooLarge(limit)
      throw error
    })
    if (body.length > limit) throw tooLarge(limit)
    authorize(ctx, 'lambda:InvokeFunction', lambda.arnOf(record))
    const text = body.length === 0 ? '{}' : body.toString('utf8')
    try {
      JSON.parse(text)
    } catch (error) {
      throw new AwsError('InvalidRequestContentException', `Could not parse request body into json: ${(error as Error).message}`, 400)
    }
    if (type === 'DryRun') {
      sendRestJson(ctx, 204)
      return
    }
    if (type === 'Event' || type === 'InvokeAsync') {
      const requestId = await lambda.enqueue(record, text, ctx.principal.arn, {requestId: ctx.requestId})
      if (type === 'InvokeAsync') sendRestJson(ctx, 202, {Status: 202}, {'x-amzn-RequestId': requestId})
      else sendRestJson(ctx, 202, undefined, {'x-amzn-RequestId': requestId})
      return
    }
    const outcome = await lambda.invoke(record, text, {
      principal: ctx.principal.arn,
      invocationType: 'RequestResponse',
      requestId: ctx.requestId,
    })
    const headers: Record<string, string> = {
      'X-Amz-Executed-Version': '$LATEST',
      'x-ncap-runtime-version': outcome.runtimeVersion,
    }
    if (outcome.error) headers['X-Amz-Function-Error'] = 'Unhandled'
    if ((ctx.req.headers['x-amz-log-type'] ?? 'None') === 'Tail') {
      const bytes = Buffer.from(outcome.logs, 'utf8')
      headers['X-Amz-Log-Result'] = bytes.subarray(Math.max(0, bytes.length - 4096)).toString('base64')
    }
    ctx.res.statusCode = 200
    for (const [name, value] of Object.entries(headers)) ctx.res.setHeader(name, value)
    const payload = Buffer.from(outcome.payload, 'utf8')
    ctx.res.setHeader('Content-Type', 'application/json')
    ctx.res.setHeader('Content-Length', payload.length)
    ctx.res.end(payload)
  }
}

const tooLarge = (limit: number) => requestTooLarge(`Request must be smaller than ${limit} bytes for the InvokeFunction operation`)
