/**
 * Object tagging (with versions, on PUT, multipart and copy, AWS's limits) and Object Lock
 * (bucket configuration, default retention, per-version retention and legal hold, enforcement on
 * delete: GOVERNANCE yields to the bypass header with s3:BypassGovernanceRetention, COMPLIANCE never).
 */
import {CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand} from '@aws-sdk/client-iam'
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import test from 'ava'
import {clientFor, failure, type S3Fixture, startS3} from './helpers.js'

let fx: S3Fixture
test.before(async () => {
  fx = await startS3()
})
test.after.always(async () => {
  await fx?.server.close()
})

const tagsOf = async (key: string, versionId?: string) =>
  (await fx.s3.send(new GetObjectTaggingCommand({Bucket: 'tags', Key: key, VersionId: versionId}))).TagSet

test('object tags: on PUT, put/get/delete by version, tagging count, multipart, copy directive, limits', async (t) => {
  await fx.s3.send(new CreateBucketCommand({Bucket: 'tags'}))
  await fx.s3.send(new PutBucketVersioningCommand({Bucket: 'tags', VersioningConfiguration: {Status: 'Enabled'}}))
  const first = await fx.s3.send(new PutObjectCommand({Bucket: 'tags', Key: 'k', Body: 'x', Tagging: 'stage=raw&owner=a%20b'}))
  t.deepEqual(await tagsOf('k'), [
    {Key: 'stage', Value: 'raw'},
    {Key: 'owner', Value: 'a b'},
  ])
  t.is((await fx.s3.send(new GetObjectCommand({Bucket: 'tags', Key: 'k'}))).TagCount, 2)
  const second = await fx.s3.send(new PutObjectCommand({Bucket: 'tags', Key: 'k', Body: 'y'}))
  t.deepEqual(await tagsOf('k'), [])
  t.is((await fx.s3.send(new HeadObjectCommand({Bucket: 'tags', Key: 'k'}))).TagCount, undefined)
  const put = await fx.s3.send(
    new PutObjectTaggingCommand({Bucket: 'tags', Key: 'k', VersionId: first.VersionId, Tagging: {TagSet: [{Key: 'only', Value: 'first'}]}}),
  )
  t.is(put.VersionId, first.VersionId)
  t.deepEqual(await tagsOf('k', first.VersionId), [{Key: 'only', Value: 'first'}])
  t.deepEqual(await tagsOf('k', second.VersionId), [])
  await fx.s3.send(new DeleteObjectTaggingCommand({Bucket: 'tags', Key: 'k', VersionId: first.VersionId}))
  t.deepEqual(await tagsOf('k', first.VersionId), [])
  // Multipart create carries its tags to the completed object.
  const upload = await fx.s3.send(new CreateMultipartUploadCommand({Bucket: 'tags', Key: 'mp', Tagging: 'a=1'}))
  const part = await fx.s3.send(new UploadPartCommand({Bucket: 'tags', Key: 'mp', UploadId: upload.UploadId, PartNumber: 1, Body: 'p'}))
  await fx.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'tags',
      Key: 'mp',
      UploadId: upload.UploadId,
      MultipartUpload: {Parts: [{PartNumber: 1, ETag: part.ETag}]},
    }),
  )
  t.deepEqual(await tagsOf('mp'), [{Key: 'a', Value: '1'}])
  // Copy: COPY keeps the source's tags, REPLACE takes the request's.
  await fx.s3.send(new PutObjectTaggingCommand({Bucket: 'tags', Key: 'k', Tagging: {TagSet: [{Key: 'src', Value: '1'}]}}))
  await fx.s3.send(new CopyObjectCommand({Bucket: 'tags', Key: 'copy1', CopySource: 'tags/k'}))
  t.deepEqual(await tagsOf('copy1'), [{Key: 'src', Value: '1'}])
  await fx.s3.send(
    new CopyObjectCommand({Bucket: 'tags', Key: 'copy2', CopySource: 'tags/k', TaggingDirective: 'REPLACE', Tagging: 'new=2'}),
  )
  t.deepEqual(await tagsOf('copy2'), [{Key: 'new', Value: '2'}])
  // Limits, with AWS's codes.
  const eleven = Array.from({length: 11}, (_, i) => ({Key: `k${i}`, Value: 'v'}))
  t.is((await failure(fx.s3.send(new PutObjectTaggingCommand({Bucket: 'tags', Key: 'k', Tagging: {TagSet: eleven}})))).name, 'BadRequest')
  const longKey = [{Key: 'k'.repeat(129), Value: 'v'}]
  t.is((await failure(fx.s3.send(new PutObjectTaggingCommand({Bucket: 'tags', Key: 'k', Tagging: {TagSet: longKey}})))).name, 'InvalidTag')
  const longValue = [{Key: 'k', Value: 'v'.repeat(257)}]
  t.is(
    (await failure(fx.s3.send(new PutObjectTaggingCommand({Bucket: 'tags', Key: 'k', Tagging: {TagSet: longValue}})))).name,
    'InvalidTag',
  )
  const twice = [
    {Key: 'k', Value: '1'},
    {Key: 'k', Value: '2'},
  ]
  t.is((await failure(fx.s3.send(new PutObjectTaggingCommand({Bucket: 'tags', Key: 'k', Tagging: {TagSet: twice}})))).name, 'InvalidTag')
  t.is((await failure(fx.s3.send(new GetObjectTaggingCommand({Bucket: 'tags', Key: 'absent'})))).name, 'NoSuchKey')
})

