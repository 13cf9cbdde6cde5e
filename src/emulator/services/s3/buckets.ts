/** Bucket operations on the wire: create, delete, head, list buckets, location, listings, and stored configurations. */
import {AwsError} from '../../errors.js'
import {sendBody, sendEmpty} from '../../protocols/respond.js'
import {listOf, S3_XMLNS, sendXml, textOf, type XmlNode} from '../../protocols/restxml.js'
import {escapeXml, writeChildren, writeElement, XML_DECLARATION} from '../../protocols/xml.js'
import {DEFAULT_REGION, type RequestContext} from '../../types.js'
import * as errors from './errors.js'
import {configOf, NOTIFICATION_LISTS, notificationDocument, parseNotification} from './notifications.js'
import {validateTags} from './objects.js'
import type {S3State} from './state.js'
import type {BucketRecord, ObjectRecord} from './store.js'
import {header, integerParameter, OWNER, quoted, readDocument, readXmlDocument} from './wire.js'

/** The regions S3 accepts as a LocationConstraint. */
const REGIONS = new Set([
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-7',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-south-1',
  'eu-south-2',
  'eu-north-1',
  'il-central-1',
  'me-south-1',
  'me-central-1',
  'mx-central-1',
  'sa-east-1',
  'us-gov-east-1',
  'us-gov-west-1',
  'cn-north-1',
  'cn-northwest-1',
])

const OWNERSHIPS = new Set(['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'])
const CANNED_ACLS = new Set([
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'log-delivery-write',
])

/**
 * A canned ACL as S3 accepts it: with ownership BucketOwnerEnforced (the default since 2023) ACLs are
 * disabled and only the ones that grant the owner everything are accepted.
 */
export function cannedAcl(acl: string, ownership: string | undefined): string {
  if (!CANNED_ACLS.has(acl)) throw errors.invalidArgument('', 'x-amz-acl', acl)
  if (aclsDisabled(ownership) && acl !== 'private' && acl !== 'bucket-owner-full-control') throw aclNotSupported()
  return acl
}

const aclsDisabled = (ownership: string | undefined) => ownership === undefined || ownership === 'BucketOwnerEnforced'
const aclNotSupported = () => new AwsError('AccessControlListNotSupported', 'The bucket does not allow ACLs', 400)

const GROUPS: Record<string, [uri: string, permissions: string[]][]> = {
  'public-read': [['http://acs.amazonaws.com/groups/global/AllUsers', ['READ']]],
  'public-read-write': [['http://acs.amazonaws.com/groups/global/AllUsers', ['READ', 'WRITE']]],
  'authenticated-read': [['http://acs.amazonaws.com/groups/global/AuthenticatedUsers', ['READ']]],
  'log-delivery-write': [['http://acs.amazonaws.com/groups/s3/LogDelivery', ['WRITE', 'READ_ACP']]],
}

const XSI = 'http://www.w3.org/2001/XMLSchema-instance'

/** An ACL document: the owner with full control, plus the groups a canned ACL grants. */
function sendAcl(ctx: RequestContext, acl: string | undefined): void {
  const grants: Record<string, unknown>[] = [
    {Grantee: {'@_xmlns:xsi': XSI, '@_xsi:type': 'CanonicalUser', ...OWNER}, Permission: 'FULL_CONTROL'},
  ]
  for (const [uri, permissions] of GROUPS[acl ?? ''] ?? [])
    for (const permission of permissions)
      grants.push({Grantee: {'@_xmlns:xsi': XSI, '@_xsi:type': 'Group', URI: uri}, Permission: permission})
  sendXml(ctx, 'AccessControlPolicy', {Owner: OWNER, AccessControlList: {Grant: grants}})
}

