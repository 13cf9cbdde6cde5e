/** Multipart uploads on the wire: create, upload part, complete, abort, list parts, list uploads. */
import {sendEmpty} from '../../protocols/respond.js'
import {listOf, sendXml, textOf} from '../../protocols/restxml.js'
import type {RequestContext} from '../../types.js'
import {bucketArn} from './buckets.js'
import {checksumAlgorithmOf} from './checksums.js'
import * as errors from './errors.js'
import {type MultipartUploads, parsePartNumber} from './multipart.js'
import {copySource, headerTags, lockHeaders, objectArn} from './objects.js'
import {evaluateConditions} from './rules.js'
import type {PartRecord} from './store.js'
import {
  checksumHeaders,
  conditionsOf,
  header,
  integerParameter,
  OWNER,
  objectAttributes,
  quoted,
  readXmlDocument,
  requestedChecksums,
  verifyBody,
} from './wire.js'

const checksumElements = (checksums: Record<string, string>) =>
  Object.fromEntries(Object.entries(checksums).map(([name, value]) => [`Checksum${name}`, value]))

export async function createUpload(ctx: RequestContext, uploads: MultipartUploads, bucket: string, key: string): Promise<void> {
  ctx.authorize('s3:PutObject', objectArn(bucket, key))
  const name = header(ctx.req.headers, 'x-amz-checksum-algorithm')
  const algorithm = checksumAlgorithmOf(name)
  if (name !== undefined && !algorithm) throw errors.invalidRequest(`Checksum algorithm provided is unsupported: ${name}`)
  const tags = headerTags(header(ctx.req.headers, 'x-amz-tagging'))
  const extra = {...lockHeaders(uploads.state, bucket, ctx), ...(tags && tags.length > 0 ? {tags} : {})}
  const record = await uploads.create(bucket, key, objectAttributes(ctx.req.headers), algorithm, extra)
  sendXml(
    ctx,
    'InitiateMultipartUploadResult',
    {Bucket: bucket, Key: key, UploadId: record.uploadId},
    algorithm ? {headers: {'x-amz-checksum-algorithm': algorithm}} : {},
  )
}

export async function uploadPart(ctx: RequestContext, uploads: MultipartUploads, bucket: string, key: string): Promise<void> {
  ctx.authorize('s3:PutObject', objectArn(bucket, key))
  const query = ctx.url.searchParams
  const partNumber = parsePartNumber(query.get('partNumber'))
  const copyFrom = header(ctx.req.headers, 'x-amz-copy-source')
  if (copyFrom !== undefined) return uploadPartCopy(ctx, uploads, bucket, key, partNumber, copyFrom)
  const part = await uploads.uploadPart(
    bucket,
    key,
    query.get('uploadId') ?? '',
    partNumber,
    ctx.body as AsyncIterable<Buffer>,
    requestedChecksums(ctx.req.headers),
    verifyBody(ctx),
  )
  sendEmpty(ctx.res, 200, {ETag: quoted(part.etag), ...checksumHeaders(part.checksums)})
}

/** UploadPartCopy: a part made of (a range of) an existing object, conditions on the source honoured. */
async function uploadPartCopy(
  ctx: RequestContext,
  uploads: MultipartUploads,
  bucket: string,
  key: string,
  partNumber: number,
  copyFrom: string,
): Promise<void> {
  const headers = ctx.req.headers
  const source = copySource(copyFrom)
  ctx.authorize(source.versionId === undefined ? 's3:GetObject' : 's3:GetObjectVersion', objectArn(source.bucket, source.key))
  const uploadId = ctx.url.searchParams.get('uploadId') ?? ''
  uploads.upload(bucket, uploadId)
  const state = uploads.state
  const {record} = state.readObject(source.bucket, source.key, {}, undefined, source.versionId)
  if (evaluateConditions(record, conditionsOf(headers, 'x-amz-copy-source-')).notModified)
    throw errors.preconditionFailed('x-amz-copy-source-If-None-Match')
  let start = 0
  let end = record.size - 1
  const range = header(headers, 'x-amz-copy-source-range')
  if (range !== undefined) {
    const match = /^bytes=(\d+)-(\d+)$/.exec(range.trim())
    if (!match || Number(match[2]) < Number(match[1]) || Number(match[2]) >= record.size)
      throw errors.invalidArgument(
        `Range specified is not valid for source object of size: ${record.size}`,
        'x-amz-copy-source-range',
        range,
      )
    start = Number(match[1])
    end = Number(match[2])
  }
  const body = state.openBody(source.bucket, record, start, end)
  const part = await uploads.uploadPart(bucket, key, uploadId, partNumber, body as AsyncIterable<Buffer>, [], () => undefined)
  const sourceVersion = record.versionId ?? (state.bucket(source.bucket).versions ? 'null' : undefined)
  sendXml(
    ctx,
    'CopyPartResult',
    {ETag: quoted(part.etag), LastModified: part.lastModified},
    sourceVersion === undefined ? {} : {headers: {'x-amz-copy-source-version-id': sourceVersion}},
  )
}

