/**
 * The object operations on the wire: PutObject, GetObject, HeadObject, DeleteObject(s), CopyObject,
 * with versions, tags and Object Lock; and the object sub-resources ?tagging, ?retention, ?legal-hold.
 */
import type {OutgoingHttpHeaders} from 'node:http'
import {pipeline} from 'node:stream/promises'
import {AwsError} from '../../errors.js'
import {sendEmpty} from '../../protocols/respond.js'
import {listOf, sendXml, textOf} from '../../protocols/restxml.js'
import type {RequestContext} from '../../types.js'
import {cannedAcl} from './buckets.js'
import {checksumAlgorithmOf} from './checksums.js'
import * as errors from './errors.js'
import type {BypassCheck, S3State} from './state.js'
import type {ObjectRecord, Tag} from './store.js'
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

/** AWS's limits on object tags (bucket tags allow 50). */
export function validateTags(tags: Tag[], max = 10): Tag[] {
  if (tags.length > max) throw new AwsError('BadRequest', `Object tags cannot be greater than ${max}`, 400)
  const seen = new Set<string>()
  for (const tag of tags) {
    if (tag.Key.length === 0 || tag.Key.length > 128) throw errors.invalidTag('The TagKey you have provided is invalid')
    if (tag.Value.length > 256) throw errors.invalidTag('The TagValue you have provided is too long, max 256')
    if (seen.has(tag.Key)) throw errors.invalidTag('Cannot provide multiple Tags with the same key')
    if (tag.Key.startsWith('aws:')) throw errors.invalidTag('Your TagKey cannot be prefixed with aws:')
    seen.add(tag.Key)
  }
  return tags
}

/** x-amz-tagging: tags as a URL query (k1=v1&k2=v2). */
export function headerTags(value: string | undefined): Tag[] | undefined {
  if (value === undefined) return undefined
  return validateTags([...new URLSearchParams(value)].map(([Key, Value]) => ({Key, Value})))
}

/** The version headers GET/HEAD/PUT answer with: once a bucket has been versioned, every version has an id ('null' included). */
function versionHeader(state: S3State, bucket: string, record: ObjectRecord, out: OutgoingHttpHeaders): void {
  if (record.versionId !== undefined) out['x-amz-version-id'] = record.versionId
  else if (state.bucket(bucket).versions) out['x-amz-version-id'] = 'null'
}

/** Object Lock settings sent with PutObject / CreateMultipartUpload. */
export function lockHeaders(state: S3State, bucket: string, ctx: RequestContext): Pick<ObjectRecord, 'retention' | 'legalHold'> {
  const headers = ctx.req.headers
  const mode = header(headers, 'x-amz-object-lock-mode')
  const until = header(headers, 'x-amz-object-lock-retain-until-date')
  const hold = header(headers, 'x-amz-object-lock-legal-hold')
  if (mode === undefined && until === undefined && hold === undefined) return {}
  if (!state.bucket(bucket).record.objectLock) throw errors.missingLockConfiguration()
  const out: Pick<ObjectRecord, 'retention' | 'legalHold'> = {}
  if (mode !== undefined || until !== undefined) {
    if (mode === undefined || until === undefined)
      throw errors.invalidArgument(
        'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
        mode === undefined ? 'x-amz-object-lock-mode' : 'x-amz-object-lock-retain-until-date',
      )
    out.retention = retentionOf(state, mode, until)
  }
  if (hold !== undefined) {
    if (hold !== 'ON' && hold !== 'OFF')
      throw errors.invalidArgument('Legal Hold must be either of ON or OFF', 'x-amz-object-lock-legal-hold', hold)
    out.legalHold = hold
  }
  if (out.retention) ctx.authorize('s3:PutObjectRetention', objectArn(bucket, '*'))
  return out
}

function retentionOf(state: S3State, mode: string, until: string): NonNullable<ObjectRecord['retention']> {
  if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw errors.invalidArgument('Unknown wormMode directive.', 'ObjectLockMode', mode)
  const time = Date.parse(until)
  if (Number.isNaN(time))
    throw errors.invalidArgument('The retain until date must be provided in ISO 8601 format', 'RetainUntilDate', until)
  if (time <= state.now()) throw errors.invalidArgument('The retain until date must be in the future!', 'RetainUntilDate', until)
  return {mode, until: new Date(time).toISOString()}
}