/** The canned ACL of a PUT ?acl: the x-amz-acl header, or a body granting only the owner (what "private" reads back as). */
async function aclOfRequest(ctx: RequestContext, ownership: string | undefined): Promise<string> {
  const canned = header(ctx.req.headers, 'x-amz-acl')
  if (canned !== undefined) return cannedAcl(canned, ownership)
  if (Object.keys(ctx.req.headers).some((name) => name.startsWith('x-amz-grant-'))) {
    if (aclsDisabled(ownership)) throw aclNotSupported()
    throw errors.notImplementedHere('x-amz-grant-* headers (explicit grants)')
  }
  const text = (await readDocument(ctx)).toString('utf8')
  if (text.trim() === '') throw errors.malformedXml()
  const {parseXml} = await import('../../protocols/restxml.js')
  const {root, content} = await parseXml(text, {arrays: ['Grant']})
  if (root !== 'AccessControlPolicy') throw errors.malformedXml()
  const grants = listOf(content.AccessControlList, 'Grant')
  const ownerOnly = grants.every((grant) => textOf(grant.Grantee, 'ID') === OWNER.ID && textOf(grant, 'Permission') === 'FULL_CONTROL')
  if (ownerOnly) return 'private'
  if (aclsDisabled(ownership)) throw aclNotSupported()
  throw errors.notImplementedHere('ACL documents that grant to others than the owner')
}

export async function bucketAcl(ctx: RequestContext, state: S3State, bucket: string): Promise<void> {
  const method = ctx.req.method
  if (method === 'GET') {
    ctx.authorize('s3:GetBucketAcl', bucketArn(bucket))
    return sendAcl(ctx, state.bucket(bucket).record.acl)
  }
  if (method !== 'PUT') throw errors.methodNotAllowed(method ?? '', 'BUCKET')
  ctx.authorize('s3:PutBucketAcl', bucketArn(bucket))
  const acl = await aclOfRequest(ctx, state.bucket(bucket).record.ownership)
  await state.updateBucket(bucket, (record) => ({...record, acl}))
  sendEmpty(ctx.res, 200)
}

export async function objectAcl(ctx: RequestContext, state: S3State, bucket: string, key: string): Promise<void> {
  const method = ctx.req.method
  const versionId = ctx.url.searchParams.get('versionId') ?? undefined
  const arn = `arn:aws:s3:::${bucket}/${key}`
  if (method === 'GET') {
    ctx.authorize(versionId === undefined ? 's3:GetObjectAcl' : 's3:GetObjectVersionAcl', arn)
    const {record} = state.readObject(bucket, key, {}, undefined, versionId)
    return sendAcl(ctx, record.acl)
  }
  if (method !== 'PUT') throw errors.methodNotAllowed(method ?? '', 'OBJECT')
  ctx.authorize(versionId === undefined ? 's3:PutObjectAcl' : 's3:PutObjectVersionAcl', arn)
  state.readObject(bucket, key, {}, undefined, versionId)
  const acl = await aclOfRequest(ctx, state.bucket(bucket).record.ownership)
  await state.updateVersion(bucket, key, versionId, (record) => {
    if (acl === 'private') delete record.acl
    else record.acl = acl
    return record
  })
  sendEmpty(ctx.res, 200)
}

export async function versioning(ctx: RequestContext, state: S3State, bucket: string): Promise<void> {
  const method = ctx.req.method
  if (method === 'GET') {
    ctx.authorize('s3:GetBucketVersioning', bucketArn(bucket))
    const record = state.bucket(bucket).record
    return sendXml(ctx, 'VersioningConfiguration', {Status: record.versioning, MfaDelete: record.versioning ? record.mfaDelete : undefined})
  }
  if (method !== 'PUT') throw errors.methodNotAllowed(method ?? '', 'BUCKET')
  ctx.authorize('s3:PutBucketVersioning', bucketArn(bucket))
  state.bucket(bucket)
  const document = await readXmlDocument(ctx, 'VersioningConfiguration')
  const status = textOf(document, 'Status')
  const mfa = textOf(document, 'MfaDelete')
  if (status !== 'Enabled' && status !== 'Suspended') throw errors.malformedXml()
  if (mfa !== undefined && mfa !== 'Enabled' && mfa !== 'Disabled') throw errors.malformedXml()
  if (mfa === 'Enabled') throw errors.notImplementedHere('MFA Delete (the emulator has no MFA devices to check x-amz-mfa against)')
  await state.setVersioning(bucket, status, mfa as 'Disabled' | undefined)
  sendEmpty(ctx.res, 200)
}