const future = (days: number) => new Date(Date.now() + days * 86_400_000)

test('Object Lock: configuration, default retention, legal hold; GOVERNANCE needs the bypass, COMPLIANCE never yields', async (t) => {
  await fx.s3.send(new CreateBucketCommand({Bucket: 'plain-lock'}))
  t.is(
    (await failure(fx.s3.send(new GetObjectLockConfigurationCommand({Bucket: 'plain-lock'})))).name,
    'ObjectLockConfigurationNotFoundError',
  )
  t.is(
    (
      await failure(
        fx.s3.send(new PutObjectLockConfigurationCommand({Bucket: 'plain-lock', ObjectLockConfiguration: {ObjectLockEnabled: 'Enabled'}})),
      )
    ).name,
    'InvalidBucketState',
  )
  const noLock = await failure(
    fx.s3.send(
      new PutObjectCommand({Bucket: 'plain-lock', Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: future(1)}),
    ),
  )
  t.is(noLock.name, 'InvalidRequest')

  await fx.s3.send(new CreateBucketCommand({Bucket: 'locked', ObjectLockEnabledForBucket: true}))
  const config = await fx.s3.send(new GetObjectLockConfigurationCommand({Bucket: 'locked'}))
  t.is(config.ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled')
  t.is(
    (await failure(fx.s3.send(new PutBucketVersioningCommand({Bucket: 'locked', VersioningConfiguration: {Status: 'Suspended'}})))).name,
    'InvalidBucketState',
  )
  await fx.s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: 'locked',
      ObjectLockConfiguration: {ObjectLockEnabled: 'Enabled', Rule: {DefaultRetention: {Mode: 'GOVERNANCE', Days: 1}}},
    }),
  )
  t.deepEqual((await fx.s3.send(new GetObjectLockConfigurationCommand({Bucket: 'locked'}))).ObjectLockConfiguration?.Rule, {
    DefaultRetention: {Mode: 'GOVERNANCE', Days: 1},
  })
  const governed = await fx.s3.send(new PutObjectCommand({Bucket: 'locked', Key: 'gov', Body: 'g'}))
  const retention = await fx.s3.send(new GetObjectRetentionCommand({Bucket: 'locked', Key: 'gov', VersionId: governed.VersionId}))
  t.is(retention.Retention?.Mode, 'GOVERNANCE')
  t.true((retention.Retention?.RetainUntilDate?.getTime() ?? 0) > Date.now())
  const head = await fx.s3.send(new HeadObjectCommand({Bucket: 'locked', Key: 'gov'}))
  t.is(head.ObjectLockMode, 'GOVERNANCE')
  // Without a version id, a delete only adds a marker: allowed.
  await fx.s3.send(new DeleteObjectCommand({Bucket: 'locked', Key: 'gov'}))
  const refused = await failure(fx.s3.send(new DeleteObjectCommand({Bucket: 'locked', Key: 'gov', VersionId: governed.VersionId})))
  t.is(refused.name, 'AccessDenied')
  t.is(refused.status, 403)
  // Shortening a GOVERNANCE retention needs the bypass too.
  const shorten = new PutObjectRetentionCommand({
    Bucket: 'locked',
    Key: 'gov',
    VersionId: governed.VersionId,
    Retention: {Mode: 'GOVERNANCE', RetainUntilDate: future(0.5)},
  })
  t.is((await failure(fx.s3.send(shorten))).name, 'AccessDenied')

  // An IAM user with s3:* but denied s3:BypassGovernanceRetention: the header alone is not enough.
  const iam = new IAMClient({
    endpoint: fx.server.endpoint,
    region: 'us-east-1',
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
  })
  await iam.send(new CreateUserCommand({UserName: 'no-bypass'}))
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'no-bypass',
      PolicyName: 's3',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {Effect: 'Allow', Action: 's3:*', Resource: '*'},
          {Effect: 'Deny', Action: 's3:BypassGovernanceRetention', Resource: '*'},
        ],
      }),
    }),
  )
  const key = (await iam.send(new CreateAccessKeyCommand({UserName: 'no-bypass'}))).AccessKey
  const user = clientFor(fx.server.endpoint, {
    credentials: {accessKeyId: key?.AccessKeyId ?? '', secretAccessKey: key?.SecretAccessKey ?? ''},
  })
  const bypassRefused = await failure(
    user.send(new DeleteObjectCommand({Bucket: 'locked', Key: 'gov', VersionId: governed.VersionId, BypassGovernanceRetention: true})),
  )
  t.is(bypassRefused.name, 'AccessDenied')
  // The account (allowed everything) bypasses.
  await fx.s3.send(new DeleteObjectCommand({Bucket: 'locked', Key: 'gov', VersionId: governed.VersionId, BypassGovernanceRetention: true}))

  // COMPLIANCE: not even with the bypass.
  const complied = await fx.s3.send(
    new PutObjectCommand({Bucket: 'locked', Key: 'comp', Body: 'c', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: future(2)}),
  )
  const never = await failure(
    fx.s3.send(new DeleteObjectCommand({Bucket: 'locked', Key: 'comp', VersionId: complied.VersionId, BypassGovernanceRetention: true})),
  )
  t.is(never.name, 'AccessDenied')
  const shortenCompliance = new PutObjectRetentionCommand({
    Bucket: 'locked',
    Key: 'comp',
    VersionId: complied.VersionId,
    BypassGovernanceRetention: true,
    Retention: {Mode: 'COMPLIANCE', RetainUntilDate: future(1)},
  })
  t.is((await failure(fx.s3.send(shortenCompliance))).name, 'AccessDenied')

  // Legal hold: no hold until set; ON blocks even a governance bypass; OFF lifts it.
  await fx.s3.send(new PutObjectLockConfigurationCommand({Bucket: 'locked', ObjectLockConfiguration: {ObjectLockEnabled: 'Enabled'}}))
  const held = await fx.s3.send(new PutObjectCommand({Bucket: 'locked', Key: 'held', Body: 'h'}))
  t.is((await failure(fx.s3.send(new GetObjectLegalHoldCommand({Bucket: 'locked', Key: 'held'})))).name, 'NoSuchObjectLockConfiguration')
  t.is((await failure(fx.s3.send(new GetObjectRetentionCommand({Bucket: 'locked', Key: 'held'})))).name, 'NoSuchObjectLockConfiguration')
  await fx.s3.send(new PutObjectLegalHoldCommand({Bucket: 'locked', Key: 'held', LegalHold: {Status: 'ON'}}))
  t.is((await fx.s3.send(new GetObjectLegalHoldCommand({Bucket: 'locked', Key: 'held'}))).LegalHold?.Status, 'ON')
  const onHold = await failure(
    fx.s3.send(new DeleteObjectCommand({Bucket: 'locked', Key: 'held', VersionId: held.VersionId, BypassGovernanceRetention: true})),
  )
  t.is(onHold.name, 'AccessDenied')
  await fx.s3.send(new PutObjectLegalHoldCommand({Bucket: 'locked', Key: 'held', VersionId: held.VersionId, LegalHold: {Status: 'OFF'}}))
  await fx.s3.send(new DeleteObjectCommand({Bucket: 'locked', Key: 'held', VersionId: held.VersionId}))
  // A retention date in the past is refused.
  const past = await failure(
    fx.s3.send(
      new PutObjectCommand({Bucket: 'locked', Key: 'p', Body: 'p', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: future(-1)}),
    ),
  )
  t.is(past.name, 'InvalidArgument')
})
