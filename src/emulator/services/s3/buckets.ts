/** Bucket operations on the wire: create, delete, head, list buckets, location, listings, and stored configurations. */
import {AwsError} from '../../errors.js'
import {sendBody, sendEmpty} from '../../protocols/respond.js'
import {listOf, sendXml, textOf, type XmlNode} from '../../protocols/restxml.js'
import {DEFAULT_REGION, type RequestContext} from '../../types.js'
import * as errors from './errors.js'
import type {S3State} from './state.js'
import type {BucketRecord, ObjectRecord} from './store.js'
import {integerParameter, OWNER, quoted, readDocument, readXmlDocument} from './wire.js'

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
  if (constraint === DEFAULT_REGION)
    throw new AwsError('InvalidLocationConstraint', 'The specified location-constraint is not valid', 400, {LocationConstraint: constraint})
  if (constraint === undefined && ctx.region !== DEFAULT_REGION)
    throw new AwsError(
      'IllegalLocationConstraintException',
      `The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.`,
      400,
    )
  const region = constraint ?? DEFAULT_REGION
  const created = await state.createBucket(bucket, region)
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

type ConfigName = 'policy' | 'publicAccessBlock' | 'encryption' | 'notification' | 'tagging'

const ACTIONS: Record<ConfigName, [get: string, put: string, remove: string]> = {
  policy: ['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy'],
  publicAccessBlock: ['s3:GetBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
  encryption: ['s3:GetEncryptionConfiguration', 's3:PutEncryptionConfiguration', 's3:PutEncryptionConfiguration'],
  notification: ['s3:GetBucketNotification', 's3:PutBucketNotification', 's3:PutBucketNotification'],
  tagging: ['s3:GetBucketTagging', 's3:PutBucketTagging', 's3:PutBucketTagging'],
}

const PUBLIC_ACCESS_FLAGS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const
const NOTIFICATION_LISTS = ['TopicConfiguration', 'QueueConfiguration', 'CloudFunctionConfiguration', 'Event', 'FilterRule']

async function parseConfig(ctx: RequestContext, name: ConfigName): Promise<Partial<BucketRecord>> {
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
      for (const list of ['TopicConfiguration', 'QueueConfiguration', 'CloudFunctionConfiguration'])
        for (const entry of listOf(document, list)) {
          const events = listOf(entry, 'Event').map((event) => String(event['#text'] ?? ''))
          if (events.length === 0 || events.some((event) => !/^s3:[A-Za-z]+:[A-Za-z*]+$/.test(event) && !/^s3:[A-Za-z]+$/.test(event)))
            throw errors.invalidArgument('The event is not supported for notifications', 'Event', events.join(','))
        }
      return {notification: document}
    }
    case 'tagging': {
      const document = await readXmlDocument(ctx, 'Tagging', ['Tag'])
      const tags = listOf(document.TagSet, 'Tag').map((tag) => ({Key: textOf(tag, 'Key') ?? '', Value: textOf(tag, 'Value') ?? ''}))
      return {tags}
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
      if (!record.encryption) throw errors.noSuchEncryption(record.name)
      sendXml(ctx, 'ServerSideEncryptionConfiguration', record.encryption as XmlNode)
      return
    case 'notification':
      sendXml(ctx, 'NotificationConfiguration', (record.notification as XmlNode | undefined) ?? {})
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
    state.bucket(bucket)
    const change = await parseConfig(ctx, name)
    await state.updateBucket(bucket, (record) => ({...record, ...change}))
    sendEmpty(ctx.res, name === 'policy' ? 204 : 200)
  } else if (method === 'DELETE' && name !== 'notification') {
    ctx.authorize(deleteAction, bucketArn(bucket))
    await state.updateBucket(bucket, (record) => {
      delete record[CLEARED[name]]
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
}
