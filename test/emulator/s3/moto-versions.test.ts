/**
 * Differential test for versioning, tagging and Object Lock sequences: the same calls against
 * moto_server and the emulator, answers (and errors) compared after normalising what legitimately
 * differs (dates, request and owner ids; version ids become v0, v1, … in order of appearance).
 * Where moto departs from AWS, the step says so and asserts AWS's behaviour on the emulator instead.
 */

import {createHash} from 'node:crypto'
import {isDeepStrictEqual} from 'node:util'
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import test from 'ava'
import {hasMoto, type RunningMoto, startMoto} from '../../helpers/moto.js'
import {clientFor, type S3Fixture, startS3} from './helpers.js'

let moto: RunningMoto | undefined
let motoClient: S3Client
let fx: S3Fixture

test.before(async () => {
  fx = await startS3()
  if (!hasMoto()) return
  moto = await startMoto()
  motoClient = clientFor(moto.endpoint)
})
test.after.always(async () => {
  await moto?.stop()
  await fx?.server.close()
})

type Step = (s3: S3Client, memo: Record<string, string>) => Promise<unknown>

const DROP = new Set([
  '$metadata',
  'RequestId',
  'ServerSideEncryption',
  'Owner',
  'LastModified',
  'AcceptRanges',
  'ChecksumType',
  'ChecksumAlgorithm',
])

function normalise(value: unknown, ids: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => normalise(item, ids))
  if (value instanceof Date) return 'DATE'
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      if (DROP.has(key) || item === undefined) continue
      if (/VersionId(Marker)?$/.test(key) && typeof item === 'string' && item !== 'null') {
        if (!ids.has(item)) ids.set(item, `v${ids.size}`)
        out[key] = ids.get(item)
        continue
      }
      out[key] = normalise(item, ids)
    }
    return out
  }
  return value
}

async function outcome(step: Step, s3: S3Client, memo: Record<string, string>, ids: Map<string, string>): Promise<unknown> {
  try {
    const answer = (await step(s3, memo)) as Record<string, unknown>
    const body = answer?.Body as {transformToString?: () => Promise<string>} | undefined
    const text = body?.transformToString ? await body.transformToString() : undefined
    return normalise({...answer, Body: text}, ids)
  } catch (error) {
    const e = error as {name: string; $metadata?: {httpStatusCode?: number}}
    return {error: e.name, status: e.$metadata?.httpStatusCode}
  }
}

const B = 'diff-versions'
const L = 'diff-locked'
const later = new Date(Date.now() + 2 * 86_400_000)

const remember = (name: string) => (out: {VersionId?: string}, memo: Record<string, string>) => {
  memo[name] = out.VersionId as string
  return out
}

type Answer = Record<string, unknown>

const etag = (body: string) => `"${createHash('md5').update(body).digest('hex')}"`

/**
 * Where moto is wrong: why, and AWS's answer (from moto's, corrected), which the emulator must give.
 * Each correction is AWS's documented behaviour.
 */
const MOTO_WRONG: Record<string, [why: string, aws: (moto: Answer) => unknown]> = {
  'get null': [
    'AWS names the null version in x-amz-version-id once a bucket is versioned; moto sends no version id',
    (m) => ({...m, VersionId: 'null'}),
  ],
  'remove marker': [
    'deleting a delete marker by version id answers x-amz-delete-marker: true on AWS; moto leaves it out',
    (m) => ({...m, DeleteMarker: true}),
  ],
  'tag v1': ['PutObjectTagging answers the tagged version in x-amz-version-id on AWS; moto does not', (m) => ({...m, VersionId: 'v0'})],
  'list after suspend': [
    'a PUT on a suspended bucket replaces only the null version on AWS; moto drops the older versions too',
    (m) => ({
      ...m,
      Versions: [
        ...(m.Versions as unknown[]),
        {ETag: etag('two'), Size: 3, StorageClass: 'STANDARD', Key: 'k', VersionId: 'v1', IsLatest: false},
        {ETag: etag('one'), Size: 3, StorageClass: 'STANDARD', Key: 'k', VersionId: 'v0', IsLatest: false},
      ],
    }),
  ],
  'lock config with rule': [
    'AWS returns only the period it was given (Days); moto adds Years: 0',
    (m) => {
      const config = structuredClone(m) as {ObjectLockConfiguration: {Rule: {DefaultRetention: Record<string, unknown>}}}
      delete config.ObjectLockConfiguration.Rule.DefaultRetention.Years
      return config
    },
  ],
  'get retention': [
    "moto's GetObjectRetention answer does not parse (boto3 and SDK v3 fail on it); AWS returns the retention",
    () => ({Mode: 'COMPLIANCE'}),
  ],
  'retention from the default rule': [
    "moto does not apply a bucket's default retention to new objects; AWS gives them GOVERNANCE until now + 1 day",
    () => ({Mode: 'GOVERNANCE'}),
  ],
}