export async function objectLockConfiguration(ctx: RequestContext, state: S3State, bucket: string): Promise<void> {
  const method = ctx.req.method
  if (method === 'GET') {
    ctx.authorize('s3:GetBucketObjectLockConfiguration', bucketArn(bucket))
    const lock = state.bucket(bucket).record.objectLock
    if (!lock) throw errors.noSuchLockConfiguration(bucket)
    const rule = lock.rule
    return sendXml(ctx, 'ObjectLockConfiguration', {
      ObjectLockEnabled: 'Enabled',
      Rule: rule ? {DefaultRetention: {Mode: rule.mode, Days: rule.days, Years: rule.years}} : undefined,
    })
  }
  if (method !== 'PUT') throw errors.methodNotAllowed(method ?? '', 'BUCKET')
  ctx.authorize('s3:PutBucketObjectLockConfiguration', bucketArn(bucket))
  const current = state.bucket(bucket).record
  const document = await readXmlDocument(ctx, 'ObjectLockConfiguration')
  if (textOf(document, 'ObjectLockEnabled') !== 'Enabled') throw errors.malformedXml()
  if (!current.objectLock && current.versioning !== 'Enabled')
    throw errors.invalidBucketState("Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
  const retention = (document.Rule as XmlNode | undefined)?.DefaultRetention as XmlNode | undefined
  let rule: NonNullable<BucketRecord['objectLock']>['rule']
  if (retention) {
    const mode = textOf(retention, 'Mode')
    const days = textOf(retention, 'Days')
    const years = textOf(retention, 'Years')
    if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw errors.malformedXml()
    if ((days === undefined) === (years === undefined)) throw errors.malformedXml()
    const count = Number(days ?? years)
    if (!Number.isInteger(count) || count <= 0)
      throw errors.invalidArgument('Default retention period must be a positive integer value', days ? 'Days' : 'Years', days ?? years)
    rule = {mode, ...(days ? {days: count} : {years: count})}
  }
  await state.updateBucket(bucket, (record) => ({...record, objectLock: rule ? {enabled: true, rule} : {enabled: true}}))
  sendEmpty(ctx.res, 200)
}

/** ListObjectVersions: versions and delete markers, key and version-id markers, prefixes and delimiter. */
export function listObjectVersions(ctx: RequestContext, state: S3State, bucket: string): void {
  const query = ctx.url.searchParams
  const prefix = query.get('prefix') ?? ''
  const delimiter = query.get('delimiter') || undefined
  const maxKeys = integerParameter(query, 'max-keys', 1000, 1000)
  const encodingType = query.get('encoding-type') ?? undefined
  if (encodingType !== undefined && encodingType !== 'url')
    throw errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encodingType)
  ctx.authorize('s3:ListBucketVersions', bucketArn(bucket), {
    's3:prefix': prefix,
    's3:delimiter': delimiter,
    's3:max-keys': String(maxKeys),
  })
  const keyMarker = query.get('key-marker') ?? ''
  const versionIdMarker = query.get('version-id-marker') ?? ''
  if (versionIdMarker !== '' && keyMarker === '')
    throw errors.invalidArgument('A version-id marker cannot be specified without a key marker.', 'version-id-marker', versionIdMarker)
  const encode = encodingType === 'url'
  const page = state.listObjectVersions(bucket, {
    prefix,
    maxKeys,
    ...(delimiter ? {delimiter} : {}),
    ...(keyMarker ? {keyMarker} : {}),
    ...(versionIdMarker ? {versionIdMarker} : {}),
  })
  // Versions are the bulk of the answer: written by a template, not the generic writer (a listing of 10,000 costs little).
  let entries = ''
  for (const {record, isLatest} of page.versions) entries += versionXml(record, isLatest, encode)
  const head = writeChildren({
    Name: bucket,
    Prefix: encodeKey(prefix, encode),
    KeyMarker: encodeKey(keyMarker, encode),
    VersionIdMarker: versionIdMarker,
    NextKeyMarker: page.isTruncated && page.nextKeyMarker !== undefined ? encodeKey(page.nextKeyMarker, encode) : undefined,
    NextVersionIdMarker: page.isTruncated ? page.nextVersionIdMarker : undefined,
    MaxKeys: maxKeys,
    Delimiter: delimiter === undefined ? undefined : encodeKey(delimiter, encode),
    EncodingType: encodingType,
    IsTruncated: page.isTruncated,
  }).join('')
  const prefixes = writeElement(
    'CommonPrefixes',
    page.commonPrefixes.map((value) => ({Prefix: encodeKey(value, encode)})),
  ).join('')
  const document = `${XML_DECLARATION}<ListVersionsResult xmlns="${S3_XMLNS}">${head}${entries}${prefixes}</ListVersionsResult>`
  sendBody(ctx.res, 200, 'application/xml', document)
}