export async function putObject(ctx: RequestContext, state: S3State, bucket: string, key: string): Promise<void> {
  ctx.authorize('s3:PutObject', objectArn(bucket, key))
  const headers = ctx.req.headers
  const ifNoneMatch = header(headers, 'if-none-match')
  if (ifNoneMatch !== undefined && ifNoneMatch !== '*') throw errors.notImplementedHere('If-None-Match on PutObject accepts only *')
  const acl = headers['x-amz-acl']
  if (acl !== undefined) cannedAcl(String(acl), state.bucket(bucket).record.ownership)
  const tagging = header(headers, 'x-amz-tagging')
  const tags = tagging === undefined ? undefined : headerTags(tagging)
  const lock =
    headers['x-amz-object-lock-mode'] || headers['x-amz-object-lock-legal-hold'] || headers['x-amz-object-lock-retain-until-date']
  const extra = lock ? lockHeaders(state, bucket, ctx) : undefined
  const record = await state.putObject(bucket, key, {
    ...objectAttributes(headers),
    body: ctx.body as AsyncIterable<Buffer>,
    checksumAlgorithms: requestedChecksums(headers),
    verify: verifyBody(ctx),
    ...(ifNoneMatch === undefined ? {} : {ifNoneMatch}),
    ...(tags && tags.length > 0 ? {tags} : {}),
    ...(extra || (acl !== undefined && acl !== 'private')
      ? {extra: {...extra, ...(acl !== undefined && acl !== 'private' ? {acl: String(acl)} : {})}}
      : {}),
  })
  const out: OutgoingHttpHeaders = {
    ETag: quoted(record.etag),
    'x-amz-server-side-encryption': 'AES256',
    ...checksumHeaders(record.checksums),
  }
  if (record.versionId !== undefined) out['x-amz-version-id'] = record.versionId
  state.notify?.(ctx, bucket, {eventName: 'ObjectCreated:Put', key, size: record.size, etag: record.etag, versionId: record.versionId})
  sendEmpty(ctx.res, 200, out)
}

