/**
 * The rest of core S3 that SDKs and tools call: ACLs under BucketOwnerEnforced, ownership controls,
 * CORS, lifecycle and logging stored and returned, locations and location-constraint errors,
 * UploadPartCopy with ranges, GET/HEAD by partNumber, copy conditions and REPLACE, response-*
 * overrides, Content-Encoding kept, SSE-S3 answered.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCorsCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketOwnershipControlsCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketLoggingCommand,
  GetBucketOwnershipControlsCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketLoggingCommand,
  PutBucketOwnershipControlsCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3'
import test from 'ava'
import {failure, type S3Fixture, startS3} from './helpers.js'

let fx: S3Fixture
test.before(async () => {
  fx = await startS3()
  await fx.s3.send(new CreateBucketCommand({Bucket: 'conf'}))
})
test.after.always(async () => {
  await fx?.server.close()
})

test('ACLs: owner with full control; canned ACLs refused under BucketOwnerEnforced except private; accepted with ObjectWriter', async (t) => {
  const acl = await fx.s3.send(new GetBucketAclCommand({Bucket: 'conf'}))
  t.is(acl.Grants?.length, 1)
  t.is(acl.Grants?.[0]?.Permission, 'FULL_CONTROL')
  await fx.s3.send(new PutBucketAclCommand({Bucket: 'conf', ACL: 'private'}))
  t.is((await failure(fx.s3.send(new PutBucketAclCommand({Bucket: 'conf', ACL: 'public-read'})))).name, 'AccessControlListNotSupported')
  t.is(
    (await failure(fx.s3.send(new PutObjectCommand({Bucket: 'conf', Key: 'k', Body: 'x', ACL: 'public-read'})))).name,
    'AccessControlListNotSupported',
  )
  await fx.s3.send(new PutObjectCommand({Bucket: 'conf', Key: 'k', Body: 'x', ACL: 'bucket-owner-full-control'}))
  t.is(
    (await fx.s3.send(new GetBucketOwnershipControlsCommand({Bucket: 'conf'}))).OwnershipControls?.Rules?.[0]?.ObjectOwnership,
    'BucketOwnerEnforced',
  )

  await fx.s3.send(new CreateBucketCommand({Bucket: 'writer', ObjectOwnership: 'ObjectWriter'}))
  await fx.s3.send(new PutObjectCommand({Bucket: 'writer', Key: 'pub', Body: 'x', ACL: 'public-read'}))
  const grants = (await fx.s3.send(new GetObjectAclCommand({Bucket: 'writer', Key: 'pub'}))).Grants ?? []
  t.deepEqual(
    grants.map((g) => g.Permission),
    ['FULL_CONTROL', 'READ'],
  )
  t.is(grants[1]?.Grantee?.URI, 'http://acs.amazonaws.com/groups/global/AllUsers')
  await fx.s3.send(new PutObjectAclCommand({Bucket: 'writer', Key: 'pub', ACL: 'private'}))
  t.is((await fx.s3.send(new GetObjectAclCommand({Bucket: 'writer', Key: 'pub'}))).Grants?.length, 1)
  await fx.s3.send(
    new PutBucketOwnershipControlsCommand({Bucket: 'writer', OwnershipControls: {Rules: [{ObjectOwnership: 'BucketOwnerPreferred'}]}}),
  )
  t.is(
    (await fx.s3.send(new GetBucketOwnershipControlsCommand({Bucket: 'writer'}))).OwnershipControls?.Rules?.[0]?.ObjectOwnership,
    'BucketOwnerPreferred',
  )
  await fx.s3.send(new DeleteBucketOwnershipControlsCommand({Bucket: 'writer'}))
  t.is((await failure(fx.s3.send(new GetBucketOwnershipControlsCommand({Bucket: 'writer'})))).name, 'OwnershipControlsNotFoundError')
})

test('CORS, lifecycle and logging: stored, returned, deleted; the named 404s when unset; bad documents refused', async (t) => {
  t.is((await failure(fx.s3.send(new GetBucketCorsCommand({Bucket: 'conf'})))).name, 'NoSuchCORSConfiguration')
  const rules = [
    {
      AllowedMethods: ['GET', 'PUT'],
      AllowedOrigins: ['https://example.org'],
      AllowedHeaders: ['*'],
      ExposeHeaders: ['ETag'],
      MaxAgeSeconds: 300,
    },
  ]
  await fx.s3.send(new PutBucketCorsCommand({Bucket: 'conf', CORSConfiguration: {CORSRules: rules}}))
  t.deepEqual((await fx.s3.send(new GetBucketCorsCommand({Bucket: 'conf'}))).CORSRules, rules)
  const badMethod = await failure(
    fx.s3.send(
      new PutBucketCorsCommand({Bucket: 'conf', CORSConfiguration: {CORSRules: [{AllowedMethods: ['PATCH'], AllowedOrigins: ['*']}]}}),
    ),
  )
  t.is(badMethod.name, 'InvalidRequest')
  await fx.s3.send(new DeleteBucketCorsCommand({Bucket: 'conf'}))
  t.is((await failure(fx.s3.send(new GetBucketCorsCommand({Bucket: 'conf'})))).name, 'NoSuchCORSConfiguration')

  t.is((await failure(fx.s3.send(new GetBucketLifecycleConfigurationCommand({Bucket: 'conf'})))).name, 'NoSuchLifecycleConfiguration')
  const lifecycle = [
    {ID: 'expire-tmp', Status: 'Enabled' as const, Filter: {Prefix: 'tmp/'}, Expiration: {Days: 7}},
    {ID: 'old-versions', Status: 'Disabled' as const, Filter: {Prefix: ''}, NoncurrentVersionExpiration: {NoncurrentDays: 30}},
  ]
  await fx.s3.send(new PutBucketLifecycleConfigurationCommand({Bucket: 'conf', LifecycleConfiguration: {Rules: lifecycle}}))
  t.deepEqual((await fx.s3.send(new GetBucketLifecycleConfigurationCommand({Bucket: 'conf'}))).Rules, lifecycle)
  const duplicate = await failure(
    fx.s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'conf',
        LifecycleConfiguration: {Rules: [lifecycle[0] as (typeof lifecycle)[0], {...(lifecycle[0] as (typeof lifecycle)[0])}]},
      }),
    ),
  )
  t.is(duplicate.name, 'InvalidArgument')
  await fx.s3.send(new DeleteBucketLifecycleCommand({Bucket: 'conf'}))
  t.is((await failure(fx.s3.send(new GetBucketLifecycleConfigurationCommand({Bucket: 'conf'})))).name, 'NoSuchLifecycleConfiguration')

  t.is((await fx.s3.send(new GetBucketLoggingCommand({Bucket: 'conf'}))).LoggingEnabled, undefined)
  await fx.s3.send(new CreateBucketCommand({Bucket: 'conf-logs'}))
  await fx.s3.send(
    new PutBucketLoggingCommand({
      Bucket: 'conf',
      BucketLoggingStatus: {LoggingEnabled: {TargetBucket: 'conf-logs', TargetPrefix: 'conf/'}},
    }),
  )
  t.deepEqual((await fx.s3.send(new GetBucketLoggingCommand({Bucket: 'conf'}))).LoggingEnabled, {
    TargetBucket: 'conf-logs',
    TargetPrefix: 'conf/',
  })
  const missing = await failure(
    fx.s3.send(
      new PutBucketLoggingCommand({
        Bucket: 'conf',
        BucketLoggingStatus: {LoggingEnabled: {TargetBucket: 'no-such-logs', TargetPrefix: ''}},
      }),
    ),
  )
  t.is(missing.name, 'InvalidTargetBucketForLogging')
  await fx.s3.send(new PutBucketLoggingCommand({Bucket: 'conf', BucketLoggingStatus: {}}))
  t.is((await fx.s3.send(new GetBucketLoggingCommand({Bucket: 'conf'}))).LoggingEnabled, undefined)
})

test('locations for every region; location constraint errors with AWS codes', async (t) => {
  for (const region of ['eu-west-1', 'ap-southeast-2', 'sa-east-1', 'us-west-2']) {
    const client = new S3Client({
      endpoint: fx.server.endpoint,
      region,
      forcePathStyle: true,
      credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
    })
    const name = `loc-${region}`
    await client.send(new CreateBucketCommand({Bucket: name, CreateBucketConfiguration: {LocationConstraint: region as 'eu-west-1'}}))
    t.is(String((await fx.s3.send(new GetBucketLocationCommand({Bucket: name}))).LocationConstraint), region)
  }
  t.is((await fx.s3.send(new GetBucketLocationCommand({Bucket: 'conf'}))).LocationConstraint, undefined)
  const invalid = await failure(
    fx.s3.send(
      new CreateBucketCommand({Bucket: 'loc-bad', CreateBucketConfiguration: {LocationConstraint: 'mars-north-1' as 'eu-west-1'}}),
    ),
  )
  t.is(invalid.name, 'InvalidLocationConstraint')
  const east = await failure(
    fx.s3.send(new CreateBucketCommand({Bucket: 'loc-east', CreateBucketConfiguration: {LocationConstraint: 'us-east-1' as 'eu-west-1'}})),
  )
  t.is(east.name, 'InvalidLocationConstraint')
  const west = new S3Client({
    endpoint: fx.server.endpoint,
    region: 'eu-west-2',
    forcePathStyle: true,
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
  })
  const mismatch = await failure(
    west.send(new CreateBucketCommand({Bucket: 'loc-mismatch', CreateBucketConfiguration: {LocationConstraint: 'eu-west-3'}})),
  )
  t.is(mismatch.name, 'IllegalLocationConstraintException')
})

test('UploadPartCopy with ranges; GET and HEAD by partNumber; copy conditions and REPLACE; response overrides; Content-Encoding; SSE-S3', async (t) => {
  const big = Buffer.alloc(6 * 1024 * 1024, 'a')
  big.write('HEAD', 0)
  await fx.s3.send(new PutObjectCommand({Bucket: 'conf', Key: 'source', Body: big}))
  await fx.s3.send(new PutObjectCommand({Bucket: 'conf', Key: 'tail', Body: 'the tail'}))
  const upload = await fx.s3.send(new CreateMultipartUploadCommand({Bucket: 'conf', Key: 'assembled'}))
  const p1 = await fx.s3.send(
    new UploadPartCopyCommand({
      Bucket: 'conf',
      Key: 'assembled',
      UploadId: upload.UploadId,
      PartNumber: 1,
      CopySource: 'conf/source',
      CopySourceRange: `bytes=0-${5 * 1024 * 1024 - 1}`,
    }),
  )
  const p2 = await fx.s3.send(
    new UploadPartCopyCommand({Bucket: 'conf', Key: 'assembled', UploadId: upload.UploadId, PartNumber: 2, CopySource: 'conf/tail'}),
  )
  t.truthy(p1.CopyPartResult?.ETag)
  const badRange = await failure(
    fx.s3.send(
      new UploadPartCopyCommand({
        Bucket: 'conf',
        Key: 'assembled',
        UploadId: upload.UploadId,
        PartNumber: 3,
        CopySource: 'conf/tail',
        CopySourceRange: 'bytes=0-999',
      }),
    ),
  )
  t.is(badRange.name, 'InvalidArgument')
  await fx.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'conf',
      Key: 'assembled',
      UploadId: upload.UploadId,
      MultipartUpload: {
        Parts: [
          {PartNumber: 1, ETag: p1.CopyPartResult?.ETag},
          {PartNumber: 2, ETag: p2.CopyPartResult?.ETag},
        ],
      },
    }),
  )
  const part2 = await fx.s3.send(new GetObjectCommand({Bucket: 'conf', Key: 'assembled', PartNumber: 2}))
  t.is(await part2.Body?.transformToString(), 'the tail')
  t.is(part2.PartsCount, 2)
  t.is(part2.ContentRange, `bytes ${5 * 1024 * 1024}-${5 * 1024 * 1024 + 7}/${5 * 1024 * 1024 + 8}`)
  const whole = await fx.s3.send(new GetObjectCommand({Bucket: 'conf', Key: 'assembled', Range: 'bytes=0-3'}))
  t.is(await whole.Body?.transformToString(), 'HEAD')
  const head1 = await fx.s3.send(new HeadObjectCommand({Bucket: 'conf', Key: 'assembled', PartNumber: 1}))
  t.is(head1.ContentLength, 5 * 1024 * 1024)
  t.is((await failure(fx.s3.send(new HeadObjectCommand({Bucket: 'conf', Key: 'assembled', PartNumber: 3})))).status, 416)
  // A single-part object: part 1 is the whole object.
  t.is(await (await fx.s3.send(new GetObjectCommand({Bucket: 'conf', Key: 'tail', PartNumber: 1}))).Body?.transformToString(), 'the tail')

  const put = await fx.s3.send(
    new PutObjectCommand({
      Bucket: 'conf',
      Key: 'doc.gz',
      Body: 'zipped',
      ContentEncoding: 'gzip',
      ContentType: 'text/plain',
      Metadata: {a: '1'},
    }),
  )
  t.is(put.ServerSideEncryption, 'AES256')
  const got = await fx.s3.send(
    new GetObjectCommand({
      Bucket: 'conf',
      Key: 'doc.gz',
      ResponseContentType: 'application/x-test',
      ResponseContentDisposition: 'attachment; filename="x"',
    }),
  )
  t.is(got.ContentEncoding, 'gzip')
  t.is(got.ContentType, 'application/x-test')
  t.is(got.ContentDisposition, 'attachment; filename="x"')
  t.is(got.ServerSideEncryption, 'AES256')
  await got.Body?.transformToByteArray()
  const refused = await failure(
    fx.s3.send(new CopyObjectCommand({Bucket: 'conf', Key: 'c1', CopySource: 'conf/doc.gz', CopySourceIfMatch: '"nope"'})),
  )
  t.is(refused.name, 'PreconditionFailed')
  await fx.s3.send(new CopyObjectCommand({Bucket: 'conf', Key: 'c1', CopySource: 'conf/doc.gz', CopySourceIfMatch: put.ETag}))
  await fx.s3.send(
    new CopyObjectCommand({
      Bucket: 'conf',
      Key: 'c2',
      CopySource: 'conf/doc.gz',
      MetadataDirective: 'REPLACE',
      ContentType: 'text/csv',
      Metadata: {b: '2'},
    }),
  )
  const replaced = await fx.s3.send(new HeadObjectCommand({Bucket: 'conf', Key: 'c2'}))
  t.is(replaced.ContentType, 'text/csv')
  t.deepEqual(replaced.Metadata, {b: '2'})
  const kept = await fx.s3.send(new HeadObjectCommand({Bucket: 'conf', Key: 'c1'}))
  t.deepEqual(kept.Metadata, {a: '1'})
  t.is(kept.ContentEncoding, 'gzip')
})