const OWNER_XML = `<Owner><ID>${escapeXml(OWNER.ID)}</ID><DisplayName>${escapeXml(OWNER.DisplayName)}</DisplayName></Owner>`

function versionXml(record: ObjectRecord, isLatest: boolean, encode: boolean): string {
  const common = `<Key>${escapeXml(encodeKey(record.key, encode))}</Key><VersionId>${record.versionId ?? 'null'}</VersionId><IsLatest>${isLatest}</IsLatest><LastModified>${record.lastModified}</LastModified>`
  if (record.deleteMarker) return `<DeleteMarker>${OWNER_XML}${common}</DeleteMarker>`
  const algorithm = Object.keys(record.checksums)[0]
  const checksum = algorithm
    ? `<ChecksumAlgorithm>${algorithm}</ChecksumAlgorithm>${record.checksumType ? `<ChecksumType>${record.checksumType}</ChecksumType>` : ''}`
    : ''
  return `<Version>${common}<ETag>&quot;${record.etag}&quot;</ETag>${checksum}<Size>${record.size}</Size><StorageClass>STANDARD</StorageClass>${OWNER_XML}</Version>`
}

export const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`

export function listBuckets(ctx: RequestContext, state: S3State): void {
  ctx.authorize('s3:ListAllMyBuckets', '*')
  const query = ctx.url.searchParams
  const prefix = query.get('prefix') ?? ''
  const after = query.get('continuation-token')
  const max = integerParameter(query, 'max-buckets', 10000, 10000)
  const matching = state.listBuckets().filter((bucket) => bucket.name.startsWith(prefix) && (after === null || bucket.name > after))
  const page = matching.slice(0, max)
  sendXml(ctx, 'ListAllMyBucketsResult', {
    Owner: OWNER,
    Buckets: {Bucket: page.map((bucket) => ({Name: bucket.name, CreationDate: bucket.creationDate, BucketRegion: bucket.region}))},
    ContinuationToken: matching.length > page.length ? page.at(-1)?.name : undefined,
    Prefix: query.get('prefix') ?? undefined,
  })
}

export async function createBucket(ctx: RequestContext, state: S3State, bucket: string): Promise<void> {
  ctx.authorize('s3:CreateBucket', bucketArn(bucket))
  const body = (await readDocument(ctx)).toString('utf8')
  let constraint: string | undefined
  if (body.trim() !== '') {
    const {parseXml} = await import('../../protocols/restxml.js')
    const parsed = await parseXml(body)
    if (parsed.root !== 'CreateBucketConfiguration') throw errors.malformedXml()
    constraint = textOf(parsed.content, 'LocationConstraint') || undefined
  }
  if (constraint === 'EU') constraint = 'eu-west-1'
  if (constraint === DEFAULT_REGION || (constraint !== undefined && !REGIONS.has(constraint)))
    throw new AwsError('InvalidLocationConstraint', 'The specified location-constraint is not valid', 400, {LocationConstraint: constraint})
  if (constraint === undefined && ctx.region !== DEFAULT_REGION)
    throw new AwsError(
      'IllegalLocationConstraintException',
      `The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.`,
      400,
    )
  if (constraint !== undefined && ctx.region !== DEFAULT_REGION && ctx.region !== constraint)
    throw new AwsError(
      'IllegalLocationConstraintException',
      `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      400,
    )
  const region = constraint ?? DEFAULT_REGION
  const headers = ctx.req.headers
  const options: Partial<BucketRecord> = {}
  const ownership = header(headers, 'x-amz-object-ownership')
  if (ownership !== undefined) {
    if (!OWNERSHIPS.has(ownership))
      throw errors.invalidArgument('Invalid x-amz-object-ownership header', 'x-amz-object-ownership', ownership)
    options.ownership = ownership
  }
  const acl = header(headers, 'x-amz-acl')
  if (acl !== undefined) options.acl = cannedAcl(acl, options.ownership)
  if (header(headers, 'x-amz-bucket-object-lock-enabled')?.toLowerCase() === 'true') {
    options.objectLock = {enabled: true}
    options.versioning = 'Enabled'
  }
  const created = await state.createBucket(bucket, region, options)
  // us-east-1 keeps S3's legacy answer: re-creating your own bucket there succeeds.
  if (!created && region !== DEFAULT_REGION) throw errors.bucketAlreadyOwnedByYou(bucket)
  sendEmpty(ctx.res, 200, {Location: `/${bucket}`})
}

