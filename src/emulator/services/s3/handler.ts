/**
 * S3's wire: path-style routing (`/`, `/bucket`, `/bucket/key…`) and
 * sub-resources by query, to the operations in buckets.ts, objects.ts and
 * uploads.ts. Keys are taken from the raw request path and decoded exactly
 * once, so `..`, `%2F`, spaces and `+` are only bytes of a key; they never
 * meet the file system (the store names objects by hash).
 */
import {AwsError} from '../../errors.js'
import {asAwsError, sendError} from '../../protocols/errors.js'
import type {EmulatedService, RequestContext, ServiceEnvironment} from '../../types.js'
import * as buckets from './buckets.js'
import * as errors from './errors.js'
import {MultipartUploads} from './multipart.js'
import {Notifier, validateDestinations} from './notifications.js'
import * as objects from './objects.js'
import type {S3State} from './state.js'
import * as uploads from './uploads.js'
import {header} from './wire.js'

/** Sub-resources S3 has that this emulator does not keep: refused by name rather than mistaken for a listing. */
const UNSUPPORTED = [
  'accelerate',
  'analytics',
  'intelligent-tiering',
  'inventory',
  'metrics',
  'replication',
  'requestPayment',
  'restore',
  // S3 Select: closed to new customers by AWS since 2024.
  'select',
  'torrent',
  'website',
  'attributes',
]

/**
 * The query parameters of the operations this service serves, by level. Any other
 * parameter names an operation it does not serve (S3 keeps adding sub-resources:
 * ?metadataTable, ?abac, ?renameObject…): refused by name, never routed to a
 * neighbouring operation that would, say, delete the bucket or overwrite the object.
 */
const COMMON_PARAMS = ['x-id']
const SERVICE_PARAMS = new Set([...COMMON_PARAMS, 'max-buckets', 'continuation-token', 'prefix', 'bucket-region'])
const BUCKET_PARAMS = new Set([
  ...COMMON_PARAMS,
  ...Object.keys(buckets.CONFIG_QUERIES),
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'marker',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'uploads',
  'key-marker',
  'upload-id-marker',
  'max-uploads',
  'location',
  'delete',
  'acl',
  'versioning',
  'versions',
  'version-id-marker',
  'object-lock',
])
const OBJECT_PARAMS = new Set([
  ...COMMON_PARAMS,
  'uploads',
  'uploadId',
  'partNumber',
  'part-number-marker',
  'max-parts',
  'versionId',
  'acl',
  'tagging',
  'retention',
  'legal-hold',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
])

function unservedParameter(query: URLSearchParams, known: ReadonlySet<string>): string | undefined {
  for (const name of query.keys()) {
    // Presigned URLs carry their signature in X-Amz-* parameters.
    if (!known.has(name) && !/^x-amz-/i.test(name)) return name
  }
  return undefined
}

export function splitPath(rawUrl: string): {bucket?: string; key?: string} {
  const path = rawUrl.split('?')[0] as string
  const rest = path.slice(1)
  if (rest === '') return {}
  const slash = rest.indexOf('/')
  try {
    if (slash < 0) return {bucket: decodeURIComponent(rest)}
    const bucket = decodeURIComponent(rest.slice(0, slash))
    const key = rest.slice(slash + 1)
    return key === '' ? {bucket} : {bucket, key: decodeURIComponent(key)}
  } catch {
    throw new AwsError('InvalidURI', "Couldn't parse the specified URI.", 400, {URI: path})
  }
}

export class S3Service implements EmulatedService {
  readonly signingName = 's3'
  private readonly uploads: MultipartUploads
  private notifier?: Notifier

  constructor(
    readonly state: S3State,
    readonly env?: ServiceEnvironment,
  ) {
    this.uploads = new MultipartUploads(state)
    if (env) {
      const notifier = new Notifier(env, (name) => state.buckets.get(name)?.record)
      this.notifier = notifier
      state.validateNotification = (record, config) => validateDestinations(env, record, config)
      state.notify = (ctx, bucket, change) => {
        const found = state.buckets.get(bucket)
        if (found) notifier.emit(ctx, found.record, change)
      }
    }
  }

  /** Delivers the notifications journalled but not delivered when the emulator last stopped. */
  async start(): Promise<void> {
    this.notifier?.resume()
  }

