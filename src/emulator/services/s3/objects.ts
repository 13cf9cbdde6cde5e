/** The object operations on the wire: PutObject, GetObject, HeadObject, DeleteObject(s), CopyObject. */
import {pipeline} from 'node:stream/promises'
import {AwsError} from '../../errors.js'
import {sendEmpty} from '../../protocols/respond.js'
import {listOf, sendXml, textOf} from '../../protocols/restxml.js'
import type {RequestContext} from '../../types.js'
import {checksumAlgorithmOf} from './checksums.js'
import * as errors from './errors.js'
import type {S3State} from './state.js'
import {
  checksumHeaders,
  conditionsOf,
  header,
  objectAttributes,
  objectHeaders,
  quoted,
  readXmlDocument,
  requestedChecksums,
  verifyBody,
} from './wire.js'

export const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`

export async function putObject(ctx: RequestContext, state: S3State, bucket: string, key: string): Promise<void> {
  ctx.authorize('s3:PutObject', objectArn(bucket, key))
  const headers = ctx.req.headers
  const ifNoneMatch = header(headers, 'if-none-match')
  if (ifNoneMatch !== undefined && ifNoneMatch !== '*') throw errors.notImplementedHere('If-None-Match on PutObject accepts only *')
  const record = await state.putObject(bucket, key, {
    ...objectAttributes(headers),
    body: ctx.body as AsyncIterable<Buffer>,
    checksumAlgorithms: requestedChecksums(headers),
    verify: verifyBody(ctx),
    ...(ifNoneMatch === undefined ? {} : {ifNoneMatch}),
  })
  sendEmpty(ctx.res, 200, {ETag: quoted(record.etag), ...checksumHeaders(record.checksums)})
}

export async function getObject(ctx: RequestContext, state: S3State, bucket: string, key: string, head: boolean): Promise<void> {
  ctx.authorize('s3:GetObject', objectArn(bucket, key))
  const headers = ctx.req.headers
  if (ctx.url.searchParams.has('partNumber')) throw errors.notImplementedHere('GetObject/HeadObject with partNumber')
  const read = state.readObject(bucket, key, conditionsOf(headers), header(headers, 'range'))
  const {record} = read
  if (read.notModified) {
    sendEmpty(ctx.res, 304, {ETag: quoted(record.etag), 'Last-Modified': new Date(record.lastModified).toUTCString()})
    return
  }
  const withChecksums = !read.range && header(headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED'
  const out = objectHeaders(record, ctx.url.searchParams, withChecksums)
  const start = read.range?.start ?? 0
  const end = read.range?.end ?? record.size - 1
  if (read.range) out['Content-Range'] = `bytes ${start}-${end}/${record.size}`
  out['Content-Length'] = String(end - start + 1)
  const res = ctx.res
  res.statusCode = read.range ? 206 : 200
  for (const name in out) res.setHeader(name, out[name] as string)
  if (head || end < start) {
    res.end()
    return
  }
  // Small objects go out in one write: no stream, no pipeline, and usually no disk.
  const small = state.readSmall(bucket, record)
  if (small) {
    const bytes = await small
    res.end(start === 0 && end === bytes.length - 1 ? bytes : bytes.subarray(start, end + 1))
    return
  }
  const body = state.openBody(bucket, record, start, end)
  try {
    await pipeline(body, res)
  } catch {
    // The client went away mid-stream, or the file failed: the answer is cut short either way.
    body.destroy()
    if (!res.writableEnded) res.destroy()
  }
}

export async function deleteObject(ctx: RequestContext, state: S3State, bucket: string, key: string): Promise<void> {
  ctx.authorize('s3:DeleteObject', objectArn(bucket, key))
  await state.deleteObject(bucket, key)
  sendEmpty(ctx.res, 204)
}

export async function deleteObjects(ctx: RequestContext, state: S3State, bucket: string): Promise<void> {
  state.bucket(bucket)
  const document = await readXmlDocument(ctx, 'Delete', ['Object'])
  const objects = listOf(document, 'Object')
  if (objects.length > 1000) throw errors.malformedXml()
  const quiet = textOf(document, 'Quiet') === 'true'
  const deleted: {Key: string}[] = []
  const failed: {Key: string; Code: string; Message: string}[] = []
  for (const object of objects) {
    const key = textOf(object, 'Key')
    if (key === undefined) throw errors.malformedXml()
    try {
      ctx.authorize('s3:DeleteObject', objectArn(bucket, key))
      await state.deleteObject(bucket, key)
      deleted.push({Key: key})
    } catch (error) {
      if (!(error instanceof AwsError)) throw error
      failed.push({Key: key, Code: error.code, Message: error.message})
    }
  }
  sendXml(ctx, 'DeleteResult', {Deleted: quiet ? [] : deleted, Error: failed})
}

/** x-amz-copy-source: "[/]bucket/key[?versionId=…]", URL-encoded. */
function copySource(value: string): {bucket: string; key: string} {
  const path = value.replace(/^\//, '').split('?')[0] as string
  const slash = path.indexOf('/')
  if (slash <= 0 || slash === path.length - 1)
    throw errors.invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', 'x-amz-copy-source', value)
  try {
    return {bucket: decodeURIComponent(path.slice(0, slash)), key: decodeURIComponent(path.slice(slash + 1))}
  } catch {
    throw errors.invalidArgument('Invalid copy source encoding', 'x-amz-copy-source', value)
  }
}

export async function copyObject(ctx: RequestContext, state: S3State, bucket: string, key: string): Promise<void> {
  const headers = ctx.req.headers
  const source = copySource(header(headers, 'x-amz-copy-source') as string)
  ctx.authorize('s3:GetObject', objectArn(source.bucket, source.key))
  ctx.authorize('s3:PutObject', objectArn(bucket, key))
  const directive = (header(headers, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase()
  if (directive !== 'COPY' && directive !== 'REPLACE')
    throw errors.invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive)
  const algorithmName = header(headers, 'x-amz-checksum-algorithm')
  const algorithm = checksumAlgorithmOf(algorithmName)
  if (algorithmName !== undefined && !algorithm) throw errors.invalidRequest(`Checksum algorithm provided is unsupported: ${algorithmName}`)
  const record = await state.copyObject(
    {...source, conditions: conditionsOf(headers, 'x-amz-copy-source-')},
    {bucket, key},
    directive === 'REPLACE' ? objectAttributes(headers) : undefined,
    algorithm,
  )
  const checksums: Record<string, string> = {}
  for (const [name, value] of Object.entries(record.checksums)) checksums[`Checksum${name}`] = value
  sendXml(ctx, 'CopyObjectResult', {ETag: quoted(record.etag), LastModified: record.lastModified, ...checksums})
}
