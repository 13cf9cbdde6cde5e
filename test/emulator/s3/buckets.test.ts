import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketEncryptionCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutBucketEncryptionCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
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

test('create, head, list, locate and delete buckets', async (t) => {
  await fx.s3.send(new CreateBucketCommand({Bucket: 'alpha-bucket'}))
  const west = clientFor(fx.server.endpoint, {region: 'eu-west-1'})
  await west.send(new CreateBucketCommand({Bucket: 'beta.bucket', CreateBucketConfiguration: {LocationConstraint: 'eu-west-1'}}))
  const listed = await fx.s3.send(new ListBucketsCommand({}))
  t.deepEqual(
    listed.Buckets?.filter((bucket) => bucket.Name === 'alpha-bucket' || bucket.Name === 'beta.bucket').map((bucket) => bucket.Name),
    ['alpha-bucket', 'beta.bucket'],
  )
  t.truthy(listed.Owner?.ID)
  t.true(listed.Buckets?.[0]?.CreationDate instanceof Date)
  t.is((await fx.s3.send(new GetBucketLocationCommand({Bucket: 'alpha-bucket'}))).LocationConstraint, undefined)
  t.is((await fx.s3.send(new GetBucketLocationCommand({Bucket: 'beta.bucket'}))).LocationConstraint, 'eu-west-1')
  t.is((await fx.s3.send(new HeadBucketCommand({Bucket: 'beta.bucket'}))).BucketRegion, 'eu-west-1')
  await fx.s3.send(new DeleteBucketCommand({Bucket: 'beta.bucket'}))
  const missing = await failure(fx.s3.send(new HeadBucketCommand({Bucket: 'beta.bucket'})))
  t.is(missing.status, 404)
  t.is(missing.name, 'NotFound')
})

test('bucket errors: already owned (409 outside us-east-1, 200 in it), not empty, invalid name, no such bucket', async (t) => {
  await fx.s3.send(new CreateBucketCommand({Bucket: 'errs-bucket'}))
  await t.notThrowsAsync(fx.s3.send(new CreateBucketCommand({Bucket: 'errs-bucket'})))
  const west = clientFor(fx.server.endpoint, {region: 'eu-west-1'})
  await west.send(new CreateBucketCommand({Bucket: 'errs-west', CreateBucketConfiguration: {LocationConstraint: 'eu-west-1'}}))
  const again = await failure(
    west.send(new CreateBucketCommand({Bucket: 'errs-west', CreateBucketConfiguration: {LocationConstraint: 'eu-west-1'}})),
  )
  t.is(again.name, 'BucketAlreadyOwnedByYou')
  t.is(again.status, 409)
  await fx.s3.send(new PutObjectCommand({Bucket: 'errs-bucket', Key: 'k', Body: 'x'}))
  const notEmpty = await failure(fx.s3.send(new DeleteBucketCommand({Bucket: 'errs-bucket'})))
  t.is(notEmpty.name, 'BucketNotEmpty')
  t.is(notEmpty.status, 409)
  await fx.s3.send(new DeleteObjectCommand({Bucket: 'errs-bucket', Key: 'k'}))
  await fx.s3.send(new DeleteBucketCommand({Bucket: 'errs-bucket'}))
  for (const bad of ['UPPER', 'ab', 'under_score', 'a..b', '192.168.1.1', '-dash']) {
    const invalid = await failure(fx.s3.send(new CreateBucketCommand({Bucket: bad})))
    t.is(invalid.name, 'InvalidBucketName', bad)
  }
  t.is((await failure(fx.s3.send(new DeleteBucketCommand({Bucket: 'never-made'})))).name, 'NoSuchBucket')
  t.is((await failure(fx.s3.send(new GetBucketLocationCommand({Bucket: 'never-made'})))).name, 'NoSuchBucket')
})