  async handle(ctx: RequestContext): Promise<void> {
    try {
      await this.route(ctx)
    } catch (error) {
      const failure = asAwsError(error)
      if (failure.status >= 500 && failure.code !== 'NotImplemented') console.error('[s3]', error)
      const extra = errors.errorHeaders.get(failure)
      if (extra && !ctx.res.headersSent) for (const [name, value] of Object.entries(extra)) ctx.res.setHeader(name, value)
      // Drain what the client is still sending so the error reaches it instead of a reset.
      ctx.body.resume?.()
      sendError(ctx, 'restxml', failure)
    }
  }

  private route(ctx: RequestContext): Promise<void> | void {
    const {bucket, key} = splitPath(ctx.req.url ?? '/')
    const method = ctx.req.method ?? 'GET'
    const query = ctx.url.searchParams
    const unsupported = UNSUPPORTED.find((name) => query.has(name))
    if (unsupported) throw errors.notImplementedHere(`the ?${unsupported} sub-resource`)
    const unserved = unservedParameter(query, bucket === undefined ? SERVICE_PARAMS : key === undefined ? BUCKET_PARAMS : OBJECT_PARAMS)
    if (unserved !== undefined) throw errors.notImplementedHere(`the ?${unserved} ${key === undefined ? 'bucket' : 'object'} sub-resource`)
    if (bucket === undefined) {
      if (method === 'GET') return buckets.listBuckets(ctx, this.state)
      throw errors.methodNotAllowed(method, 'SERVICE')
    }
    if (key === undefined) return this.bucketOperation(ctx, method, query, bucket)
    return this.objectOperation(ctx, method, query, bucket, key)
  }

  private bucketOperation(ctx: RequestContext, method: string, query: URLSearchParams, bucket: string) {
    const state = this.state
    for (const [parameter, config] of Object.entries(buckets.CONFIG_QUERIES))
      if (query.has(parameter)) return buckets.bucketConfig(ctx, state, bucket, config)
    if (query.has('acl')) return buckets.bucketAcl(ctx, state, bucket)
    if (query.has('versioning')) return buckets.versioning(ctx, state, bucket)
    if (query.has('object-lock')) return buckets.objectLockConfiguration(ctx, state, bucket)
    if (query.has('versions')) {
      if (method !== 'GET') throw errors.methodNotAllowed(method, 'BUCKET')
      return buckets.listObjectVersions(ctx, state, bucket)
    }
    switch (method) {
      case 'GET':
        if (query.has('location')) return buckets.getBucketLocation(ctx, state, bucket)
        if (query.has('uploads')) return uploads.listUploads(ctx, this.uploads, bucket)
        return buckets.listObjects(ctx, state, bucket)
      case 'PUT':
        return buckets.createBucket(ctx, state, bucket)
      case 'HEAD':
        return buckets.headBucket(ctx, state, bucket)
      case 'DELETE':
        return buckets.deleteBucket(ctx, state, bucket)
      case 'POST':
        if (query.has('delete')) return objects.deleteObjects(ctx, state, bucket)
    }
    throw errors.methodNotAllowed(method, 'BUCKET')
  }

  private objectOperation(ctx: RequestContext, method: string, query: URLSearchParams, bucket: string, key: string) {
    const state = this.state
    if (query.has('acl')) return buckets.objectAcl(ctx, state, bucket, key)
    if (query.has('tagging')) return objects.objectTagging(ctx, state, bucket, key)
    if (query.has('retention')) return objects.objectLock(ctx, state, bucket, key, 'retention')
    if (query.has('legal-hold')) return objects.objectLock(ctx, state, bucket, key, 'legal-hold')
    switch (method) {
      case 'PUT':
        if (query.has('uploadId')) return uploads.uploadPart(ctx, this.uploads, bucket, key)
        if (header(ctx.req.headers, 'x-amz-copy-source') !== undefined) return objects.copyObject(ctx, state, bucket, key)
        return objects.putObject(ctx, state, bucket, key)
      case 'GET':
        if (query.has('uploadId')) return uploads.listParts(ctx, this.uploads, bucket, key)
        return objects.getObject(ctx, state, bucket, key, false)
      case 'HEAD':
        return objects.getObject(ctx, state, bucket, key, true)
      case 'DELETE':
        if (query.has('uploadId')) return uploads.abortUpload(ctx, this.uploads, bucket, key)
        return objects.deleteObject(ctx, state, bucket, key)
      case 'POST':
        if (query.has('uploads')) return uploads.createUpload(ctx, this.uploads, bucket, key)
        if (query.has('uploadId')) return uploads.completeUpload(ctx, this.uploads, bucket, key)
    }
    throw errors.methodNotAllowed(method, 'OBJECT')
  }
}