export async function getObject(ctx: RequestContext, state: S3State, bucket: string, key: string, head: boolean): Promise<void> {
  const query = ctx.url.searchParams
  const versionId = query.get('versionId') ?? undefined
  ctx.authorize(versionId === undefined ? 's3:GetObject' : 's3:GetObjectVersion', objectArn(bucket, key))
  const headers = ctx.req.headers
  const partParameter = query.get('partNumber')
  let range = header(headers, 'range')
  let partsCount: number | undefined
  if (partParameter !== null) {
    if (range !== undefined) throw errors.invalidRequest('Cannot specify both Range header and partNumber query parameter')
    const number = Number(partParameter)
    if (!Number.isInteger(number) || number < 1 || number > 10000)
      throw errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', partParameter)
    const peek = state.readObject(bucket, key, {}, undefined, versionId).record
    const sizes = peek.partSizes
    if (sizes) partsCount = sizes.length
    if (number > (sizes?.length ?? 1)) throw errors.invalidPartNumber()
    if (sizes) {
      const start = sizes.slice(0, number - 1).reduce((sum, size) => sum + size, 0)
      range = `bytes=${start}-${start + (sizes[number - 1] as number) - 1}`
    }
  }
  const read = state.readObject(bucket, key, conditionsOf(headers), range, versionId)
  const {record} = read
  if (read.notModified) {
    sendEmpty(ctx.res, 304, {ETag: quoted(record.etag), 'Last-Modified': new Date(record.lastModified).toUTCString()})
    return
  }
  const withChecksums = !read.range && header(headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED'
  const out = objectHeaders(record, query, withChecksums)
  if (record.versionId !== undefined || state.bucket(bucket).versions) versionHeader(state, bucket, record, out)
  if (record.tags) out['x-amz-tagging-count'] = String(record.tags.length)
  if (record.retention) {
    out['x-amz-object-lock-mode'] = record.retention.mode
    out['x-amz-object-lock-retain-until-date'] = record.retention.until
  }
  if (record.legalHold) out['x-amz-object-lock-legal-hold'] = record.legalHold
  if (partsCount !== undefined) out['x-amz-mp-parts-count'] = String(partsCount)
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

/** x-amz-bypass-governance-retention, honoured only with s3:BypassGovernanceRetention. */
function bypassOf(ctx: RequestContext, bucket: string, key: string): BypassCheck {
  return () => {
    if (header(ctx.req.headers, 'x-amz-bypass-governance-retention')?.toLowerCase() !== 'true') return false
    ctx.authorize('s3:BypassGovernanceRetention', objectArn(bucket, key))
    return true
  }
}

export async function deleteObject(ctx: RequestContext, state: S3State, bucket: string, key: string): Promise<void> {
  const versionId = ctx.url.searchParams.get('versionId') ?? undefined
  ctx.authorize(versionId === undefined ? 's3:DeleteObject' : 's3:DeleteObjectVersion', objectArn(bucket, key))
  const outcome = await state.deleteObject(bucket, key, versionId, bypassOf(ctx, bucket, key))
  const out: OutgoingHttpHeaders = {}
  if (outcome.deleteMarker) out['x-amz-delete-marker'] = 'true'
  if (outcome.versionId !== undefined) out['x-amz-version-id'] = outcome.versionId
  notifyRemoval(ctx, state, bucket, key, versionId, outcome)
  sendEmpty(ctx.res, 204, out)
}

function notifyRemoval(
  ctx: RequestContext,
  state: S3State,
  bucket: string,
  key: string,
  versionId: string | undefined,
  outcome: {deleteMarker?: boolean; versionId?: string},
): void {
  if (!state.notify) return
  const markerCreated = versionId === undefined && outcome.deleteMarker
  state.notify(ctx, bucket, {
    eventName: markerCreated ? 'ObjectRemoved:DeleteMarkerCreated' : 'ObjectRemoved:Delete',
    key,
    ...(outcome.versionId !== undefined ? {versionId: outcome.versionId} : {}),
  })
}

export async function deleteObjects(ctx: RequestContext, state: S3State, bucket: string): Promise<void> {
  state.bucket(bucket)
  const document = await readXmlDocument(ctx, 'Delete', ['Object'])
  const objects = listOf(document, 'Object')
  if (objects.length > 1000) throw errors.malformedXml()
  const quiet = textOf(document, 'Quiet') === 'true'
  const deleted: Record<string, unknown>[] = []
  const failed: {Key: string; VersionId?: string; Code: string; Message: string}[] = []
  const done: [key: string, versionId: string | undefined, outcome: {deleteMarker?: boolean; versionId?: string}][] = []
  for (const object of objects) {
    const key = textOf(object, 'Key')
    if (key === undefined) throw errors.malformedXml()
    const versionId = textOf(object, 'VersionId') || undefined
    try {
      ctx.authorize(versionId === undefined ? 's3:DeleteObject' : 's3:DeleteObjectVersion', objectArn(bucket, key))
      const outcome = await state.deleteObject(bucket, key, versionId, bypassOf(ctx, bucket, key))
      done.push([key, versionId, outcome])
      const entry: Record<string, unknown> = {Key: key}
      if (versionId !== undefined) entry.VersionId = versionId
      if (outcome.deleteMarker) {
        entry.DeleteMarker = true
        entry.DeleteMarkerVersionId = outcome.versionId
      }
      deleted.push(entry)
    } catch (error) {
      if (!(error instanceof AwsError)) throw error
      failed.push({Key: key, ...(versionId === undefined ? {} : {VersionId: versionId}), Code: error.code, Message: error.message})
    }
  }
  for (const [key, versionId, outcome] of done) notifyRemoval(ctx, state, bucket, key, versionId, outcome)
  sendXml(ctx, 'DeleteResult', {Deleted: quiet ? [] : deleted, Error: failed})
}

/** x-amz-copy-source: "[/]bucket/key[?versionId=…]", URL-encoded. */
export function copySource(value: string): {bucket: string; key: string; versionId?: string} {
  const [rawPath, rawQuery] = value.replace(/^\//, '').split('?') as [string, string | undefined]
  const slash = rawPath.indexOf('/')
  if (slash <= 0 || slash === rawPath.length - 1)
    throw errors.invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', 'x-amz-copy-source', value)
  const versionId = rawQuery === undefined ? undefined : (new URLSearchParams(rawQuery).get('versionId') ?? undefined)
  try {
    const source = {bucket: decodeURIComponent(rawPath.slice(0, slash)), key: decodeURIComponent(rawPath.slice(slash + 1))}
    return versionId === undefined ? source : {...source, versionId}
  } catch {
    throw errors.invalidArgument('Invalid copy source encoding', 'x-amz-copy-source', value)
  }
}

export async function copyObject(ctx: RequestContext, state: S3State, bucket: string, key: string): Promise<void> {
  const headers = ctx.req.headers
  const source = copySource(header(headers, 'x-amz-copy-source') as string)
  ctx.authorize(source.versionId === undefined ? 's3:GetObject' : 's3:GetObjectVersion', objectArn(source.bucket, source.key))
  ctx.authorize('s3:PutObject', objectArn(bucket, key))
  const directive = (header(headers, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase()
  if (directive !== 'COPY' && directive !== 'REPLACE')
    throw errors.invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive)
  const taggingDirective = (header(headers, 'x-amz-tagging-directive') ?? 'COPY').toUpperCase()
  if (taggingDirective !== 'COPY' && taggingDirective !== 'REPLACE')
    throw errors.invalidArgument('Unknown tagging directive.', 'x-amz-tagging-directive', taggingDirective)
  const tags = taggingDirective === 'REPLACE' ? (headerTags(header(headers, 'x-amz-tagging') ?? '') ?? []) : undefined
  const algorithmName = header(headers, 'x-amz-checksum-algorithm')
  const algorithm = checksumAlgorithmOf(algorithmName)
  if (algorithmName !== undefined && !algorithm) throw errors.invalidRequest(`Checksum algorithm provided is unsupported: ${algorithmName}`)
  const lock = lockHeaders(state, bucket, ctx)
  const {record, sourceVersionId} = await state.copyObject(
    {...source, conditions: conditionsOf(headers, 'x-amz-copy-source-')},
    {bucket, key},
    directive === 'REPLACE' ? objectAttributes(headers) : undefined,
    algorithm,
    tags,
    lock,
  )
  const checksums: Record<string, string> = {}
  for (const [name, value] of Object.entries(record.checksums)) checksums[`Checksum${name}`] = value
  const out: OutgoingHttpHeaders = {}
  if (record.versionId !== undefined) out['x-amz-version-id'] = record.versionId
  if (sourceVersionId !== undefined) out['x-amz-copy-source-version-id'] = sourceVersionId
  state.notify?.(ctx, bucket, {eventName: 'ObjectCreated:Copy', key, size: record.size, etag: record.etag, versionId: record.versionId})
  sendXml(ctx, 'CopyObjectResult', {ETag: quoted(record.etag), LastModified: record.lastModified, ...checksums}, {headers: out})
}

/** GET/PUT/DELETE ?tagging on an object (a version with ?versionId). */
export async function objectTagging(ctx: RequestContext, state: S3State, bucket: string, key: string): Promise<void> {
  const versionId = ctx.url.searchParams.get('versionId') ?? undefined
  const suffix = versionId === undefined ? '' : 'Version'
  const arn = objectArn(bucket, key)
  const method = ctx.req.method
  const out: OutgoingHttpHeaders = {}
  if (method === 'GET') {
    ctx.authorize(`s3:GetObject${suffix}Tagging`, arn)
    const record = state.readObject(bucket, key, {}, undefined, versionId).record
    versionHeader(state, bucket, record, out)
    sendXml(ctx, 'Tagging', {TagSet: {Tag: record.tags ?? []}}, {headers: out})
    return
  }
  if (method === 'PUT') {
    ctx.authorize(`s3:PutObject${suffix}Tagging`, arn)
    state.readObject(bucket, key, {}, undefined, versionId)
    const document = await readXmlDocument(ctx, 'Tagging', ['Tag'])
    const tags = validateTags(
      listOf(document.TagSet, 'Tag').map((tag) => ({Key: textOf(tag, 'Key') ?? '', Value: textOf(tag, 'Value') ?? ''})),
    )
    const record = await state.updateVersion(bucket, key, versionId, (current) => {
      if (tags.length > 0) current.tags = tags
      else delete current.tags
      return current
    })
    versionHeader(state, bucket, record, out)
    sendEmpty(ctx.res, 200, out)
    return
  }
  if (method === 'DELETE') {
    ctx.authorize(`s3:DeleteObject${suffix}Tagging`, arn)
    const record = await state.updateVersion(bucket, key, versionId, (current) => {
      delete current.tags
      return current
    })
    versionHeader(state, bucket, record, out)
    sendEmpty(ctx.res, 204, out)
    return
  }
  throw errors.methodNotAllowed(method ?? '', 'OBJECT')
}

/** GET/PUT ?retention and ?legal-hold on an object version. */
export async function objectLock(ctx: RequestContext, state: S3State, bucket: string, key: string, what: 'retention' | 'legal-hold') {
  const versionId = ctx.url.searchParams.get('versionId') ?? undefined
  const arn = objectArn(bucket, key)
  const method = ctx.req.method
  const lockEnabled = () => {
    if (!state.bucket(bucket).record.objectLock) throw errors.missingLockConfiguration()
  }
  if (what === 'retention') {
    if (method === 'GET') {
      ctx.authorize('s3:GetObjectRetention', arn)
      lockEnabled()
      const record = state.readObject(bucket, key, {}, undefined, versionId).record
      if (!record.retention) throw errors.noSuchObjectLock()
      sendXml(ctx, 'Retention', {Mode: record.retention.mode, RetainUntilDate: record.retention.until})
      return
    }
    if (method !== 'PUT') throw errors.methodNotAllowed(method ?? '', 'OBJECT')
    ctx.authorize('s3:PutObjectRetention', arn)
    lockEnabled()
    state.readObject(bucket, key, {}, undefined, versionId)
    const document = await readXmlDocument(ctx, 'Retention')
    const mode = textOf(document, 'Mode')
    const until = textOf(document, 'RetainUntilDate')
    const wanted = mode === undefined && until === undefined ? undefined : retentionOf(state, mode ?? '', until ?? '')
    const bypass = bypassOf(ctx, bucket, key)
    await state.updateVersion(bucket, key, versionId, (current) => {
      const existing = current.retention
      if (existing && Date.parse(existing.until) > state.now()) {
        const weaker = !wanted || wanted.mode !== existing.mode || Date.parse(wanted.until) < Date.parse(existing.until)
        if (weaker && (existing.mode === 'COMPLIANCE' || !bypass())) throw errors.lockedObject()
      }
      if (wanted) current.retention = wanted
      else delete current.retention
      return current
    })
    sendEmpty(ctx.res, 200)
    return
  }
  if (method === 'GET') {
    ctx.authorize('s3:GetObjectLegalHold', arn)
    lockEnabled()
    const record = state.readObject(bucket, key, {}, undefined, versionId).record
    if (!record.legalHold) throw errors.noSuchObjectLock()
    sendXml(ctx, 'LegalHold', {Status: record.legalHold})
    return
  }
  if (method !== 'PUT') throw errors.methodNotAllowed(method ?? '', 'OBJECT')
  ctx.authorize('s3:PutObjectLegalHold', arn)
  lockEnabled()
  state.readObject(bucket, key, {}, undefined, versionId)
  const document = await readXmlDocument(ctx, 'LegalHold')
  const status = textOf(document, 'Status')
  if (status !== 'ON' && status !== 'OFF') throw errors.malformedXml()
  await state.updateVersion(bucket, key, versionId, (current) => ({...current, legalHold: status}))
  sendEmpty(ctx.res, 200)
}