const STEPS: [string, Step][] = [
  ['create', (s3) => s3.send(new CreateBucketCommand({Bucket: B}))],
  ['versioning never enabled', (s3) => s3.send(new GetBucketVersioningCommand({Bucket: B}))],
  ['put before versioning', (s3) => s3.send(new PutObjectCommand({Bucket: B, Key: 'k', Body: 'zero'}))],
  ['enable', (s3) => s3.send(new PutBucketVersioningCommand({Bucket: B, VersioningConfiguration: {Status: 'Enabled'}}))],
  ['versioning enabled', (s3) => s3.send(new GetBucketVersioningCommand({Bucket: B}))],
  ['put v1', (s3, memo) => s3.send(new PutObjectCommand({Bucket: B, Key: 'k', Body: 'one'})).then((out) => remember('v1')(out, memo))],
  ['put v2', (s3, memo) => s3.send(new PutObjectCommand({Bucket: B, Key: 'k', Body: 'two'})).then((out) => remember('v2')(out, memo))],
  ['put other', (s3) => s3.send(new PutObjectCommand({Bucket: B, Key: 'other/x', Body: 'x', Tagging: 'a=1&b=2'}))],
  ['list versions', (s3) => s3.send(new ListObjectVersionsCommand({Bucket: B}))],
  ['list versions delimiter', (s3) => s3.send(new ListObjectVersionsCommand({Bucket: B, Delimiter: '/'}))],
  ['get v1', (s3, memo) => s3.send(new GetObjectCommand({Bucket: B, Key: 'k', VersionId: memo.v1}))],
  ['get null', (s3) => s3.send(new GetObjectCommand({Bucket: B, Key: 'k', VersionId: 'null'}))],
  ['head v2', (s3, memo) => s3.send(new HeadObjectCommand({Bucket: B, Key: 'k', VersionId: memo.v2}))],
  ['head tag count', (s3) => s3.send(new HeadObjectCommand({Bucket: B, Key: 'other/x'}))],
  [
    'delete makes marker',
    (s3, memo) => s3.send(new DeleteObjectCommand({Bucket: B, Key: 'k'})).then((out) => remember('marker')(out, memo)),
  ],
  ['get after marker', (s3) => s3.send(new GetObjectCommand({Bucket: B, Key: 'k'}))],
  ['list with marker', (s3) => s3.send(new ListObjectVersionsCommand({Bucket: B, Prefix: 'k'}))],
  ['remove marker', (s3, memo) => s3.send(new DeleteObjectCommand({Bucket: B, Key: 'k', VersionId: memo.marker}))],
  ['get after marker removed', (s3) => s3.send(new GetObjectCommand({Bucket: B, Key: 'k'}))],
  [
    'tag v1',
    (s3, memo) =>
      s3.send(new PutObjectTaggingCommand({Bucket: B, Key: 'k', VersionId: memo.v1, Tagging: {TagSet: [{Key: 't', Value: '1'}]}})),
  ],
  ['get tags v1', (s3, memo) => s3.send(new GetObjectTaggingCommand({Bucket: B, Key: 'k', VersionId: memo.v1}))],
  ['get tags latest', (s3) => s3.send(new GetObjectTaggingCommand({Bucket: B, Key: 'k'}))],
  ['get tags other', (s3) => s3.send(new GetObjectTaggingCommand({Bucket: B, Key: 'other/x'}))],
  ['delete tags v1', (s3, memo) => s3.send(new DeleteObjectTaggingCommand({Bucket: B, Key: 'k', VersionId: memo.v1}))],
  ['tags of missing key', (s3) => s3.send(new GetObjectTaggingCommand({Bucket: B, Key: 'absent'}))],
  [
    'eleven tags',
    (s3) =>
      s3.send(
        new PutObjectTaggingCommand({
          Bucket: B,
          Key: 'k',
          Tagging: {TagSet: Array.from({length: 11}, (_, i) => ({Key: `k${i}`, Value: 'v'}))},
        }),
      ),
  ],
  ['suspend', (s3) => s3.send(new PutBucketVersioningCommand({Bucket: B, VersioningConfiguration: {Status: 'Suspended'}}))],
  ['put while suspended', (s3) => s3.send(new PutObjectCommand({Bucket: B, Key: 'k', Body: 'null again'}))],
  ['list after suspend', (s3) => s3.send(new ListObjectVersionsCommand({Bucket: B, Prefix: 'k'}))],
  [
    'batch delete versions',
    (s3, memo) =>
      s3.send(
        new DeleteObjectsCommand({
          Bucket: B,
          Delete: {
            Objects: [
              {Key: 'k', VersionId: memo.v1},
              {Key: 'k', VersionId: memo.v2},
              {Key: 'k', VersionId: 'null'},
            ],
          },
        }),
      ),
  ],
  ['list after batch', (s3) => s3.send(new ListObjectVersionsCommand({Bucket: B, Prefix: 'k'}))],
  // Object Lock
  ['lock config missing', (s3) => s3.send(new GetObjectLockConfigurationCommand({Bucket: B}))],
  ['create locked', (s3) => s3.send(new CreateBucketCommand({Bucket: L, ObjectLockEnabledForBucket: true}))],
  ['locked bucket versioning', (s3) => s3.send(new GetBucketVersioningCommand({Bucket: L}))],
  ['lock config', (s3) => s3.send(new GetObjectLockConfigurationCommand({Bucket: L}))],
  [
    'default retention',
    (s3) =>
      s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: L,
          ObjectLockConfiguration: {ObjectLockEnabled: 'Enabled', Rule: {DefaultRetention: {Mode: 'GOVERNANCE', Days: 1}}},
        }),
      ),
  ],
  ['lock config with rule', (s3) => s3.send(new GetObjectLockConfigurationCommand({Bucket: L}))],
  [
    'put retained',
    (s3, memo) =>
      s3
        .send(new PutObjectCommand({Bucket: L, Key: 'r', Body: 'r', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: later}))
        .then((out) => remember('retained')(out, memo)),
  ],
  ['get retention', (s3) => s3.send(new GetObjectRetentionCommand({Bucket: L, Key: 'r'})).then((out) => ({Mode: out.Retention?.Mode}))],
  ['delete retained version', (s3, memo) => s3.send(new DeleteObjectCommand({Bucket: L, Key: 'r', VersionId: memo.retained}))],
  [
    'bypass does not move compliance',
    (s3, memo) => s3.send(new DeleteObjectCommand({Bucket: L, Key: 'r', VersionId: memo.retained, BypassGovernanceRetention: true})),
  ],
  [
    'put governed',
    (s3, memo) => s3.send(new PutObjectCommand({Bucket: L, Key: 'g', Body: 'g'})).then((out) => remember('governed')(out, memo)),
  ],
  [
    'retention from the default rule',
    (s3) => s3.send(new GetObjectRetentionCommand({Bucket: L, Key: 'g'})).then((out) => ({Mode: out.Retention?.Mode})),
  ],
  ['delete governed without bypass', (s3, memo) => s3.send(new DeleteObjectCommand({Bucket: L, Key: 'g', VersionId: memo.governed}))],
  [
    'delete governed with bypass',
    (s3, memo) => s3.send(new DeleteObjectCommand({Bucket: L, Key: 'g', VersionId: memo.governed, BypassGovernanceRetention: true})),
  ],
  ['put held', (s3, memo) => s3.send(new PutObjectCommand({Bucket: L, Key: 'h', Body: 'h'})).then((out) => remember('held')(out, memo))],
  ['hold on', (s3, memo) => s3.send(new PutObjectLegalHoldCommand({Bucket: L, Key: 'h', VersionId: memo.held, LegalHold: {Status: 'ON'}}))],
  ['get hold', (s3, memo) => s3.send(new GetObjectLegalHoldCommand({Bucket: L, Key: 'h', VersionId: memo.held}))],
  [
    'delete held',
    (s3, memo) => s3.send(new DeleteObjectCommand({Bucket: L, Key: 'h', VersionId: memo.held, BypassGovernanceRetention: true})),
  ],
]

test('versioning, tagging and Object Lock sequences answer like moto_server (AWS asserted where moto is wrong)', async (t) => {
  if (!moto) {
    t.log('moto_server is not installed: skipped')
    t.pass()
    return
  }
  const ourMemo: Record<string, string> = {}
  const ourIds = new Map<string, string>()
  const motoMemo: Record<string, string> = {}
  const motoIds = new Map<string, string>()
  const mismatches: {name: string; actual: unknown; expected: unknown}[] = []
  for (const [name, step] of STEPS) {
    const actual = await outcome(step, fx.s3, ourMemo, ourIds)
    const fromMoto = (await outcome(step, motoClient, motoMemo, motoIds)) as Answer
    const wrong = MOTO_WRONG[name]
    const expected = wrong ? wrong[1](fromMoto) : fromMoto
    if (!isDeepStrictEqual(actual, expected)) mismatches.push({name: wrong ? `${name} (AWS: ${wrong[0]})` : name, actual, expected})
  }
  t.deepEqual(mismatches, [], JSON.stringify(mismatches, null, 1))
})