test('bucket policy, public access block, encryption, tagging: stored, returned, deleted; unset is the named 404', async (t) => {
  await fx.s3.send(new CreateBucketCommand({Bucket: 'configured'}))
  const bucket = 'configured'
  t.is((await failure(fx.s3.send(new GetBucketPolicyCommand({Bucket: bucket})))).name, 'NoSuchBucketPolicy')
  t.is((await failure(fx.s3.send(new GetPublicAccessBlockCommand({Bucket: bucket})))).name, 'NoSuchPublicAccessBlockConfiguration')
  // Since January 2023 every bucket answers with the default SSE-S3 rule.
  t.deepEqual((await fx.s3.send(new GetBucketEncryptionCommand({Bucket: bucket}))).ServerSideEncryptionConfiguration?.Rules, [
    {ApplyServerSideEncryptionByDefault: {SSEAlgorithm: 'AES256'}, BucketKeyEnabled: false},
  ])
  t.is((await failure(fx.s3.send(new GetBucketTaggingCommand({Bucket: bucket})))).name, 'NoSuchTagSet')
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: `arn:aws:s3:::${bucket}/*`,
        Condition: {Bool: {'aws:SecureTransport': 'false'}},
      },
    ],
  })
  await fx.s3.send(new PutBucketPolicyCommand({Bucket: bucket, Policy: policy}))
  t.deepEqual(JSON.parse((await fx.s3.send(new GetBucketPolicyCommand({Bucket: bucket}))).Policy as string), JSON.parse(policy))
  t.is((await failure(fx.s3.send(new PutBucketPolicyCommand({Bucket: bucket, Policy: 'not json'})))).name, 'MalformedPolicy')
  await fx.s3.send(new DeleteBucketPolicyCommand({Bucket: bucket}))
  t.is((await failure(fx.s3.send(new GetBucketPolicyCommand({Bucket: bucket})))).name, 'NoSuchBucketPolicy')

  const block = {BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: false}
  await fx.s3.send(new PutPublicAccessBlockCommand({Bucket: bucket, PublicAccessBlockConfiguration: block}))
  t.deepEqual((await fx.s3.send(new GetPublicAccessBlockCommand({Bucket: bucket}))).PublicAccessBlockConfiguration, block)
  await fx.s3.send(new DeletePublicAccessBlockCommand({Bucket: bucket}))
  t.is((await failure(fx.s3.send(new GetPublicAccessBlockCommand({Bucket: bucket})))).status, 404)

  await fx.s3.send(
    new PutBucketEncryptionCommand({
      Bucket: bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [{ApplyServerSideEncryptionByDefault: {SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/k'}, BucketKeyEnabled: true}],
      },
    }),
  )
  const encryption = await fx.s3.send(new GetBucketEncryptionCommand({Bucket: bucket}))
  t.deepEqual(encryption.ServerSideEncryptionConfiguration?.Rules, [
    {ApplyServerSideEncryptionByDefault: {SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/k'}, BucketKeyEnabled: true},
  ])
  await fx.s3.send(new DeleteBucketEncryptionCommand({Bucket: bucket}))
  const reset = await fx.s3.send(new GetBucketEncryptionCommand({Bucket: bucket}))
  t.is(reset.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256')

  await fx.s3.send(new PutBucketTaggingCommand({Bucket: bucket, Tagging: {TagSet: [{Key: 'project', Value: 'ncap'}]}}))
  t.deepEqual((await fx.s3.send(new GetBucketTaggingCommand({Bucket: bucket}))).TagSet, [{Key: 'project', Value: 'ncap'}])

  t.is((await fx.s3.send(new GetBucketVersioningCommand({Bucket: bucket}))).Status, undefined)
  const acl = await fx.s3.send(new GetBucketAclCommand({Bucket: bucket}))
  t.is(acl.Grants?.[0]?.Permission, 'FULL_CONTROL')
})

test('notification configuration: empty when unset; SQS/SNS destinations and unknown events refused as AWS refuses them', async (t) => {
  await fx.s3.send(new CreateBucketCommand({Bucket: 'notified'}))
  const empty = await fx.s3.send(new GetBucketNotificationConfigurationCommand({Bucket: 'notified'}))
  t.is(empty.LambdaFunctionConfigurations, undefined)
  // No SQS in the emulator, so no queue can exist: AWS's "Unable to validate" refusal.
  const queue = await failure(
    fx.s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'notified',
        NotificationConfiguration: {
          QueueConfigurations: [{Id: 'q', QueueArn: 'arn:aws:sqs:us-east-1:000000000000:q', Events: ['s3:ObjectRemoved:Delete']}],
        },
      }),
    ),
  )
  t.is(queue.name, 'InvalidArgument')
  t.is(queue.message, 'Unable to validate the following destination configurations')
  const bad = await failure(
    fx.s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'notified',
        NotificationConfiguration: {
          QueueConfigurations: [{QueueArn: 'arn:aws:sqs:us-east-1:000000000000:q', Events: ['nonsense' as 's3:ObjectCreated:*']}],
        },
      }),
    ),
  )
  t.is(bad.name, 'InvalidArgument')
  // EventBridge needs no destination check.
  await fx.s3.send(
    new PutBucketNotificationConfigurationCommand({Bucket: 'notified', NotificationConfiguration: {EventBridgeConfiguration: {}}}),
  )
  const stored = await fx.s3.send(new GetBucketNotificationConfigurationCommand({Bucket: 'notified'}))
  t.deepEqual(stored.EventBridgeConfiguration, {})
})