export async function deleteBucket(ctx: RequestContext, state: S3State, bucket: string): Promise<void> {
  ctx.authorize('s3:DeleteBucket', bucketArn(bucket))
  await state.deleteBucket(bucket)
  sendEmpty(ctx.res, 204)
}

export function headBucket(ctx: RequestContext, state: S3State, bucket: string): void {
  ctx.authorize('s3:ListBucket', bucketArn(bucket))
  const record = state.bucket(bucket).record
  sendEmpty(ctx.res, 200, {'x-amz-bucket-region': record.region})
}

export function getBucketLocation(ctx: RequestContext, state: S3State, bucket: string): void {
  ctx.authorize('s3:GetBucketLocation', bucketArn(bucket))
  const {region} = state.bucket(bucket).record
  sendXml(ctx, 'LocationConstraint', {'#text': region === DEFAULT_REGION ? '' : region})
}

function encodeKey(value: string, encode: boolean): string {
  return encode ? encodeURIComponent(value).replace(/%2F/g, '/') : value
}

function contents(record: ObjectRecord, encode: boolean, owner: boolean) {
  const algorithm = Object.keys(record.checksums)[0]
  return {
    Key: encodeKey(record.key, encode),
    LastModified: record.lastModified,
    ETag: quoted(record.etag),
    ChecksumAlgorithm: algorithm,
    ChecksumType: algorithm ? record.checksumType : undefined,
    Size: record.size,
    Owner: owner ? OWNER : undefined,
    StorageClass: 'STANDARD',
  }
}

/** ListObjects (v1, Marker) and ListObjectsV2 (continuation tokens, StartAfter), from the sorted key index. */
export function listObjects(ctx: RequestContext, state: S3State, bucket: string): void {
  const query = ctx.url.searchParams
  const v2 = query.get('list-type') === '2'
  const prefix = query.get('prefix') ?? ''
  const delimiter = query.get('delimiter') || undefined
  const maxKeys = integerParameter(query, 'max-keys', 1000, 1000)
  const encodingType = query.get('encoding-type') ?? undefined
  if (encodingType !== undefined && encodingType !== 'url')
    throw errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encodingType)
  ctx.authorize('s3:ListBucket', bucketArn(bucket), {
    's3:prefix': prefix,
    's3:delimiter': delimiter,
    's3:max-keys': String(maxKeys),
  })
  const encode = encodingType === 'url'
  const token = query.get('continuation-token')
  let after: string | undefined
  if (v2) {
    if (token !== null) {
      after = Buffer.from(token, 'base64url').toString('utf8')
      if (token === '' || Buffer.from(after).toString('base64url') !== token)
        throw errors.invalidArgument('The continuation token provided is incorrect', 'continuation-token', token)
    } else after = query.get('start-after') ?? undefined
  } else after = query.get('marker') ?? undefined
  const page = state.list(bucket, {prefix, ...(delimiter ? {delimiter} : {}), maxKeys, ...(after ? {after} : {})})
  const common = {
    Name: bucket,
    Prefix: encodeKey(prefix, encode),
    Delimiter: delimiter === undefined ? undefined : encodeKey(delimiter, encode),
    MaxKeys: maxKeys,
    EncodingType: encodingType,
    IsTruncated: page.isTruncated,
  }
  const listed = {
    Contents: page.records.map((record) => contents(record, encode, !v2 || query.get('fetch-owner') === 'true')),
    CommonPrefixes: page.commonPrefixes.map((value) => ({Prefix: encodeKey(value, encode)})),
  }
  if (v2) {
    sendXml(ctx, 'ListBucketResult', {
      ...common,
      KeyCount: page.keys.length + page.commonPrefixes.length,
      ContinuationToken: token ?? undefined,
      NextContinuationToken: page.isTruncated && page.last ? Buffer.from(page.last).toString('base64url') : undefined,
      StartAfter: query.has('start-after') ? encodeKey(query.get('start-after') as string, encode) : undefined,
      ...listed,
    })
  } else {
    sendXml(ctx, 'ListBucketResult', {
      ...common,
      Marker: encodeKey(query.get('marker') ?? '', encode),
      NextMarker: page.isTruncated && delimiter && page.last ? encodeKey(page.last, encode) : undefined,
      ...listed,
    })
  }
}