export async function completeUpload(ctx: RequestContext, uploads: MultipartUploads, bucket: string, key: string): Promise<void> {
  ctx.authorize('s3:PutObject', objectArn(bucket, key))
  const uploadId = ctx.url.searchParams.get('uploadId') ?? ''
  uploads.upload(bucket, uploadId)
  const document = await readXmlDocument(ctx, 'CompleteMultipartUpload', ['Part'])
  const parts = listOf(document, 'Part').map((part) => {
    const number = Number(textOf(part, 'PartNumber'))
    const etag = textOf(part, 'ETag')
    if (!Number.isInteger(number) || etag === undefined) throw errors.malformedXml()
    return {partNumber: number, etag}
  })
  const record = await uploads.complete(bucket, key, uploadId, parts)
  const versionHeaders = record.versionId === undefined ? {} : {headers: {'x-amz-version-id': record.versionId}}
  uploads.state.notify?.(ctx, bucket, {
    eventName: 'ObjectCreated:CompleteMultipartUpload',
    key,
    size: record.size,
    etag: record.etag,
    versionId: record.versionId,
  })
  sendXml(
    ctx,
    'CompleteMultipartUploadResult',
    {
      Location: `${ctx.endpoint}/${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`,
      Bucket: bucket,
      Key: key,
      ETag: quoted(record.etag),
      ...checksumElements(record.checksums),
      ChecksumType: record.checksumType,
    },
    versionHeaders,
  )
}

export async function abortUpload(ctx: RequestContext, uploads: MultipartUploads, bucket: string, key: string): Promise<void> {
  ctx.authorize('s3:AbortMultipartUpload', objectArn(bucket, key))
  await uploads.abort(bucket, key, ctx.url.searchParams.get('uploadId') ?? '')
  sendEmpty(ctx.res, 204)
}

const partEntry = (part: PartRecord) => ({
  PartNumber: part.partNumber,
  LastModified: part.lastModified,
  ETag: quoted(part.etag),
  Size: part.size,
  ...checksumElements(part.checksums),
})

export function listParts(ctx: RequestContext, uploads: MultipartUploads, bucket: string, key: string): void {
  ctx.authorize('s3:ListMultipartUploadParts', objectArn(bucket, key))
  const query = ctx.url.searchParams
  const marker = integerParameter(query, 'part-number-marker', 0, 10000)
  const maxParts = integerParameter(query, 'max-parts', 1000, 1000)
  const uploadId = query.get('uploadId') ?? ''
  const {upload, parts, isTruncated} = uploads.listParts(bucket, key, uploadId, marker, maxParts)
  sendXml(ctx, 'ListPartsResult', {
    Bucket: bucket,
    Key: key,
    UploadId: uploadId,
    PartNumberMarker: marker,
    NextPartNumberMarker: parts.at(-1)?.partNumber ?? marker,
    MaxParts: maxParts,
    IsTruncated: isTruncated,
    Part: parts.map(partEntry),
    Initiator: OWNER,
    Owner: OWNER,
    StorageClass: 'STANDARD',
    ChecksumAlgorithm: upload.checksumAlgorithm,
  })
}

export function listUploads(ctx: RequestContext, uploads: MultipartUploads, bucket: string): void {
  ctx.authorize('s3:ListBucketMultipartUploads', bucketArn(bucket))
  const query = ctx.url.searchParams
  const prefix = query.get('prefix') ?? ''
  const keyMarker = query.get('key-marker') ?? ''
  const uploadIdMarker = query.get('upload-id-marker') ?? ''
  const maxUploads = integerParameter(query, 'max-uploads', 1000, 1000)
  const page = uploads.listUploads(bucket, prefix, keyMarker, uploadIdMarker, maxUploads)
  const last = page.uploads.at(-1)
  sendXml(ctx, 'ListMultipartUploadsResult', {
    Bucket: bucket,
    KeyMarker: keyMarker,
    UploadIdMarker: uploadIdMarker,
    NextKeyMarker: page.isTruncated ? last?.key : undefined,
    NextUploadIdMarker: page.isTruncated ? last?.uploadId : undefined,
    Prefix: prefix,
    MaxUploads: maxUploads,
    IsTruncated: page.isTruncated,
    Upload: page.uploads.map((upload) => ({
      Key: upload.key,
      UploadId: upload.uploadId,
      Initiator: OWNER,
      Owner: OWNER,
      StorageClass: 'STANDARD',
      Initiated: upload.initiated,
      ChecksumAlgorithm: upload.checksumAlgorithm,
    })),
  })
}
