/**
 * Small test-only services registered through startServer's `services` option,
 * so the core (routing, SigV4, aws-chunked, codecs) is exercised with the real
 * SDK clients whatever state the real services are in.
 */
import {createHash} from 'node:crypto'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {AwsError} from '../../../src/emulator/errors.js'
import {readBody} from '../../../src/emulator/protocols/body.js'
import {sendError} from '../../../src/emulator/protocols/errors.js'
import {sendJson} from '../../../src/emulator/protocols/json.js'
import {parseQuery, queryList, sendQueryResult} from '../../../src/emulator/protocols/query.js'
import {sendBody, sendEmpty} from '../../../src/emulator/protocols/respond.js'
import {restRouter, sendRestJson} from '../../../src/emulator/protocols/restjson.js'
import {sendXml} from '../../../src/emulator/protocols/restxml.js'
import {type RunningServer, type StartServerOptions, startServer} from '../../../src/emulator/server.js'
import type {EmulatedService, RequestContext, ServiceFactory} from '../../../src/emulator/types.js'

export interface StoredObject {
  body: Buffer
  trailers: Record<string, string>
  contentLength?: number
}

/** A tiny S3: PUT stores the payload in memory, GET/HEAD return it, anything else is refused clearly. */
export function memoryS3(objects = new Map<string, StoredObject>()): ServiceFactory {
  return (): EmulatedService => ({
    signingName: 's3',
    async handle(ctx: RequestContext) {
      const path = decodeURIComponent(ctx.url.pathname)
      try {
        if (ctx.req.method === 'PUT') {
          const body = await readBody(ctx.body, 64 * 1024 * 1024)
          objects.set(path, {body, trailers: {...ctx.trailers}, contentLength: ctx.contentLength})
          sendEmpty(ctx.res, 200, {ETag: `"${createHash('md5').update(body).digest('hex')}"`})
          return
        }
        if (ctx.req.method === 'GET' && path === '/') {
          sendXml(ctx, 'ListAllMyBucketsResult', {
            Owner: {ID: ctx.principal.userId},
            Buckets: {Bucket: [{Name: 'b', CreationDate: new Date(0)}]},
          })
          return
        }
        if (ctx.req.method === 'GET' || ctx.req.method === 'HEAD') {
          const object = objects.get(path)
          if (!object) throw new AwsError('NoSuchKey', 'The specified key does not exist.', 404, {Key: path})
          sendBody(ctx.res, 200, 'application/octet-stream', object.body)
          return
        }
        throw new AwsError('NotImplemented', `memoryS3 answers PUT, GET and HEAD only, not ${ctx.req.method}`, 501)
      } catch (error) {
        if (!(error instanceof AwsError)) throw error
        sendError(ctx, 'restxml', error)
      }
    },
  })
}

/** A Query service answering as STS/IAM would: GetCallerIdentity, and NoSuchEntity for GetUser. */
export const queryService =
  (signingName: string): ServiceFactory =>
  () => ({
    signingName,
    async handle(ctx) {
      try {
        const {action, params} = await parseQuery(ctx)
        if (action === 'GetCallerIdentity') {
          sendQueryResult(ctx, action, {Arn: ctx.principal.arn, UserId: ctx.principal.userId, Account: ctx.principal.accountId})
          return
        }
        if (action === 'GetUser') throw new AwsError('NoSuchEntity', `The user with name ${params.UserName} cannot be found.`, 404)
        if (action === 'ListUsers') {
          sendQueryResult(ctx, action, {Users: [], IsTruncated: false})
          return
        }
        if (action === 'Echo') {
          sendQueryResult(ctx, action, {Values: queryList(params, 'Values.member')})
          return
        }
        throw new AwsError('InvalidAction', `Could not find operation ${action}`, 400)
      } catch (error) {
        if (!(error instanceof AwsError)) throw error
        sendError(ctx, 'query', error)
      }
    },
  })

/** A JSON 1.1 service shaped like Secrets Manager: GetSecretValue of 'known' works, others are ResourceNotFoundException. */
export const jsonService: ServiceFactory = () => ({
  signingName: 'secretsmanager',
  async handle(ctx) {
    const {parseJsonRequest} = await import('../../../src/emulator/protocols/json.js')
    try {
      const {operation, input} = await parseJsonRequest(ctx)
      if (operation === 'GetSecretValue' && input.SecretId === 'known') {
        sendJson(ctx, {ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:known', Name: 'known', SecretString: 's3cr3t'})
        return
      }
      throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.", 400)
    } catch (error) {
      if (!(error instanceof AwsError)) throw error
      sendError(ctx, 'json', error)
    }
  },
})

const lambdaRoutes = restRouter([
  {method: 'GET', path: '/2015-03-31/functions/', operation: 'ListFunctions'},
  {method: 'GET', path: '/2015-03-31/functions/{FunctionName}', operation: 'GetFunction'},
])

/** A REST-JSON service shaped like Lambda: ListFunctions answers empty, GetFunction is ResourceNotFoundException. */
export const restJsonService: ServiceFactory = () => ({
  signingName: 'lambda',
  async handle(ctx) {
    try {
      const route = lambdaRoutes(ctx.req.method ?? 'GET', ctx.url.pathname)
      if (route?.operation === 'ListFunctions') {
        sendRestJson(ctx, 200, {Functions: []})
        return
      }
      if (route?.operation === 'GetFunction') {
        throw new AwsError('ResourceNotFoundException', `Function not found: ${route.labels.FunctionName}`, 404)
      }
      throw new AwsError('UnknownOperationException', `No route for ${ctx.req.method} ${ctx.url.pathname}`, 404)
    } catch (error) {
      if (!(error instanceof AwsError)) throw error
      sendError(ctx, 'restjson', error)
    }
  },
})

export async function startTestServer(
  options: Partial<StartServerOptions> = {},
): Promise<RunningServer & {objects: Map<string, StoredObject>}> {
  const objects = new Map<string, StoredObject>()
  const stateDir = await mkdtemp(join(tmpdir(), 'ncap-core-'))
  const server = await startServer({
    stateDir,
    port: 0,
    ...options,
    services: {
      s3: memoryS3(objects),
      sts: queryService('sts'),
      iam: queryService('iam'),
      secretsmanager: jsonService,
      lambda: restJsonService,
      ...options.services,
    },
  })
  return {...server, objects}
}

export const credentials = {accessKeyId: 'test', secretAccessKey: 'test'}
export const wrongSecret = {accessKeyId: 'test', secretAccessKey: 'not-the-secret'}
export const unknownKey = {accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'test'}