type ConfigName =
  | 'policy'
  | 'publicAccessBlock'
  | 'encryption'
  | 'notification'
  | 'tagging'
  | 'cors'
  | 'lifecycle'
  | 'logging'
  | 'ownershipControls'

const ACTIONS: Record<ConfigName, [get: string, put: string, remove: string]> = {
  policy: ['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy'],
  publicAccessBlock: ['s3:GetBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
  encryption: ['s3:GetEncryptionConfiguration', 's3:PutEncryptionConfiguration', 's3:PutEncryptionConfiguration'],
  notification: ['s3:GetBucketNotification', 's3:PutBucketNotification', 's3:PutBucketNotification'],
  tagging: ['s3:GetBucketTagging', 's3:PutBucketTagging', 's3:PutBucketTagging'],
  cors: ['s3:GetBucketCORS', 's3:PutBucketCORS', 's3:PutBucketCORS'],
  lifecycle: ['s3:GetLifecycleConfiguration', 's3:PutLifecycleConfiguration', 's3:PutLifecycleConfiguration'],
  logging: ['s3:GetBucketLogging', 's3:PutBucketLogging', 's3:PutBucketLogging'],
  ownershipControls: ['s3:GetBucketOwnershipControls', 's3:PutBucketOwnershipControls', 's3:PutBucketOwnershipControls'],
}

const CORS_LISTS = ['CORSRule', 'AllowedHeader', 'AllowedMethod', 'AllowedOrigin', 'ExposeHeader']
const LIFECYCLE_LISTS = ['Rule', 'Transition', 'NoncurrentVersionTransition', 'Tag']
const CORS_METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD'])

const PUBLIC_ACCESS_FLAGS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const
async function parseConfig(ctx: RequestContext, state: S3State, bucket: BucketRecord, name: ConfigName): Promise<Partial<BucketRecord>> {
  switch (name) {
    case 'policy': {
      const text = (await readDocument(ctx)).toString('utf8')
      let policy: unknown
      try {
        policy = JSON.parse(text)
      } catch {
        throw errors.malformedPolicy("Policies must be valid JSON and the first byte must be '{'")
      }
      if (!policy || typeof policy !== 'object' || !('Statement' in policy))
        throw errors.malformedPolicy('Missing required field Statement')
      return {policy: text}
    }
    case 'publicAccessBlock': {
      const document = await readXmlDocument(ctx, 'PublicAccessBlockConfiguration')
      const flags: Record<string, boolean> = {}
      for (const flag of PUBLIC_ACCESS_FLAGS) flags[flag] = textOf(document, flag)?.trim() === 'true'
      return {publicAccessBlock: flags}
    }
    case 'encryption': {
      const document = await readXmlDocument(ctx, 'ServerSideEncryptionConfiguration', ['Rule'])
      const rules = listOf(document, 'Rule')
      for (const rule of rules) {
        const algorithm = textOf(rule.ApplyServerSideEncryptionByDefault, 'SSEAlgorithm')
        if (!algorithm || !['AES256', 'aws:kms', 'aws:kms:dsse'].includes(algorithm)) throw errors.malformedXml()
      }
      if (rules.length === 0) throw errors.malformedXml()
      return {encryption: document}
    }
    case 'notification': {
      const document = await readXmlDocument(ctx, 'NotificationConfiguration', NOTIFICATION_LISTS)
      const config = parseNotification(document)
      if (config.rules.length > 0) {
        if (!state.validateNotification) throw errors.notImplementedHere("notification destinations without the emulator's Lambda service")
        await state.validateNotification(bucket, config)
      }
      return {notification: config}
    }
    case 'tagging': {
      const document = await readXmlDocument(ctx, 'Tagging', ['Tag'])
      const tags = listOf(document.TagSet, 'Tag').map((tag) => ({Key: textOf(tag, 'Key') ?? '', Value: textOf(tag, 'Value') ?? ''}))
      if (tags.length > 50) throw errors.invalidTag('Bucket tag count cannot be greater than 50')
      return {tags: validateTags(tags, 50)}
    }
    case 'cors': {
      const document = await readXmlDocument(ctx, 'CORSConfiguration', CORS_LISTS)
      const rules = listOf(document, 'CORSRule')
      if (rules.length === 0 || rules.length > 100) throw errors.malformedXml()
      for (const rule of rules) {
        const methods = listOf(rule, 'AllowedMethod').map((method) => String(method['#text'] ?? ''))
        if (methods.length === 0 || listOf(rule, 'AllowedOrigin').length === 0) throw errors.malformedXml()
        const bad = methods.find((method) => !CORS_METHODS.has(method))
        if (bad !== undefined) throw errors.invalidRequest(`Found unsupported HTTP method in CORS config. Unsupported method is ${bad}`)
      }
      return {cors: document}
    }
    case 'lifecycle': {
      const document = await readXmlDocument(ctx, 'LifecycleConfiguration', LIFECYCLE_LISTS)
      const rules = listOf(document, 'Rule')
      if (rules.length === 0 || rules.length > 1000) throw errors.malformedXml()
      const ids = new Set<string>()
      for (const rule of rules) {
        const status = textOf(rule, 'Status')
        if (status !== 'Enabled' && status !== 'Disabled') throw errors.malformedXml()
        const id = textOf(rule, 'ID')
        if (id !== undefined) {
          if (id.length > 255) throw errors.invalidArgument('ID length should not exceed allowed limit of 255', 'ID', id)
          if (ids.has(id)) throw errors.invalidArgument('Rule ID must be unique. Found same ID for more than one rule', 'ID', id)
          ids.add(id)
        }
        if (rule.Filter === undefined && rule.Prefix === undefined) throw errors.malformedXml()
      }
      return {lifecycle: document}
    }
    case 'logging': {
      const document = await readXmlDocument(ctx, 'BucketLoggingStatus', ['Grant'])
      const target = textOf(document.LoggingEnabled, 'TargetBucket')
      if (document.LoggingEnabled !== undefined) {
        if (!target || !state.buckets.has(target))
          throw new AwsError('InvalidTargetBucketForLogging', 'The target bucket for logging does not exist', 400, {
            TargetBucket: target ?? '',
          })
        if (state.bucket(target).record.region !== bucket.region)
          throw new AwsError('CrossLocationLoggingProhibitted', 'Cross S3 location logging not allowed.', 403, {TargetBucket: target})
      }
      return {logging: document}
    }
    case 'ownershipControls': {
      const document = await readXmlDocument(ctx, 'OwnershipControls', ['Rule'])
      const rules = listOf(document, 'Rule')
      const ownership = rules.length === 1 ? textOf(rules[0], 'ObjectOwnership') : undefined
      if (!ownership || !OWNERSHIPS.has(ownership)) throw errors.malformedXml()
      return {ownership}
    }
  }
}

function configAnswer(ctx: RequestContext, record: BucketRecord, name: ConfigName): void {
  switch (name) {
    case 'policy':
      if (record.policy === undefined) throw errors.noSuchBucketPolicy(record.name)
      sendBody(ctx.res, 200, 'application/json', record.policy)
      return
    case 'publicAccessBlock':
      if (!record.publicAccessBlock) throw errors.noSuchPublicAccessBlock(record.name)
      sendXml(ctx, 'PublicAccessBlockConfiguration', record.publicAccessBlock)
      return
    case 'encryption':
      // Every bucket has encrypted new objects with SSE-S3 by default since January 2023.
      sendXml(
        ctx,
        'ServerSideEncryptionConfiguration',
        (record.encryption as XmlNode | undefined) ?? {
          Rule: {ApplyServerSideEncryptionByDefault: {SSEAlgorithm: 'AES256'}, BucketKeyEnabled: false},
        },
      )
      return
    case 'notification':
      sendXml(ctx, 'NotificationConfiguration', notificationDocument(configOf(record)))
      return
    case 'cors':
      if (!record.cors) throw errors.noSuchConfiguration('NoSuchCORSConfiguration', 'The CORS configuration does not exist', record.name)
      sendXml(ctx, 'CORSConfiguration', record.cors as XmlNode)
      return
    case 'lifecycle':
      if (!record.lifecycle)
        throw errors.noSuchConfiguration('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', record.name)
      sendXml(ctx, 'LifecycleConfiguration', record.lifecycle as XmlNode, {
        headers: {'x-amz-transition-default-minimum-object-size': 'all_storage_classes_128K'},
      })
      return
    case 'logging':
      sendXml(ctx, 'BucketLoggingStatus', (record.logging as XmlNode | undefined) ?? {})
      return
    case 'ownershipControls':
      if (record.ownership === 'none')
        throw errors.noSuchConfiguration('OwnershipControlsNotFoundError', 'The bucket ownership controls were not found', record.name)
      sendXml(ctx, 'OwnershipControls', {Rule: {ObjectOwnership: record.ownership ?? 'BucketOwnerEnforced'}})
      return
    case 'tagging':
      if (!record.tags) throw errors.noSuchTagSet(record.name)
      sendXml(ctx, 'Tagging', {TagSet: {Tag: record.tags}})
      return
  }
}

const CLEARED: Record<ConfigName, keyof BucketRecord> = {
  policy: 'policy',
  publicAccessBlock: 'publicAccessBlock',
  encryption: 'encryption',
  notification: 'notification',
  tagging: 'tags',
  cors: 'cors',
  lifecycle: 'lifecycle',
  logging: 'logging',
  ownershipControls: 'ownership',
}

/** Stored bucket configurations: PUT keeps the document, GET returns it, DELETE removes it. */
export async function bucketConfig(ctx: RequestContext, state: S3State, bucket: string, name: ConfigName): Promise<void> {
  const [getAction, putAction, deleteAction] = ACTIONS[name]
  const method = ctx.req.method
  if (method === 'GET') {
    ctx.authorize(getAction, bucketArn(bucket))
    configAnswer(ctx, state.bucket(bucket).record, name)
  } else if (method === 'PUT') {
    ctx.authorize(putAction, bucketArn(bucket))
    const change = await parseConfig(ctx, state, state.bucket(bucket).record, name)
    await state.updateBucket(bucket, (record) => ({...record, ...change}))
    sendEmpty(ctx.res, name === 'policy' ? 204 : 200)
  } else if (method === 'DELETE' && name !== 'notification' && name !== 'logging') {
    ctx.authorize(deleteAction, bucketArn(bucket))
    await state.updateBucket(bucket, (record) => {
      delete record[CLEARED[name]]
      // Deleting ownership controls leaves a bucket with none (ACLs then follow the object writer).
      if (name === 'ownershipControls') record.ownership = 'none'
      return record
    })
    sendEmpty(ctx.res, 204)
  } else throw errors.methodNotAllowed(method ?? '', 'BUCKET')
}

export const CONFIG_QUERIES: Record<string, ConfigName> = {
  policy: 'policy',
  publicAccessBlock: 'publicAccessBlock',
  encryption: 'encryption',
  notification: 'notification',
  tagging: 'tagging',
  cors: 'cors',
  lifecycle: 'lifecycle',
  logging: 'logging',
  ownershipControls: 'ownershipControls',
}
